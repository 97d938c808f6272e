package bitrixtest

import (
	"fmt"
	"testing"
)

// TestUserMessageChangeTellsBothAPIs: a user's edit or deletion reaches the
// v1 and the v2 bots of the chat alike, whichever helper asked for it.
func TestUserMessageChangeTellsBothAPIs(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k1, k2 := newSink(t), newSink(t)
	tok := s.IssueToken(1)
	v1 := num(mustOK(t, callToken(t, s, "imbot.register", tok.AccessToken, map[string]any{
		"CODE": "one", "TYPE": "S", "EVENT_HANDLER": k1.url("/v1"), "PROPERTIES": map[string]any{"NAME": "One"}})))
	reg := v2result(t, v2call(t, s, "imbot.v2.Bot.register", map[string]any{"fields": map[string]any{
		"code": "two", "botToken": "tok", "properties": map[string]any{"name": "Two"}, "eventMode": "webhook", "webhookUrl": k2.url("/v2")}}))
	v2 := num(reg["bot"].(map[string]any)["id"])
	chat := s.CreateChat("Team", 1, 2)
	if err := s.AddBotToChat(v1, chat); err != nil {
		t.Fatal(err)
	}
	if err := s.V2AddBotToChat(v2, chat, 1); err != nil {
		t.Fatal(err)
	}
	msg, err := s.SendChatMessage(chat, 2, "draft")
	if err != nil {
		t.Fatal(err)
	}

	for _, step := range []struct {
		name         string
		do           func() error
		want1, want2 string
	}{
		{"EditUserMessage", func() error { return s.EditUserMessage(msg, "v1 edit") }, "ONIMBOTMESSAGEUPDATE", "ONIMBOTV2MESSAGEUPDATE"},
		{"V2EditMessage", func() error { return s.V2EditMessage(msg, "v2 edit") }, "ONIMBOTMESSAGEUPDATE", "ONIMBOTV2MESSAGEUPDATE"},
		{"V2DeleteMessage", func() error { return s.V2DeleteMessage(msg) }, "ONIMBOTMESSAGEDELETE", "ONIMBOTV2MESSAGEDELETE"},
	} {
		if err := step.do(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		e1, e2 := lastBody(t, k1), lastBody(t, k2)
		if e1["event"] != step.want1 || e2["event"] != step.want2 {
			t.Errorf("%s delivered %v to the v1 bot and %v to the v2 bot", step.name, e1["event"], e2["event"])
		}
		// on-imbot-message-update.md and -delete.md: USER is the author.
		if get(e1, "data", "USER", "ID") != "2" {
			t.Errorf("%s: v1 USER block %v", step.name, get(e1, "data", "USER"))
		}
	}
	if got := get(lastBody(t, k2), "data", "messageId"); got != fmt.Sprint(msg) {
		t.Errorf("v2 delete messageId %v", got)
	}

	if err := s.EditUserMessage(msg, "again"); err == nil {
		t.Error("editing a deleted message succeeded")
	}
	botMsg := num(mustOK(t, callToken(t, s, "imbot.message.add", tok.AccessToken, map[string]any{"BOT_ID": v1, "DIALOG_ID": fmt.Sprint("chat", chat), "MESSAGE": "from the bot"})))
	if err := s.DeleteUserMessage(botMsg); err == nil {
		t.Error("a user deleted a bot's message")
	}
}

// TestUserMessageAddTellsBothAPIs: a user's new message in a group chat
// reaches the v1 and the v2 bots of the chat alike, each in its own
// version's format, whichever helper posted it; a v1 type-B bot still sees
// it only when mentioned (on-imbot-message-add.md: "In a group chat, the
// event is triggered if the chat bot is mentioned").
func TestUserMessageAddTellsBothAPIs(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	kS, kB, k2 := newSink(t), newSink(t), newSink(t)
	tok := s.IssueToken(1)
	reg1 := func(code, typ string, k *sink) int {
		return num(mustOK(t, callToken(t, s, "imbot.register", tok.AccessToken, map[string]any{
			"CODE": code, "TYPE": typ, "EVENT_HANDLER": k.url("/v1"), "PROPERTIES": map[string]any{"NAME": code}})))
	}
	sup, plain := reg1("sup", "S", kS), reg1("plain", "B", kB)
	reg := v2result(t, v2call(t, s, "imbot.v2.Bot.register", map[string]any{"fields": map[string]any{
		"code": "two", "botToken": "tok", "type": "supervisor", "properties": map[string]any{"name": "Two"}, "eventMode": "webhook", "webhookUrl": k2.url("/v2")}}))
	v2 := num(reg["bot"].(map[string]any)["id"])
	chat := s.CreateChat("Team", 1, 2)
	for _, b := range []int{sup, plain} {
		if err := s.AddBotToChat(b, chat); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.V2AddBotToChat(v2, chat, 1); err != nil {
		t.Fatal(err)
	}
	count := func(k *sink) int { k.mu.Lock(); defer k.mu.Unlock(); return len(k.bodies) }
	for _, step := range []struct {
		name string
		send func(string) (int, error)
	}{
		{"SendChatMessage", func(text string) (int, error) { return s.SendChatMessage(chat, 2, text) }},
		{"V2SendChatMessage", func(text string) (int, error) { return s.V2SendChatMessage(chat, 2, text) }},
	} {
		before := count(kB)
		text := "hello from " + step.name
		if _, err := step.send(text); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		e1, e2 := lastBody(t, kS), lastBody(t, k2)
		if e1["event"] != "ONIMBOTMESSAGEADD" || get(e1, "data", "PARAMS", "MESSAGE") != text {
			t.Errorf("%s: v1 supervisor bot got %v %v", step.name, e1["event"], get(e1, "data", "PARAMS", "MESSAGE"))
		}
		if e2["event"] != "ONIMBOTV2MESSAGEADD" || get(e2, "data", "message", "text") != text {
			t.Errorf("%s: v2 bot got %v %v", step.name, e2["event"], get(e2, "data", "message"))
		}
		if count(kB) != before {
			t.Errorf("%s: the v1 type-B bot saw a message that did not mention it", step.name)
		}
		mention := fmt.Sprintf("[USER=%d]plain[/USER] hi from %s", plain, step.name)
		if _, err := step.send(mention); err != nil {
			t.Fatal(err)
		}
		if eB := lastBody(t, kB); eB["event"] != "ONIMBOTMESSAGEADD" || get(eB, "data", "PARAMS", "MESSAGE") != mention {
			t.Errorf("%s: the mentioned v1 type-B bot got %v %v", step.name, eB["event"], get(eB, "data", "PARAMS", "MESSAGE"))
		}
	}
}

// TestCommandAfterMention: a group-chat message that mentions the bot and
// then gives its command ("[USER=n]Bot[/USER] /echo x", the mention as
// written in the MESSAGE_ORIGINAL of on-imbot-message-add.md; v2 writes
// "[user=n]...[/user]", message-formatting.md) is the command, for v1 and
// v2 bots alike.
func TestCommandAfterMention(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k1, k2 := newSink(t), newSink(t)
	tok := s.IssueToken(1)
	v1 := num(mustOK(t, callToken(t, s, "imbot.register", tok.AccessToken, map[string]any{
		"CODE": "one", "TYPE": "B", "EVENT_HANDLER": k1.url("/v1"), "PROPERTIES": map[string]any{"NAME": "One"}})))
	mustOK(t, callToken(t, s, "imbot.command.register", tok.AccessToken, map[string]any{"BOT_ID": v1, "COMMAND": "echo",
		"EVENT_COMMAND_ADD": k1.url("/cmd"), "LANG": []map[string]string{{"LANGUAGE_ID": "en", "TITLE": "Echo"}}}))
	reg := v2result(t, v2call(t, s, "imbot.v2.Bot.register", map[string]any{"fields": map[string]any{
		"code": "two", "botToken": "tok", "properties": map[string]any{"name": "Two"}, "eventMode": "webhook", "webhookUrl": k2.url("/v2")}}))
	v2 := num(reg["bot"].(map[string]any)["id"])
	v2result(t, v2call(t, s, "imbot.v2.Command.register", map[string]any{"botId": v2, "botToken": "tok", "fields": map[string]any{"command": "help", "title": map[string]any{"en": "Help"}}}))
	chat := s.CreateChat("Team", 1, 2)
	if err := s.AddBotToChat(v1, chat); err != nil {
		t.Fatal(err)
	}
	if err := s.V2AddBotToChat(v2, chat, 1); err != nil {
		t.Fatal(err)
	}

	if _, err := s.SendChatMessage(chat, 2, fmt.Sprintf("[USER=%d]One[/USER] /echo x y", v1)); err != nil {
		t.Fatal(err)
	}
	ev := lastBody(t, k1)
	if ev["event"] != "ONIMCOMMANDADD" {
		t.Fatalf("v1 bot got %v, want ONIMCOMMANDADD", ev["event"])
	}
	for _, c := range get(ev, "data", "COMMAND").(map[string]any) {
		if p := get(c, "COMMAND_PARAMS"); p != "x y" {
			t.Errorf("COMMAND_PARAMS %q, want %q", p, "x y")
		}
	}

	if _, err := s.SendChatMessage(chat, 2, fmt.Sprintf("[user=%d]Two[/user] /help me", v2)); err != nil {
		t.Fatal(err)
	}
	ev = lastBody(t, k2)
	if ev["event"] != "ONIMBOTV2COMMANDADD" || get(ev, "data", "command", "params") != "me" {
		t.Errorf("v2 bot got %v %v, want ONIMBOTV2COMMANDADD with params me", ev["event"], get(ev, "data", "command"))
	}
}
