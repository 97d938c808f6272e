package imbotv2

import (
	"context"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/events"
	"github.com/b24go/sdk/webhook"
)

// Webhook mode end to end: the fake portal POSTs ONIMBOTV2* deliveries
// (form or JSON) to a webhook.Handler with the same typed handlers as the
// Poller, verified by the top-level application_token.
func TestWebhookModeEndToEnd(t *testing.T) {
	t.Parallel()
	for _, asJSON := range []bool{false, true} {
		s := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit())
		s.SetV2WebhookJSON(asJSON)
		bc, err := bitrix.New(bitrix.WebhookURL(s.WebhookURL()), bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit())
		if err != nil {
			t.Fatal(err)
		}
		c, _ := New(bc, WithBotToken(testToken))
		var hp atomic.Pointer[webhook.Handler]
		mux := httptest.NewServer(webhookProxy(&hp))
		defer mux.Close()
		reg, err := c.Bots.Register(t.Context(), Registration{Code: "hook", Properties: Properties{Name: "Hook"}, EventMode: ModeWebhook, WebhookURL: mux.URL + "/bot"})
		if err != nil {
			t.Fatal(err)
		}
		bot := int(reg.Bot.ID)
		h, err := webhook.New(webhook.WithApplicationToken(s.V2ApplicationToken(bot)))
		if err != nil {
			t.Fatal(err)
		}
		hp.Store(h)
		OnMessage(h, func(ctx context.Context, ev *events.Event, d *events.BotV2Message) error {
			_, err := c.Messages.Send(ctx, int(d.Bot.ID), DialogID(d.ReplyDialog()), MessageFields{Text: "echo: " + d.Message.Text})
			return err
		})
		OnJoinChat(h, func(ctx context.Context, ev *events.Event, d *events.BotV2JoinChat) error {
			_, err := c.Messages.Send(ctx, int(d.Bot.ID), DialogID(d.DialogID), MessageFields{Text: "hello"})
			return err
		})
		if err := s.V2AddBotToChat(bot, 0, 2); err != nil {
			t.Fatalf("json=%v join: %v", asJSON, err)
		}
		if _, err := s.V2SendMessage(bot, 2, "ping"); err != nil {
			t.Fatalf("json=%v message: %v", asJSON, err)
		}
		msgs := s.V2Messages()
		if len(msgs) != 2 || msgs[0].Text != "hello" || msgs[1].Text != "echo: ping" || msgs[1].DialogID != "2" {
			t.Fatalf("json=%v: bot wrote %+v", asJSON, msgs)
		}
		if pend := s.V2PendingEvents(bot); len(pend) != 0 {
			t.Fatalf("webhook bot queued events: %v", pend)
		}
	}
}
