package bitrix

import (
	"testing"
	"testing/synctest"
	"time"
)

// Tests for hand mutants of gate.go's case conditions (issue 19,
// docs/TESTING.md "Mutation testing").

func newPacedClient(t *testing.T, budget time.Duration) *Client {
	t.Helper()
	c, err := New(WebhookURL("https://p.bitrix24.com/rest/1/s3cr3tWebhookKey42/"), WithOperatingBudget(budget))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestPacingExactFit: a request whose estimated cost lifts the method's
// operating time exactly to the budget goes at once; one nanosecond more
// waits for operating_reset_at.
func TestPacingExactFit(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		operating time.Duration
		wait      time.Duration
	}{{470 * time.Second, 0}, {470*time.Second + time.Nanosecond, time.Minute}} {
		synctest.Test(t, func(t *testing.T) {
			c := newPacedClient(t, 480*time.Second)
			c.op.observe("crm.item.get", Timing{Processing: 10 * time.Second, Operating: tt.operating, OperatingResetAt: time.Now().Add(time.Minute)})
			start := time.Now()
			release, err := c.paceOperating(t.Context(), map[string]int{"crm.item.get": 1})
			if err != nil {
				t.Fatal(err)
			}
			release()
			if el := time.Since(start); el != tt.wait {
				t.Errorf("operating %v + cost 10s, budget 480s: waited %v, want %v", tt.operating, el, tt.wait)
			}
		})
	}
}

// TestPacingCountsReservations: the cost reserved by a request in flight
// counts against the budget: a second request that would fit only without
// it waits until the first one's answer is in, also when the window is
// empty (operating 0: a request bigger than the budget goes alone only
// when nothing is in flight).
func TestPacingCountsReservations(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ operating, cost time.Duration }{
		{470 * time.Second, 10 * time.Second},
		{0, 300 * time.Second},
	} {
		synctest.Test(t, func(t *testing.T) {
			c := newPacedClient(t, 480*time.Second)
			c.op.observe("crm.item.get", Timing{Processing: tt.cost, Operating: tt.operating, OperatingResetAt: time.Now().Add(time.Minute)})
			first, err := c.paceOperating(t.Context(), map[string]int{"crm.item.get": 1})
			if err != nil {
				t.Fatal(err)
			}
			second := make(chan func(), 1)
			go func() {
				r, err := c.paceOperating(t.Context(), map[string]int{"crm.item.get": 1})
				if err != nil {
					t.Error(err)
				}
				second <- r
			}()
			synctest.Wait()
			select {
			case r := <-second:
				r()
				first()
				t.Fatalf("operating %v, cost %v: a second request went while the first one's reservation filled the budget", tt.operating, tt.cost)
			default:
			}
			first() // the answer is in: operating is unchanged, nothing reserved
			r := <-second
			r()
		})
	}
}
