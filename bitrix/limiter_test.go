package bitrix_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/b24go/sdk/bitrix"
)

func TestLimiterBurstThenRate(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := mustLimiter(t, bitrix.DefaultRate, bitrix.DefaultBurst)
		ctx := t.Context()
		start := time.Now()
		// The safety margin leaves 48 of the 50 slots for immediate use.
		for i := 0; i < 48; i++ {
			if err := l.Wait(ctx, "p"); err != nil {
				t.Fatal(err)
			}
		}
		if el := time.Since(start); el != 0 {
			t.Fatalf("burst took %v, want no wait", el)
		}
		// Then one request per 1/2 s: the bucket drains at the portal's rate.
		for i := 0; i < 19; i++ {
			if err := l.Wait(ctx, "p"); err != nil {
				t.Fatal(err)
			}
		}
		el := time.Since(start)
		want := time.Duration(19 / 2.0 * float64(time.Second))
		if d := el - want; d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("19 paced requests took %v, want %v", el, want)
		}
		// Never faster than the portal's drain rate over the whole run:
		// 50 + 2*t requests in t seconds is the portal's line.
		if float64(48+19) > 50+2*el.Seconds() {
			t.Errorf("crossed the portal's line: 67 requests in %v", el)
		}
		// Keys are independent.
		before := time.Now()
		if err := l.Wait(ctx, "other"); err != nil || time.Since(before) != 0 {
			t.Errorf("other key waited %v (%v)", time.Since(before), err)
		}
	})
}

func TestLimiterDrainsWhileIdle(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := mustLimiter(t, 2, 10) // capacity 8
		for i := 0; i < 8; i++ {
			_ = l.Wait(t.Context(), "p")
		}
		time.Sleep(10 * time.Second) // fake time: the bucket empties
		start := time.Now()
		for i := 0; i < 8; i++ {
			_ = l.Wait(t.Context(), "p")
		}
		if el := time.Since(start); el != 0 {
			t.Errorf("after idling, burst waited %v", el)
		}
	})
}

func TestLimiterContextCancelRefunds(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := mustLimiter(t, 1, 3, bitrix.WithDrainMargin(0.05)) // capacity 1, 0.95/s
		_ = l.Wait(t.Context(), "p")
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		if err := l.Wait(ctx, "p"); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
		if el := time.Since(start); el != 100*time.Millisecond {
			t.Errorf("returned after %v, want at the deadline", el)
		}
		// The cancelled reservation was given back: the next request waits
		// only for the first one to drain (1/0.95 s after it).
		if err := l.Wait(t.Context(), "p"); err != nil {
			t.Fatal(err)
		}
		rate := 0.95
		want := time.Duration(float64(time.Second) / rate)
		if el := time.Since(start); el-want > time.Millisecond || want-el > time.Millisecond {
			t.Errorf("next request after %v, want %v", el, want)
		}
	})
}

// TestLimiterSharedByClients: two clients of one portal share the limiter,
// so together they stay under the portal's rate.
func TestLimiterSharedByClients(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := newMemPortal(t)
		var mu sync.Mutex
		var times []time.Time
		p.handle("server.time", func(w http.ResponseWriter, r recorded) {
			mu.Lock()
			times = append(times, time.Now())
			mu.Unlock()
			ok("2024-01-01T00:00:00+00:00")(w, r)
		})
		l := mustLimiter(t, 2, 10)
		var progress []bitrix.Progress
		c1 := newMemClient(t, p, bitrix.WithLimiter(l), bitrix.WithProgress(func(pr bitrix.Progress) { progress = append(progress, pr) }))
		c2 := newMemClient(t, p, bitrix.WithLimiter(l))
		var wg sync.WaitGroup
		for _, c := range []*bitrix.Client{c1, c2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 15; i++ {
					if _, err := c.Call(t.Context(), "server.time", nil, nil); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		wg.Wait()
		if len(times) != 30 {
			t.Fatalf("requests = %d", len(times))
		}
		// Check the portal's leaky bucket (2/s, 10) never overflows.
		level, last := 0.0, times[0]
		for _, tm := range times {
			level -= tm.Sub(last).Seconds() * 2
			if level < 0 {
				level = 0
			}
			last = tm
			level++
			if level > 10 {
				t.Fatalf("portal bucket overflowed at %v: %.2f", tm, level)
			}
		}
		if el := times[len(times)-1].Sub(times[0]); el < 11*time.Second {
			t.Errorf("30 requests in %v: not paced", el)
		}
		var waited time.Duration
		for _, pr := range progress {
			if pr.Reason == bitrix.ReasonRateLimit {
				waited += pr.Waited
			}
		}
		if waited == 0 {
			t.Error("no rate-limit waits reported to the progress callback")
		}
	})
}

func TestOperatingTimeLimitBlocksOnlyThatMethod(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := newMemPortal(t)
		resetAt := time.Now().Add(5 * time.Minute)
		var listCalls []time.Time
		blocked := true
		p.handle("crm.deal.list", func(w http.ResponseWriter, r recorded) {
			listCalls = append(listCalls, time.Now())
			if len(listCalls) == 1 {
				writeJSON(w, 200, map[string]any{"result": []any{}, "time": map[string]any{"operating": 470.5, "operating_reset_at": resetAt.Unix()}})
				return
			}
			if blocked && time.Now().Before(resetAt) {
				writeJSON(w, 429, map[string]any{"error": "OPERATION_TIME_LIMIT", "error_description": "Method is blocked due to operation time limit."})
				return
			}
			ok([]any{})(w, r)
		})
		p.handle("crm.deal.get", ok(map[string]any{"ID": "1"}))
		gate := bitrix.NewOperatingGate()
		c := newMemClient(t, p, bitrix.WithOperatingGate(gate))
		resp, err := c.Call(t.Context(), "crm.deal.list", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Time.Operating != 470500*time.Millisecond || !resp.Time.OperatingResetAt.Equal(resetAt.Truncate(time.Second)) {
			t.Errorf("time = %+v", resp.Time)
		}
		start := time.Now()
		done := make(chan error)
		go func() {
			_, err := c.Call(t.Context(), "crm.deal.list", nil, nil)
			done <- err
		}()
		synctest.Wait()
		// crm.deal.list is now blocked until resetAt; another method goes on.
		if _, err := c.Call(t.Context(), "crm.deal.get", nil, nil); err != nil {
			t.Fatal(err)
		}
		if el := time.Since(start); el != 0 {
			t.Errorf("other method waited %v", el)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if el := time.Since(start); el < resetAt.Sub(start)-time.Second || el > resetAt.Sub(start) {
			t.Errorf("blocked method resumed after %v, want at operating_reset_at (%v)", el, resetAt.Sub(start))
		}
		if len(listCalls) != 3 {
			t.Errorf("list calls = %d, want 3 (ok, 429, ok after the wait)", len(listCalls))
		}
		// A second client sharing the gate also sees the block (already expired now).
		if err := gate.Wait(t.Context(), c.PortalKey(), "crm.deal.list"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestOperatingGateContext(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		g := bitrix.NewOperatingGate()
		_ = g.Block(t.Context(), "p", "CRM.Deal.List", time.Now().Add(time.Hour))
		_ = g.Block(t.Context(), "p", "crm.deal.list", time.Now().Add(time.Minute)) // earlier: ignored
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if err := g.Wait(ctx, "p", "crm.deal.list"); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
		if err := g.Wait(t.Context(), "other", "crm.deal.list"); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := g.Wait(t.Context(), "p", "crm.deal.list"); err != nil {
			t.Fatal(err)
		}
		if el := time.Since(start); el != time.Hour-time.Second {
			t.Errorf("waited %v", el)
		}
	})
}

// TestLimiterMargins: BurstMargin and DrainMargin change how many requests
// go at once and how fast the bucket drains.
func TestLimiterMargins(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		opts  []bitrix.LimiterOption
		burst int           // requests without waiting
		next  time.Duration // wait of the request after the burst
	}{
		{"default", nil, 8, 500 * time.Millisecond},
		{"no burst margin", []bitrix.LimiterOption{bitrix.WithBurstMargin(0)}, 10, 500 * time.Millisecond},
		{"burst margin larger than the burst", []bitrix.LimiterOption{bitrix.WithBurstMargin(50)}, 1, 500 * time.Millisecond},
		{"5% drain margin", []bitrix.LimiterOption{bitrix.WithDrainMargin(0.05)}, 8, time.Second * 10 / 19},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := mustLimiter(t, 2, 10, tc.opts...)
				start := time.Now()
				for range tc.burst {
					_ = l.Wait(t.Context(), "p")
				}
				if el := time.Since(start); el != 0 {
					t.Fatalf("burst of %d waited %v", tc.burst, el)
				}
				_ = l.Wait(t.Context(), "p")
				if el := time.Since(start); el-tc.next > time.Millisecond || tc.next-el > time.Millisecond {
					t.Errorf("request after the burst waited %v, want %v", el, tc.next)
				}
			})
		})
	}
}

// TestProgressOnlyRealWaits: calls that wait for nothing report no
// rate-limit or operating-limit wait (it runs on the real clock, where any
// measured span is above zero); a call that does wait reports how long.
func TestProgressOnlyRealWaits(t *testing.T) {
	t.Parallel()
	p := newMemPortal(t)
	p.handle("server.time", ok("2024-01-01T00:00:00+00:00"))
	var mu sync.Mutex
	var waits []bitrix.Progress
	c := newMemClient(t, p, bitrix.WithRateLimit(1000, 100), bitrix.WithProgress(func(pr bitrix.Progress) {
		if pr.Reason != bitrix.ReasonPage {
			mu.Lock()
			waits = append(waits, pr)
			mu.Unlock()
		}
	}))
	for range 20 {
		if _, err := c.Call(t.Context(), "server.time", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(waits) != 0 {
		t.Errorf("20 calls with room in the bucket and no block reported %d waits, first %+v", len(waits), waits[0])
	}
}

func TestProgressReportsRealWaits(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := newMemPortal(t)
		p.handle("server.time", ok("2024-01-01T00:00:00+00:00"))
		var waits []bitrix.Progress
		gate := bitrix.NewOperatingGate()
		c := newMemClient(t, p, bitrix.WithRateLimit(2, 3), bitrix.WithOperatingGate(gate), bitrix.WithProgress(func(pr bitrix.Progress) {
			waits = append(waits, pr)
		}))
		_ = gate.Block(t.Context(), c.PortalKey(), "server.time", time.Now().Add(time.Minute))
		for range 2 {
			if _, err := c.Call(t.Context(), "server.time", nil, nil); err != nil {
				t.Fatal(err)
			}
		}
		want := []bitrix.Progress{
			{Method: "server.time", Waited: time.Minute, Reason: bitrix.ReasonOperatingLimit},
			{Method: "server.time", Waited: 500 * time.Millisecond, Reason: bitrix.ReasonRateLimit},
		}
		if len(waits) != len(want) || waits[0] != want[0] || waits[1] != want[1] {
			t.Errorf("progress = %+v, want %+v", waits, want)
		}
	})
}

func mustLimiter(t testing.TB, perSecond float64, burst int, opts ...bitrix.LimiterOption) *bitrix.BucketLimiter {
	t.Helper()
	l, err := bitrix.NewLimiter(perSecond, burst, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestNewLimiterRefusesBadInput: bad rates and margins are errors from
// NewLimiter (they used to panic, or be clamped silently).
func TestNewLimiterRefusesBadInput(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		rate  float64
		burst int
		opt   bitrix.LimiterOption
	}{
		"zero rate":             {0, 10, nil},
		"negative rate":         {-1, 10, nil},
		"zero burst":            {2, 0, nil},
		"negative burst margin": {2, 10, bitrix.WithBurstMargin(-1)},
		"drain margin above":    {2, 10, bitrix.WithDrainMargin(0.6)},
		"negative drain margin": {2, 10, bitrix.WithDrainMargin(-0.1)},
	} {
		if l, err := bitrix.NewLimiter(tc.rate, tc.burst, tc.opt); err == nil || l != nil {
			t.Errorf("%s: NewLimiter = %v, %v; want an error", name, l, err)
		}
	}
	if _, err := bitrix.NewLimiter(2, 10, nil, bitrix.WithBurstMargin(0), bitrix.WithDrainMargin(0.5)); err != nil {
		t.Errorf("valid options: %v", err)
	}
}
