package imbotv2

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/events"
	"github.com/b24go/sdk/webhook"
	"github.com/google/go-cmp/cmp"
)

// replyRoutes registers handlers that answer with Reply on r.
func replyRoutes(r Router) {
	OnJoinChat(r, func(ctx context.Context, _ *events.Event, d *events.BotV2JoinChat) error {
		return Reply(ctx, d, "hello")
	})
	OnMessage(r, func(ctx context.Context, _ *events.Event, d *events.BotV2Message) error {
		return Reply(ctx, d, "echo: "+d.Message.Text)
	})
}

type sent struct {
	BotID    int
	DialogID string
	Text     string
}

func v2sent(s *bitrixtest.Server) []sent {
	var out []sent
	for _, m := range s.V2Messages() {
		out = append(out, sent{m.BotID, m.DialogID, m.Text})
	}
	return out
}

// sendCalls returns the auth of each Chat.Message.send call.
func sendCalls(s *bitrixtest.Server) []bitrixtest.Call {
	var out []bitrixtest.Call
	for _, c := range s.Calls() {
		if strings.EqualFold(c.Method, "imbot.v2.Chat.Message.send") {
			out = append(out, c)
		}
	}
	return out
}

// In a Poller's handler Reply sends with the Poller's Client: an inbound
// webhook plus the botToken, which the portal checks against the bot.
func TestReplyInPoller(t *testing.T) {
	t.Parallel()
	s, c, bot := newFetchBot(t)
	p := &Poller{Client: c, BotID: bot}
	replyRoutes(p)
	if err := s.V2AddBotToChat(bot, 0, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.V2SendMessage(bot, 2, "ping"); err != nil {
		t.Fatal(err)
	}
	batch, err := c.Events.Get(t.Context(), bot, EventQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, fe := range batch.Events {
		ev, err := fe.Event()
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Dispatch(t.Context(), ev); err != nil {
			t.Fatalf("%s: %v", ev.Name, err)
		}
	}
	want := []sent{{bot, "2", "hello"}, {bot, "2", "echo: ping"}}
	if d := cmp.Diff(want, v2sent(s)); d != "" {
		t.Errorf("bot messages (-want +got)\n%s", d)
	}
	for _, call := range sendCalls(s) {
		if call.AuthKind != bitrixtest.AuthWebhook || call.Code != "" {
			t.Errorf("Chat.Message.send as %s (error %q), want the inbound webhook", call.AuthKind, call.Code)
		}
	}
}

// startWebhookBot registers a webhook-mode bot with c and serves h's
// deliveries; it returns the bot id and the handler (routes to be added).
func startWebhookBot(t *testing.T, s *bitrixtest.Server, c *Client, code string) (int, *webhook.Handler) {
	t.Helper()
	var hp atomic.Pointer[webhook.Handler]
	srv := httptest.NewServer(webhookProxy(&hp))
	t.Cleanup(srv.Close)
	reg, err := c.Bots.Register(t.Context(), Registration{Code: code, Properties: Properties{Name: "Hook"}, EventMode: ModeWebhook, WebhookURL: srv.URL + "/bot"})
	if err != nil {
		t.Fatal(err)
	}
	bot := int(reg.Bot.ID)
	h, err := webhook.New(webhook.WithApplicationToken(s.V2ApplicationToken(bot)),
		webhook.WithClientOptions(bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit()))
	if err != nil {
		t.Fatal(err)
	}
	hp.Store(h)
	return bot, h
}

// A bot of an OAuth application gets its own token in each webhook-mode
// event (data.bot.auth); Reply answers with it, as the bot.
func TestReplyWithTheBotsOwnToken(t *testing.T) {
	t.Parallel()
	for _, asJSON := range []bool{false, true} {
		s := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit())
		s.SetV2WebhookJSON(asJSON)
		tok, err := s.InstallApp("")
		if err != nil {
			t.Fatal(err)
		}
		app := s.App()
		bc, err := bitrix.New(bitrix.OAuth(bitrix.Token{AccessToken: bitrix.Secret(tok.AccessToken), Expires: tok.Expires, ClientEndpoint: app.ClientEndpoint, Domain: app.Domain, MemberID: app.MemberID},
			bitrix.App{}, nil), bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit())
		if err != nil {
			t.Fatal(err)
		}
		c, err := New(bc)
		if err != nil {
			t.Fatal(err)
		}
		bot, h := startWebhookBot(t, s, c, "app_hook")
		replyRoutes(h)
		if err := s.V2AddBotToChat(bot, 0, 3); err != nil {
			t.Fatalf("json=%v: join: %v", asJSON, err)
		}
		if _, err := s.V2SendMessage(bot, 3, "ping"); err != nil {
			t.Fatalf("json=%v: message: %v", asJSON, err)
		}
		want := []sent{{bot, "3", "hello"}, {bot, "3", "echo: ping"}}
		if d := cmp.Diff(want, v2sent(s)); d != "" {
			t.Errorf("json=%v: bot messages (-want +got)\n%s", asJSON, d)
		}
		calls := sendCalls(s)
		if len(calls) != 2 {
			t.Fatalf("json=%v: %d Chat.Message.send calls, want 2", asJSON, len(calls))
		}
		for _, call := range calls {
			if call.AuthKind != bitrixtest.AuthOAuth || call.UserID != bot {
				t.Errorf("json=%v: Chat.Message.send as %s user %d, want the bot's token (user %d)", asJSON, call.AuthKind, call.UserID, bot)
			}
		}
	}
}

// A bot registered through an inbound webhook gets no tokens in its
// events: ReplyVia gives Reply its Client.
func TestReplyVia(t *testing.T) {
	t.Parallel()
	s, c, _ := newFetchBot(t)
	bot, h := startWebhookBot(t, s, c, "hook")
	replyRoutes(h)
	if _, err := s.V2SendMessage(bot, 2, "ping"); err == nil {
		t.Fatal("without ReplyVia the handler answered; want a failed delivery (no client to reply with)")
	}
	s2, c2, _ := newFetchBot(t)
	bot2, h2 := startWebhookBot(t, s2, c2, "hook")
	h2.Use(ReplyVia(c2))
	replyRoutes(h2)
	if _, err := s2.V2SendMessage(bot2, 2, "ping"); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]sent{{bot2, "2", "echo: ping"}}, v2sent(s2)); d != "" {
		t.Errorf("bot messages (-want +got)\n%s", d)
	}
}

func TestReplyOutsideAHandler(t *testing.T) {
	t.Parallel()
	err := Reply(context.Background(), &events.BotV2Message{Bot: events.BotV2{ID: 1}, Chat: events.ChatV2{DialogID: "chat1"}}, "x")
	if err == nil {
		t.Fatal("Reply outside a handler and without a client: no error")
	}
	if err := Reply[events.BotV2Message](context.Background(), nil, "x"); err == nil {
		t.Fatal("Reply to nil data: no error")
	}
}
