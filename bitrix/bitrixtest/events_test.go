package bitrixtest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/b24go/sdk/internal/phpform"
	"github.com/google/go-cmp/cmp"
)

// sink is an event handler that records the form bodies it receives.
type sink struct {
	mu     sync.Mutex
	bodies []string
	srv    *httptest.Server
	status int
}

func newSink(t *testing.T) *sink {
	k := &sink{status: 200}
	k.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			t.Errorf("delivery: %s %s", r.Method, r.Header.Get("Content-Type"))
		}
		b, _ := io.ReadAll(r.Body)
		k.mu.Lock()
		k.bodies = append(k.bodies, string(b))
		st := k.status
		k.mu.Unlock()
		w.WriteHeader(st)
	}))
	t.Cleanup(k.srv.Close)
	return k
}

func (k *sink) url(path string) string { return k.srv.URL + path }

// tree decodes a form body as the PHP receiver would.
func tree(t *testing.T, body string) map[string]any {
	t.Helper()
	m, err := phpform.Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	return phpform.Plain(m).(map[string]any)
}

// keyPaths lists the bracket paths of a decoded event, with numeric ids
// (bot/command ids) normalised to "N".
func keyPaths(v any, prefix string) []string {
	var out []string
	m, ok := v.(map[string]any)
	if !ok {
		return []string{prefix}
	}
	for k, e := range m {
		kk := k
		if isIntKey(k) {
			kk = "N"
		}
		p := kk
		if prefix != "" {
			p = prefix + "[" + kk + "]"
		}
		out = append(out, keyPaths(e, p)...)
	}
	sort.Strings(out)
	return out
}

func fixtureTree(t *testing.T, name string) map[string]any {
	// Fixtures are decoded JSON views; stringify numbers as the wire does.
	f := fixture(t, name)
	body, err := phpform.Encode(f)
	if err != nil {
		t.Fatal(err)
	}
	return tree(t, body)
}

func TestCRMEventsApp(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, WithSyncDelivery())
	k := newSink(t)
	tok := s.IssueToken(1)
	mustOK(t, callToken(t, s, "event.bind", tok.AccessToken, map[string]any{"event": "onCrmDealAdd", "handler": k.url("/app")}))
	hookToken := s.AddOutboundWebhook([]string{"ONCRMDEALADD"}, k.url("/hook"), "")
	// Webhook auth is refused for event.*.
	r := callHook(t, s, "event.bind", map[string]any{"event": "ONCRMDEALADD", "handler": k.url("/x")})
	if r.Status != 403 || r.Body["error"] != "WRONG_AUTH_TYPE" {
		t.Errorf("webhook event.bind: %d %s", r.Status, r.Raw)
	}
	// ONLISTSELEMENTADD appears nowhere in the docs (b24restdocs at
	// 5988ed1): the fake must not offer an event it never fires.
	for _, name := range []string{"ONNOTHING", "ONLISTSELEMENTADD"} {
		r = callToken(t, s, "event.bind", tok.AccessToken, map[string]any{"event": name, "handler": k.url("/x")})
		if diff := cmp.Diff(fixture(t, "error_event_bind_not_found.json"), r.Body); diff != "" || r.Status != 400 {
			t.Errorf("unknown event %s (-want +got):\n%s", name, diff)
		}
	}
	r = callToken(t, s, "event.bind", tok.AccessToken, map[string]any{"event": "ONCRMDEALADD", "handler": k.url("/app")})
	if r.Body["error"] != "ERROR_HANDLER_ALREADY_EXIST" {
		t.Errorf("duplicate bind: %s", r.Raw)
	}
	r = callToken(t, s, "event.bind", tok.AccessToken, map[string]any{"event": "ONCRMDEALADD", "handler": "http://localhost/x"})
	if r.Body["error"] != "ERROR_WRONG_HANDLER_URL" {
		t.Errorf("localhost handler: %s", r.Raw)
	}
	got := mustOK(t, callToken(t, s, "event.get", tok.AccessToken, nil)).([]any)
	if len(got) != 1 || get(got, "0", "handler") != k.url("/app") || get(got, "0", "auth_type") != "0" {
		t.Errorf("event.get = %v", got)
	}
	if diff := cmp.Diff(keysOf(get(fixture(t, "resp_event_get.json"), "result", "0")), keysOf(got[0])); diff != "" {
		t.Errorf("event.get keys (-want +got):\n%s", diff)
	}

	// A deal added by user 2 through a webhook fires both handlers.
	hook2 := s.AddWebhook(2)
	r = do(t, "POST", hook2+"crm.item.add", "application/json", `{"entityTypeId":2,"fields":{"title":"x"}}`)
	id := num(get(mustOK(t, r), "item", "id"))
	ds := s.Deliveries()
	if len(ds) != 2 {
		t.Fatalf("%d deliveries", len(ds))
	}
	app, hook := tree(t, ds[0].Body), tree(t, ds[1].Body)
	if ds[0].URL != k.url("/app") {
		app, hook = hook, app
	}
	want := fixtureTree(t, "event_ONCRMDEALADD_app.json")
	wantPaths := append(keyPaths(want, ""), "auth[expires]", "auth[user_id]")
	sort.Strings(wantPaths)
	if diff := cmp.Diff(wantPaths, keyPaths(app, "")); diff != "" {
		t.Errorf("app event paths (-want +got):\n%s", diff)
	}
	if get(app, "data", "FIELDS", "ID") != itoa(id) || get(app, "auth", "user_id") != "2" || get(app, "auth", "application_token") != s.App().ApplicationToken {
		t.Errorf("app event: %v", app)
	}
	// The token in the event works for calls as that user.
	if got := get(mustOK(t, callToken(t, s, "user.current", get(app, "auth", "access_token").(string), nil)), "ID"); got != "2" {
		t.Errorf("event token user = %v", got)
	}
	wantHook := []string{"auth[application_token]", "auth[client_endpoint]", "auth[domain]", "auth[member_id]", "auth[server_endpoint]", "data[FIELDS][ID]", "event", "event_handler_id", "ts"}
	if diff := cmp.Diff(wantHook, keyPaths(hook, "")); diff != "" || get(hook, "auth", "application_token") != hookToken {
		t.Errorf("outbound webhook event (-want +got):\n%s", diff)
	}
	// Wire format: PHP urlencode style brackets.
	if !strings.Contains(ds[0].Body, "data%5BFIELDS%5D%5BID%5D=") {
		t.Errorf("body not bracket-encoded: %s", ds[0].Body)
	}
	// SPA events carry ENTITY_TYPE_ID.
	mustOK(t, callToken(t, s, "event.bind", tok.AccessToken, map[string]any{"event": "ONCRMDYNAMICITEMADD", "handler": k.url("/spa")}))
	mustOK(t, callHook(t, s, "crm.item.add", map[string]any{"entityTypeId": 128, "fields": map[string]any{"title": "x"}}))
	ds = s.Deliveries()
	spa := tree(t, ds[len(ds)-1].Body)
	if get(spa, "data", "FIELDS", "ENTITY_TYPE_ID") != "128" || get(spa, "event") != "ONCRMDYNAMICITEMADD" {
		t.Errorf("spa event: %v", spa)
	}
	r = callToken(t, s, "event.unbind", tok.AccessToken, map[string]any{"event": "ONCRMDEALADD", "handler": k.url("/app")})
	if get(mustOK(t, r), "count") != jsonNum(1) {
		t.Errorf("unbind: %s", r.Raw)
	}
}

func TestAsyncDeliveryWait(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newSink(t)
	s.AddOutboundWebhook([]string{"ONCRMLEADADD", "ONCRMLEADUPDATE"}, k.url("/"), "tok")
	id := num(mustOK(t, callHook(t, s, "crm.lead.add", map[string]any{"fields": map[string]any{"TITLE": "a"}})))
	mustOK(t, callHook(t, s, "crm.lead.update", map[string]any{"id": id, "fields": map[string]any{"TITLE": "b"}}))
	ds, err := s.WaitDeliveries(t.Context(), 2)
	if err != nil {
		t.Fatal(err)
	}
	if ds[0].Event != "ONCRMLEADADD" && ds[1].Event != "ONCRMLEADADD" || ds[0].Status != 200 {
		t.Errorf("deliveries: %+v", ds)
	}
}

func TestInstallUninstall(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newSink(t)
	tok, err := s.InstallApp(k.url("/install"))
	if err != nil {
		t.Fatal(err)
	}
	ev := tree(t, s.Deliveries()[0].Body)
	if diff := cmp.Diff(keyPaths(fixtureTree(t, "event_ONAPPINSTALL.json"), ""), filterPaths(keyPaths(ev, ""), "auth[expires]", "auth[user_id]")); diff != "" {
		t.Errorf("ONAPPINSTALL paths (-want +got):\n%s", diff)
	}
	if get(ev, "auth", "refresh_token") != tok.RefreshToken || get(ev, "auth", "access_token") != tok.AccessToken {
		t.Error("ONAPPINSTALL tokens differ from the returned ones")
	}
	mustOK(t, callToken(t, s, "event.bind", tok.AccessToken, map[string]any{"event": "ONAPPUNINSTALL", "handler": k.url("/uninstall")}))
	if err := s.UninstallApp(); err != nil {
		t.Fatal(err)
	}
	ev = tree(t, s.Deliveries()[1].Body)
	if diff := cmp.Diff(keyPaths(fixtureTree(t, "event_ONAPPUNINSTALL.json"), ""), filterPaths(keyPaths(ev, ""), "event_handler_id")); diff != "" {
		t.Errorf("ONAPPUNINSTALL paths (-want +got):\n%s", diff)
	}
	r := callToken(t, s, "user.current", tok.AccessToken, nil)
	if r.Status != 401 {
		t.Errorf("token after uninstall: %d", r.Status)
	}
	// A failing handler is reported.
	k.status = 500
	if _, err := s.InstallApp(k.url("/install")); err == nil {
		t.Error("no error for a 500 handler")
	}
}

func filterPaths(paths []string, drop ...string) []string {
	var out []string
	for _, p := range paths {
		keep := true
		for _, d := range drop {
			if p == d {
				keep = false
			}
		}
		if keep {
			out = append(out, p)
		}
	}
	return out
}

func TestOfflineEvents(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, WithSyncDelivery())
	tok := s.IssueToken(1)
	call := func(method string, p map[string]any) resp { return callToken(t, s, method, tok.AccessToken, p) }
	mustOK(t, call("event.bind", map[string]any{"event": "ONCRMDEALADD", "event_type": "offline"}))
	mustOK(t, call("event.bind", map[string]any{"event": "ONCRMDEALUPDATE", "event_type": "offline", "auth_connector": "sync1"}))
	// Non-admins may not bind offline events.
	user2 := s.IssueToken(2)
	if r := callToken(t, s, "event.bind", user2.AccessToken, map[string]any{"event": "ONCRMDEALADD", "event_type": "offline"}); r.Status != 403 || r.Body["error"] != "ACCESS_DENIED" {
		t.Errorf("non-admin offline bind: %s", r.Raw)
	}
	var ids []int
	for i := 0; i < 3; i++ {
		ids = append(ids, num(get(mustOK(t, callHook(t, s, "crm.item.add", map[string]any{"entityTypeId": 2, "fields": map[string]any{"title": "x"}})), "item", "id")))
	}
	// Two updates of one deal keep one record; an update by the connector itself is not queued.
	mustOK(t, callHook(t, s, "crm.item.update", map[string]any{"entityTypeId": 2, "id": ids[0], "fields": map[string]any{"title": "y"}}))
	mustOK(t, callHook(t, s, "crm.item.update", map[string]any{"entityTypeId": 2, "id": ids[0], "fields": map[string]any{"title": "z"}}))
	mustOK(t, callHook(t, s, "crm.item.update", map[string]any{"entityTypeId": 2, "id": ids[1], "fields": map[string]any{"title": "z"}, "auth_connector": "sync1"}))
	if n := s.OfflineEventCount(); n != 4 {
		t.Fatalf("offline queue has %d records, want 4", n)
	}
	r := call("event.offline.list", nil)
	if r.Body["total"] != jsonNum(4) || len(mustOK(t, r).([]any)) != 4 {
		t.Errorf("list: %s", r.Raw)
	}
	if diff := cmp.Diff(keysOf(get(fixture(t, "resp_event_offline_list.json"), "result", "0")), keysOf(get(mustOK(t, r), "0"))); diff != "" {
		t.Errorf("list keys (-want +got):\n%s", diff)
	}
	// clear=0 reserves a batch under a process id; a parallel reader gets the rest.
	r = call("event.offline.get", map[string]any{"clear": 0, "limit": 2})
	res := mustOK(t, r)
	pid, _ := get(res, "process_id").(string)
	evs := get(res, "events").([]any)
	if pid == "" || len(evs) != 2 {
		t.Fatalf("get clear=0: %s", r.Raw)
	}
	if diff := cmp.Diff(keysOf(get(fixture(t, "resp_event_offline_get.json"), "result", "events", "0")), keysOf(evs[0])); diff != "" {
		t.Errorf("event keys (-want +got):\n%s", diff)
	}
	r = call("event.offline.get", map[string]any{"clear": 0})
	other := get(mustOK(t, r), "events").([]any)
	if len(other) != 2 || get(other, "0", "ID") == get(evs, "0", "ID") || get(other, "0", "ID") == get(evs, "1", "ID") {
		t.Errorf("parallel reader overlaps: %v vs %v", other, evs)
	}
	// Re-read the reserved batch, mark one as an error, clear the other.
	r = call("event.offline.get", map[string]any{"clear": 0, "process_id": pid})
	if len(get(mustOK(t, r), "events").([]any)) != 2 {
		t.Errorf("re-read: %s", r.Raw)
	}
	mustOK(t, call("event.offline.error", map[string]any{"process_id": pid, "message_id": []any{get(evs, "0", "MESSAGE_ID")}}))
	mustOK(t, call("event.offline.clear", map[string]any{"process_id": pid, "message_id": []any{get(evs, "1", "MESSAGE_ID")}}))
	r = call("event.offline.get", map[string]any{"error": 1})
	errEvs := get(mustOK(t, r), "events").([]any)
	if len(errEvs) != 1 || get(errEvs, "0", "MESSAGE_ID") != get(evs, "0", "MESSAGE_ID") {
		t.Errorf("error rows: %s", r.Raw)
	}
	if r := call("event.offline.get", map[string]any{"limit": 0}); r.Body["error"] != "ERROR_ARGUMENT" {
		t.Errorf("limit 0: %s", r.Raw)
	}
	if r := callToken(t, s, "event.offline.get", user2.AccessToken, nil); r.Status != 403 {
		t.Errorf("non-admin get: %d", r.Status)
	}
}

func TestOfflineNotification(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, WithSyncDelivery())
	k := newSink(t)
	tok := s.IssueToken(1)
	mustOK(t, callToken(t, s, "event.bind", tok.AccessToken, map[string]any{"event": "ONCRMLEADADD", "event_type": "offline"}))
	mustOK(t, callToken(t, s, "event.bind", tok.AccessToken, map[string]any{"event": "ONOFFLINEEVENT", "handler": k.url("/"), "options": map[string]any{"minTimeout": 30}}))
	for i := 0; i < 3; i++ {
		mustOK(t, callHook(t, s, "crm.lead.add", map[string]any{"fields": map[string]any{"TITLE": "x"}}))
	}
	ds := s.Deliveries()
	if len(ds) != 1 {
		t.Fatalf("%d notifications within minTimeout, want 1", len(ds))
	}
	ev := tree(t, ds[0].Body)
	if _, hasData := ev["data"]; hasData || get(ev, "auth", "refresh_token") == nil {
		t.Errorf("ONOFFLINEEVENT: %v", ev)
	}
	s.Advance(31e9)
	mustOK(t, callHook(t, s, "crm.lead.add", map[string]any{"fields": map[string]any{"TITLE": "x"}}))
	if len(s.Deliveries()) != 2 {
		t.Errorf("no notification after minTimeout")
	}
}

func jsonNum(n int) any { return jsonNumber(itoa(n)) }

var _ = url.Values{}

// TestOfflineGetFlags: event.offline.get's clear and error are "Values:
// 0|1" (api-reference/events/event-offline-get.md; defaults 1 and 0). The
// fake takes exactly those, as numbers or strings, and refuses any other
// spelling with ERROR_ARGUMENT instead of guessing how the portal reads it.
func TestOfflineGetFlags(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, WithSyncDelivery())
	tok := s.IssueToken(1)
	call := func(p map[string]any) resp { return callToken(t, s, "event.offline.get", tok.AccessToken, p) }
	mustOK(t, callToken(t, s, "event.bind", tok.AccessToken, map[string]any{"event": "ONCRMDEALADD", "event_type": "offline"}))
	for i := 0; i < 4; i++ {
		mustOK(t, callHook(t, s, "crm.item.add", map[string]any{"entityTypeId": 2, "fields": map[string]any{"title": "x"}}))
	}
	for _, bad := range []any{"true", "false", "Y", "N", "", true, false, 2, -1, "01", []int{1}} {
		for _, name := range []string{"clear", "error"} {
			r := call(map[string]any{name: bad})
			if r.Status != 400 || r.Body["error"] != "ERROR_ARGUMENT" {
				t.Errorf("%s=%#v: %d %s", name, bad, r.Status, r.Raw)
			}
		}
	}
	if n := s.OfflineEventCount(); n != 4 {
		t.Fatalf("refused calls changed the queue: %d records", n)
	}
	// clear=0 and clear="0" keep the records (a process id reserves them);
	// clear=1 and the default remove them.
	for _, v := range []any{0, "0"} {
		r := call(map[string]any{"clear": v, "limit": 1})
		if get(mustOK(t, r), "process_id") == nil || s.OfflineEventCount() != 4 {
			t.Errorf("clear=%#v: %s, %d records", v, r.Raw, s.OfflineEventCount())
		}
	}
	for i, p := range []map[string]any{{"clear": 1, "limit": 1}, {"clear": "1", "limit": 1, "error": "0"}} {
		r := call(p)
		if n := len(get(mustOK(t, r), "events").([]any)); n != 1 || s.OfflineEventCount() != 3-i {
			t.Errorf("%v: %s, %d records", p, r.Raw, s.OfflineEventCount())
		}
	}
	if r := call(map[string]any{"error": 1}); len(get(mustOK(t, r), "events").([]any)) != 0 {
		t.Errorf("error=1 without error records: %s", r.Raw)
	}
	mustOK(t, call(nil))
	if n := s.OfflineEventCount(); n != 2 {
		t.Errorf("default clear left %d records, want the 2 reserved ones", n)
	}
}
