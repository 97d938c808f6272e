// Package llmstxt_test keeps the code of the repository's llms.txt and of
// the README's "Three programs" compiling: every ```go block of llms.txt
// and of that README section must appear, line for line (leading tabs
// aside), in one of the functions below, which the compiler checks.
// programs_test.go also runs the README's programs against the fake portal.
package llmstxt_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/crm"
	"github.com/b24go/sdk/events"
	"github.com/b24go/sdk/imbot"
	"github.com/b24go/sdk/imbotv2"
	"github.com/b24go/sdk/lists"
	"github.com/b24go/sdk/webhook"
)

func taskCall(ctx context.Context) error {
	c, err := bitrix.New(bitrix.WebhookURL(os.Getenv("B24_WEBHOOK_URL")))
	if err != nil {
		return err // the message never repeats the secret
	}
	var leadID bitrix.Int
	_, err = c.Call(ctx, "crm.lead.add", bitrix.Params{"fields": bitrix.Params{
		"TITLE": "Website enquiry",
		"PHONE": []crm.Multifield{crm.Phone("+44 20 7946 0000", crm.PhoneWork)},
		"EMAIL": []crm.Multifield{crm.Email("ada@example.com", crm.EmailWork)},
	}}, &leadID)
	if errors.Is(err, bitrix.ErrMaybeApplied) {
		return fmt.Errorf("the lead may exist: look before adding it again: %w", err)
	}
	return err
}

func taskRead(ctx context.Context, c *bitrix.Client) error {
	q := bitrix.Query{Method: "crm.deal.list", Params: bitrix.Params{"filter": bitrix.Params{"STAGE_ID": "NEW"}}}
	n, err := bitrix.Count(ctx, c, q) // one request: the portal's total
	if err != nil {
		return err
	}
	fmt.Println(n, "deals")
	for deal, err := range bitrix.All[map[string]any](ctx, c, q) { // 2,500 rows per request
		if err != nil {
			return err
		}
		fmt.Println(deal["ID"], deal["TITLE"])
	}
	return nil
}

func taskCRM(ctx context.Context, c *bitrix.Client) error {
	cc, err := crm.New(c)
	if err != nil {
		return err
	}
	deals := cc.Items(crm.Deal)
	deal, err := deals.Add(ctx, crm.Fields{"title": "Order 1001", "opportunity": crm.MustDecimal("99.90")})
	if err != nil {
		return err
	}
	fmt.Println("deal", deal.ID)
	for item, err := range deals.All(ctx, crm.Query{Filter: map[string]any{"=stageId": "NEW"}}) {
		if err != nil {
			return err
		}
		fmt.Println(item.ID, item.Title)
	}
	return nil
}

func taskEvents() error {
	h, err := webhook.New(webhook.WithApplicationToken(os.Getenv("B24_OUTGOING_WEBHOOK_TOKEN")))
	if err != nil {
		return err // an empty token is an error, not a receiver that refuses everything
	}
	h.OnDealAdd(func(ctx context.Context, ev *events.Event, d *events.CRMEntity) error {
		log.Printf("deal %d added on %s", d.EntityID(), ev.Auth.Domain)
		return nil // an error answers 500; Bitrix24 does not deliver again
	})
	http.Handle("/bitrix24/handler", h)
	return nil
}

func taskBot(ctx context.Context, c *bitrix.Client) error {
	bots, err := imbot.New(c, imbot.WithClientID("my-integration")) // CLIENT_ID for webhook bots
	if err != nil {
		return err
	}
	_, err = bots.Messages.Send(ctx, imbot.Message{BotID: 42, DialogID: imbot.Chat(2725), Text: "Build [B]#42[/B] is green"})
	return err
}

func programLeads() {
	ctx := context.Background()
	c, err := bitrix.New(bitrix.WebhookURL(os.Getenv("B24_WEBHOOK_URL")))
	if err != nil {
		log.Fatal(err)
	}
	var lead bitrix.Int
	_, err = c.Call(ctx, "crm.lead.add", bitrix.Params{"fields": bitrix.Params{
		"TITLE": "Website enquiry",
		"PHONE": []crm.Multifield{crm.Phone("+44 20 7946 0000", crm.PhoneWork)},
		"EMAIL": []crm.Multifield{crm.Email("ada@example.com", crm.EmailWork)},
	}}, &lead)
	if err != nil {
		log.Fatal(err)
	}
	deals, err := bitrix.Count(ctx, c, bitrix.Query{Method: "crm.deal.list"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("lead", lead, "added;", deals, "deals")
}

func programEchoBot() {
	ctx := context.Background()
	c, err := bitrix.New(bitrix.WebhookURL(os.Getenv("B24_WEBHOOK_URL")))
	if err != nil {
		log.Fatal(err)
	}
	bots, err := imbotv2.New(c, imbotv2.WithBotToken(bitrix.Secret(os.Getenv("B24_BOT_TOKEN"))))
	if err != nil {
		log.Fatal(err)
	}
	bot, err := bots.Bots.Register(ctx, imbotv2.Registration{Code: "echo", EventMode: imbotv2.ModeFetch,
		Properties: imbotv2.Properties{Name: "Echo"}}) // the first run; later ones: bots.Bots.GetByCode
	if err != nil {
		log.Fatal(err)
	}
	p := &imbotv2.Poller{Client: bots, BotID: int(bot.Bot.ID)}
	imbotv2.OnMessage(p, func(ctx context.Context, _ *events.Event, m *events.BotV2Message) error {
		return imbotv2.Reply(ctx, m, m.Message.Text)
	})
	log.Fatal(p.Run(ctx))
}

func programSync() {
	c, err := bitrix.New(bitrix.WebhookURL(os.Getenv("B24_WEBHOOK_URL")))
	if err != nil {
		log.Fatal(err)
	}
	items, err := crm.New(c)
	if err != nil {
		log.Fatal(err)
	}
	ls, err := lists.New(c)
	if err != nil {
		log.Fatal(err)
	}
	const smartProcess = 128
	rows := ls.Elements(lists.TypeLists, lists.ByCode("orders")) // the list's symbolic code
	sync := func(ctx context.Context, _ *events.Event, d *events.CRMEntity) error {
		item, err := items.Items(smartProcess).Get(ctx, d.EntityID())
		if err != nil {
			return err
		}
		code, fields := fmt.Sprint("item-", item.ID), lists.Fields{Name: item.Title}
		_, err = rows.Add(ctx, lists.NewElement{Code: code, Fields: fields})
		if errors.Is(err, bitrix.ErrAlreadyExists) {
			return rows.Update(ctx, lists.ByCode(code), fields)
		}
		return err
	}
	h, err := webhook.New(webhook.WithApplicationToken(os.Getenv("B24_OUTGOING_WEBHOOK_TOKEN")))
	if err != nil {
		log.Fatal(err)
	}
	h.OnDynamicItemAdd(sync, smartProcess)
	h.OnDynamicItemUpdate(sync, smartProcess)
	log.Fatal(http.ListenAndServe(":8080", h))
}

func taskReply(h *webhook.Handler, poller *imbotv2.Poller) {
	h.OnBotMessage(func(ctx context.Context, ev *events.Event, m *events.BotMessage) error {
		return webhook.Reply(ctx, m, "You wrote: "+m.Params.Message)
	})
	imbotv2.OnMessage(poller, func(ctx context.Context, ev *events.Event, m *events.BotV2Message) error {
		return imbotv2.Reply(ctx, m, "You wrote: "+m.Message.Text)
	})
}

var _ = []any{taskCall, taskRead, taskCRM, taskEvents, taskBot, taskReply, programLeads, programEchoBot, programSync}

func TestLLMsTxtCodeCompiles(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../llms.txt")
	if err != nil {
		t.Fatal(err)
	}
	checkBlocks(t, "llms.txt", string(doc), 5)
}

func TestREADMEProgramsCompile(t *testing.T) {
	t.Parallel()
	checkBlocks(t, "README.md's Three programs", readmePrograms(t), 3)
}

// readmePrograms returns the "## Three programs" section of README.md.
func readmePrograms(t *testing.T) string {
	t.Helper()
	doc, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	start := strings.Index(s, "## Three programs\n")
	if start < 0 {
		t.Fatal(`README.md has no "## Three programs" section`)
	}
	s = s[start+1:]
	if end := strings.Index(s, "\n## "); end >= 0 {
		s = s[:end]
	}
	return s
}

// checkBlocks fails unless doc has at least want ```go blocks and each
// appears in this file.
func checkBlocks(t *testing.T, name, doc string, want int) {
	t.Helper()
	src, err := os.ReadFile("llms_test.go")
	if err != nil {
		t.Fatal(err)
	}
	code := trimTabs(string(src))
	blocks := strings.Split(doc, "```go\n")[1:]
	if len(blocks) < want {
		t.Fatalf("%s has %d Go blocks, want %d", name, len(blocks), want)
	}
	for i, b := range blocks {
		end := strings.Index(b, "```")
		if end < 0 {
			t.Fatalf("%s: Go block %d is not closed", name, i+1)
		}
		if !strings.Contains(code, trimTabs(b[:end])) {
			t.Errorf("Go block %d of %s is not in llms_test.go, so nothing compiles it:\n%s", i+1, name, b[:end])
		}
	}
}

func trimTabs(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimLeft(l, "\t")
	}
	return strings.Join(lines, "\n")
}
