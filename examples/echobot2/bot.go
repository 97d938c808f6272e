package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/events"
	"github.com/b24go/sdk/imbotv2"
)

// Texts the bot sends (the same story as examples/echobot, on Chatbots 2.0).
const (
	botName     = "Echo Bot"
	welcomeText = "Hi! I'm Echo Bot. Write me anything and I'll write it back. Ask me \"What's hot?\" for news."
	hotText     = "What's hot: b24go, a Go SDK for Bitrix24 — typed REST clients, a fake portal for tests and an event receiver. Start with `go run ./examples/echobot2`."
)

// replyTo returns the bot's answer: the fixed hot message for "what's hot"
// (any case, with or without a question mark), else the text itself.
func replyTo(text string) string {
	q := strings.TrimRight(strings.TrimSpace(text), "?!. ")
	q = strings.ReplaceAll(q, "’", "'")
	if strings.EqualFold(q, "what's hot") || strings.EqualFold(q, "whats hot") {
		return hotText
	}
	return text
}

// echoBot is the bot: it registers itself (or finds itself after a
// restart) and answers the events its Poller hands it.
type echoBot struct {
	client *imbotv2.Client
	code   string
	id     int
	log    *slog.Logger
}

// ensure finds the bot by its code, or registers it in fetch mode: the
// portal keeps its events until the Poller confirms them, so the bot needs
// no public URL (imbot.v2/events/event-get.md).
func (b *echoBot) ensure(ctx context.Context) (registered bool, err error) {
	got, err := b.client.Bots.GetByCode(ctx, b.code)
	var ae *bitrix.APIError
	switch {
	case err == nil:
		b.id = int(got.Bot.ID)
		if got.Bot.EventMode != imbotv2.ModeFetch {
			if _, err := b.client.Bots.Update(ctx, b.id, imbotv2.BotUpdate{EventMode: imbotv2.ModeFetch}); err != nil {
				return false, fmt.Errorf("switching bot %d to fetch mode: %w", b.id, err)
			}
		}
		return false, nil
	case errors.As(err, &ae) && ae.Code == "BOT_NOT_FOUND":
	default:
		return false, fmt.Errorf("looking up bot %q: %w", b.code, err)
	}
	res, err := b.client.Bots.Register(ctx, imbotv2.Registration{
		Code: b.code, Properties: imbotv2.Properties{Name: botName, WorkPosition: "Echoes what you write"},
		EventMode: imbotv2.ModeFetch,
	})
	if err != nil {
		return false, fmt.Errorf("registering the bot: %w", err)
	}
	b.id = int(res.Bot.ID)
	return true, nil
}

// routes registers the handlers on r: a Poller here; a webhook.Handler
// would take the same ones.
func (b *echoBot) routes(r imbotv2.Router) {
	imbotv2.OnJoinChat(r, b.onJoin)
	imbotv2.OnMessage(r, b.onMessage)
	imbotv2.OnDelete(r, func(ctx context.Context, _ *events.Event, d *events.BotV2Delete) error {
		b.log.Warn("the bot was deleted on the portal", "bot", int(d.Bot.ID))
		return nil
	})
}

// onJoin and onMessage answer with imbotv2.Reply: as the bot the event was
// sent to, in its dialog, with the Poller's client (its botToken).
func (b *echoBot) onJoin(ctx context.Context, _ *events.Event, d *events.BotV2JoinChat) error {
	return imbotv2.Reply(ctx, d, welcomeText)
}

func (b *echoBot) onMessage(ctx context.Context, _ *events.Event, d *events.BotV2Message) error {
	if d.User.Bot || strings.TrimSpace(d.Message.Text) == "" {
		return nil
	}
	return imbotv2.Reply(ctx, d, replyTo(d.Message.Text))
}
