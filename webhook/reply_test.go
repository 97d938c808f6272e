package webhook_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/events"
	"github.com/b24go/sdk/imbot"
	"github.com/b24go/sdk/webhook"
	"github.com/google/go-cmp/cmp"
)

type botMsg struct {
	BotID    int
	DialogID string
	Text     string
}

func botMessages(s *bitrixtest.Server) []botMsg {
	var out []botMsg
	for _, m := range s.BotMessages() {
		out = append(out, botMsg{m.BotID, m.DialogID, m.Text})
	}
	return out
}

func newHandler(t *testing.T, opts ...webhook.Option) *webhook.Handler {
	t.Helper()
	h, err := webhook.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func messageAdds(s *bitrixtest.Server) []bitrixtest.Call {
	var out []bitrixtest.Call
	for _, c := range s.Calls() {
		if c.Method == "imbot.message.add" {
			out = append(out, c)
		}
	}
	return out
}

// Reply answers with the bot's own token from the event
// (data[BOT][id][access_token]), here without the app's credentials.
func TestReplyAsTheBot(t *testing.T) {
	t.Parallel()
	portal := bitrixtest.NewServer(t)
	h := newHandler(t, webhook.WithApplicationToken(portal.App().ApplicationToken),
		webhook.WithClientOptions(bitrix.WithAllowHTTP()))
	h.OnBotJoin(func(ctx context.Context, _ *events.Event, m *events.BotMessage) error {
		return webhook.Reply(ctx, m, "hello")
	})
	h.OnBotMessage(func(ctx context.Context, _ *events.Event, m *events.BotMessage) error {
		return webhook.Reply(ctx, m, "echo: "+m.Params.Message)
	})
	h.OnCommand(func(ctx context.Context, _ *events.Event, c *events.CommandAdd) error {
		cmd, _ := c.First()
		return webhook.Reply(ctx, c, "/"+cmd.Command+": "+cmd.Params)
	})
	srv := httptest.NewServer(h)
	defer srv.Close()

	// The bot and its command are registered with a token of the app, as an operator would.
	tok := portal.IssueToken(1)
	res, err := http.PostForm(portal.URL()+"/rest/imbot.register", url.Values{
		"auth": {tok.AccessToken}, "CODE": {"replier"}, "EVENT_MESSAGE_ADD": {srv.URL},
		"EVENT_WELCOME_MESSAGE": {srv.URL}, "EVENT_BOT_DELETE": {srv.URL}, "PROPERTIES[NAME]": {"Replier"},
	})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	bots := portal.Bots()
	if res.StatusCode != http.StatusOK || len(bots) != 1 {
		t.Fatalf("imbot.register: HTTP %d, bots %+v", res.StatusCode, bots)
	}
	bot := bots[0].ID
	res, err = http.PostForm(portal.URL()+"/rest/imbot.command.register", url.Values{
		"auth": {tok.AccessToken}, "BOT_ID": {strconv.Itoa(bot)}, "COMMAND": {"echo"},
		"EVENT_COMMAND_ADD": {srv.URL}, "LANG[0][LANGUAGE_ID]": {"en"}, "LANG[0][TITLE]": {"Echo"},
	})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("imbot.command.register: HTTP %d", res.StatusCode)
	}
	if err := portal.AddBotToChat(bot, 0); err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"ping", "/echo hi"} {
		if _, err := portal.SendBotMessage(bot, 1, text); err != nil {
			t.Fatalf("%q: %v", text, err)
		}
	}
	want := []botMsg{{bot, "1", "hello"}, {bot, "1", "echo: ping"}, {bot, "1", "/echo: hi"}}
	if d := cmp.Diff(want, botMessages(portal)); d != "" {
		t.Errorf("bot messages (-want +got)\n%s", d)
	}
	calls := messageAdds(portal)
	if len(calls) != 3 {
		t.Fatalf("%d imbot.message.add calls, want 3", len(calls))
	}
	for _, c := range calls {
		if c.AuthKind != bitrixtest.AuthOAuth || c.UserID != bot {
			t.Errorf("imbot.message.add as %s user %d, want the bot's own token (user %d)", c.AuthKind, c.UserID, bot)
		}
	}
}

// An event without the bot's tokens is answered with the portal's client,
// stored from the app's install (WithApp).
func TestReplyWithThePortalClient(t *testing.T) {
	t.Parallel()
	portal := bitrixtest.NewServer(t)
	app := portal.App()
	h := newHandler(t, webhook.WithApp(bitrix.App{ClientID: app.ClientID, ClientSecret: bitrix.Secret(app.ClientSecret), TokenURL: app.TokenURL}),
		webhook.WithOAuthServers(app.ServerEndpoint), webhook.WithClientOptions(bitrix.WithAllowHTTP()))
	h.OnBotMessage(func(ctx context.Context, _ *events.Event, m *events.BotMessage) error {
		return webhook.Reply(ctx, m, "echo: "+m.Params.Message)
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	if _, err := portal.InstallApp(srv.URL); err != nil {
		t.Fatal(err)
	}
	c, err := h.Client(t.Context(), app.MemberID)
	if err != nil {
		t.Fatal(err)
	}
	ib, err := imbot.New(c)
	if err != nil {
		t.Fatal(err)
	}
	bot, err := ib.Bots.Register(t.Context(), imbot.BotRegistration{Code: "replier", Type: imbot.TypeBot,
		Handlers: imbot.Handlers{All: srv.URL}, Properties: imbot.Properties{Name: bitrix.Ptr("Replier")}})
	if err != nil {
		t.Fatal(err)
	}
	id := strconv.Itoa(bot)
	ev, err := events.ParseBody([]byte("event=ONIMBOTMESSAGEADD&data[PARAMS][DIALOG_ID]=1&data[PARAMS][TO_USER_ID]=" + id +
		"&data[PARAMS][MESSAGE]=ping&data[BOT][" + id + "][BOT_ID]=" + id + "&auth[member_id]=" + app.MemberID))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Dispatch(t.Context(), ev); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]botMsg{{bot, "1", "echo: ping"}}, botMessages(portal)); d != "" {
		t.Errorf("bot messages (-want +got)\n%s", d)
	}
	calls := messageAdds(portal)
	if len(calls) != 1 || calls[0].AuthKind != bitrixtest.AuthOAuth || calls[0].UserID != 1 {
		t.Errorf("imbot.message.add calls %+v, want one with the installing user's token (user 1)", calls)
	}
}

func TestReplyErrors(t *testing.T) {
	t.Parallel()
	m := &events.BotMessage{Params: events.MessageParams{DialogID: "1", BotID: 5}}
	if err := webhook.Reply(context.Background(), m, "x"); err == nil {
		t.Error("Reply outside a handler: no error")
	}
	h := newHandler(t, webhook.WithApplicationToken("t"))
	var got []error
	h.OnBotMessage(func(ctx context.Context, _ *events.Event, m *events.BotMessage) error {
		err := webhook.Reply(ctx, m, "x")
		got = append(got, err)
		return nil
	})
	for _, body := range []string{
		"event=ONIMBOTMESSAGEADD&data[PARAMS][MESSAGE]=no+dialog",
		// No bot token in the event and no stored install.
		"event=ONIMBOTMESSAGEADD&data[PARAMS][DIALOG_ID]=1&data[PARAMS][BOT_ID]=5",
	} {
		ev, err := events.ParseBody([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Dispatch(t.Context(), ev); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 2 || got[0] == nil || !errors.Is(got[1], webhook.ErrNoClient) {
		t.Errorf("errors %v; want one for the missing dialog, then ErrNoClient", got)
	}
}
