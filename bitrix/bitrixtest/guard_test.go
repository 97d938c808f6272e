package bitrixtest

import (
	"testing"
	"time"
)

// TestRateLimitAfterLongIdle: however long the portal was idle, the bucket
// drains to empty, not below: it admits the burst and no more.
func TestRateLimitAfterLongIdle(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	s := NewServer(t, WithRateLimit(2, 5), WithClock(func() time.Time { return now }))
	admitted := func() int {
		n := 0
		for range 8 {
			if r := callHook(t, s, "server.time", nil); r.Status == 200 {
				n++
			} else if r.Status != 503 || r.Body["error"] != "QUERY_LIMIT_EXCEEDED" {
				t.Fatalf("unexpected answer %d %s", r.Status, r.Raw)
			}
		}
		return n
	}
	if n := admitted(); n != 5 {
		t.Fatalf("fresh portal admitted %d at once, want the burst of 5", n)
	}
	s.Advance(time.Hour) // drains 7200, far more than the level
	if n := admitted(); n != 5 {
		t.Errorf("after an hour idle: %d admitted at once, want the burst of 5", n)
	}
	s.Advance(time.Second) // drains 2
	if n := admitted(); n != 2 {
		t.Errorf("one second later: %d admitted, want 2", n)
	}
}
