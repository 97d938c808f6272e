package bitrixtest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// serveIn sends one webhook call through the portal's Handler on the
// calling goroutine (inside a synctest bubble, so is the latency).
func serveIn(ctx context.Context, s *Server, method, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, s.WebhookURL()+method, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	return rec
}

// TestLatencyOnVirtualClock: the latency is virtual time inside a synctest
// bubble; half of it passes before the portal sees the request; requests
// wait in parallel; a client that goes away stops the request before the
// portal processes it.
func TestLatencyOnVirtualClock(t *testing.T) {
	t.Parallel()
	s := NewServer(t, WithLatency(200*time.Millisecond), WithoutRateLimit())
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		rec := serveIn(t.Context(), s, "crm.item.add", `{"entityTypeId":2,"fields":{"title":"a"}}`)
		if rec.Code != 200 {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		if el := time.Since(start); el != 200*time.Millisecond {
			t.Errorf("one request took %v, want the 200ms latency", el)
		}
		var env struct {
			Time struct{ Start float64 } `json:"time"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
			t.Fatal(err)
		}
		if got := time.UnixMicro(int64(env.Time.Start * 1e6)).Sub(start); got != 100*time.Millisecond {
			t.Errorf("time.start is %v after sending, want half the latency (100ms)", got)
		}

		start = time.Now()
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() { serveIn(t.Context(), s, "server.time", "") })
		}
		wg.Wait()
		if el := time.Since(start); el != 200*time.Millisecond {
			t.Errorf("10 parallel requests took %v, want 200ms", el)
		}

		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		start = time.Now()
		serveIn(ctx, s, "crm.item.add", `{"entityTypeId":2,"fields":{"title":"b"}}`)
		if el := time.Since(start); el != 50*time.Millisecond {
			t.Errorf("abandoned request returned after %v, want 50ms", el)
		}
		if n := len(s.CRMItems(EntityDeal)); n != 1 {
			t.Errorf("%d deals, want 1: the abandoned request never reached the portal", n)
		}

		s.Latency(0)
		start = time.Now()
		serveIn(t.Context(), s, "server.time", "")
		if el := time.Since(start); el != 0 {
			t.Errorf("latency 0: request took %v", el)
		}
	})
}
