package bitrix_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/internal/phpform"
)

const testSecret = "s3cr3tWebhookKey42"

// recorded is one request seen by a fake handler.
type recorded struct {
	Method string // REST method from the path
	Path   string
	Query  string
	CType  string
	Body   string
	Form   *phpform.Map
}

// portal is an httptest server that answers webhook calls with a handler
// per REST method; the base path contains the webhook secret so leaks show.
type portal struct {
	t        testing.TB
	srv      *httptest.Server
	base     string
	mu       sync.Mutex
	calls    []recorded
	handlers map[string]func(w http.ResponseWriter, r recorded)
}

func newPortal(t testing.TB) *portal {
	t.Helper()
	p := &portal{t: t, handlers: map[string]func(http.ResponseWriter, recorded){}}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	p.base = p.srv.URL
	t.Cleanup(p.srv.Close)
	return p
}

// newMemPortal is a portal without a listener: clients reach it through
// memTransport, so it works inside a synctest bubble.
func newMemPortal(t testing.TB) *portal {
	return &portal{t: t, base: "http://portal.test", handlers: map[string]func(http.ResponseWriter, recorded){}}
}

func (p *portal) webhookURL() string { return p.base + "/rest/1/" + testSecret + "/" }

// memTransport serves requests with an http.Handler in memory.
type memTransport struct{ h http.Handler }

func (m memTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	rec := httptest.NewRecorder()
	m.h.ServeHTTP(rec, r)
	res := rec.Result()
	res.Request = r
	return res, nil
}

// rtFunc is a RoundTripper from a function.
type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func newMemClient(t testing.TB, p *portal, opts ...bitrix.Option) *bitrix.Client {
	t.Helper()
	opts = append([]bitrix.Option{bitrix.WithTransport(memTransport{http.HandlerFunc(p.serve)})}, opts...)
	return newWebhookClient(t, p, opts...)
}

func (p *portal) handle(method string, h func(w http.ResponseWriter, r recorded)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.handlers[method] = h
}

func (p *portal) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	path := r.URL.Path
	trimmed := strings.TrimSuffix(path, "/")
	method := trimmed[strings.LastIndexByte(trimmed, '/')+1:]
	rec := recorded{Method: method, Path: path, Query: r.URL.RawQuery, CType: r.Header.Get("Content-Type"), Body: string(body)}
	if strings.HasPrefix(rec.CType, "application/x-www-form-urlencoded") {
		rec.Form, _ = phpform.Parse(string(body))
	}
	p.mu.Lock()
	p.calls = append(p.calls, rec)
	h := p.handlers[method]
	p.mu.Unlock()
	if h == nil {
		writeJSON(w, 404, map[string]any{"error": "ERROR_METHOD_NOT_FOUND", "error_description": "Method not found!"})
		return
	}
	h(w, rec)
}

func (p *portal) recorded() []recorded {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]recorded(nil), p.calls...)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func ok(result any) func(http.ResponseWriter, recorded) {
	return func(w http.ResponseWriter, _ recorded) {
		writeJSON(w, 200, map[string]any{"result": result, "time": map[string]any{"start": 1724916859.46, "finish": 1724916859.47, "duration": 0.01, "processing": 0.005, "date_start": "2024-08-29T10:34:19+03:00", "date_finish": "2024-08-29T10:34:19+03:00", "operating": 0}})
	}
}

func newWebhookClient(t testing.TB, p *portal, opts ...bitrix.Option) *bitrix.Client {
	t.Helper()
	opts = append([]bitrix.Option{bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit()}, opts...)
	c, err := bitrix.New(bitrix.WebhookURL(p.webhookURL()), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// countingStore counts store operations.
type countingStore struct {
	*bitrix.MemoryTokenStore
	loads, saves atomic.Int32
}

func (s *countingStore) LoadToken(ctx context.Context, key string) (bitrix.Token, error) {
	s.loads.Add(1)
	return s.MemoryTokenStore.LoadToken(ctx, key)
}

func (s *countingStore) SaveToken(ctx context.Context, key string, tok bitrix.Token) error {
	s.saves.Add(1)
	return s.MemoryTokenStore.SaveToken(ctx, key, tok)
}

var errDeadline = context.DeadlineExceeded

func contextWithTimeout(t testing.TB, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(t.Context(), d)
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
