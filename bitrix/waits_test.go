package bitrix_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/b24go/sdk/bitrix"
)

// sleepyLimiter and sleepyGate are a caller's own Limiter and
// OperatingGate that take d to let a request through.
type sleepyLimiter struct{ d time.Duration }

func (l sleepyLimiter) Wait(context.Context, string) error { time.Sleep(l.d); return nil }

type sleepyGate struct{ d time.Duration }

func (g sleepyGate) Wait(context.Context, string, string) error { time.Sleep(g.d); return nil }
func (sleepyGate) Block(context.Context, string, string, time.Time) error {
	return nil
}

// TestOwnLimiterWaitsReported: a Limiter or OperatingGate of the caller's
// own is timed; from 5 ms on its time is reported as a wait, below that it
// counts as the implementation's own work (a Redis round trip).
func TestOwnLimiterWaitsReported(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		d      time.Duration
		report bool
	}{{5 * time.Millisecond, true}, {5*time.Millisecond - time.Nanosecond, false}, {time.Second, true}} {
		synctest.Test(t, func(t *testing.T) {
			p := newMemPortal(t)
			p.handle("crm.deal.get", ok(1))
			got := map[string]time.Duration{}
			c := newMemClient(t, p, bitrix.WithLimiter(sleepyLimiter{tt.d}), bitrix.WithOperatingGate(sleepyGate{2 * tt.d}),
				bitrix.WithProgress(func(pr bitrix.Progress) { got[pr.Reason] += pr.Waited }))
			if _, err := c.Call(t.Context(), "crm.deal.get", nil, nil); err != nil {
				t.Fatal(err)
			}
			want := map[string]time.Duration{}
			if tt.report {
				want[bitrix.ReasonRateLimit] = tt.d
				want[bitrix.ReasonOperatingLimit] = 2 * tt.d
			} else if 2*tt.d >= 5*time.Millisecond {
				want[bitrix.ReasonOperatingLimit] = 2 * tt.d
			}
			if len(got) != len(want) || got[bitrix.ReasonRateLimit] != want[bitrix.ReasonRateLimit] ||
				got[bitrix.ReasonOperatingLimit] != want[bitrix.ReasonOperatingLimit] {
				t.Errorf("limiter %v, gate %v: waits reported %v, want %v", tt.d, 2*tt.d, got, want)
			}
		})
	}
}
