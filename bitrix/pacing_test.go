package bitrix_test

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/internal/perf"
)

// TestOperatingBudgetPacing: a method charged 100 s per call (the fake
// portal's 480 s budget per ten minutes, settings/performance/limits.md)
// is held back before the portal refuses it: 12 calls, four per window,
// no OPERATION_TIME_LIMIT, the waits reported as operating-limit waits.
// With the pacing off (WithOperatingBudget(0)) the portal refuses calls:
// the control that the scenario reaches the limit.
func TestOperatingBudgetPacing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		opts   []bitrix.Option
		paced  bool
		limits int
	}{
		{"default budget", nil, true, 0},
		{"pacing off", []bitrix.Option{bitrix.WithOperatingBudget(0)}, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit(), bitrixtest.WithMethodCost("crm.item.get", 100*time.Second))
			ids, err := srv.SeedCRMItems(entityDeal, 1, nil)
			if err != nil {
				t.Fatal(err)
			}
			synctest.Test(t, func(t *testing.T) {
				n := perf.Serve(srv.Handler())
				defer n.Close()
				var waited time.Duration
				opts := append([]bitrix.Option{bitrix.WithAllowHTTP(), bitrix.WithTransport(n.Transport()), bitrix.WithoutRateLimit(),
					bitrix.WithProgress(func(p bitrix.Progress) {
						if p.Reason == bitrix.ReasonOperatingLimit {
							waited += p.Waited
						}
					})}, tc.opts...)
				c, err := bitrix.New(bitrix.WebhookURL(srv.WebhookURL()), opts...)
				if err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				for i := range 12 {
					if _, err := c.Call(t.Context(), "crm.item.get", bitrix.Params{"entityTypeId": entityDeal, "id": ids[0]}, nil); err != nil {
						t.Fatalf("call %d: %v", i, err)
					}
				}
				el := time.Since(start)
				limits := 0
				for _, call := range srv.Calls() {
					if strings.EqualFold(call.Code, "OPERATION_TIME_LIMIT") {
						limits++
					}
				}
				t.Logf("12 calls in %v, %d OPERATION_TIME_LIMIT, %v reported waiting", el, limits, waited)
				if tc.paced && (limits != 0 || el < 20*time.Minute || el > 21*time.Minute || waited < 20*time.Minute-time.Second) {
					t.Errorf("paced: %d OPERATION_TIME_LIMIT answers (want 0), %v for three windows (want 20 min), %v reported", limits, el, waited)
				}
				if !tc.paced && limits < tc.limits {
					t.Errorf("pacing off: %d OPERATION_TIME_LIMIT answers, want at least %d", limits, tc.limits)
				}
			})
		})
	}
}
