package bitrixtest

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLists(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	multi := &ListField{Name: "Tags", Type: "L", Multiple: true, Enum: map[string]string{"1269": "a", "1271": "b"}}
	single := &ListField{Name: "Note", Type: "S"}
	file := &ListField{Name: "Doc", Type: "F"}
	ib := s.AddList("lists", "tasks", "Tasks", multi, single, file)
	base := map[string]any{"IBLOCK_TYPE_ID": "lists", "IBLOCK_ID": ib}
	with := func(m map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range base {
			out[k] = v
		}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	pm, ps, pf := fmt.Sprintf("PROPERTY_%d", multi.ID), fmt.Sprintf("PROPERTY_%d", single.ID), fmt.Sprintf("PROPERTY_%d", file.ID)
	// Three write shapes for a multi-value.
	shapes := []any{[]string{"1269", "1271"}, map[string]string{"0": "1269", "1": "1271"}, map[string]string{"n0": "1269", "n1": "1271"}}
	for i, shape := range shapes {
		id := num(mustOK(t, callHook(t, s, "lists.element.add", with(map[string]any{"ELEMENT_CODE": fmt.Sprint("e", i), "FIELDS": map[string]any{"NAME": "E", pm: shape, ps: "note", pf: []string{"a.txt", "aGVsbG8="}}}))))
		got := mustOK(t, callHook(t, s, "lists.element.get", with(map[string]any{"ELEMENT_ID": id}))).([]any)
		vals, ok := get(got, "0", pm).(map[string]any)
		if !ok || len(vals) != 2 {
			t.Fatalf("shape %d: %v", i, get(got, "0"))
		}
		var values []string
		for _, v := range vals {
			values = append(values, v.(string))
		}
		sortStrings(values)
		if diff := cmp.Diff([]string{"1269", "1271"}, values); diff != "" {
			t.Errorf("shape %d values (-want +got):\n%s", i, diff)
		}
	}
	r := callHook(t, s, "lists.element.add", with(map[string]any{"ELEMENT_CODE": "e0", "FIELDS": map[string]any{"NAME": "dup"}}))
	if r.Body["error"] != "ERROR_ELEMENT_ALREADY_EXISTS" {
		t.Errorf("duplicate code: %s", r.Raw)
	}
	r = callHook(t, s, "lists.element.add", with(map[string]any{"ELEMENT_CODE": "f", "FIELDS": map[string]any{"NAME": "x", pf: "123"}}))
	if diff := cmp.Diff(fixture(t, "error_lists_element_add.json"), r.Body); diff != "" {
		t.Errorf("file by id (-want +got):\n%s", diff)
	}
	// Update clears unsent fields but keeps files.
	mustOK(t, callHook(t, s, "lists.element.update", with(map[string]any{"ELEMENT_CODE": "e0", "FIELDS": map[string]any{"NAME": "renamed"}})))
	got := get(mustOK(t, callHook(t, s, "lists.element.get", with(map[string]any{"ELEMENT_CODE": "e0"}))), "0")
	if get(got, "NAME") != "renamed" || get(got, pm) != nil || get(got, ps) != nil || get(got, pf) == nil {
		t.Errorf("after update: %v", got)
	}
	urls := mustOK(t, callHook(t, s, "lists.element.get.file.url", with(map[string]any{"ELEMENT_CODE": "e0", "FIELD_ID": file.ID}))).([]any)
	if len(urls) != 1 || !strings.HasPrefix(urls[0].(string), "/company/lists/") {
		t.Errorf("file urls: %v", urls)
	}
	// Filter and paging.
	r = callHook(t, s, "lists.element.get", with(map[string]any{"FILTER": map[string]any{"NAME": "E"}, "SELECT": []string{"ID", "NAME"}}))
	if len(mustOK(t, r).([]any)) != 2 || r.Body["total"] != jsonNum(2) {
		t.Errorf("filter: %s", r.Raw)
	}
	mustOK(t, callHook(t, s, "lists.element.delete", with(map[string]any{"ELEMENT_CODE": "e1"})))
	if n := len(s.ListElements(ib)); n != 2 {
		t.Errorf("%d elements after delete", n)
	}
	// lists.get / lists.field.get shapes.
	lg := mustOK(t, callHook(t, s, "lists.get", map[string]any{"IBLOCK_TYPE_ID": "lists"})).([]any)
	if miss := missingKeys(map[string]any{"ID": 1, "IBLOCK_TYPE_ID": 1, "CODE": 1, "NAME": 1, "SORT": 1, "SOCNET_GROUP_ID": 1}, lg[0]); len(miss) > 0 {
		t.Errorf("lists.get misses %v", miss)
	}
	fg := mustOK(t, callHook(t, s, "lists.field.get", with(map[string]any{"FIELD_ID": pm})))
	if miss := missingKeys(get(fixture(t, "resp_lists_field_get.json"), "result", "L"), get(fg, "L")); len(miss) > 0 {
		t.Errorf("lists.field.get misses %v", miss)
	}
	r = callHook(t, s, "lists.element.get", map[string]any{"IBLOCK_TYPE_ID": "lists", "IBLOCK_ID": 999})
	if r.Body["error"] != "ERROR_IBLOCK_NOT_FOUND" {
		t.Errorf("bad iblock: %s", r.Raw)
	}
}

func TestBots(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newSink(t)
	tok := s.IssueToken(1)
	call := func(method string, p map[string]any) resp { return callToken(t, s, method, tok.AccessToken, p) }
	botID, hookBot, cmdID := botsRegister(t, s, k, call)
	botsMessages(t, s, call, botID, cmdID)
	botsChats(t, s, call, botID, hookBot)
}

// botsRegister: imbot.register for apps and webhooks, limits, a command.
func botsRegister(t *testing.T, s *Server, k *sink, call func(string, map[string]any) resp) (botID, hookBot, cmdID int) {
	reg := map[string]any{"CODE": "echo", "EVENT_HANDLER": k.url("/bot"), "PROPERTIES": map[string]any{"NAME": "Echo"}}
	botID = num(mustOK(t, call("imbot.register", reg)))
	if r := call("imbot.register", map[string]any{"EVENT_HANDLER": k.url("/bot")}); r.Body["error"] != "CODE_ERROR" {
		t.Errorf("no code: %s", r.Raw)
	}
	// Webhook bots need CLIENT_ID, and get it appended to their handlers.
	if r := callHook(t, s, "imbot.register", reg); r.Status != 403 || r.Body["error"] != "ACCESS_DENIED" {
		t.Errorf("webhook without CLIENT_ID: %s", r.Raw)
	}
	hookBot = num(mustOK(t, callHook(t, s, "imbot.register", map[string]any{"CODE": "hb", "CLIENT_ID": "cid1", "EVENT_HANDLER": k.url("/hb"), "PROPERTIES": map[string]any{"NAME": "HB"}})))
	if r := callHook(t, s, "imbot.message.add", map[string]any{"BOT_ID": hookBot, "DIALOG_ID": "1", "MESSAGE": "x"}); r.Body["error"] != "ACCESS_DENIED" {
		t.Errorf("webhook call without CLIENT_ID: %s", r.Raw)
	}
	if r := call("imbot.message.add", map[string]any{"BOT_ID": hookBot, "DIALOG_ID": "1", "MESSAGE": "x"}); r.Body["error"] != "APP_ID_ERROR" {
		t.Errorf("other app's bot: %s", r.Raw)
	}
	for _, b := range s.Bots() {
		if b.ID == hookBot && b.Handlers["MESSAGE_ADD"] != k.url("/hb")+"?CLIENT_ID=cid1" {
			t.Errorf("webhook bot handler %q", b.Handlers["MESSAGE_ADD"])
		}
	}
	// Five bots per app.
	for i := 2; i <= 5; i++ {
		mustOK(t, call("imbot.register", map[string]any{"CODE": fmt.Sprint("b", i), "EVENT_HANDLER": k.url("/bot"), "PROPERTIES": map[string]any{"NAME": "B"}}))
	}
	if r := call("imbot.register", map[string]any{"CODE": "b6", "EVENT_HANDLER": k.url("/bot"), "PROPERTIES": map[string]any{"NAME": "B"}}); r.Body["error"] != "MAX_COUNT_ERROR" {
		t.Errorf("sixth bot: %s", r.Raw)
	}
	list := mustOK(t, call("imbot.bot.list", nil))
	if get(list, itoa(botID), "CODE") != "echo" {
		t.Errorf("bot.list: %v", list)
	}
	cmdID = num(mustOK(t, call("imbot.command.register", map[string]any{"BOT_ID": botID, "COMMAND": "echo", "EVENT_COMMAND_ADD": k.url("/cmd"), "LANG": []map[string]string{{"LANGUAGE_ID": "en", "TITLE": "Echo"}}})))
	return botID, hookBot, cmdID
}

// botsMessages: a user writes to the bot, the bot answers, a command.
func botsMessages(t *testing.T, s *Server, call func(string, map[string]any) resp, botID, cmdID int) {
	// A user writes to the bot: ONIMBOTMESSAGEADD with the documented shape.
	msgID, err := s.SendBotMessage(botID, 2, "Hello")
	if err != nil {
		t.Fatal(err)
	}
	ds := s.Deliveries()
	ev := tree(t, ds[len(ds)-1].Body)
	want := fixtureTree(t, "event_ONIMBOTMESSAGEADD_private.json")
	if diff := cmp.Diff(filterPaths(keyPaths(want, ""), "event_handler_id", "data[PARAMS][TO_USER_ID]"), filterPaths(keyPaths(ev, ""), "data[PARAMS][TO_USER_ID]")); diff != "" {
		t.Errorf("ONIMBOTMESSAGEADD paths (-want +got):\n%s", diff)
	}
	if get(ev, "data", "PARAMS", "DIALOG_ID") != "2" || get(ev, "auth", "user_id") != "2" || get(ev, "data", "BOT", itoa(botID), "user_id") != itoa(botID) {
		t.Errorf("message event: %v", ev)
	}
	// The bot answers with its own token.
	botTok := get(ev, "data", "BOT", itoa(botID), "access_token").(string)
	r := callToken(t, s, "imbot.message.add", botTok, map[string]any{"DIALOG_ID": "2", "MESSAGE": "Hello back", "KEYBOARD": map[string]any{"BUTTONS": []map[string]string{{"TEXT": "Repeat", "COMMAND": "echo"}}}})
	answer := num(mustOK(t, r))
	bm := s.BotMessages()
	if len(bm) != 1 || bm[0].Text != "Hello back" || bm[0].DialogID != "2" || bm[0].BotID != botID || bm[0].Keyboard == nil {
		t.Errorf("BotMessages = %+v", bm)
	}
	if r := call("imbot.message.add", map[string]any{"BOT_ID": botID, "DIALOG_ID": "2", "MESSAGE": "  "}); r.Body["error"] != "MESSAGE_EMPTY" {
		t.Errorf("empty: %s", r.Raw)
	}
	mustOK(t, call("imbot.message.update", map[string]any{"BOT_ID": botID, "MESSAGE_ID": answer, "MESSAGE": "edited"}))
	mustOK(t, call("imbot.message.like", map[string]any{"BOT_ID": botID, "MESSAGE_ID": msgID, "ACTION": "plus"}))
	if r := call("imbot.message.like", map[string]any{"BOT_ID": botID, "MESSAGE_ID": msgID, "ACTION": "plus"}); r.Body["error"] != "WITHOUT_CHANGES" {
		t.Errorf("like twice: %s", r.Raw)
	}
	mustOK(t, call("imbot.chat.sendTyping", map[string]any{"BOT_ID": botID, "DIALOG_ID": "2"}))

	// A slash command goes to the command handler.
	if _, err := s.SendBotMessage(botID, 2, "/echo test"); err != nil {
		t.Fatal(err)
	}
	ds = s.Deliveries()
	ev = tree(t, ds[len(ds)-1].Body)
	if ev["event"] != "ONIMCOMMANDADD" || get(ev, "data", "COMMAND", itoa(cmdID), "COMMAND_PARAMS") != "test" {
		t.Errorf("command event: %v", ev)
	}
	if diff := cmp.Diff(keyPaths(get(fixtureTree(t, "event_ONIMCOMMANDADD.json"), "data", "COMMAND"), ""), keyPaths(get(ev, "data", "COMMAND"), "")); diff != "" {
		t.Errorf("COMMAND entry paths (-want +got):\n%s", diff)
	}
	cmdMsg := num(get(ev, "data", "COMMAND", itoa(cmdID), "MESSAGE_ID"))
	mustOK(t, call("imbot.command.answer", map[string]any{"COMMAND_ID": cmdID, "MESSAGE_ID": cmdMsg, "MESSAGE": "test"}))
}

// botsChats: chats, join events, mentions, deletion, webhook bot events.
func botsChats(t *testing.T, s *Server, call func(string, map[string]any) resp, botID, hookBot int) {
	// Chats: create, add, join event, dialog.get.
	chatID := num(mustOK(t, call("imbot.chat.add", map[string]any{"BOT_ID": botID, "TITLE": "Team", "USERS": []int{2, 3}})))
	dlg := mustOK(t, call("imbot.dialog.get", map[string]any{"DIALOG_ID": fmt.Sprint("chat", chatID)}))
	if miss := missingKeys(get(fixture(t, "resp_imbot_dialog_get.json"), "result"), dlg); len(miss) > 0 {
		t.Errorf("dialog.get misses %v", miss)
	}
	if err := s.AddBotToChat(botID, 0); err != nil {
		t.Fatal(err)
	}
	ds := s.Deliveries()
	ev := tree(t, ds[len(ds)-1].Body)
	if diff := cmp.Diff(filterPaths(keyPaths(fixtureTree(t, "event_ONIMBOTJOINCHAT_private.json"), ""), "event_handler_id"), filterPaths(keyPaths(ev, ""), "data[PARAMS][CHAT_ENTITY_TYPE]")); diff != "" {
		t.Errorf("ONIMBOTJOINCHAT paths (-want +got):\n%s", diff)
	}
	// Group chat: only mentioned bots hear messages.
	n := len(s.Deliveries())
	if _, err := s.SendChatMessage(chatID, 2, "no mention"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SendChatMessage(chatID, 2, fmt.Sprintf("[USER=%d]Echo[/USER] hi", botID)); err != nil {
		t.Fatal(err)
	}
	if got := len(s.Deliveries()) - n; got != 1 {
		t.Errorf("%d group deliveries, want 1", got)
	}
	// Bot deleted by a user.
	if err := s.DeleteBot(botID); err != nil {
		t.Fatal(err)
	}
	ds = s.Deliveries()
	ev = tree(t, ds[len(ds)-1].Body)
	if diff := cmp.Diff(filterPaths(keyPaths(fixtureTree(t, "event_ONIMBOTDELETE.json"), ""), "event_handler_id"), keyPaths(ev, "")); diff != "" {
		t.Errorf("ONIMBOTDELETE paths (-want +got):\n%s", diff)
	}
	// Webhook bot events carry CLIENT_ID as application_token and no tokens.
	if _, err := s.SendBotMessage(hookBot, 2, "hi"); err != nil {
		t.Fatal(err)
	}
	ds = s.Deliveries()
	ev = tree(t, ds[len(ds)-1].Body)
	if get(ev, "auth", "application_token") != "cid1" || get(ev, "auth", "access_token") != nil || get(ev, "data", "BOT", itoa(hookBot), "AUTH") != nil {
		t.Errorf("webhook bot event: %v", ev)
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	s := NewServer(t, WithRateLimit(2, 5), WithClock(func() time.Time { return now }))
	for i := 0; i < 5; i++ {
		mustOK(t, callHook(t, s, "server.time", nil))
	}
	r := callHook(t, s, "server.time", nil)
	if diff := cmp.Diff(fixture(t, "error_query_limit_exceeded.json"), r.Body); diff != "" || r.Status != 503 {
		t.Errorf("over the burst: %d (-want +got):\n%s", r.Status, diff)
	}
	s.Advance(time.Second) // drains 2
	mustOK(t, callHook(t, s, "batch", map[string]any{"cmd": []string{"server.time", "server.time", "server.time"}}))
	mustOK(t, callHook(t, s, "server.time", nil))
	if r := callHook(t, s, "server.time", nil); r.Status != 503 {
		t.Errorf("batch should count once: %d", r.Status)
	}
	s.SetRateLimit(0, 0)
	mustOK(t, callHook(t, s, "server.time", nil))
}

func TestOperatingLimit(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, WithOperatingLimit(10*time.Second), WithMethodCost("crm.item.list", 4*time.Second))
	s.SetTime(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	list := map[string]any{"entityTypeId": 2}
	for i := 0; i < 3; i++ { // 12 s: the third call crosses the limit and still runs
		mustOK(t, callHook(t, s, "crm.item.list", list))
		s.Advance(time.Minute)
	}
	r := callHook(t, s, "crm.item.list", list)
	if r.Status != 429 || r.Body["error"] != "OPERATION_TIME_LIMIT" {
		t.Fatalf("blocked call: %d %s", r.Status, r.Raw)
	}
	// Other methods still work; in a batch the blocked method fails alone.
	r = callHook(t, s, "batch", map[string]any{"cmd": map[string]string{"a": "crm.item.list?entityTypeId=2", "b": "server.time"}})
	res := mustOK(t, r)
	if get(res, "result_error", "a", "error") != "OPERATION_TIME_LIMIT" || get(res, "result", "b") == nil {
		t.Errorf("batch under limit: %s", r.Raw)
	}
	// Another identity (the app) has its own budget.
	mustOK(t, callToken(t, s, "crm.item.list", s.IssueToken(1).AccessToken, list))
	// The oldest bucket expires 600 s after it started.
	s.Advance(8 * time.Minute)
	mustOK(t, callHook(t, s, "crm.item.list", list))
}

func TestFaults(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	s.FailNext(2, 503, "QUERY_LIMIT_EXCEEDED")
	for i := 0; i < 2; i++ {
		if r := callHook(t, s, "server.time", nil); r.Status != 503 || r.Body["error"] != "QUERY_LIMIT_EXCEEDED" {
			t.Errorf("FailNext %d: %d %s", i, r.Status, r.Raw)
		}
	}
	mustOK(t, callHook(t, s, "server.time", nil))

	s.FailMethod("crm.item.add", 1, 500, "ERROR_CORE")
	mustOK(t, callHook(t, s, "server.time", nil))
	if r := callHook(t, s, "crm.item.add", map[string]any{"entityTypeId": 2, "fields": map[string]any{"title": "x"}}); r.Status != 500 {
		t.Errorf("FailMethod: %d", r.Status)
	}
	s.FailMethod("server.time", 1, 500, "ERROR_CORE")
	res := mustOK(t, callHook(t, s, "batch", map[string]any{"cmd": []string{"server.time"}}))
	if get(res, "result_error", "0", "error") != "ERROR_CORE" {
		t.Errorf("FailMethod in batch: %v", res)
	}

	s.HTML502(1)
	r := do(t, "GET", s.WebhookURL()+"server.time", "", "")
	if r.Status != 502 || !strings.Contains(r.Raw, "<html>") {
		t.Errorf("HTML502: %d %s", r.Status, r.Raw)
	}

	before := len(s.CRMItems(EntityDeal))
	s.DropBeforeProcessing(1)
	if _, err := http.Post(s.WebhookURL()+"crm.item.add", "application/json", strings.NewReader(`{"entityTypeId":2,"fields":{"title":"x"}}`)); err == nil {
		t.Error("drop before: no error")
	}
	if len(s.CRMItems(EntityDeal)) != before {
		t.Error("drop before processing changed data")
	}
	s.DropAfterProcessing(1)
	res2, err := http.Post(s.WebhookURL()+"crm.item.add", "application/json", strings.NewReader(`{"entityTypeId":2,"fields":{"title":"x"}}`))
	if err == nil {
		_, err = io.ReadAll(res2.Body)
		res2.Body.Close()
	}
	if err == nil {
		t.Error("drop after: no error")
	}
	if len(s.CRMItems(EntityDeal)) != before+1 {
		t.Error("drop after processing did not apply the write")
	}

	s.FaultRate(0.5, 42)
	fails := 0
	for i := 0; i < 40; i++ {
		if r := callHook(t, s, "server.time", nil); r.Status == 500 {
			fails++
		}
	}
	if fails == 0 || fails == 40 {
		t.Errorf("FaultRate 0.5 gave %d/40 failures", fails)
	}
	s.ClearFaults()
	mustOK(t, callHook(t, s, "server.time", nil))
	if s.FaultsInjected() < 6 {
		t.Errorf("FaultsInjected = %d", s.FaultsInjected())
	}
	// Token endpoint faults.
	s.FailMethod("oauth.token", 1, 503, "PAYMENT_REQUIRED")
	if r := do(t, "GET", s.App().TokenURL, "", ""); r.Status != 503 || r.Body["error"] != "PAYMENT_REQUIRED" {
		t.Errorf("token fault: %d %s", r.Status, r.Raw)
	}
}

func TestInspection(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	mustOK(t, callHook(t, s, "crm.item.add", map[string]any{"entityTypeId": 2, "fields": map[string]any{"title": "x"}}))
	callHook(t, s, "crm.item.get", map[string]any{"entityTypeId": 2, "id": 999})
	calls := s.Calls()
	if len(calls) != 2 || calls[0].Method != "crm.item.add" || calls[0].AuthKind != AuthWebhook || calls[0].UserID != 1 || calls[1].Code != "NOT_FOUND" || calls[1].Status != 400 {
		t.Errorf("calls = %+v", calls)
	}
	if get(calls[0].Params, "fields", "title") != "x" {
		t.Errorf("params = %v", calls[0].Params)
	}
	if s.CallCount("CRM.ITEM.GET") != 1 || s.Requests() != 2 {
		t.Errorf("CallCount=%d Requests=%d", s.CallCount("crm.item.get"), s.Requests())
	}
	s.ResetCalls()
	if len(s.Calls()) != 0 {
		t.Error("ResetCalls")
	}
}

func TestConcurrentClients(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				res, err := http.Post(s.WebhookURL()+"crm.item.add", "application/json", strings.NewReader(`{"entityTypeId":2,"fields":{"title":"c"}}`))
				if err != nil {
					errs <- err
					return
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					errs <- errors.New(res.Status)
				}
				_ = s.Calls()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(s.CRMItems(EntityDeal)); n != 160 {
		t.Errorf("%d deals, want 160", n)
	}
}

func TestTLS(t *testing.T) {
	t.Parallel()
	s := NewServer(t, WithTLS(), WithoutRateLimit(), WithHTTPSWebhooks())
	if !strings.HasPrefix(s.URL(), "https://") {
		t.Fatalf("URL %s", s.URL())
	}
	res, err := s.Client().Get(s.WebhookURL() + "server.time")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("status %d", res.StatusCode)
	}
}

func BenchmarkCRMItemList(b *testing.B) {
	s := NewServer(b, WithoutRateLimit(), WithoutOperatingLimit())
	if _, err := s.SeedCRMItems(EntityDeal, 2000, nil); err != nil {
		b.Fatal(err)
	}
	u := s.WebhookURL() + "crm.item.list"
	body := `{"entityTypeId":2,"order":{"id":"ASC"},"filter":{">id":1000},"start":-1}`
	b.ReportAllocs()
	for b.Loop() {
		res, err := http.Post(u, "application/json", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
}
