package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/b24go/sdk/events"
	"github.com/google/go-cmp/cmp"
)

const (
	testToken  = "3c6c9248ec54af6bea1159b43ee0ab32"
	testMember = "010b6886ebc205e43ae65000ee00addb"
	accessTok  = "be45f0660071849a0058f18a000000010000077261ef50fc26f1357adbd86a052c9e48"
)

// dealBody is a real-shaped ONCRMDEALADD delivery (§A.3 of the protocol notes).
func dealBody(id int, token string) string {
	v := url.Values{}
	v.Set("event", "ONCRMDEALADD")
	v.Set("event_handler_id", "58")
	v.Set("data[FIELDS][ID]", fmt.Sprint(id))
	v.Set("ts", "1727018926")
	v.Set("auth[access_token]", accessTok)
	v.Set("auth[domain]", "portal.bitrix24.com")
	v.Set("auth[member_id]", testMember)
	if token != "" {
		v.Set("auth[application_token]", token)
	}
	return v.Encode()
}

type reply struct {
	status int
	body   map[string]string
	header http.Header
}

func post(t *testing.T, srvURL, body string) reply {
	t.Helper()
	return do(t, http.MethodPost, srvURL, body)
}

func do(t *testing.T, method, srvURL, body string) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srvURL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: body %q is not a JSON object: %v", resp.Status, raw, err)
	}
	return reply{resp.StatusCode, m, resp.Header}
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestStatuses(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	var calls atomic.Int32
	h, err := New(WithApplicationToken("old-token", testToken), WithMaxBodySize(4096),
		WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	h.OnDealAdd(func(_ context.Context, _ *events.Event, d *events.CRMEntity) error {
		calls.Add(1)
		switch d.EntityID() {
		case 500:
			return errors.New("database down")
		case 666:
			panic("handler bug")
		}
		return nil
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	tests := []struct {
		name       string
		method     string
		body       string
		wantStatus int
		wantBody   map[string]string
		wantCalls  int32
	}{
		{"ok", http.MethodPost, dealBody(1, testToken), 200, map[string]string{"result": "ok"}, 1},
		{"rotated token", http.MethodPost, dealBody(2, "old-token"), 200, map[string]string{"result": "ok"}, 1},
		{"GET", http.MethodGet, "", 405, map[string]string{"error": "method_not_allowed", "error_description": "events are delivered with POST"}, 0},
		{"PUT", http.MethodPut, dealBody(1, testToken), 405, map[string]string{"error": "method_not_allowed", "error_description": "events are delivered with POST"}, 0},
		{"too large", http.MethodPost, dealBody(1, testToken) + "&pad=" + strings.Repeat("x", 5000), 413, map[string]string{"error": "body_too_large", "error_description": "event body too large"}, 0},
		{"malformed", http.MethodPost, "hello=world", 400, map[string]string{"error": "malformed_event", "error_description": "body is not a Bitrix24 event"}, 0},
		{"missing token", http.MethodPost, dealBody(1, ""), 401, map[string]string{"error": "invalid_token", "reason": "missing_token", "error_description": "the event has no auth[application_token]"}, 0},
		{"wrong token", http.MethodPost, dealBody(1, "forged-token-value"), 401, map[string]string{"error": "invalid_token", "reason": "token_mismatch", "error_description": "auth[application_token] matches no token of this receiver"}, 0},
		{"handler error", http.MethodPost, dealBody(500, testToken), 500, map[string]string{"error": "handler_failed", "error_description": "the event handler failed"}, 1},
		{"handler panic", http.MethodPost, dealBody(666, testToken), 500, map[string]string{"error": "handler_failed", "error_description": "the event handler failed"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := calls.Load()
			got := do(t, tt.method, srv.URL, tt.body)
			if got.status != tt.wantStatus {
				t.Errorf("status = %d, want %d", got.status, tt.wantStatus)
			}
			if d := cmp.Diff(tt.wantBody, got.body); d != "" {
				t.Errorf("body (-want +got)\n%s", d)
			}
			if ct := got.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			if tt.wantStatus == 405 && got.header.Get("Allow") != "POST" {
				t.Errorf("Allow = %q", got.header.Get("Allow"))
			}
			if n := calls.Load() - before; n != tt.wantCalls {
				t.Errorf("handler ran %d times, want %d", n, tt.wantCalls)
			}
		})
	}
	// Still serving after the panic.
	if got := post(t, srv.URL, dealBody(3, testToken)); got.status != 200 {
		t.Errorf("after panic: %d", got.status)
	}
	out := logs.String()
	for _, want := range []string{"handler panicked", "handler bug", "goroutine", "delivery refused", "database down"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	for _, secret := range []string{testToken, "old-token", "forged-token-value", accessTok} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains the secret %.8s…", secret)
		}
	}
}

func TestRegistrationPanics(t *testing.T) {
	t.Parallel()
	noop := func(context.Context, *events.Event) error { return nil }
	tests := []struct {
		name string
		fn   func(h *Handler)
	}{
		{"nil handler", func(h *Handler) { h.Handle("ONCRMDEALADD", nil) }},
		{"empty name", func(h *Handler) { h.Handle(" ", noop) }},
		{"duplicate", func(h *Handler) { h.Handle("ONCRMDEALADD", noop); h.Handle("onCrmDealAdd", noop) }},
		{"typed duplicate", func(h *Handler) {
			h.Handle("ONIMBOTMESSAGEADD", noop)
			h.OnBotMessage(func(context.Context, *events.Event, *events.BotMessage) error { return nil })
		}},
		{"typed nil", func(h *Handler) { h.OnDealAdd(nil) }},
		{"nil default", func(h *Handler) { h.HandleDefault(nil) }},
		{"duplicate default", func(h *Handler) { h.HandleDefault(noop); h.HandleDefault(noop) }},
		{"nil middleware", func(h *Handler) { h.Use(nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, err := New(WithApplicationToken("t"))
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tt.fn(h)
		})
	}
}

func TestDispatchRouting(t *testing.T) {
	t.Parallel()
	var trace []string
	h, err := New(WithApplicationToken("t"))
	if err != nil {
		t.Fatal(err)
	}
	mw := func(tag string) Middleware {
		return func(next HandlerFunc) HandlerFunc {
			return func(ctx context.Context, ev *events.Event) error {
				trace = append(trace, tag+">"+ev.Name)
				err := next(ctx, ev)
				trace = append(trace, "<"+tag)
				return err
			}
		}
	}
	h.Use(mw("outer"), mw("inner"))
	h.OnBotMessage(func(_ context.Context, _ *events.Event, m *events.BotMessage) error {
		trace = append(trace, "bot:"+m.Params.Message)
		return nil
	})
	h.OnDynamicItemUpdate(func(_ context.Context, ev *events.Event, d *events.CRMEntity) error {
		tid, _ := ev.EntityTypeID()
		trace = append(trace, fmt.Sprintf("item:%d/%d", tid, d.EntityID()))
		return nil
	})
	h.OnTaskDelete(func(_ context.Context, _ *events.Event, d *events.Task) error {
		trace = append(trace, fmt.Sprintf("task:%d undefined-after:%v", d.TaskID(), d.FieldsAfter.Undefined))
		return nil
	})
	ctx := t.Context()
	parse := func(body string) *events.Event {
		ev, err := events.ParseBody([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	if err := h.Dispatch(ctx, parse("event=ONIMBOTMESSAGEADD&data[PARAMS][MESSAGE]=hi")); err != nil {
		t.Fatal(err)
	}
	if err := h.Dispatch(ctx, parse("event=ONCRMDYNAMICITEMUPDATE&data[FIELDS][ID]=24&data[FIELDS][ENTITY_TYPE_ID]=1220")); err != nil {
		t.Fatal(err)
	}
	if err := h.Dispatch(ctx, parse("event=ONTASKDELETE&data[FIELDS_BEFORE][ID]=5&data[FIELDS_AFTER]=undefined")); err != nil {
		t.Fatal(err)
	}
	if err := h.Dispatch(ctx, parse("event=ONUNKNOWN")); err != nil {
		t.Fatalf("unrouted event without default: %v", err)
	}
	want := []string{
		"outer>ONIMBOTMESSAGEADD", "inner>ONIMBOTMESSAGEADD", "bot:hi", "<inner", "<outer",
		"outer>ONCRMDYNAMICITEMUPDATE", "inner>ONCRMDYNAMICITEMUPDATE", "item:1220/24", "<inner", "<outer",
		"outer>ONTASKDELETE", "inner>ONTASKDELETE", "task:5 undefined-after:true", "<inner", "<outer",
	}
	if d := cmp.Diff(want, trace); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}

	h.HandleDefault(func(_ context.Context, ev *events.Event) error {
		if _, ok := ev.Data.(*events.Unknown); !ok {
			return fmt.Errorf("data %T", ev.Data)
		}
		return errors.New("default ran")
	})
	if err := h.Dispatch(ctx, parse("event=ONUNKNOWN")); err == nil || err.Error() != "default ran" {
		t.Errorf("default: %v", err)
	}

	// A typed handler given data of another type fails instead of panicking.
	forged := parse("event=ONIMBOTMESSAGEADD")
	forged.Data = &events.CRMEntity{}
	if err := h.Dispatch(ctx, forged); err == nil {
		t.Error("typed handler accepted the wrong data type")
	}
	var pe *PanicError
	h.Handle("ONPANIC", func(context.Context, *events.Event) error { panic("boom") })
	if err := h.Dispatch(ctx, parse("event=ONPANIC")); !errors.As(err, &pe) || pe.Value != "boom" || len(pe.Stack) == 0 {
		t.Errorf("panic: %v", err)
	}
	if _, err := PortalClient(ctx); err == nil {
		t.Error("PortalClient outside a handler succeeded")
	}
}

func TestDedupe(t *testing.T) {
	t.Parallel()
	now := time.Unix(1700000000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	store := NewMemoryDedupe(clock)
	var calls atomic.Int32
	fail := atomic.Bool{}
	h, err := New(WithApplicationToken(testToken), WithDedupe(store, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	h.OnDealAdd(func(context.Context, *events.Event, *events.CRMEntity) error {
		calls.Add(1)
		if fail.Load() {
			return errors.New("try later")
		}
		return nil
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	steps := []struct {
		name    string
		body    string
		fail    bool
		advance time.Duration
		status  int
		result  string
		calls   int32
	}{
		{"first", dealBody(1, testToken), false, 0, 200, "ok", 1},
		{"repeat", dealBody(1, testToken), false, 0, 200, "duplicate", 1},
		{"other deal", dealBody(2, testToken), false, 0, 200, "ok", 2},
		{"after ttl", dealBody(1, testToken), false, time.Hour, 200, "ok", 3},
		{"failing", dealBody(3, testToken), true, 0, 500, "", 4},
		{"retry after failure runs again", dealBody(3, testToken), false, 0, 200, "ok", 5},
		{"and is then a duplicate", dealBody(3, testToken), false, 0, 200, "duplicate", 5},
		{"bad token is not deduped", dealBody(4, "nope"), false, 0, 401, "", 5},
	}
	for _, s := range steps {
		mu.Lock()
		now = now.Add(s.advance)
		mu.Unlock()
		fail.Store(s.fail)
		got := post(t, srv.URL, s.body)
		if got.status != s.status || got.body["result"] != s.result || calls.Load() != s.calls {
			t.Errorf("%s: status %d result %q calls %d; want %d %q %d", s.name, got.status, got.body["result"], calls.Load(), s.status, s.result, s.calls)
		}
	}
}

func TestMemoryDedupeSweeps(t *testing.T) {
	t.Parallel()
	now := time.Unix(0, 0)
	m := NewMemoryDedupe(func() time.Time { return now })
	ctx := t.Context()
	for i := range 300 {
		if ok, _ := m.Claim(ctx, fmt.Sprint(i), time.Second); !ok {
			t.Fatal("fresh key refused")
		}
	}
	now = now.Add(2 * time.Second)
	for i := range 256 {
		_, _ = m.Claim(ctx, fmt.Sprint("new", i), time.Minute)
	}
	if n := m.Len(); n > 300 {
		t.Errorf("expired keys not swept: %d held", n)
	}
}
