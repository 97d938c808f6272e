package imbot_test

import (
	"errors"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/imbot"
)

func TestNewOptions(t *testing.T) {
	t.Parallel()
	if _, err := imbot.New(nil); err == nil {
		t.Error("New(nil) succeeded")
	}
	c, err := bitrix.New(bitrix.WebhookURL("https://portal.example.com/rest/1/secret/"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := imbot.New(c, imbot.WithClientID("  ")); err == nil {
		t.Error("WithClientID(blank) accepted")
	}
	ib, err := imbot.New(c, imbot.WithClientID("my-bot"))
	if err != nil {
		t.Fatal(err)
	}
	if ib.ClientID() != "my-bot" {
		t.Errorf("ClientID = %q", ib.ClientID())
	}
}

func TestClientIDSentWithEveryCall(t *testing.T) {
	t.Parallel()
	srv, ib := newPortal(t)
	ctx := t.Context()
	bot := registerBot(t, ib, "echo")
	msg, err := ib.Messages.Send(ctx, imbot.Message{BotID: bot, DialogID: imbot.User(1), Text: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	if err := ib.Messages.Like(ctx, bot, msg, imbot.LikePlus); err != nil {
		t.Fatal(err)
	}
	if _, err := ib.Bots.List(ctx); err != nil {
		t.Fatal(err)
	}
	calls := srv.Calls()
	if len(calls) != 4 {
		t.Fatalf("%d calls logged, want 4", len(calls))
	}
	for _, c := range calls {
		if got := c.Params["CLIENT_ID"]; got != testClientID {
			t.Errorf("%s: CLIENT_ID = %v, want %q", c.Method, got, testClientID)
		}
	}
	// The portal keys the bot under the client id and appends it to the handlers.
	bots := srv.Bots()
	if len(bots) != 1 || bots[0].ClientID != testClientID {
		t.Fatalf("bots = %+v", bots)
	}
	if h := bots[0].Handlers["MESSAGE_ADD"]; !strings.Contains(h, "CLIENT_ID="+testClientID) {
		t.Errorf("handler %q lacks CLIENT_ID", h)
	}
}

func TestWithoutClientIDWebhookIsRefusedByPortal(t *testing.T) {
	t.Parallel()
	_, ib := newPortal(t, imbot.Option(nil))
	_, err := ib.Bots.Register(t.Context(), imbot.BotRegistration{
		Code: "x", Handlers: imbot.Handlers{All: "https://h.example.com/"}, Properties: imbot.Properties{Name: bitrix.Ptr("X")},
	})
	if !errors.Is(err, bitrix.ErrAccessDenied) {
		t.Fatalf("err = %v, want ErrAccessDenied", err)
	}
}

func TestBotLifecycle(t *testing.T) {
	t.Parallel()
	srv, ib := newPortal(t)
	ctx := t.Context()
	id, err := ib.Bots.Register(ctx, imbot.BotRegistration{
		Code: "helper",
		Type: imbot.TypeSupervisor,
		Handlers: imbot.Handlers{
			MessageAdd: "https://bot.example.com/add", MessageUpdate: "https://bot.example.com/upd",
			WelcomeMessage: "https://bot.example.com/welcome", BotDelete: "https://bot.example.com/delete",
		},
		Properties: imbot.Properties{
			Name: bitrix.Ptr("Helper"), LastName: bitrix.Ptr("Bot"), Color: imbot.ColorAqua,
			Email: bitrix.Ptr("bot@example.com"), PersonalBirthday: bitrix.Ptr("2024-01-31"),
			WorkPosition: bitrix.Ptr("Assistant"), PersonalGender: imbot.GenderFemale,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	reg := srv.Calls()[0]
	wantProps := map[string]any{"NAME": "Helper", "LAST_NAME": "Bot", "COLOR": "AQUA", "EMAIL": "bot@example.com",
		"PERSONAL_BIRTHDAY": "2024-01-31", "WORK_POSITION": "Assistant", "PERSONAL_GENDER": "F"}
	if diff := cmp.Diff(wantProps, reg.Params["PROPERTIES"]); diff != "" {
		t.Errorf("PROPERTIES (-want +got):\n%s", diff)
	}
	if reg.Params["TYPE"] != "S" || reg.Params["EVENT_MESSAGE_UPDATE"] != "https://bot.example.com/upd" {
		t.Errorf("register params = %v", reg.Params)
	}
	if got := srv.Bots()[0].Handlers["MESSAGE_UPDATE"]; !strings.HasPrefix(got, "https://bot.example.com/upd") {
		t.Errorf("supervisor bot lost its MESSAGE_UPDATE handler: %q", got)
	}

	bots, err := ib.Bots.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(bots) != 1 || bots[0].ID != id || bots[0].Code != "helper" || bots[0].Name != "Helper Bot" || bots[0].Openline {
		t.Fatalf("List = %+v", bots)
	}

	if err := ib.Bots.Update(ctx, id, imbot.BotUpdate{Code: bitrix.Ptr("helper2"), Properties: &imbot.Properties{Name: bitrix.Ptr("Helper Two")}}); err != nil {
		t.Fatal(err)
	}
	upd := srv.Calls()[len(srv.Calls())-1]
	if diff := cmp.Diff(map[string]any{"CODE": "helper2", "PROPERTIES": map[string]any{"NAME": "Helper Two"}}, upd.Params["FIELDS"]); diff != "" {
		t.Errorf("FIELDS (-want +got):\n%s", diff)
	}
	bots, _ = ib.Bots.List(ctx)
	if bots[0].Code != "helper2" {
		t.Errorf("code after update = %q", bots[0].Code)
	}

	if err := ib.Bots.Unregister(ctx, id); err != nil {
		t.Fatal(err)
	}
	bots, err = ib.Bots.List(ctx)
	if err != nil || len(bots) != 0 {
		t.Fatalf("after Unregister: %v, %v", bots, err)
	}
	if err := ib.Bots.Unregister(ctx, id); !errors.Is(err, bitrix.ErrNotFound) {
		t.Errorf("second Unregister: %v, want ErrNotFound (BOT_ID_ERROR)", err)
	}
}

func TestBotListDecodesIDKeyedMap(t *testing.T) {
	t.Parallel()
	_, ib := newPortal(t)
	ctx := t.Context()
	a := registerBot(t, ib, "a")
	b := registerBot(t, ib, "b")
	bots, err := ib.Bots.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int
	for _, x := range bots {
		ids = append(ids, x.ID)
	}
	want := []int{a, b}
	sort.Ints(want)
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
}

// refused runs f and checks that it fails with a ValidationError naming
// field and that no request reached the portal.
func refused(t *testing.T, srv interface{ Requests() int }, field string, f func() error) {
	t.Helper()
	before := srv.Requests()
	err := f()
	var ve *bitrix.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want *bitrix.ValidationError", err)
	}
	if !errors.Is(err, bitrix.ErrInvalidArgument) {
		t.Errorf("%v does not match ErrInvalidArgument", err)
	}
	if !strings.Contains(ve.Field, field) {
		t.Errorf("field = %q, want it to contain %q (err %v)", ve.Field, field, err)
	}
	if n := srv.Requests() - before; n != 0 {
		t.Errorf("%d requests sent for refused input", n)
	}
}

func TestBadInputRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	srv, ib := newPortal(t)
	ctx := t.Context()
	okHandlers := imbot.Handlers{All: "https://h.example.com/"}
	name := imbot.Properties{Name: bitrix.Ptr("N")}
	tests := []struct {
		name  string
		field string
		f     func() error
	}{
		{"register no code", "CODE", func() error {
			_, err := ib.Bots.Register(ctx, imbot.BotRegistration{Handlers: okHandlers, Properties: name})
			return err
		}},
		{"register bad type", "TYPE", func() error {
			_, err := ib.Bots.Register(ctx, imbot.BotRegistration{Code: "c", Type: "X", Handlers: okHandlers, Properties: name})
			return err
		}},
		{"register no handlers", "EVENT_MESSAGE_ADD", func() error {
			_, err := ib.Bots.Register(ctx, imbot.BotRegistration{Code: "c", Properties: name})
			return err
		}},
		{"register missing welcome", "EVENT_WELCOME_MESSAGE", func() error {
			_, err := ib.Bots.Register(ctx, imbot.BotRegistration{Code: "c", Properties: name,
				Handlers: imbot.Handlers{MessageAdd: "https://h.example.com/", BotDelete: "https://h.example.com/"}})
			return err
		}},
		{"register relative handler", "EVENT_HANDLER", func() error {
			_, err := ib.Bots.Register(ctx, imbot.BotRegistration{Code: "c", Properties: name, Handlers: imbot.Handlers{All: "/handler"}})
			return err
		}},
		{"register no name", "PROPERTIES.NAME", func() error {
			_, err := ib.Bots.Register(ctx, imbot.BotRegistration{Code: "c", Handlers: okHandlers})
			return err
		}},
		{"register bad colour", "PROPERTIES.COLOR", func() error {
			_, err := ib.Bots.Register(ctx, imbot.BotRegistration{Code: "c", Handlers: okHandlers,
				Properties: imbot.Properties{Name: bitrix.Ptr("N"), Color: "ORANGE"}})
			return err
		}},
		{"register bad birthday", "PERSONAL_BIRTHDAY", func() error {
			_, err := ib.Bots.Register(ctx, imbot.BotRegistration{Code: "c", Handlers: okHandlers,
				Properties: imbot.Properties{Name: bitrix.Ptr("N"), PersonalBirthday: bitrix.Ptr("31.01.2024")}})
			return err
		}},
		{"register bad gender", "PERSONAL_GENDER", func() error {
			_, err := ib.Bots.Register(ctx, imbot.BotRegistration{Code: "c", Handlers: okHandlers,
				Properties: imbot.Properties{Name: bitrix.Ptr("N"), PersonalGender: "X"}})
			return err
		}},
		{"unregister zero", "BOT_ID", func() error { return ib.Bots.Unregister(ctx, 0) }},
		{"update empty", "FIELDS", func() error { return ib.Bots.Update(ctx, 5, imbot.BotUpdate{}) }},
		{"update bad handler", "EVENT_BOT_DELETE", func() error {
			return ib.Bots.Update(ctx, 5, imbot.BotUpdate{Handlers: &imbot.Handlers{BotDelete: "ftp://x"}})
		}},
		{"send no dialog", "DIALOG_ID", func() error {
			_, err := ib.Messages.Send(ctx, imbot.Message{Text: "x"})
			return err
		}},
		{"send bad dialog", "DIALOG_ID", func() error {
			_, err := ib.Messages.Send(ctx, imbot.Message{DialogID: "group7", Text: "x"})
			return err
		}},
		{"send empty text", "MESSAGE", func() error {
			_, err := ib.Messages.Send(ctx, imbot.Message{DialogID: imbot.Chat(3), Text: "  \n"})
			return err
		}},
		{"send half private pair", "TO_USER_ID", func() error {
			_, err := ib.Messages.Send(ctx, imbot.Message{FromUserID: 1, Text: "x"})
			return err
		}},
		{"send negative bot", "BOT_ID", func() error {
			_, err := ib.Messages.Send(ctx, imbot.Message{BotID: -1, DialogID: imbot.User(1), Text: "x"})
			return err
		}},
		{"send empty keyboard", "KEYBOARD", func() error {
			_, err := ib.Messages.Send(ctx, imbot.Message{DialogID: imbot.User(1), Text: "x", Keyboard: imbot.NewKeyboard()})
			return err
		}},
		{"send empty attach", "ATTACH", func() error {
			_, err := ib.Messages.Send(ctx, imbot.Message{DialogID: imbot.User(1), Text: "x", Attach: imbot.NewAttach()})
			return err
		}},
		{"send bad menu", "MENU[0]", func() error {
			_, err := ib.Messages.Send(ctx, imbot.Message{DialogID: imbot.User(1), Text: "x", Menu: imbot.Menu{{Text: "no action"}}})
			return err
		}},
		{"update no message id", "MESSAGE_ID", func() error {
			return ib.Messages.Update(ctx, imbot.MessageUpdate{Text: bitrix.Ptr("x")})
		}},
		{"update empty text", "MESSAGE", func() error {
			return ib.Messages.Update(ctx, imbot.MessageUpdate{MessageID: 3, Text: bitrix.Ptr("")})
		}},
		{"update nothing", "MESSAGE", func() error { return ib.Messages.Update(ctx, imbot.MessageUpdate{MessageID: 3}) }},
		{"update set and clear", "KEYBOARD", func() error {
			return ib.Messages.Update(ctx, imbot.MessageUpdate{MessageID: 3, ClearKeyboard: true,
				Keyboard: imbot.NewKeyboard(imbot.Button{Text: "a", Command: "a"})})
		}},
		{"delete no id", "MESSAGE_ID", func() error { return ib.Messages.Delete(ctx, 0, 0, true) }},
		{"like bad action", "ACTION", func() error { return ib.Messages.Like(ctx, 0, 5, "love") }},
		{"typing bad dialog", "DIALOG_ID", func() error { return ib.Messages.SendTyping(ctx, 0, "") }},
		{"command no bot", "BOT_ID", func() error {
			_, err := ib.Commands.Register(ctx, imbot.Command{Command: "echo", EventCommandAdd: "https://h.example.com/",
				Lang: []imbot.CommandLang{{LanguageID: "en", Title: "Echo"}}})
			return err
		}},
		{"command with space", "COMMAND", func() error {
			_, err := ib.Commands.Register(ctx, imbot.Command{BotID: 1, Command: "echo me", EventCommandAdd: "https://h.example.com/",
				Lang: []imbot.CommandLang{{LanguageID: "en", Title: "Echo"}}})
			return err
		}},
		{"command no handler", "EVENT_COMMAND_ADD", func() error {
			_, err := ib.Commands.Register(ctx, imbot.Command{BotID: 1, Command: "echo",
				Lang: []imbot.CommandLang{{LanguageID: "en", Title: "Echo"}}})
			return err
		}},
		{"command no lang", "LANG", func() error {
			_, err := ib.Commands.Register(ctx, imbot.Command{BotID: 1, Command: "echo", EventCommandAdd: "https://h.example.com/"})
			return err
		}},
		{"command lang no title", "LANG[0].TITLE", func() error {
			_, err := ib.Commands.Register(ctx, imbot.Command{BotID: 1, Command: "echo", EventCommandAdd: "https://h.example.com/",
				Lang: []imbot.CommandLang{{LanguageID: "en"}}})
			return err
		}},
		{"command unregister zero", "COMMAND_ID", func() error { return ib.Commands.Unregister(ctx, 0) }},
		{"command update nothing", "FIELDS", func() error { return ib.Commands.Update(ctx, 4, imbot.CommandUpdate{}) }},
		{"answer no command", "COMMAND_ID", func() error {
			_, err := ib.Commands.Answer(ctx, imbot.CommandAnswer{MessageID: 5, Text: "x"})
			return err
		}},
		{"answer no message", "MESSAGE_ID", func() error {
			_, err := ib.Commands.Answer(ctx, imbot.CommandAnswer{CommandID: 5, Text: "x"})
			return err
		}},
		{"chat add bad type", "TYPE", func() error {
			_, err := ib.Chats.Add(ctx, imbot.NewChat{Type: "SECRET"})
			return err
		}},
		{"chat add bad user", "USERS[1]", func() error {
			_, err := ib.Chats.Add(ctx, imbot.NewChat{Users: []int{3, 0}})
			return err
		}},
		{"chat add entity half", "ENTITY_ID", func() error {
			_, err := ib.Chats.Add(ctx, imbot.NewChat{EntityType: "CRM"})
			return err
		}},
		{"chat get no entity", "ENTITY_TYPE", func() error {
			_, err := ib.Chats.Get(ctx, "", "1")
			return err
		}},
		{"dialog bad id", "DIALOG_ID", func() error {
			_, err := ib.Chats.Dialog(ctx, 0, "chat")
			return err
		}},
		{"user add none", "USERS", func() error { return ib.Chats.AddUsers(ctx, 0, 3, nil, nil) }},
		{"user delete no user", "USER_ID", func() error { return ib.Chats.DeleteUser(ctx, 0, 3, 0) }},
		{"user list no chat", "CHAT_ID", func() error {
			_, err := ib.Chats.Users(ctx, 0, 0)
			return err
		}},
		{"leave no chat", "CHAT_ID", func() error { return ib.Chats.Leave(ctx, 0, -4) }},
		{"title empty", "TITLE", func() error { return ib.Chats.UpdateTitle(ctx, 0, 4, " ") }},
		{"owner no user", "USER_ID", func() error { return ib.Chats.SetOwner(ctx, 0, 4, 0) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			refused(t, srv, tc.field, tc.f)
		})
	}
	if n := len(srv.Calls()); n != 0 {
		t.Errorf("%d calls reached the portal", n)
	}
}

func TestMessages(t *testing.T) {
	t.Parallel()
	srv, ib := newPortal(t)
	ctx := t.Context()
	bot := registerBot(t, ib, "msg")
	kb := imbot.NewKeyboard(
		imbot.Button{Text: "Site", Link: "https://bitrix24.com", BgColorToken: imbot.ColorTokenPrimary, Display: imbot.DisplayLine},
		imbot.Button{Text: "Echo", Command: "echo", CommandParams: "again", Block: true},
	).Row(imbot.Button{Text: "Copy", Action: imbot.ActionCopy, ActionValue: "42"})
	att := imbot.NewAttach().Message("[B]Order[/B]").Grid(imbot.GridItem{Display: imbot.GridRow, Name: "Total", Value: "10 EUR"})
	id, err := ib.Messages.Send(ctx, imbot.Message{
		BotID: bot, DialogID: imbot.User(1), Text: "Hello", Keyboard: kb, Attach: att,
		Menu: imbot.Menu{{Text: "Docs", Link: "https://example.com/docs"}}, System: true, URLPreview: bitrix.Ptr(false),
	})
	if err != nil {
		t.Fatal(err)
	}
	call := srv.Calls()[len(srv.Calls())-1]
	for k, want := range map[string]any{"BOT_ID": "1", "DIALOG_ID": "1", "MESSAGE": "Hello", "SYSTEM": "Y", "URL_PREVIEW": "N"} {
		if k == "BOT_ID" {
			want = strconv.Itoa(bot)
		}
		if call.Params[k] != want {
			t.Errorf("%s = %v, want %v", k, call.Params[k], want)
		}
	}
	msgs := srv.BotMessages()
	if len(msgs) != 1 {
		t.Fatalf("BotMessages = %+v", msgs)
	}
	m := msgs[0]
	if m.ID != id || m.Text != "Hello" || !m.System || m.DialogID != "1" {
		t.Errorf("stored message = %+v", m)
	}
	wantKB := map[string]any{"BUTTONS": []any{
		map[string]any{"TEXT": "Site", "LINK": "https://bitrix24.com", "BG_COLOR_TOKEN": "primary", "DISPLAY": "LINE"},
		map[string]any{"TEXT": "Echo", "COMMAND": "echo", "COMMAND_PARAMS": "again", "BLOCK": "Y"},
		map[string]any{"TYPE": "NEWLINE"},
		map[string]any{"TEXT": "Copy", "ACTION": "COPY", "ACTION_VALUE": "42"},
	}}
	if diff := cmp.Diff(wantKB, m.Keyboard); diff != "" {
		t.Errorf("keyboard as the portal stored it (-want +got):\n%s", diff)
	}
	wantAtt := map[string]any{"BLOCKS": []any{
		map[string]any{"MESSAGE": "[B]Order[/B]"},
		map[string]any{"GRID": []any{map[string]any{"DISPLAY": "ROW", "NAME": "Total", "VALUE": "10 EUR"}}},
	}}
	if diff := cmp.Diff(wantAtt, m.Attach); diff != "" {
		t.Errorf("attach as the portal stored it (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]any{map[string]any{"TEXT": "Docs", "LINK": "https://example.com/docs"}}, m.Menu); diff != "" {
		t.Errorf("menu (-want +got):\n%s", diff)
	}

	// Group chat and the FROM/TO private form.
	chat, err := ib.Chats.Add(ctx, imbot.NewChat{BotID: bot, Title: "Team", Users: []int{1}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ib.Messages.Send(ctx, imbot.Message{BotID: bot, DialogID: imbot.Chat(chat), Text: "to the chat"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ib.Messages.Send(ctx, imbot.Message{BotID: bot, FromUserID: 1, ToUserID: 2, Text: "system note"}); err != nil {
		t.Fatal(err)
	}
	last := srv.Calls()[len(srv.Calls())-1]
	if _, has := last.Params["DIALOG_ID"]; has || last.Params["FROM_USER_ID"] != "1" || last.Params["TO_USER_ID"] != "2" {
		t.Errorf("private-pair params = %v", last.Params)
	}

	// Update: new text, clear the keyboard.
	if err := ib.Messages.Update(ctx, imbot.MessageUpdate{BotID: bot, MessageID: id, Text: bitrix.Ptr("Hello again"), ClearKeyboard: true}); err != nil {
		t.Fatal(err)
	}
	m = findMessage(t, srv.BotMessages(), id)
	if m.Text != "Hello again" || m.Keyboard != nil || !m.Edited || m.Attach == nil {
		t.Errorf("after update: %+v", m)
	}

	// Like, then Like again with plus: WITHOUT_CHANGES.
	if err := ib.Messages.Like(ctx, bot, id, ""); err != nil {
		t.Fatal(err)
	}
	if got := findMessage(t, srv.BotMessages(), id).Likes; got != 1 {
		t.Errorf("likes = %d", got)
	}
	var apiErr *bitrix.APIError
	if err := ib.Messages.Like(ctx, bot, id, imbot.LikePlus); !errors.As(err, &apiErr) || apiErr.Code != "WITHOUT_CHANGES" {
		t.Errorf("second like: %v", err)
	}
	if err := ib.Messages.SendTyping(ctx, bot, imbot.Chat(chat)); err != nil {
		t.Fatal(err)
	}

	// Delete without and with COMPLETE.
	if err := ib.Messages.Delete(ctx, bot, id, false); err != nil {
		t.Fatal(err)
	}
	if !findMessage(t, srv.BotMessages(), id).Deleted {
		t.Error("message not marked deleted")
	}
	if got := srv.Calls()[len(srv.Calls())-1].Params["COMPLETE"]; got != "N" {
		t.Errorf("COMPLETE = %v", got)
	}
	if err := ib.Messages.Delete(ctx, bot, id, true); err != nil {
		t.Fatal(err)
	}
	for _, x := range srv.BotMessages() {
		if x.ID == id {
			t.Error("COMPLETE=Y left the message")
		}
	}
	if err := ib.Messages.Update(ctx, imbot.MessageUpdate{BotID: bot, MessageID: id, Text: bitrix.Ptr("x")}); err == nil {
		t.Error("update of a removed message succeeded")
	}
}

func findMessage(t *testing.T, msgs []bitrixtest.BotMessage, id int) bitrixtest.BotMessage {
	t.Helper()
	for _, m := range msgs {
		if m.ID == id {
			return m
		}
	}
	t.Fatalf("message %d not found", id)
	return bitrixtest.BotMessage{}
}
