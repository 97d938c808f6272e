package bitrixtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// ctlCall sends a control-API request; body is JSON-encoded unless it is
// a string (sent as is).
func ctlCall(t testing.TB, s *Server, method, path string, body any) resp {
	t.Helper()
	raw, isStr := body.(string)
	if !isStr && body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		raw = string(b)
	}
	return do(t, method, s.ControlURL()+path, "application/json", raw)
}

// ctlOK sends a control-API request that must succeed.
func ctlOK(t testing.TB, s *Server, method, path string, body any) map[string]any {
	t.Helper()
	r := ctlCall(t, s, method, path, body)
	if r.Status != http.StatusOK || r.Body["error"] != nil {
		t.Fatalf("%s %s: HTTP %d %s", method, path, r.Status, r.Raw)
	}
	return r.Body
}

// sinkEvents lists the event names a sink received, in order.
func sinkEvents(t *testing.T, k *sink) []string {
	t.Helper()
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []string
	for _, b := range k.bodies {
		out = append(out, fmt.Sprint(tree(t, b)["event"]))
	}
	return out
}

// lastBody decodes the last delivery a sink received.
func lastBody(t *testing.T, k *sink) map[string]any {
	t.Helper()
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.bodies) == 0 {
		t.Fatal("the sink received nothing")
	}
	return tree(t, k.bodies[len(k.bodies)-1])
}

// TestControlRefusals: every call refuses bad input with a status and a
// JSON error code, and changes nothing.
func TestControlRefusals(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newSink(t)
	tok := s.IssueToken(1)
	v1 := num(mustOK(t, callToken(t, s, "imbot.register", tok.AccessToken, map[string]any{"CODE": "same", "EVENT_HANDLER": k.url("/b"), "PROPERTIES": map[string]any{"NAME": "A"}})))
	v2result(t, v2call(t, s, "imbot.v2.Bot.register", map[string]any{"fields": map[string]any{"code": "same", "botToken": "t", "properties": map[string]any{"name": "B"}}}))
	chat := s.CreateChat("mixed", 1, v1)
	userMsg, err := s.SendBotMessage(v1, 2, "hi")
	if err != nil {
		t.Fatal(err)
	}
	botMsg := num(mustOK(t, callToken(t, s, "imbot.message.add", tok.AccessToken, map[string]any{"BOT_ID": v1, "DIALOG_ID": "2", "MESSAGE": "yo"})))
	list := s.AddList("lists", "l", "L")

	tests := []struct {
		method, path string
		body         any
		status       int
		code         string
	}{
		{"GET", "nothing", nil, 404, "NOT_FOUND"},
		{"DELETE", "bots", nil, 405, "METHOD_NOT_ALLOWED"},
		{"POST", "app/install", `{"handler_url": 7}`, 400, "INVALID_JSON"},
		{"POST", "app/install", `{"handler":"x"}`, 400, "INVALID_JSON"}, // misspelt field
		{"POST", "app/install", `{"handler_url":"ftp://h/x"}`, 400, "INVALID_ARGUMENT"},
		{"POST", "app/uninstall", `[]`, 400, "INVALID_JSON"},
		{"POST", "chats", `{}`, 400, "INVALID_ARGUMENT"},
		{"POST", "bots/join", `{}`, 400, "INVALID_ARGUMENT"},
		{"POST", "bots/join", `{"bot_id":999}`, 404, "BOT_NOT_FOUND"},
		{"POST", "bots/join", `{"bot_code":"same"}`, 400, "INVALID_ARGUMENT"}, // a v1 and a v2 bot
		{"POST", "bots/join", fmt.Sprintf(`{"bot_id":%d,"chat_id":999}`, v1), 404, "CHAT_NOT_FOUND"},
		{"POST", "bots/join", fmt.Sprintf(`{"bot_id":%d,"user_id":2}`, v1), 400, "INVALID_ARGUMENT"},
		{"POST", "bots/open", fmt.Sprintf(`{"bot_id":%d}`, v1), 400, "INVALID_ARGUMENT"},
		{"POST", "messages/send", fmt.Sprintf(`{"bot_id":%d}`, v1), 400, "INVALID_ARGUMENT"},
		{"POST", "messages/send", fmt.Sprintf(`{"bot_id":%d,"chat_id":%d,"text":"x"}`, v1, chat), 400, "INVALID_ARGUMENT"},
		{"POST", "messages/send", `{"chat_id":999,"text":"x"}`, 404, "CHAT_NOT_FOUND"},
		{"POST", "messages/send", fmt.Sprintf(`{"chat_id":%d,"text":"x","api":"v1"}`, chat), 400, "INVALID_JSON"}, // no api: a chat message reaches the bots of both
		{"POST", "messages/command", fmt.Sprintf(`{"bot_id":%d,"command":"nope"}`, v1), 404, "COMMAND_NOT_FOUND"},
		{"POST", "messages/command", fmt.Sprintf(`{"bot_id":%d}`, v1), 400, "INVALID_ARGUMENT"},
		{"POST", "messages/edit", fmt.Sprintf(`{"message_id":%d}`, userMsg), 400, "INVALID_ARGUMENT"},
		{"POST", "messages/edit", `{"message_id":999,"text":"x"}`, 404, "MESSAGE_NOT_FOUND"},
		{"POST", "messages/delete", fmt.Sprintf(`{"message_id":%d}`, botMsg), 400, "INVALID_ARGUMENT"},
		{"POST", "messages/react", fmt.Sprintf(`{"message_id":%d,"reaction":"like"}`, botMsg), 400, "INVALID_ARGUMENT"}, // v1 bot's
		{"POST", "messages/react", `{"message_id":999,"reaction":"like"}`, 404, "MESSAGE_NOT_FOUND"},
		{"GET", "messages?bot_code=nobody", nil, 404, "BOT_NOT_FOUND"},
		{"GET", "messages?after=x", nil, 400, "INVALID_ARGUMENT"},
		{"GET", "messages?wait=soon", nil, 400, "INVALID_ARGUMENT"},
		{"GET", "crm/items", nil, 400, "INVALID_ARGUMENT"},
		{"GET", "crm/items?entity_type_id=77", nil, 404, "ENTITY_TYPE_NOT_FOUND"},
		{"POST", "crm/items/add", `{"fields":{}}`, 400, "INVALID_ARGUMENT"},
		{"POST", "crm/items/add", `{"entity_type_id":2}`, 400, "INVALID_ARGUMENT"},
		{"POST", "crm/items/update", `{"entity_type_id":2,"fields":{}}`, 400, "INVALID_ARGUMENT"},
		{"POST", "crm/items/delete", `{"entity_type_id":2,"id":999}`, 400, "NOT_FOUND"}, // the method's own error
		{"POST", "crm/items/add", `{"entity_type_id":77,"fields":{}}`, 400, "NOT_FOUND"},
		{"GET", "lists/elements?iblock_id=999", nil, 404, "IBLOCK_NOT_FOUND"},
		{"POST", "lists/elements/add", fmt.Sprintf(`{"iblock_id":%d,"element_code":"e"}`, list), 400, "ERROR_REQUIRED_PARAMETERS_MISSING"},
		{"POST", "lists/elements/delete", fmt.Sprintf(`{"iblock_id":%d,"element_id":5}`, list), 400, "ERROR_ELEMENT_NOT_FOUND"},
		{"GET", "deliveries?after=-", nil, 400, "INVALID_ARGUMENT"},
		{"POST", "clock/advance", `{}`, 400, "INVALID_ARGUMENT"},
		{"POST", "clock/advance", `{"by":"-1h"}`, 400, "INVALID_ARGUMENT"},
		{"POST", "clock/advance", `{"by":3600}`, 400, "INVALID_JSON"},
		{"POST", "clock/set", `{}`, 400, "INVALID_ARGUMENT"},
		{"POST", "clock/set", `{"time":"yesterday"}`, 400, "INVALID_JSON"},
		{"POST", "limits", `{"rate_per_second":1}`, 400, "INVALID_ARGUMENT"},
		{"POST", "limits", `{"operating_limit":"-1s"}`, 400, "INVALID_ARGUMENT"},
		{"POST", "limits", `{"method_cost":{"crm.item.add":null}}`, 400, "INVALID_ARGUMENT"},
		{"POST", "faults", `{"kind":"explode"}`, 400, "INVALID_ARGUMENT"},
		{"POST", "faults", `{"status":200}`, 400, "INVALID_ARGUMENT"},
		{"POST", "faults/rate", `{"p":2}`, 400, "INVALID_ARGUMENT"},
		{"POST", "faults/rate", `{"p":0.5,"kinds":["boom"]}`, 400, "INVALID_ARGUMENT"},
		{"POST", "faults/latency", `{}`, 400, "INVALID_ARGUMENT"},
		{"POST", "faults/clear", `{"all":true}`, 400, "INVALID_JSON"},
		{"POST", "reset", `{"hard":true}`, 400, "INVALID_JSON"},
	}
	before := s.Calls()
	deliveries := len(s.Deliveries())
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := ctlCall(t, s, tc.method, tc.path, tc.body)
			if r.Status != tc.status || r.Body["error"] != tc.code || r.Body["error_description"] == "" {
				t.Errorf("HTTP %d %s; want %d with error %s and a description", r.Status, r.Raw, tc.status, tc.code)
			}
		})
	}
	if d := cmp.Diff(before, s.Calls()); d != "" {
		t.Errorf("refused control calls changed the call log (-before +after)\n%s", d)
	}
	if n := len(s.Deliveries()); n != deliveries {
		t.Errorf("refused control calls delivered %d events", n-deliveries)
	}
	if n := len(s.CRMItems(EntityDeal)); n != 0 {
		t.Errorf("%d deals after refused calls", n)
	}
}

// TestControlRoutes: the root answers the portal's facts with and
// without its slash; other versions and paths are JSON 404s.
func TestControlRoutes(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	app := s.App()
	for _, u := range []string{s.ControlURL(), strings.TrimSuffix(s.ControlURL(), "/")} {
		r := do(t, "GET", u, "", "")
		if r.Status != 200 {
			t.Fatalf("GET %s: HTTP %d %s", u, r.Status, r.Raw)
		}
		want := map[string]any{
			"api_version": json.Number("1"), "url": s.URL(), "webhook_url": s.WebhookURL(), "control_url": s.URL() + "/_bitrixtest/v1/",
			"app": map[string]any{"client_id": app.ClientID, "client_secret": app.ClientSecret, "application_token": app.ApplicationToken,
				"member_id": app.MemberID, "domain": app.Domain, "client_endpoint": app.ClientEndpoint, "server_endpoint": app.ServerEndpoint, "token_url": app.TokenURL},
		}
		delete(r.Body, "now")
		if d := cmp.Diff(want, r.Body); d != "" {
			t.Errorf("GET %s (-want +got)\n%s", u, d)
		}
	}
	for _, p := range []string{"/_bitrixtest/v2/bots", "/_bitrixtest/", "/_bitrixtest/v1x"} {
		r := do(t, "GET", s.URL()+p, "", "")
		if r.Status != 404 || r.Body["error"] != "NOT_FOUND" {
			t.Errorf("GET %s: HTTP %d %s; want a JSON 404", p, r.Status, r.Raw)
		}
	}
}

// TestControlApp: install posts ONAPPINSTALL with working tokens;
// deliveries show the outcome with the tokens redacted; a failing handler
// is reported, not an error of the call; uninstall reaches the app's
// ONAPPUNINSTALL handler and ends the tokens.
func TestControlApp(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newSink(t)
	r := ctlOK(t, s, "POST", "app/install", map[string]string{"handler_url": k.url("/install")})
	if r["deliveries_from"] != json.Number("0") || r["delivery_error"] != nil || num(r["user_id"]) != 1 {
		t.Errorf("install answered %v", r)
	}
	if got := lastBody(t, k); get(got, "event") != "ONAPPINSTALL" || get(got, "auth", "access_token") != r["access_token"] ||
		get(got, "auth", "refresh_token") != r["refresh_token"] || get(got, "auth", "application_token") != s.App().ApplicationToken {
		t.Errorf("ONAPPINSTALL %v does not carry the answered tokens", got)
	}
	tok := r["access_token"].(string)
	mustOK(t, callToken(t, s, "event.bind", tok, map[string]any{"event": "ONAPPUNINSTALL", "handler": k.url("/uninstall")}))

	checkInstallDelivery(t, s, k)

	k.mu.Lock()
	k.status = 500
	k.mu.Unlock()
	r = ctlOK(t, s, "POST", "app/install", map[string]string{"handler_url": k.url("/install")})
	if r["deliveries_from"] != json.Number("1") || !strings.Contains(fmt.Sprint(r["delivery_error"]), "HTTP 500") {
		t.Errorf("install at a failing handler answered %v", r)
	}
	d := ctlOK(t, s, "GET", "deliveries?after=1", nil)["deliveries"].([]any)
	if len(d) != 1 || get(d, "0", "delivered") != false || num(get(d, "0", "status")) != 500 || get(d, "0", "error") != "handler answered HTTP 500" {
		t.Errorf("failed delivery shows as %v", d)
	}

	k.mu.Lock()
	k.status = 200
	k.mu.Unlock()
	r = ctlOK(t, s, "POST", "app/uninstall", nil)
	if r["delivery_error"] != nil || lastBody(t, k)["event"] != "ONAPPUNINSTALL" {
		t.Errorf("uninstall answered %v; last delivery %v", r, lastBody(t, k))
	}
	if r := callToken(t, s, "profile", tok, nil); r.Body["error"] != "invalid_token" {
		t.Errorf("the install token after uninstall: %s", r.Raw)
	}
	if d := ctlOK(t, s, "GET", "deliveries?event=onappuninstall", nil)["deliveries"].([]any); len(d) != 1 || num(get(d, "0", "seq")) != 3 {
		t.Errorf("deliveries?event=onappuninstall: %v", d)
	}
}

// checkInstallDelivery: the deliveries list shows the ONAPPINSTALL with its
// tokens redacted.
func checkInstallDelivery(t *testing.T, s *Server, k *sink) {
	d := ctlOK(t, s, "GET", "deliveries", nil)["deliveries"].([]any)
	if len(d) != 1 || get(d, "0", "event") != "ONAPPINSTALL" || get(d, "0", "delivered") != true || num(get(d, "0", "status")) != 200 ||
		get(d, "0", "url") != k.url("/install") || num(get(d, "0", "seq")) != 1 || get(d, "0", "error") != nil {
		t.Errorf("deliveries %v", d)
	}
	for _, key := range []string{"access_token", "refresh_token", "application_token"} {
		if v := get(d, "0", "data", "auth", key); v != "[REDACTED]" {
			t.Errorf("deliveries show auth.%s = %v, want [REDACTED]", key, v)
		}
	}
	if get(d, "0", "data", "data", "INSTALLED") != "Y" {
		t.Errorf("delivery data %v", get(d, "0", "data"))
	}
}

// TestControlBotV1: a v1 bot gets what a user does through the control
// API, and its replies are read back by dialog, chat and position.
func TestControlBotV1(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newSink(t)
	tok := s.IssueToken(1)
	call := func(method string, p map[string]any) any {
		return mustOK(t, callToken(t, s, method, tok.AccessToken, p))
	}
	bot := num(call("imbot.register", map[string]any{"CODE": "watch", "TYPE": "S", "EVENT_HANDLER": k.url("/bot"), "PROPERTIES": map[string]any{"NAME": "Watch"}}))
	call("imbot.command.register", map[string]any{"BOT_ID": bot, "COMMAND": "echo", "EVENT_COMMAND_ADD": k.url("/cmd"), "LANG": []map[string]string{{"LANGUAGE_ID": "en", "TITLE": "Echo"}}})

	bots := ctlOK(t, s, "GET", "bots", nil)["bots"].([]any)
	if len(bots) != 1 || num(get(bots, "0", "id")) != bot || get(bots, "0", "api") != "v1" || get(bots, "0", "type") != "S" ||
		fmt.Sprint(get(bots, "0", "commands")) != "[echo]" || get(bots, "0", "handlers", "MESSAGE_ADD") != k.url("/bot") {
		t.Errorf("bots %v", bots)
	}

	steps := []struct {
		path  string
		body  map[string]any
		event string
		check func(ev map[string]any) bool
	}{
		{"bots/join", map[string]any{"bot_code": "watch"}, "ONIMBOTJOINCHAT", func(ev map[string]any) bool { return get(ev, "data", "PARAMS", "DIALOG_ID") == "1" }},
		{"messages/send", map[string]any{"bot_code": "watch", "from_user_id": 2, "text": "hello"}, "ONIMBOTMESSAGEADD",
			func(ev map[string]any) bool {
				return get(ev, "data", "PARAMS", "MESSAGE") == "hello" && get(ev, "data", "USER", "ID") == "2"
			}},
		{"messages/command", map[string]any{"bot_id": bot, "command": "/echo", "params": "a b"}, "ONIMCOMMANDADD",
			func(ev map[string]any) bool {
				return get(ev, "data", "COMMAND", fmt.Sprint(1), "COMMAND_PARAMS") == "a b"
			}},
	}
	for _, st := range steps {
		r := ctlOK(t, s, "POST", st.path, st.body)
		if r["delivery_error"] != nil {
			t.Errorf("%s: %v", st.path, r)
		}
		if ev := lastBody(t, k); ev["event"] != st.event || !st.check(ev) {
			t.Errorf("%s delivered %v, want %s", st.path, ev, st.event)
		}
	}

	chat := num(ctlOK(t, s, "POST", "chats", map[string]any{"title": "Team", "members": []int{2}})["chat_id"])
	ctlOK(t, s, "POST", "bots/join", map[string]any{"bot_id": bot, "chat_id": chat})
	if ev := lastBody(t, k); ev["event"] != "ONIMBOTJOINCHAT" || get(ev, "data", "PARAMS", "DIALOG_ID") != fmt.Sprint("chat", chat) {
		t.Errorf("join chat delivered %v", ev)
	}
	sent := ctlOK(t, s, "POST", "messages/send", map[string]any{"chat_id": chat, "from_user_id": 2, "text": "to all"})
	if sent["api"] != nil || get(lastBody(t, k), "data", "PARAMS", "MESSAGE") != "to all" {
		t.Errorf("chat message: %v, delivered %v", sent, lastBody(t, k))
	}
	msg := num(sent["message_id"])
	ctlOK(t, s, "POST", "messages/edit", map[string]any{"message_id": msg, "text": "to everyone"})
	if ev := lastBody(t, k); ev["event"] != "ONIMBOTMESSAGEUPDATE" || get(ev, "data", "PARAMS", "MESSAGE") != "to everyone" {
		t.Errorf("edit delivered %v", ev)
	}
	ctlOK(t, s, "POST", "messages/delete", map[string]any{"message_id": msg})
	if ev := lastBody(t, k); ev["event"] != "ONIMBOTMESSAGEDELETE" {
		t.Errorf("delete delivered %v", ev)
	}
	ctlOK(t, s, "POST", "messages/command", map[string]any{"bot_id": bot, "chat_id": chat, "command": "echo", "params": "x"})
	if ev := lastBody(t, k); ev["event"] != "ONIMCOMMANDADD" || get(ev, "data", "PARAMS", "DIALOG_ID") != fmt.Sprint("chat", chat) {
		t.Errorf("command in chat delivered %v", ev)
	}

	// The bot answers in the private dialog of user 2 and in the chat.
	first := num(call("imbot.message.add", map[string]any{"BOT_ID": bot, "DIALOG_ID": "2", "MESSAGE": "private"}))
	call("imbot.message.add", map[string]any{"BOT_ID": bot, "DIALOG_ID": fmt.Sprint("chat", chat), "MESSAGE": "public"})
	texts := func(query string) []string {
		var out []string
		for _, m := range ctlOK(t, s, "GET", "messages"+query, nil)["messages"].([]any) {
			out = append(out, get(m, "text").(string))
		}
		return out
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"private", "public"}},
		{"?bot_code=watch", []string{"private", "public"}},
		{fmt.Sprintf("?bot_id=%d", bot+1), nil},
		{"?dialog_id=2", []string{"private"}},
		{fmt.Sprintf("?dialog_id=chat%d", chat), []string{"public"}},
		{fmt.Sprintf("?chat_id=%d", chat), []string{"public"}},
		{fmt.Sprintf("?after=%d", first), []string{"public"}},
		{fmt.Sprintf("?after=%d&wait=1ms", first+1), nil},
	} {
		if d := cmp.Diff(tc.want, texts(tc.query)); d != "" {
			t.Errorf("GET messages%s (-want +got)\n%s", tc.query, d)
		}
	}
	if n := s.CallCount("imbot.message.add"); n != 2 {
		t.Errorf("call log has %d imbot.message.add, want the bot's 2", n)
	}
}

// TestControlBotV2: the v2 user actions, with the events they give a
// webhook-mode bot.
func TestControlBotV2(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newSink(t)
	reg := v2result(t, v2call(t, s, "imbot.v2.Bot.register", map[string]any{"fields": map[string]any{
		"code": "two", "botToken": "tok", "properties": map[string]any{"name": "Two"}, "eventMode": "webhook", "webhookUrl": k.url("/v2")}}))
	bot := num(reg["bot"].(map[string]any)["id"])
	v2result(t, v2call(t, s, "imbot.v2.Command.register", map[string]any{"botId": bot, "botToken": "tok", "fields": map[string]any{"command": "help", "title": map[string]any{"en": "Help"}}}))

	bots := ctlOK(t, s, "GET", "bots", nil)["bots"].([]any)
	if len(bots) != 1 || get(bots, "0", "api") != "v2" || get(bots, "0", "event_mode") != "webhook" || get(bots, "0", "webhook_url") != k.url("/v2") {
		t.Errorf("bots %v", bots)
	}
	chat := num(ctlOK(t, s, "POST", "chats", map[string]any{"title": "T", "owner_id": 2})["chat_id"])
	userMsg := 0
	steps := []struct {
		path  string
		body  func() map[string]any
		event string
	}{
		{"bots/join", func() map[string]any { return map[string]any{"bot_code": "two", "chat_id": chat, "user_id": 2} }, "ONIMBOTV2JOINCHAT"},
		{"messages/send", func() map[string]any { return map[string]any{"bot_id": bot, "text": "hi"} }, "ONIMBOTV2MESSAGEADD"},
		{"messages/command", func() map[string]any { return map[string]any{"bot_id": bot, "command": "help", "params": "me"} }, "ONIMBOTV2COMMANDADD"},
		{"messages/send", func() map[string]any {
			return map[string]any{"chat_id": chat, "from_user_id": 2, "text": fmt.Sprintf("[USER=%d]Two[/USER] hey", bot)}
		}, "ONIMBOTV2MESSAGEADD"},
		{"messages/edit", func() map[string]any { return map[string]any{"message_id": userMsg, "text": "hey!"} }, "ONIMBOTV2MESSAGEUPDATE"},
		{"messages/delete", func() map[string]any { return map[string]any{"message_id": userMsg} }, "ONIMBOTV2MESSAGEDELETE"},
		{"bots/open", func() map[string]any { return map[string]any{"bot_code": "two", "context": map[string]any{"deal": 7}} }, "ONIMBOTV2CONTEXTGET"},
	}
	for _, st := range steps {
		r := ctlOK(t, s, "POST", st.path, st.body())
		if r["delivery_error"] != nil {
			t.Errorf("%s: %v", st.path, r)
		}
		if id, ok := r["message_id"]; ok && st.path == "messages/send" {
			userMsg = num(id)
			// A named bot's send answers its API; a chat message goes to the
			// bots of both and answers none.
			if want := map[bool]any{true: "v2", false: nil}[st.body()["bot_id"] != nil]; r["api"] != want {
				t.Errorf("%s answered api %v, want %v", st.path, r["api"], want)
			}
		}
		if ev := lastBody(t, k); ev["event"] != st.event {
			t.Errorf("%s delivered %v, want %s", st.path, ev["event"], st.event)
		}
	}
	if ev := lastBody(t, k); get(ev, "data", "context", "deal") != "7" {
		t.Errorf("context %v", get(ev, "data", "context"))
	}
	sent := v2result(t, v2call(t, s, "imbot.v2.Chat.Message.send", map[string]any{"botId": bot, "botToken": "tok", "dialogId": "1", "fields": map[string]any{"message": "answer"}}))
	ctlOK(t, s, "POST", "messages/react", map[string]any{"message_id": num(sent["id"]), "reaction": "like"})
	if ev := lastBody(t, k); ev["event"] != "ONIMBOTV2REACTIONCHANGE" || get(ev, "data", "reaction") != "like" || get(ev, "data", "action") != "add" {
		t.Errorf("react delivered %v", ev)
	}
	msgs := ctlOK(t, s, "GET", "messages?bot_code=two&dialog_id=1", nil)["messages"].([]any)
	if len(msgs) != 1 || get(msgs, "0", "text") != "answer" || num(get(msgs, "0", "bot_id")) != bot {
		t.Errorf("messages %v", msgs)
	}
}

// TestControlWaits: GET messages and GET deliveries with wait answer as
// soon as something matches, or empty when the wait ends (virtual time).
func TestControlWaits(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	v2result(t, v2call(t, s, "imbot.v2.Bot.register", map[string]any{"fields": map[string]any{"code": "w", "botToken": "tok", "properties": map[string]any{"name": "W"}}}))
	bot := s.V2Bots()[0].ID
	synctest.Test(t, func(t *testing.T) {
		serve := func(method, path, body string) *httptest.ResponseRecorder {
			req := httptest.NewRequestWithContext(t.Context(), method, s.ControlURL()+path, strings.NewReader(body))
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, req)
			return rec
		}
		for _, path := range []string{"messages?wait=3s", "deliveries?wait=3s"} {
			start := time.Now()
			rec := serve("GET", path, "")
			if el := time.Since(start); el != 3*time.Second || rec.Code != 200 || !strings.Contains(rec.Body.String(), "[]") {
				t.Errorf("GET %s with nothing to read: HTTP %d %s after %v; want an empty list after 3s", path, rec.Code, rec.Body, el)
			}
		}

		start := time.Now()
		got := make(chan *httptest.ResponseRecorder)
		go func() { got <- serve("GET", "messages?bot_code=w&wait=30s", "") }()
		synctest.Wait() // the reader waits
		time.Sleep(time.Second)
		serveIn(t.Context(), s, "imbot.v2.Chat.Message.send", fmt.Sprintf(`{"botId":%d,"botToken":"tok","dialogId":"1","fields":{"message":"late"}}`, bot))
		rec := <-got
		if el := time.Since(start); el != time.Second || !strings.Contains(rec.Body.String(), `"text":"late"`) {
			t.Errorf("waiting GET messages answered %s after %v; want the message after 1s", rec.Body, el)
		}
	})

	// Deliveries complete outside requests; the wait follows the log.
	k := newSink(t)
	ready := make(chan struct{})
	got := make(chan resp)
	go func() {
		close(ready)
		got <- ctlCall(t, s, "GET", "deliveries?event=ONAPPINSTALL&wait=30s", nil)
	}()
	<-ready
	if _, err := s.InstallApp(k.url("/i")); err != nil {
		t.Fatal(err)
	}
	if r := <-got; len(r.Body["deliveries"].([]any)) != 1 {
		t.Errorf("waiting GET deliveries: %s", r.Raw)
	}
}

// TestControlCRMAndLists: changes made through the control API run the
// REST method as a user, so they fire its events, but they are no REST
// calls: no call log, fault or rate limit applies.
func TestControlCRMAndLists(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	s := NewServer(t, WithRateLimit(1, 1), WithClock(func() time.Time { return base }))
	k := newSink(t)
	s.AddOutboundWebhook([]string{"ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMDEALDELETE"}, k.url("/crm"), "apptok")
	s.FailNext(1, 500, "INTERNAL_SERVER_ERROR")

	r := ctlOK(t, s, "POST", "crm/items/add", map[string]any{"entity_type_id": 2, "fields": map[string]any{"title": "Big", "opportunity": 500}, "user_id": 2})
	id := num(get(r, "result", "item", "id"))
	if get(r, "result", "item", "title") != "Big" || num(get(r, "result", "item", "createdBy")) != 2 {
		t.Errorf("add answered %v", r)
	}
	ctlOK(t, s, "POST", "crm/items/update", map[string]any{"entity_type_id": 2, "id": id, "fields": map[string]any{"title": "Bigger"}})
	items := ctlOK(t, s, "GET", "crm/items?entity_type_id=2", nil)["items"].([]any)
	if len(items) != 1 || get(items, "0", "title") != "Bigger" || num(get(items, "0", "opportunity")) != 500 {
		t.Errorf("items %v", items)
	}
	ctlOK(t, s, "POST", "crm/items/delete", map[string]any{"entity_type_id": 2, "id": id})
	if d := cmp.Diff([]string{"ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMDEALDELETE"}, sinkEvents(t, k)); d != "" {
		t.Errorf("events (-want +got)\n%s", d)
	}
	if ev := lastBody(t, k); get(ev, "data", "FIELDS", "ID") != fmt.Sprint(id) || get(ev, "auth", "application_token") != "apptok" {
		t.Errorf("delete event %v", ev)
	}
	if items := ctlOK(t, s, "GET", "crm/items?entity_type_id=2", nil)["items"].([]any); len(items) != 0 {
		t.Errorf("items after delete %v", items)
	}

	tag := &ListField{Name: "Tag", Type: "S"}
	list := s.AddList("lists", "tasks", "Tasks", tag)
	prop := fmt.Sprint("PROPERTY_", tag.ID)
	r = ctlOK(t, s, "POST", "lists/elements/add", map[string]any{"iblock_id": list, "element_code": "e1", "fields": map[string]any{"NAME": "One", prop: "red"}})
	el := num(r["result"])
	ctlOK(t, s, "POST", "lists/elements/update", map[string]any{"iblock_id": list, "element_code": "e1", "fields": map[string]any{"NAME": "Uno", prop: "blue"}})
	els := ctlOK(t, s, "GET", fmt.Sprint("lists/elements?iblock_id=", list), nil)["elements"].([]any)
	if len(els) != 1 || num(get(els, "0", "id")) != el || get(els, "0", "name") != "Uno" || fmt.Sprint(get(els, "0", "properties", prop)) != "[blue]" {
		t.Errorf("elements %v", els)
	}
	ctlOK(t, s, "POST", "lists/elements/delete", map[string]any{"iblock_type_id": "lists", "iblock_code": "tasks", "element_id": el})
	if els := s.ListElements(list); len(els) != 0 {
		t.Errorf("elements after delete %v", els)
	}

	if calls := s.Calls(); len(calls) != 0 {
		t.Errorf("control changes logged REST calls: %v", calls)
	}
	// The bucket (checked first) is untouched and the fault still waits
	// for the first REST call; the second one, a second later, goes through.
	if r := callHook(t, s, "crm.item.list", map[string]any{"entityTypeId": 2}); r.Status != 500 {
		t.Errorf("first REST call after control changes: HTTP %d %s; want the injected 500", r.Status, r.Raw)
	}
	s.Advance(time.Second)
	if r := callHook(t, s, "crm.item.list", map[string]any{"entityTypeId": 2}); r.Status != 200 {
		t.Errorf("second REST call: HTTP %d %s", r.Status, r.Raw)
	}
}

// TestControlClockLimitsFaults: the clock, limit and fault calls change
// what REST callers see, like their Go counterparts.
func TestControlClockLimitsFaults(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	s := NewServer(t, WithClock(func() time.Time { return base }), WithAccessTokenTTL(time.Hour))
	tok := s.IssueToken(1)
	clock := func(r map[string]any) time.Time {
		ts, err := time.Parse(time.RFC3339Nano, r["now"].(string))
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	if got := clock(ctlOK(t, s, "GET", "clock", nil)); !got.Equal(base) {
		t.Errorf("clock %v, want %v", got, base)
	}
	if got := clock(ctlOK(t, s, "POST", "clock/advance", map[string]string{"by": "61m"})); !got.Equal(base.Add(61 * time.Minute)) {
		t.Errorf("advanced clock %v", got)
	}
	if r := callToken(t, s, "profile", tok.AccessToken, nil); r.Body["error"] != "expired_token" {
		t.Errorf("token after advancing past its TTL: %s", r.Raw)
	}
	set := base.Add(24 * time.Hour)
	if got := clock(ctlOK(t, s, "POST", "clock/set", map[string]string{"time": set.Format(time.RFC3339)})); !got.Equal(set) || !s.Now().Equal(set) {
		t.Errorf("set clock %v, server %v", got, s.Now())
	}

	lim := ctlOK(t, s, "POST", "limits", map[string]any{"rate_per_second": 1, "rate_burst": 1, "operating_limit": "1s", "method_cost": map[string]string{"crm.item.list": "2s"}})
	if lim["rate_limit"] != true || num(lim["rate_burst"]) != 1 || lim["operating_limit"] != "1s" || get(lim, "method_cost", "crm.item.list") != "2s" {
		t.Errorf("limits answered %v", lim)
	}
	if r := callHook(t, s, "crm.item.list", map[string]any{"entityTypeId": 2}); r.Status != 200 {
		t.Fatalf("first call: %s", r.Raw)
	}
	if r := callHook(t, s, "crm.item.list", map[string]any{"entityTypeId": 2}); r.Body["error"] != "QUERY_LIMIT_EXCEEDED" {
		t.Errorf("second call in the same second: %s", r.Raw)
	}
	ctlOK(t, s, "POST", "clock/advance", map[string]string{"by": "1s"})
	if r := callHook(t, s, "crm.item.list", map[string]any{"entityTypeId": 2}); r.Body["error"] != "OPERATION_TIME_LIMIT" {
		t.Errorf("call over the operating limit: %s", r.Raw)
	}
	lim = ctlOK(t, s, "POST", "limits", map[string]any{"rate_per_second": 0, "rate_burst": 0, "operating_limit": "0s"})
	if lim["rate_limit"] != false || lim["operating_limit"] != "0s" {
		t.Errorf("limits off answered %v", lim)
	}
	if r := callHook(t, s, "crm.item.list", map[string]any{"entityTypeId": 2}); r.Status != 200 {
		t.Errorf("call with the limits off: %s", r.Raw)
	}

	controlFaults(t, s)
}

// controlFaults: faults, fault rate, clear and latency through the control API.
func controlFaults(t *testing.T, s *Server) {
	ctlOK(t, s, "POST", "faults", map[string]any{"method": "crm.item.list", "status": 503, "code": "OVERLOAD_LIMIT", "times": 1})
	if r := callHook(t, s, "crm.item.list", map[string]any{"entityTypeId": 2}); r.Status != 503 || r.Body["error"] != "OVERLOAD_LIMIT" || r.Body["error_description"] != describe("OVERLOAD_LIMIT") {
		t.Errorf("call after the fault: HTTP %d %s", r.Status, r.Raw)
	}
	ctlOK(t, s, "POST", "faults", map[string]any{"kind": "html-502", "times": 1})
	if r := callHook(t, s, "profile", nil); r.Status != 502 || !strings.Contains(r.Raw, "502 Bad Gateway") {
		t.Errorf("call after html-502: HTTP %d %s", r.Status, r.Raw)
	}
	ctlOK(t, s, "POST", "faults/rate", map[string]any{"p": 1, "seed": 1, "kinds": []string{"error"}})
	if r := callHook(t, s, "profile", nil); r.Status != 500 {
		t.Errorf("call at fault rate 1: HTTP %d %s", r.Status, r.Raw)
	}
	if r := ctlOK(t, s, "POST", "faults/clear", nil); num(r["injected"]) != 3 {
		t.Errorf("faults/clear answered %v, want 3 injected so far", r)
	}
	if r := callHook(t, s, "profile", nil); r.Status != 200 {
		t.Errorf("call after faults/clear: HTTP %d %s", r.Status, r.Raw)
	}
	if r := ctlOK(t, s, "POST", "faults/latency", map[string]string{"latency": "0s"}); r["latency"] != "0s" {
		t.Errorf("faults/latency answered %v", r)
	}
}

// TestControlReset: reset empties the portal's data and logs, keeps its
// credentials, and runs the seed again.
func TestControlReset(t *testing.T) {
	t.Parallel()
	seeds := 0
	s := NewServer(t, WithoutRateLimit(), WithSeed(func(s *Server) error {
		seeds++
		_, err := s.SeedCRMItems(EntityLead, 2, nil)
		return err
	}))
	k := newSink(t)
	tok := s.IssueToken(1)
	mustOK(t, callToken(t, s, "imbot.register", tok.AccessToken, map[string]any{"CODE": "r", "EVENT_HANDLER": k.url("/b"), "PROPERTIES": map[string]any{"NAME": "R"}}))
	ctlOK(t, s, "POST", "crm/items/add", map[string]any{"entity_type_id": 2, "fields": map[string]any{"title": "x"}})
	s.CreateChat("c", 1)
	if _, err := s.InstallApp(k.url("/i")); err != nil {
		t.Fatal(err)
	}
	ctlOK(t, s, "POST", "clock/advance", map[string]string{"by": "24h"})
	s.FailNext(5, 500, "INTERNAL_SERVER_ERROR")

	if r := ctlOK(t, s, "POST", "reset", nil); r["reset"] != true {
		t.Errorf("reset answered %v", r)
	}
	if seeds != 2 {
		t.Errorf("the seed ran %d times, want at start and at reset", seeds)
	}
	if n := len(s.CRMItems(EntityLead)); n != 2 {
		t.Errorf("%d leads after reset, want the 2 seeded", n)
	}
	if n := len(s.CRMItems(EntityDeal)) + len(s.Bots()) + len(s.Deliveries()) + len(s.Calls()) + s.FaultsInjected(); n != 0 {
		t.Errorf("reset left deals, bots, deliveries, calls or faults: %d", n)
	}
	if d := time.Until(s.Now()); d > time.Hour {
		t.Errorf("the clock is %v ahead after reset", d)
	}
	// Credentials stay: the webhook and the token issued before work.
	if r := callHook(t, s, "profile", nil); r.Status != 200 {
		t.Errorf("webhook after reset: %s", r.Raw)
	}
	r := callToken(t, s, "imbot.register", tok.AccessToken, map[string]any{"CODE": "r", "EVENT_HANDLER": k.url("/b"), "PROPERTIES": map[string]any{"NAME": "R"}})
	if id := num(mustOK(t, r)); !slices.ContainsFunc(s.Bots(), func(b Bot) bool { return b.ID == id }) {
		t.Errorf("bot %d registered after reset is missing: %v", id, s.Bots())
	}

	failing := WithSeed(func(*Server) error { return fmt.Errorf("seed broke") })
	if _, err := Start(failing); err == nil || !strings.Contains(err.Error(), "seed broke") {
		t.Errorf("Start with a failing seed: %v", err)
	}
}
