// Package llmstxt_test keeps the code of the repository's llms.txt
// compiling: every ```go block of llms.txt must appear, line for line
// (leading tabs aside), in one of the functions below, which the compiler
// checks.
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
	for item, err := range deals.All(ctx, crm.ListQuery{Filter: map[string]any{"=stageId": "NEW"}}) {
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

var _ = []any{taskCall, taskRead, taskCRM, taskEvents, taskBot}

func TestLLMsTxtCodeCompiles(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../llms.txt")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("llms_test.go")
	if err != nil {
		t.Fatal(err)
	}
	code := trimTabs(string(src))
	blocks := strings.Split(string(doc), "```go\n")[1:]
	if len(blocks) < 5 {
		t.Fatalf("llms.txt has %d Go blocks, want the five tasks", len(blocks))
	}
	for i, b := range blocks {
		end := strings.Index(b, "```")
		if end < 0 {
			t.Fatalf("Go block %d is not closed", i+1)
		}
		if !strings.Contains(code, trimTabs(b[:end])) {
			t.Errorf("Go block %d of llms.txt is not in llms_test.go, so nothing compiles it:\n%s", i+1, b[:end])
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
