package bitrix_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/b24go/sdk/bitrix"
)

// TestNewLimiterBounds: the edges of the valid input are accepted: a
// million requests per second, a burst of 1, no drain margin.
func TestNewLimiterBounds(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		rate  float64
		burst int
		opt   bitrix.LimiterOption
		ok    bool
	}{
		"a million per second":     {1e6, 10, nil, true},
		"above a million":          {1e6 + 1, 10, nil, false},
		"burst 1":                  {2, 1, nil, true},
		"zero drain margin":        {2, 10, bitrix.WithDrainMargin(0), true},
		"drain margin at the edge": {2, 10, bitrix.WithDrainMargin(0.5), true},
	} {
		l, err := bitrix.NewLimiter(tc.rate, tc.burst, tc.opt)
		if tc.ok != (err == nil) || tc.ok != (l != nil) {
			t.Errorf("%s: NewLimiter = %v, %v; want ok %v", name, l, err, tc.ok)
		}
	}
}

// TestCooldownEndsOnTime: after QUERY_LIMIT_EXCEEDED the client sends one
// request at a time for exactly WithCooldown: a nanosecond before its end
// requests still go one by one, at its end they go together again.
func TestCooldownEndsOnTime(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		after time.Duration // from the QUERY_LIMIT_EXCEEDED answer
		peak  int
	}{
		{"just before the end", time.Minute - time.Nanosecond, 1},
		{"at the end", time.Minute, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				lp := newLimitOncePortal(t)
				c := newMemClient(t, lp.portal, bitrix.WithCooldown(time.Minute))
				if _, err := c.Call(t.Context(), "server.time", nil, nil); err != nil { // QUERY_LIMIT_EXCEEDED, retried
					t.Fatal(err)
				}
				time.Sleep(time.Until(lp.limitAt.Add(tc.after)))
				if peak, _ := lp.storm(t, c, 3); peak != tc.peak {
					t.Errorf("%v after the limit answer: %d requests in flight, want %d", tc.after, peak, tc.peak)
				}
			})
		})
	}
}
