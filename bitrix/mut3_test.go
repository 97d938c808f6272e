package bitrix_test

import (
	"testing"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
)

// TestAllChainUsesLearnedCost: a scan's first chained request sizes itself
// by the cost the client learnt from earlier answers (time.processing): a
// second scan of a method that took 2 s a page chains at most 10 pages from
// its first request, where the first scan (cost unknown) sent 50. With the
// operating pacer off (WithOperatingBudget(0)) nothing is learnt and the
// scan still works (gate.go callCost, a mutant that lived, issue 19).
func TestAllChainUsesLearnedCost(t *testing.T) {
	t.Parallel()
	for _, paced := range []bool{true, false} {
		srv := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit(), bitrixtest.WithMethodCost("crm.deal.list", 2*time.Second))
		if _, err := srv.SeedCRMItems(entityDeal, 300, nil); err != nil {
			t.Fatal(err)
		}
		opts := []bitrix.Option{bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit()}
		if !paced {
			opts = append(opts, bitrix.WithOperatingBudget(0))
		}
		c, err := bitrix.New(bitrix.WebhookURL(srv.WebhookURL()), opts...)
		if err != nil {
			t.Fatal(err)
		}
		var firsts []int // commands in each scan's first batch request
		for range 2 {
			before := len(srv.Calls())
			n := 0
			for _, err := range bitrix.All[dealRow](t.Context(), c, bitrix.Query{Method: "crm.deal.list"}) {
				if err != nil {
					t.Fatal(err)
				}
				n++
			}
			if n != 300 {
				t.Fatalf("paced %v: rows = %d, want 300", paced, n)
			}
			first := -1
			for _, call := range srv.Calls()[before:] {
				switch {
				case call.Method == "batch" && first >= 0:
				case call.Method == "batch":
					first = 0
				case call.InBatch && first >= 0:
					first++
				}
				if call.Method == "batch" && first > 0 {
					break
				}
			}
			firsts = append(firsts, first)
		}
		want := []int{bitrix.MaxBatchCommands, 10}
		if !paced {
			want = []int{bitrix.MaxBatchCommands, bitrix.MaxBatchCommands}
		}
		if firsts[0] != want[0] || firsts[1] != want[1] {
			t.Errorf("paced %v: commands in each scan's first batch = %v, want %v", paced, firsts, want)
		}
	}
}
