package imbot_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/imbot"
)

func TestCommands(t *testing.T) {
	t.Parallel()
	srv, ib := newPortal(t)
	ctx := t.Context()
	bot := registerBot(t, ib, "cmd")
	var deliveries atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("event") == "ONIMCOMMANDADD" {
			deliveries.Add(1)
		}
	}))
	t.Cleanup(hook.Close)
	id, err := ib.Commands.Register(ctx, imbot.Command{
		BotID: bot, Command: "echo", EventCommandAdd: hook.URL + "/command",
		Lang:   []imbot.CommandLang{{LanguageID: "en", Title: "Echo", Params: "text"}, {LanguageID: "de", Title: "Echo"}},
		Common: true, Hidden: false,
	})
	if err != nil {
		t.Fatal(err)
	}
	reg := srv.Calls()[len(srv.Calls())-1]
	wantLang := []any{
		map[string]any{"LANGUAGE_ID": "en", "TITLE": "Echo", "PARAMS": "text"},
		map[string]any{"LANGUAGE_ID": "de", "TITLE": "Echo"},
	}
	if diff := cmp.Diff(wantLang, reg.Params["LANG"]); diff != "" {
		t.Errorf("LANG (-want +got):\n%s", diff)
	}
	if reg.Params["COMMON"] != "Y" || reg.Params["HIDDEN"] != "N" {
		t.Errorf("flags: %v", reg.Params)
	}
	if got := srv.Bots()[0].Commands; len(got) != 1 || got[0] != "echo" {
		t.Errorf("portal commands = %v", got)
	}

	if err := ib.Commands.Update(ctx, id, imbot.CommandUpdate{Command: bitrix.Ptr("echo2"), Hidden: bitrix.Ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"COMMAND": "echo2", "HIDDEN": "Y"}, srv.Calls()[len(srv.Calls())-1].Params["FIELDS"]); diff != "" {
		t.Errorf("FIELDS (-want +got):\n%s", diff)
	}
	if got := srv.Bots()[0].Commands; len(got) != 1 || got[0] != "echo2" {
		t.Errorf("portal commands after update = %v", got)
	}

	// Answer a command a user typed: the event gives MESSAGE_ID.
	userMsg, err := srv.SendBotMessage(bot, 1, "/echo2 hi")
	if err != nil {
		t.Fatal(err)
	}
	if deliveries.Load() != 1 {
		t.Errorf("ONIMCOMMANDADD deliveries = %d", deliveries.Load())
	}
	kb := imbot.NewKeyboard(imbot.Button{Text: "Again", Command: "echo2", CommandParams: "hi"})
	ans, err := ib.Commands.Answer(ctx, imbot.CommandAnswer{CommandID: id, MessageID: userMsg, Text: "hi", Keyboard: kb})
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, m := range srv.BotMessages() {
		if m.ID == ans {
			found = true
			if m.Text != "hi" || m.Keyboard == nil {
				t.Errorf("answer = %+v", m)
			}
		}
	}
	if !found {
		t.Errorf("answer %d not stored", ans)
	}
	// By name instead of id.
	if _, err := ib.Commands.Answer(ctx, imbot.CommandAnswer{Command: "echo2", MessageID: userMsg, Text: "again"}); err != nil {
		t.Fatal(err)
	}

	if err := ib.Commands.Unregister(ctx, id); err != nil {
		t.Fatal(err)
	}
	if got := srv.Bots()[0].Commands; len(got) != 0 {
		t.Errorf("commands after unregister = %v", got)
	}
	if err := ib.Commands.Unregister(ctx, id); !errors.Is(err, bitrix.ErrNotFound) {
		t.Errorf("second unregister: %v, want ErrNotFound", err)
	}
}

func TestChats(t *testing.T) {
	t.Parallel()
	srv, ib := newPortal(t)
	ctx := t.Context()
	bot := registerBot(t, ib, "chatbot")
	chat, err := ib.Chats.Add(ctx, imbot.NewChat{
		BotID: bot, Type: imbot.ChatOpen, Title: "Support", Description: "Questions", Color: imbot.ColorMint,
		Message: "Welcome", Users: []int{1}, EntityType: "TICKET", EntityID: "77",
	})
	if err != nil {
		t.Fatal(err)
	}
	add := srv.Calls()[len(srv.Calls())-1]
	if diff := cmp.Diff([]any{"1"}, add.Params["USERS"]); diff != "" {
		t.Errorf("USERS (-want +got):\n%s", diff)
	}
	if add.Params["TYPE"] != "OPEN" || add.Params["COLOR"] != "MINT" {
		t.Errorf("chat.add params: %v", add.Params)
	}

	got, err := ib.Chats.Get(ctx, "TICKET", "77")
	if err != nil || got != chat {
		t.Fatalf("Get = %d, %v; want %d", got, err, chat)
	}
	if _, err := ib.Chats.Get(ctx, "TICKET", "78"); !errors.Is(err, bitrix.ErrNotFound) {
		t.Errorf("Get of a missing chat: %v, want ErrNotFound", err)
	}

	d, err := ib.Chats.Dialog(ctx, bot, imbot.Chat(chat))
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != chat || d.DialogID != imbot.Chat(chat) || d.Name != "Support" || d.Type != "open" || d.EntityID != "77" || d.Owner != bot {
		t.Errorf("Dialog = %+v", d)
	}

	if err := ib.Chats.AddUsers(ctx, bot, chat, []int{2, 3}, bitrix.Ptr(false)); err != nil {
		t.Fatal(err)
	}
	if hh := srv.Calls()[len(srv.Calls())-1].Params["HIDE_HISTORY"]; hh != "N" {
		t.Errorf("HIDE_HISTORY = %v", hh)
	}
	users, err := ib.Chats.Users(ctx, bot, chat)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{bot, 1, 2, 3}, users); diff != "" {
		t.Errorf("Users (-want +got):\n%s", diff)
	}
	if err := ib.Chats.DeleteUser(ctx, bot, chat, 2); err != nil {
		t.Fatal(err)
	}
	if err := ib.Chats.UpdateTitle(ctx, bot, chat, "Support desk"); err != nil {
		t.Fatal(err)
	}
	if err := ib.Chats.SetOwner(ctx, bot, chat, 1); err != nil {
		t.Fatal(err)
	}
	d, err = ib.Chats.Dialog(ctx, bot, imbot.Chat(chat))
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "Support desk" || d.Owner != 1 {
		t.Errorf("after title/owner change: %+v", d)
	}
	if err := ib.Chats.Leave(ctx, bot, chat); err != nil {
		t.Fatal(err)
	}
	users, err = ib.Chats.Users(ctx, bot, chat)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{1, 3}, users); diff != "" {
		t.Errorf("Users after delete+leave (-want +got):\n%s", diff)
	}
	if _, err := ib.Chats.Users(ctx, bot, chat+100); !errors.Is(err, bitrix.ErrInvalidArgument) {
		t.Errorf("Users of unknown chat: %v", err)
	}
}
