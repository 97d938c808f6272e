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

// TestAllShardTakesMoreThanOneRequest: shards are sized from the density
// of the ids the first request saw; where the ids after it are denser, a
// shard holds more rows than one request reads and goes on with the next
// request until its range is done. Here the first request sees every
// other id (1, 3, …, 4899) and the rest is dense (4901–9800) at 2 s a page
// (10 pages a request): each shard needs two requests, and every row
// arrives, in id order (list.go runShard's loop, a mutant that lived:
// a shard that stopped after its first request lost rows, issue 19).
func TestAllShardTakesMoreThanOneRequest(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: seeds 9,800 rows (seconds of CPU); the full run (go test ./..., .ci/run) includes it")
	}
	t.Parallel()
	srv := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit(), bitrixtest.WithoutOperatingLimit(), bitrixtest.WithMethodCost("crm.deal.list", 2*time.Second))
	ids, err := srv.SeedCRMItems(entityDeal, 9800, nil, bitrixtest.WithoutEvents())
	if err != nil {
		t.Fatal(err)
	}
	c, err := bitrix.New(bitrix.WebhookURL(srv.WebhookURL()), bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit())
	if err != nil {
		t.Fatal(err)
	}
	del := c.NewBatch()
	var want []bitrix.Int
	for _, id := range ids {
		if id <= 4900 && id%2 == 0 {
			del.Add("", "crm.deal.delete", bitrix.Params{"id": id})
		} else {
			want = append(want, bitrix.Int(id))
		}
	}
	if err := del.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	before := srv.Requests()
	var got []bitrix.Int
	for row, err := range bitrix.All[dealRow](t.Context(), c, bitrix.Query{Method: "crm.deal.list"}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, row.ID)
	}
	if len(got) != len(want) {
		t.Fatalf("rows %d, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("row %d: id %d, want %d", i, got[i], want[i])
		}
	}
	// 4,900 dense rows at 500 a request need at least 10 requests after
	// the first; shards of one request each would have sent about 6.
	if n := srv.Requests() - before; n < 11 {
		t.Errorf("%d requests for the scan, want at least 11", n)
	}
}

// TestAllOffsetFullBatches: offset paging puts at most 50 pages in a batch
// request, so 5,050 rows in id-descending order take the first page alone
// and two requests of 50 pages, 3 requests, not a 51-page batch split into
// two requests each round (list.go offset's `i < MaxBatchCommands`, a
// boundary mutant that lived, issue 19).
func TestAllOffsetFullBatches(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: seeds 5,050 rows (seconds of CPU); the full run (go test ./..., .ci/run) includes it")
	}
	t.Parallel()
	srv, c := fakePortalClient(t, 5050)
	q := bitrix.Query{Method: "crm.deal.list", Params: bitrix.Params{"order": bitrix.Params{"ID": "DESC"}}}
	want := bitrix.Int(5050)
	for row, err := range bitrix.All[dealRow](t.Context(), c, q) {
		if err != nil {
			t.Fatal(err)
		}
		if row.ID != want {
			t.Fatalf("id %d, want %d", row.ID, want)
		}
		want--
	}
	if want != 0 || srv.Requests() != 3 {
		t.Errorf("stopped before id %d after %d requests, want all 5,050 rows in 3 requests", want, srv.Requests())
	}
}
