package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/events"
	"github.com/b24go/sdk/imbot"
	"github.com/b24go/sdk/webhook"
)

// Texts the bot sends.
const (
	botCode = "echobot"
	botName = "Echo Bot"

	welcomeText = "Hi! I'm Echo Bot. Write me anything and I'll write it back. Ask me \"What's hot?\" for news."
	hotText     = "What's hot: b24go, a Go SDK for Bitrix24 — typed REST clients, a fake portal for tests and an event receiver. Start with `go run ./examples/echobot`."
)

// replyTo returns the bot's answer to a message: the fixed hot message for
// "what's hot" (any case, with or without a question mark), else the text
// itself.
func replyTo(text string) string {
	q := strings.TrimSpace(text)
	q = strings.TrimRight(q, "?!. ")
	q = strings.ReplaceAll(q, "’", "'") // a typographic apostrophe from mobile keyboards
	if strings.EqualFold(q, "what's hot") || strings.EqualFold(q, "whats hot") {
		return hotText
	}
	return text
}

// echoBot is the bot's logic: it registers itself when the app is
// installed, greets, echoes, and forgets its registration when the bot is
// deleted.
type echoBot struct {
	handlerURL string     // public URL of /bitrix24/handler, given to imbot.register
	app        bitrix.App // the app (webhook.WithApp)
	log        *slog.Logger

	mu   sync.Mutex
	bots map[string]int // member id → id of our bot on that portal
}

func newEchoBot(handlerURL string, app bitrix.App, log *slog.Logger) *echoBot {
	return &echoBot{handlerURL: handlerURL, app: app, log: log, bots: map[string]int{}}
}

// botID returns the id of the bot registered on a portal (0: none).
func (b *echoBot) botID(memberID string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.bots[memberID]
}

// routes registers the bot's event handlers on h.
func (b *echoBot) routes(h *webhook.Handler) {
	h.OnAppInstall(b.onInstall)
	h.OnAppUninstall(b.onUninstall)
	h.OnBotJoin(b.onJoin)
	h.OnBotMessage(b.onMessage)
	h.OnBotDelete(b.onDelete)
}

// onInstall registers the bot on the portal that installed the app
// (imbot.register), or updates its handler URLs when it already exists
// (a reinstall).
func (b *echoBot) onInstall(ctx context.Context, ev *events.Event, _ *events.AppInstall) error {
	c, err := webhook.PortalClient(ctx)
	if errors.Is(err, webhook.ErrNoClient) {
		// Token-only mode (B24_APP_TOKEN without the app's credentials):
		// nothing to register with.
		b.log.Warn("app installed, but without B24_CLIENT_ID/B24_CLIENT_SECRET the bot cannot be registered", "portal", ev.Auth.Domain)
		return nil
	}
	if err != nil {
		return err
	}
	ib, err := imbot.New(c)
	if err != nil {
		return err
	}
	handlers := imbot.Handlers{MessageAdd: b.handlerURL, WelcomeMessage: b.handlerURL, BotDelete: b.handlerURL}
	existing, err := ib.Bots.List(ctx)
	if err != nil {
		return fmt.Errorf("list bots: %w", err)
	}
	id := 0
	for _, bot := range existing {
		if bot.Code == botCode {
			id = bot.ID
		}
	}
	if id != 0 {
		if err := ib.Bots.Update(ctx, id, imbot.BotUpdate{Handlers: &handlers}); err != nil {
			return fmt.Errorf("update bot %d: %w", id, err)
		}
	} else {
		id, err = ib.Bots.Register(ctx, imbot.BotRegistration{
			Code:     botCode,
			Type:     imbot.TypeBot,
			Handlers: handlers,
			Properties: imbot.Properties{
				Name:         bitrix.Ptr(botName),
				Color:        imbot.ColorAqua,
				WorkPosition: bitrix.Ptr("Repeats what you say"),
			},
		})
		if err != nil {
			return fmt.Errorf("register bot: %w", err)
		}
	}
	b.mu.Lock()
	b.bots[ev.MemberID()] = id
	b.mu.Unlock()
	b.log.Info("app installed, bot registered", "portal", ev.Auth.Domain, "bot_id", id)
	return nil
}

func (b *echoBot) onUninstall(_ context.Context, ev *events.Event, _ *events.AppUninstall) error {
	b.mu.Lock()
	delete(b.bots, ev.MemberID())
	b.mu.Unlock()
	b.log.Info("app uninstalled", "portal", ev.Auth.Domain)
	return nil
}

func (b *echoBot) onJoin(ctx context.Context, _ *events.Event, m *events.BotMessage) error {
	return webhook.Reply(ctx, m, welcomeText)
}

// onMessage answers as the bot the message was addressed to: webhook.Reply
// sends with the bot's own token from the event when there is one, else
// with the installed app's client.
func (b *echoBot) onMessage(ctx context.Context, _ *events.Event, m *events.BotMessage) error {
	if strings.TrimSpace(m.Params.Message) == "" {
		return nil // nothing to echo (a file or a sticker)
	}
	return webhook.Reply(ctx, m, replyTo(m.Params.Message))
}

// onDelete cleans up after an administrator deleted the bot: the app
// forgets it (a real bot would also drop its per-bot data here).
func (b *echoBot) onDelete(_ context.Context, ev *events.Event, d *events.BotDelete) error {
	b.mu.Lock()
	if b.bots[ev.MemberID()] == int(d.BotID) {
		delete(b.bots, ev.MemberID())
	}
	b.mu.Unlock()
	b.log.Info("bot deleted", "portal", ev.Auth.Domain, "bot_id", int(d.BotID))
	return nil
}
