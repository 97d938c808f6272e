package webhook

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/events"
)

// TestAsyncDedupeRefusedEventIsProcessedOnRetry: with WithAsync and
// WithDedupe, an event refused with 503 (queue full, its request gave up)
// must not keep its dedupe key: the sender's retry is accepted and handled
// (at-least-once), not answered "duplicate".
func TestAsyncDedupeRefusedEventIsProcessedOnRetry(t *testing.T) {
	t.Parallel()
	started := make(chan int, 10)
	release := make(chan struct{})
	var mu sync.Mutex
	var handled []int
	h, err := New(WithApplicationToken(testToken), WithAsync(1, 1), WithDedupe(nil, 0))
	if err != nil {
		t.Fatal(err)
	}
	h.OnDealAdd(func(_ context.Context, _ *events.Event, d *events.CRMEntity) error {
		started <- d.EntityID()
		<-release
		mu.Lock()
		handled = append(handled, d.EntityID())
		mu.Unlock()
		return nil
	})
	serve := func(ctx context.Context, id int) *httptest.ResponseRecorder {
		req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/", strings.NewReader(dealBody(id, testToken)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	ctx := t.Context()
	if rec := serve(ctx, 1); rec.Code != 200 {
		t.Fatalf("1: %d", rec.Code)
	}
	<-started // the only worker is busy
	if rec := serve(ctx, 2); rec.Code != 200 {
		t.Fatalf("2: %d", rec.Code) // takes the queue's one slot
	}
	gaveUp, cancel := context.WithCancel(ctx)
	cancel()
	if rec := serve(gaveUp, 3); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("3 with a full queue: %d, want 503", rec.Code)
	}
	close(release)
	// The sender retries 3: it must be taken, not answered as a duplicate.
	rec := serve(ctx, 3)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"accepted"`) {
		t.Fatalf("retry of 3: %d %s, want 200 accepted", rec.Code, rec.Body)
	}
	// A real duplicate of an accepted event is still recognised.
	if rec := serve(ctx, 2); !strings.Contains(rec.Body.String(), `"duplicate"`) {
		t.Errorf("repeat of 2: %d %s, want duplicate", rec.Code, rec.Body)
	}
	if err := h.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(handled) != "[1 2 3]" {
		t.Errorf("handled %v, want [1 2 3]", handled)
	}
}

// TestHandlerFormat: %v shows the configuration without the tokens.
func TestHandlerFormat(t *testing.T) {
	t.Parallel()
	h, err := New(WithApplicationToken(testToken))
	if err != nil {
		t.Fatal(err)
	}
	h.OnDealAdd(func(context.Context, *events.Event, *events.CRMEntity) error { return nil })
	got := fmt.Sprintf("%v", h)
	if want := `webhook.Handler{app: "", tokens: 1, registry: false, routes: 1}`; got != want {
		t.Errorf("%%v = %s, want %s", got, want)
	}
	if strings.Contains(got, testToken) {
		t.Errorf("token in %s", got)
	}
	app, err := New(WithApp(bitrix.App{ClientID: "app.1", ClientSecret: "csValue5555"}))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprintf("%v", app), `webhook.Handler{app: "app.1", tokens: 0, registry: true, routes: 0}`; got != want {
		t.Errorf("%%v = %s, want %s", got, want)
	}
}
