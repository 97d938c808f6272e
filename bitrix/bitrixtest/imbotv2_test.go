package bitrixtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// v2call posts a JSON body to an imbot.v2 method through the inbound webhook.
func v2call(t *testing.T, s *Server, method string, body map[string]any) resp {
	t.Helper()
	js, _ := json.Marshal(body)
	return do(t, http.MethodPost, s.WebhookURL()+method, "application/json", string(js))
}

func v2result(t *testing.T, r resp) map[string]any {
	t.Helper()
	if r.Status != 200 {
		t.Fatalf("HTTP %d: %s", r.Status, r.Raw)
	}
	m, _ := r.Body["result"].(map[string]any)
	return m
}

// Event.get (imbot.v2/events/event-get.md): offset confirms everything
// below it, the answer is the queue from the cursor, nextOffset and
// hasMore; an answer that never reached the client confirms nothing.
func TestV2EventQueueOffsets(t *testing.T) {
	t.Parallel()
	s := NewServer(t, WithoutRateLimit())
	reg := v2result(t, v2call(t, s, "imbot.v2.Bot.register", map[string]any{"fields": map[string]any{
		"code": "q", "botToken": "tok", "properties": map[string]any{"name": "Q"}}}))
	bot := num(reg["bot"].(map[string]any)["id"])
	for i := range 3 {
		if _, err := s.V2SendMessage(bot, 2, fmt.Sprint("m", i)); err != nil {
			t.Fatal(err)
		}
	}
	get := func(extra map[string]any) map[string]any {
		body := map[string]any{"botId": bot, "botToken": "tok"}
		for k, v := range extra {
			body[k] = v
		}
		return v2result(t, v2call(t, s, "imbot.v2.Event.get", body))
	}
	r := get(map[string]any{"limit": 2})
	evs := r["events"].([]any)
	first := int64(num(evs[0].(map[string]any)["eventId"]))
	if len(evs) != 2 || r["hasMore"] != true || int64(num(r["nextOffset"])) != first+2 {
		t.Fatalf("first page %v", r)
	}
	if d := evs[0].(map[string]any)["data"].(map[string]any); d["message"].(map[string]any)["text"] != "m0" || d["bot"].(map[string]any)["eventMode"] != "fetch" {
		t.Fatalf("event data %v", d)
	}
	// Without a new offset nothing is confirmed: the same events again.
	if again := get(map[string]any{"limit": 2}); len(again["events"].([]any)) != 2 || len(s.V2PendingEvents(bot)) != 3 {
		t.Fatalf("re-read %v, pending %v", again, s.V2PendingEvents(bot))
	}
	r = get(map[string]any{"offset": first + 1})
	if evs := r["events"].([]any); len(evs) != 2 || r["hasMore"] != false || len(s.V2PendingEvents(bot)) != 2 {
		t.Fatalf("after offset %d: %v, pending %v", first+1, r, s.V2PendingEvents(bot))
	}
	r = get(map[string]any{"offset": first + 3})
	if len(r["events"].([]any)) != 0 || int64(num(r["nextOffset"])) != first+3 || len(s.V2PendingEvents(bot)) != 0 {
		t.Fatalf("drained: %v", r)
	}
	for _, tc := range []struct {
		body map[string]any
		code string
	}{
		{map[string]any{"botId": bot}, "BOT_TOKEN_NOT_SPECIFIED"},
		{map[string]any{"botToken": "tok"}, "BOT_ID_REQUIRED"},
		{map[string]any{"botId": bot + 50, "botToken": "tok"}, "BOT_NOT_FOUND"},
		{map[string]any{"botId": bot, "botToken": "other"}, "BOT_OWNERSHIP_ERROR"},
		{map[string]any{"botId": bot, "botToken": "tok", "withUserEvents": true}, "USER_NOT_SUBSCRIBED"},
	} {
		if r := v2call(t, s, "imbot.v2.Event.get", tc.body); r.Body["error"] != tc.code {
			t.Errorf("%v: %s", tc.body, r.Raw)
		}
	}
}

func TestV2RegisterRules(t *testing.T) {
	t.Parallel()
	s := NewServer(t, WithoutRateLimit())
	reg := func(fields map[string]any) resp {
		return v2call(t, s, "imbot.v2.Bot.register", map[string]any{"fields": fields})
	}
	props := map[string]any{"name": "B"}
	for _, tc := range []struct {
		fields map[string]any
		code   string
	}{
		{map[string]any{"code": "a", "properties": props}, "BOT_TOKEN_NOT_SPECIFIED"},
		{map[string]any{"code": "a", "botToken": strings.Repeat("x", 41), "properties": props}, "BOT_TOKEN_INVALID_LENGTH"},
		{map[string]any{"botToken": "t", "properties": props}, "BOT_CODE_REQUIRED"},
		{map[string]any{"code": "a", "botToken": "t"}, "BOT_PROPERTIES_REQUIRED"},
		{map[string]any{"code": "a", "botToken": "t", "properties": props, "type": "robot"}, "BOT_INVALID_TYPE"},
		{map[string]any{"code": "a", "botToken": "t", "properties": props, "eventMode": "push"}, "BOT_INVALID_EVENT_MODE"},
		{map[string]any{"code": "a", "botToken": "t", "properties": props, "eventMode": "webhook"}, "BOT_WEBHOOK_URL_REQUIRED"},
	} {
		if r := reg(tc.fields); r.Body["error"] != tc.code {
			t.Errorf("%v: %s", tc.fields, r.Raw)
		}
	}
	ok := v2result(t, reg(map[string]any{"code": "a", "botToken": strings.Repeat("x", 40), "properties": props, "backgroundId": "Mint"}))
	if b := ok["bot"].(map[string]any); b["backgroundId"] != nil || b["eventMode"] != "fetch" || b["type"] != "bot" {
		t.Fatalf("defaults and background normalization: %v", b) // change-log.md BOT-FIX-0408-4
	}
	// The code is taken for another token.
	if r := reg(map[string]any{"code": "a", "botToken": "other", "properties": props}); r.Body["error"] != "BOT_CODE_ALREADY_TAKEN" {
		t.Fatalf("code reuse: %s", r.Raw)
	}
	// Command.register: fields, or the legacy flat format (change-log.md BOT-BC-0330-1).
	bot := ok["bot"].(map[string]any)["id"]
	tok := strings.Repeat("x", 40)
	c1 := v2result(t, v2call(t, s, "imbot.v2.Command.register", map[string]any{"botId": bot, "botToken": tok, "fields": map[string]any{"command": "help", "title": map[string]any{"en": "Help"}}}))
	c2 := v2result(t, v2call(t, s, "imbot.v2.Command.register", map[string]any{"botId": bot, "botToken": tok, "command": "stop", "title": map[string]any{"en": "Stop"}}))
	if c1["command"].(map[string]any)["command"] != "/help" || c2["command"].(map[string]any)["command"] != "/stop" {
		t.Fatalf("commands %v %v", c1, c2)
	}
}

// Webhook mode: each event is POSTed to webhookUrl as an http_build_query
// form (events.md#webhook-payload), or JSON after SetV2WebhookJSON; the bot
// object is {id, code}, the top-level auth carries the application token.
func TestV2WebhookDelivery(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []*http.Request
	var bodies []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, bodies = append(got, r), append(bodies, string(b))
		mu.Unlock()
	}))
	defer hook.Close()
	s := NewServer(t, WithoutRateLimit())
	reg := v2result(t, v2call(t, s, "imbot.v2.Bot.register", map[string]any{"fields": map[string]any{
		"code": "w", "botToken": "tok", "properties": map[string]any{"name": "W"}, "eventMode": "webhook", "webhookUrl": hook.URL + "/bot"}}))
	bot := num(reg["bot"].(map[string]any)["id"])
	if _, err := s.V2SendMessage(bot, 2, "hi"); err != nil {
		t.Fatal(err)
	}
	s.SetV2WebhookJSON(true)
	if _, err := s.V2SendMessage(bot, 2, "again"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 2 {
		t.Fatalf("%d deliveries", len(bodies))
	}
	app := s.V2ApplicationToken(bot)
	form := bodies[0]
	if got[0].Header.Get("Content-Type") != "application/x-www-form-urlencoded" ||
		!strings.Contains(form, "event=ONIMBOTV2MESSAGEADD") || !strings.Contains(form, "data%5Bbot%5D%5Bid%5D="+fmt.Sprint(bot)) ||
		!strings.Contains(form, "auth%5Bapplication_token%5D="+app) || !strings.Contains(form, "data%5Bmessage%5D%5Btext%5D=hi") {
		t.Fatalf("form delivery: %s", form)
	}
	var js map[string]any
	if err := json.Unmarshal([]byte(bodies[1]), &js); err != nil || got[1].Header.Get("Content-Type") != "application/json" {
		t.Fatalf("json delivery: %v %s", err, bodies[1])
	}
	if js["event"] != "ONIMBOTV2MESSAGEADD" || js["auth"].(map[string]any)["application_token"] != app ||
		js["data"].(map[string]any)["bot"].(map[string]any)["eventMode"] != nil {
		t.Fatalf("json delivery: %v", js)
	}
	if len(s.V2PendingEvents(bot)) != 0 {
		t.Fatal("webhook bot queued events")
	}
	if r := v2call(t, s, "imbot.v2.Event.get", map[string]any{"botId": bot, "botToken": "tok"}); r.Status == 200 {
		t.Fatalf("Event.get of a webhook bot: %s", r.Raw)
	}
}

// The bot token stays out of the call log, as auth does, on every path:
// handled calls, refused ones and calls refused before they ran.
func TestV2CallLogWithoutBotToken(t *testing.T) {
	t.Parallel()
	s := NewServer(t, WithoutRateLimit())
	const tok = "distinctBotToken77"
	reg := v2result(t, v2call(t, s, "imbot.v2.Bot.register", map[string]any{"fields": map[string]any{
		"code": "l", "botToken": tok, "properties": map[string]any{"name": "L"}}}))
	bot := num(reg["bot"].(map[string]any)["id"])
	v2call(t, s, "imbot.v2.Event.get", map[string]any{"botId": bot, "botToken": tok})
	v2call(t, s, "imbot.v2.Event.get", map[string]any{"botId": bot + 9, "botToken": tok})
	s.FailNext(1, http.StatusServiceUnavailable, "QUERY_LIMIT_EXCEEDED")
	v2call(t, s, "imbot.v2.Chat.Message.send", map[string]any{"botId": bot, "botToken": tok, "dialogId": "2", "fields": map[string]any{"message": "x"}})
	calls := s.Calls()
	if len(calls) != 4 {
		t.Fatalf("%d calls logged", len(calls))
	}
	for _, c := range calls {
		if strings.Contains(fmt.Sprint(c.Params), tok) {
			t.Errorf("%s logged the bot token: %v", c.Method, c.Params)
		}
	}
}
