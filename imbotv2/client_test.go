package imbotv2

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/imbot"
)

// bot-register.md and change-log.md BOT-BC-0506-1: at most 40 characters.
func TestBotTokenLimit(t *testing.T) {
	t.Parallel()
	bc, _ := bitrix.New(bitrix.WebhookURL("https://p.bitrix24.com/rest/1/secret123456/"))
	for _, tc := range []struct {
		tok string
		ok  bool
	}{
		{strings.Repeat("a", 40), true},
		{strings.Repeat("ж", 40), true},
		{strings.Repeat("a", 41), false},
		{strings.Repeat("f", 64), false}, // a SHA-256 hex, the case the change-log names
		{"", false},
		{"has space", false},
	} {
		_, err := New(bc, WithBotToken(bitrix.Secret(tc.tok)))
		if (err == nil) != tc.ok {
			t.Errorf("token of %d runes: err %v", len([]rune(tc.tok)), err)
		}
		if err != nil {
			if !errors.Is(err, bitrix.ErrInvalidArgument) {
				t.Errorf("%v does not match ErrInvalidArgument", err)
			}
			if tc.tok != "" && strings.Contains(err.Error(), tc.tok) {
				t.Errorf("error quotes the token: %v", err)
			}
		}
	}
	c, _ := New(bc, WithBotToken("tok-1"))
	_, err := c.Bots.Update(t.Context(), 5, BotUpdate{NewBotToken: bitrix.Secret(strings.Repeat("z", 41))})
	if !errors.Is(err, bitrix.ErrInvalidArgument) || strings.Contains(err.Error(), "zzzz") {
		t.Errorf("rotation to a long token: %v", err)
	}
}

// The botToken never reaches an error, fmt or slog, even when the portal
// refuses the call.
func TestBotTokenRedacted(t *testing.T) {
	t.Parallel()
	s, c, bot := newFetchBot(t)
	_ = s
	const tok = testToken
	var logs bytes.Buffer
	p := &Poller{Client: c, BotID: bot + 1000, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	_, err := p.Once(t.Context())
	if err == nil {
		t.Fatal("unknown bot: no error")
	}
	for _, out := range []string{err.Error(), fmt.Sprintf("%v %+v %#v", c, c, c), fmt.Sprintf("%+v", p), logs.String()} {
		if strings.Contains(out, tok) {
			t.Fatalf("token leaked: %s", out)
		}
	}
	// A second client with another bot's token is refused by the portal.
	other, _ := New(c.BitrixClient(), WithBotToken("wrong-token"))
	if _, err := other.Bots.Get(t.Context(), bot); err == nil || !strings.Contains(err.Error(), "BOT_OWNERSHIP_ERROR") {
		t.Fatalf("foreign token: %v", err)
	}
	noTok, _ := New(c.BitrixClient())
	if _, err := noTok.Bots.Get(t.Context(), bot); err == nil || !strings.Contains(err.Error(), "BOT_TOKEN_NOT_SPECIFIED") {
		t.Fatalf("no token over a webhook: %v", err)
	}
}

// OAuth applications send no botToken (index.md#auth).
func TestOAuthBot(t *testing.T) {
	t.Parallel()
	s := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit())
	tok, err := s.InstallApp("")
	if err != nil {
		t.Fatal(err)
	}
	app := s.App()
	bc, err := bitrix.New(bitrix.OAuth(bitrix.Token{AccessToken: bitrix.Secret(tok.AccessToken), RefreshToken: bitrix.Secret(tok.RefreshToken), Expires: tok.Expires, ClientEndpoint: app.ClientEndpoint, Domain: app.Domain, MemberID: app.MemberID},
		bitrix.App{ClientID: app.ClientID, ClientSecret: bitrix.Secret(app.ClientSecret), TokenURL: app.TokenURL}, nil), bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit())
	if err != nil {
		t.Fatal(err)
	}
	c, _ := New(bc)
	res, err := c.Bots.Register(t.Context(), Registration{Code: "app_bot", Properties: Properties{Name: "App Bot"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Bot.EventMode != ModeFetch || res.Bot.Code != "app_bot" {
		t.Fatalf("bot %+v", res.Bot)
	}
	list, err := c.Bots.List(t.Context(), BotListOptions{})
	if err != nil || len(list.Bots) != 1 {
		t.Fatalf("list %+v, %v", list, err)
	}
	for _, call := range s.Calls() {
		if strings.HasPrefix(strings.ToLower(call.Method), "imbot.v2") && strings.Contains(fmt.Sprint(call.Params), "botToken") {
			t.Fatalf("OAuth call sent a botToken: %v", call.Params)
		}
	}
}

func TestValidation(t *testing.T) {
	t.Parallel()
	bc, _ := bitrix.New(bitrix.WebhookURL("https://p.bitrix24.com/rest/1/secret123456/"))
	c, _ := New(bc, WithBotToken("tok"))
	ctx := t.Context()
	long := strings.Repeat("x", MaxTextLen+1)
	for name, err := range map[string]error{
		"no code": func() error { _, e := c.Bots.Register(ctx, Registration{Properties: Properties{Name: "n"}}); return e }(),
		"no name": func() error { _, e := c.Bots.Register(ctx, Registration{Code: "c"}); return e }(),
		"bad mode": func() error {
			_, e := c.Bots.Register(ctx, Registration{Code: "c", Properties: Properties{Name: "n"}, EventMode: "push"})
			return e
		}(),
		"webhook no url": func() error {
			_, e := c.Bots.Register(ctx, Registration{Code: "c", Properties: Properties{Name: "n"}, EventMode: ModeWebhook})
			return e
		}(),
		"fetch with url": func() error {
			_, e := c.Bots.Register(ctx, Registration{Code: "c", Properties: Properties{Name: "n"}, EventMode: ModeFetch, WebhookURL: "https://x"})
			return e
		}(),
		"bad background": func() error {
			_, e := c.Bots.Register(ctx, Registration{Code: "c", Properties: Properties{Name: "n"}, BackgroundID: "pink"})
			return e
		}(),
		"bot id":        func() error { _, e := c.Messages.Send(ctx, 0, "chat5", MessageFields{Text: "x"}); return e }(),
		"dialog":        func() error { _, e := c.Messages.Send(ctx, 1, "room5", MessageFields{Text: "x"}); return e }(),
		"empty message": func() error { _, e := c.Messages.Send(ctx, 1, "chat5", MessageFields{}); return e }(),
		"long message":  func() error { _, e := c.Messages.Send(ctx, 1, "chat5", MessageFields{Text: long}); return e }(),
		"bad keyboard": func() error {
			_, e := c.Messages.Send(ctx, 1, "5", MessageFields{Text: "x", Keyboard: imbot.NewKeyboard(imbot.Button{Text: "no action"})})
			return e
		}(),
		"reply on update":  c.Messages.Update(ctx, 1, 2, MessageFields{Text: "x", ReplyID: 3}),
		"event limit":      func() error { _, e := c.Events.Get(ctx, 1, EventQuery{Limit: 1001}); return e }(),
		"duration":         c.Chats.InputAction(ctx, 1, "chat5", "", 601e9),
		"visible no title": func() error { _, e := c.Commands.Register(ctx, 1, CommandSpec{Command: "help"}); return e }(),
		"lang code": func() error {
			_, e := c.Commands.Register(ctx, 1, CommandSpec{Command: "help", Title: map[string]string{"eng": "Help"}})
			return e
		}(),
		"no user ids":  c.Chats.AddUsers(ctx, 1, "chat5"),
		"empty upload": func() error { _, e := c.Files.Upload(ctx, 1, "chat5", Upload{Name: "a.txt"}); return e }(),
	} {
		var ve *bitrix.ValidationError
		if !errors.As(err, &ve) || !errors.Is(err, bitrix.ErrInvalidArgument) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// Chat.Message.update may change the keyboard alone; an update with
// nothing in it is refused before it is sent.
func TestMessageUpdateFields(t *testing.T) {
	t.Parallel()
	s, c, bot := newFetchBot(t)
	ctx := t.Context()
	sent, err := c.Messages.Send(ctx, bot, UserDialog(2), MessageFields{Text: "pick one", Keyboard: imbot.NewKeyboard(imbot.Button{Text: "A", Command: "a"})})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Messages.Update(ctx, bot, sent.ID, MessageFields{Keyboard: imbot.NewKeyboard(imbot.Button{Text: "B", Command: "b"})}); err != nil {
		t.Fatalf("keyboard-only update: %v", err)
	}
	msgs := s.V2Messages()
	if len(msgs) != 1 || msgs[0].Text != "pick one" || !strings.Contains(msgs[0].Keyboard, `"B"`) {
		t.Fatalf("after update: %+v", msgs)
	}
	if err := c.Messages.Update(ctx, bot, sent.ID, MessageFields{}); !errors.Is(err, bitrix.ErrInvalidArgument) {
		t.Fatalf("empty update: %v", err)
	}
	if err := c.Messages.Update(ctx, bot, sent.ID, MessageFields{Text: "x", System: true}); !errors.Is(err, bitrix.ErrInvalidArgument) {
		t.Fatalf("system on update: %v", err)
	}
}
