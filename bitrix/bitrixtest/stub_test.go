package bitrixtest

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestHandleUnmodelledMethod(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	if r := callHook(t, s, "tasks.task.add", map[string]any{}); r.Status != 404 || r.Body["error"] != "ERROR_METHOD_NOT_FOUND" {
		t.Fatalf("before Handle: %d %s", r.Status, r.Raw)
	}
	t0 := time.Date(2026, 5, 4, 3, 2, 1, 0, time.UTC)
	s.SetTime(t0)
	var mu sync.Mutex
	var seen []Caller
	var params []map[string]any
	s.Handle("Tasks.Task.Add", func(r *Request) (Result, error) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, r.Caller())
		params = append(params, r.Params())
		if r.Method() != "tasks.task.add" || r.InBatch() || !r.Time().Equal(t0) {
			t.Errorf("request: method %q inBatch %v time %v", r.Method(), r.InBatch(), r.Time())
		}
		return Result{Value: map[string]any{"task": map[string]any{"id": "7"}}}, nil
	})
	r := callHook(t, s, "tasks.task.add", map[string]any{"fields": map[string]any{"TITLE": "Call back", "RESPONSIBLE_ID": 2}})
	if got := get(mustOK(t, r), "task", "id"); got != "7" {
		t.Fatalf("result %s", r.Raw)
	}
	tok := s.IssueToken(2)
	mustOK(t, callToken(t, s, "tasks.task.add", tok.AccessToken, nil))

	want := []Caller{{Auth: AuthWebhook, UserID: 1}, {Auth: AuthOAuth, UserID: 2, ClientID: s.App().ClientID}}
	if d := cmp.Diff(want, seen); d != "" {
		t.Errorf("callers (-want +got):\n%s", d)
	}
	// JSON numbers arrive as json.Number in a JSON body: compare as text.
	if got := get(params[0], "fields", "TITLE"); got != "Call back" {
		t.Errorf("params %v", params[0])
	}
	if _, leaked := params[1]["auth"]; leaked {
		t.Errorf("the access token reached the handler's params: %v", params[1])
	}
	calls := s.Calls("TASKS.TASK.ADD")
	if len(calls) != 3 || calls[0].Code != "ERROR_METHOD_NOT_FOUND" || calls[1].Code != "" || calls[2].AuthKind != AuthOAuth {
		t.Errorf("Calls(tasks.task.add) = %+v", calls)
	}
	if got := s.Calls("server.time", "tasks.task.add"); len(got) != 3 {
		t.Errorf("Calls of two methods = %d entries", len(got))
	}
	names, _ := mustOK(t, callHook(t, s, "methods", nil)).([]any)
	if !slices.Contains(names, any("tasks.task.add")) {
		t.Errorf("methods does not list the stub")
	}
}

func TestHandleReplacesBuiltinForOneServer(t *testing.T) {
	t.Parallel()
	s, other := newTestServer(t), newTestServer(t)
	s.On("server.time").Return("2001-02-03T04:05:06+00:00")
	if got := mustOK(t, callHook(t, s, "server.time", nil)); got != "2001-02-03T04:05:06+00:00" {
		t.Fatalf("stubbed server.time = %v", got)
	}
	if got := mustOK(t, callHook(t, other, "server.time", nil)); got == "2001-02-03T04:05:06+00:00" {
		t.Fatalf("the stub leaked into another server")
	}
	s.Handle("server.time", nil)
	if got := mustOK(t, callHook(t, s, "server.time", nil)); got == "2001-02-03T04:05:06+00:00" {
		t.Fatalf("Handle(nil) did not restore the built-in")
	}
	s.On("nothing.here").Return(1)
	s.Handle("nothing.here", nil)
	if r := callHook(t, s, "nothing.here", nil); r.Body["error"] != "ERROR_METHOD_NOT_FOUND" {
		t.Fatalf("removed stub answers %s", r.Raw)
	}
}

func TestHandleKeepsBuiltinAuthChecks(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, WithScope("crm"))
	s.On("event.bind").Return(true)
	if r := callHook(t, s, "event.bind", nil); r.Status != 403 || r.Body["error"] != "WRONG_AUTH_TYPE" {
		t.Errorf("stubbed event.bind over a webhook: %d %s", r.Status, r.Raw)
	}
	s.On("imbot.register").Return(1)
	if r := callHook(t, s, "imbot.register", nil); r.Status != 403 || r.Body["error"] != "insufficient_scope" {
		t.Errorf("stubbed imbot.register without the scope: %d %s", r.Status, r.Raw)
	}
	s.On("tasks.task.add").Return(1)
	mustOK(t, callHook(t, s, "tasks.task.add", nil)) // no scope known: no check
}

func TestHandleErrors(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	s.On("a.fail").Fail("ACCESS_DENIED", "Access denied")
	s.Handle("a.status", func(*Request) (Result, error) {
		return Result{}, &APIError{StatusCode: 403, Code: "ERROR_ARGUMENT", Description: "bad", Argument: "id"}
	})
	s.Handle("a.plain", func(*Request) (Result, error) { return Result{}, errors.New("boom") })
	s.Handle("a.typednil", func(*Request) (Result, error) {
		var e *APIError
		return Result{Value: "fine"}, e
	})
	s.Handle("a.fault", func(*Request) (Result, error) {
		return Result{}, &Fault{Kind: FaultError, Status: 503, Code: "QUERY_LIMIT_EXCEEDED", Description: "Too many requests"}
	})
	for _, tc := range []struct {
		method, code, desc string
		status             int
		argument           any
	}{
		{"a.fail", "ACCESS_DENIED", "Access denied", 400, nil},
		{"a.status", "ERROR_ARGUMENT", "bad", 403, "id"},
		{"a.plain", "INTERNAL_SERVER_ERROR", "boom", 500, nil},
		{"a.fault", "QUERY_LIMIT_EXCEEDED", "Too many requests", 503, nil},
	} {
		r := callHook(t, s, tc.method, nil)
		if r.Status != tc.status || r.Body["error"] != tc.code || r.Body["error_description"] != tc.desc || r.Body["argument"] != tc.argument {
			t.Errorf("%s: %d %s", tc.method, r.Status, r.Raw)
		}
		if c := s.Calls(tc.method); len(c) != 1 || c[0].Code != tc.code || c[0].Status != tc.status {
			t.Errorf("%s logged as %+v", tc.method, c)
		}
	}
	if got := mustOK(t, callHook(t, s, "a.typednil", nil)); got != "fine" {
		t.Errorf("a nil *APIError must be no error, got %v", got)
	}
}

func TestHandleConnectionFault(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	s.Handle("a.drop", func(*Request) (Result, error) { return Result{}, Fault{Kind: FaultDropAfter} })
	s.Handle("a.html", func(*Request) (Result, error) { return Result{}, Fault{Kind: FaultHTML500} })
	if _, err := http.Post(s.WebhookURL()+"a.drop", "application/json", strings.NewReader("{}")); err == nil {
		t.Errorf("a.drop: want a broken connection")
	}
	res, err := http.Post(s.WebhookURL()+"batch", "application/x-www-form-urlencoded", strings.NewReader(q(map[string][]string{"cmd[a]": {"server.time"}, "cmd[b]": {"a.html"}})))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 500 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Errorf("batch with a.html: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if n := s.CallCount("server.time"); n != 1 {
		t.Errorf("the batch's other command ran %d times", n)
	}
}

func TestHandleInBatchWithReferences(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	s.Handle("tasks.task.add", func(r *Request) (Result, error) {
		title, _ := get(r.Params(), "fields", "TITLE").(string)
		return Result{Value: map[string]any{"task": map[string]any{"id": "41", "title": title}}}, nil
	})
	var got []map[string]any
	s.Handle("tasks.task.get", func(r *Request) (Result, error) {
		got = append(got, r.Params())
		if !r.InBatch() {
			t.Errorf("not in batch")
		}
		return Result{Value: []any{"x"}, Total: intp(1)}, nil
	})
	s.On("tasks.task.delete").Fail("ACCESS_DENIED", "no")
	r := callForm(t, s, "batch", q(map[string][]string{
		"cmd[add]":  {"tasks.task.add?fields[TITLE]=Call%20back"},
		"cmd[get]":  {"tasks.task.get?taskId=$result[add][task][id]&title=$result[add][task][title]"},
		"cmd[del]":  {"tasks.task.delete?taskId=$result[add][task][id]"},
		"cmd[lead]": {"crm.lead.add?fields[TITLE]=Task%20$result[add][task][id]"},
	}))
	res := mustOK(t, r)
	if get(res, "result", "add", "task", "id") != "41" || get(res, "result_total", "get") == nil || get(res, "result_error", "del", "error") != "ACCESS_DENIED" {
		t.Errorf("batch answer %s", r.Raw)
	}
	if len(got) != 1 || got[0]["taskId"] != "41" || got[0]["title"] != "Call back" {
		t.Errorf("tasks.task.get params %v", got)
	}
	leadID := num(get(res, "result", "lead"))
	if item := s.CRMItem(1, leadID); item == nil || item["title"] != "Task 41" {
		t.Errorf("built-in command after the stub: lead %d = %v", leadID, item)
	}
	if c := s.Calls("tasks.task.get"); len(c) != 1 || !c[0].InBatch {
		t.Errorf("Calls(tasks.task.get) = %+v", c)
	}
}

func TestHandleRedactsBotToken(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	s.On("imbot.v2.Chat.Message.send").Return(map[string]any{"id": 1})
	mustOK(t, callHook(t, s, "imbot.v2.Chat.Message.send", map[string]any{"botToken": "secret-1", "fields": map[string]any{"botToken": "secret-2"}}))
	for _, c := range s.Calls() {
		if strings.Contains(fmt.Sprint(c.Params), "secret-") {
			t.Errorf("a botToken reached the call log: %v", c.Params)
		}
	}
}

func TestHandleEmptyNamePanics(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	s.Handle(" ", func(*Request) (Result, error) { return Result{}, nil })
}

// TestListShapedParams: parameters keyed 0..n-1 (a form "0=a&1=b") are
// logged and handed to a stub as a map; they used to panic the call log
// (phpform.Plain makes such a map a list) with the portal locked.
func TestListShapedParams(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	var got map[string]any
	s.Handle("a.list", func(r *Request) (Result, error) {
		got = r.Params()
		return Result{Value: true}, nil
	})
	mustOK(t, callForm(t, s, "a.list", "0=a&1=b"))
	mustOK(t, callForm(t, s, "server.time", "0=a"))
	if d := cmp.Diff(map[string]any{"0": "a", "1": "b"}, got); d != "" {
		t.Errorf("params (-want +got):\n%s", d)
	}
	if c := s.Calls("server.time"); len(c) != 1 || c[0].Params["0"] != "a" {
		t.Errorf("logged %+v", c)
	}
}

// TestHandlePanics: a panicking stub answers 500 and the portal stays
// usable (it used to stay locked).
func TestHandlePanics(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	s.Handle("a.panic", func(*Request) (Result, error) { panic("boom") })
	if r := callHook(t, s, "a.panic", nil); r.Status != 500 || r.Body["error"] != "INTERNAL_SERVER_ERROR" || !strings.Contains(fmt.Sprint(r.Body["error_description"]), "boom") {
		t.Errorf("panicking stub answered %d %s", r.Status, r.Raw)
	}
	mustOK(t, callHook(t, s, "server.time", nil))
}
