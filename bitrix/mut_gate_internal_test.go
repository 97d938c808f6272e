package bitrix

import (
	"testing"
	"testing/synctest"
	"time"
)

// TestPacingIgnoresAnswersWithoutOperatingTime: an answer whose time block
// has no operating figures (neither operating nor operating_reset_at)
// tells the pacer nothing, not even a new cost estimate: a request that
// fits the budget with the cost learnt before goes at once (gate.go
// observe's guard, a mutant that lived, issue 19).
func TestPacingIgnoresAnswersWithoutOperatingTime(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newPacedClient(t, 480*time.Second)
		c.op.observe("crm.item.get", Timing{Processing: time.Second, Operating: 470 * time.Second, OperatingResetAt: time.Now().Add(time.Minute)})
		c.op.observe("crm.item.get", Timing{Processing: 20 * time.Second})
		start := time.Now()
		release, err := c.paceOperating(t.Context(), map[string]int{"crm.item.get": 1})
		if err != nil {
			t.Fatal(err)
		}
		release()
		if el := time.Since(start); el != 0 {
			t.Errorf("operating 470s + cost 1s, budget 480s, then an answer without operating time: waited %v, want 0", el)
		}
	})
}
