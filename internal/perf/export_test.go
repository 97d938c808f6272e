package perf_test

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/crm"
)

type heapPoint struct {
	Rows      int
	HeapInuse uint64 // bytes, after runtime.GC
}

type exportResult struct {
	Rows, Requests, QueryLimit int
	Points                     []heapPoint
}

// base is the heap at the 1,000-row checkpoint; max the largest later one.
func (r exportResult) base() uint64 { return r.Points[0].HeapInuse }
func (r exportResult) max() uint64 {
	var m uint64
	for _, p := range r.Points {
		m = max(m, p.HeapInuse)
	}
	return m
}

func heapInuse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// measureExport seeds rows deals on a portal limited to 2 req/s (burst 50)
// and exports them with bitrix.All (the fast ID scan), counting HTTP
// requests at the portal and the heap in use at checkpoints.
func measureExport(t *testing.T, rows int, retain bool) exportResult {
	t.Helper()
	srv := bitrixtest.NewServer(t, bitrixtest.WithRateLimit(2, 50))
	if _, err := srv.SeedCRMItems(bitrixtest.EntityDeal, rows, map[string]any{
		"opportunity": "1250.50", "currencyId": "EUR", "stageId": "NEW", "comments": "imported by the perf suite",
	}); err != nil {
		t.Fatal(err)
	}
	c := webhookClient(t, srv, nil)
	q := bitrix.Query{Method: "crm.item.list", Params: bitrix.Params{"entityTypeId": bitrixtest.EntityDeal},
		ItemsKey: "items", IDField: "id"}
	step := max(rows/4, 1000)
	res := exportResult{Rows: 0}
	before := srv.Requests()
	last := 0
	var kept []*crm.Item // retain: the leak the flat-heap check must catch
	for row, err := range bitrix.All[crm.Item](t.Context(), c, q) {
		if err != nil {
			t.Fatalf("export after %d rows: %v", res.Rows, err)
		}
		if int(row.ID) <= last {
			t.Fatalf("row %d: id %d after %d", res.Rows, row.ID, last)
		}
		last = int(row.ID)
		if retain {
			kept = append(kept, &row)
		}
		res.Rows++
		if res.Rows == 1000 || res.Rows%step == 0 {
			res.Points = append(res.Points, heapPoint{Rows: res.Rows, HeapInuse: heapInuse()})
		}
	}
	runtime.KeepAlive(kept)
	res.Requests = srv.Requests() - before
	res.QueryLimit = codeCount(srv, "QUERY_LIMIT_EXCEEDED")
	return res
}

// TestExportRequests: a full export of 20,000 deals uses ceil(20,000/2,500)
// = 8 HTTP requests, none refused by the rate limit, and every row arrives
// once in id order; the heap in use stays flat while the rows stream through.
// It runs at the full size under the race detector too, since CI
// runs the suite that way.
func TestExportRequests(t *testing.T) {
	rows := size(20_000, 100_000)
	r := measureExport(t, rows, false)
	if r.Rows != rows {
		t.Fatalf("exported %d rows, want %d", r.Rows, rows)
	}
	if want := (rows + 2499) / 2500; r.Requests != want {
		t.Errorf("HTTP requests = %d, want %d (2,500 rows per request)", r.Requests, want)
	}
	if r.QueryLimit != 0 {
		t.Errorf("QUERY_LIMIT_EXCEEDED answers = %d, want 0", r.QueryLimit)
	}
	checkFlatHeap(t, r)
}

// checkFlatHeap asserts that no checkpoint after 1,000 rows holds more than
// the 1,000-row heap plus a generous flatAllowance: one request's rows (2,500)
// are in flight at any time, so the growth must not depend on the row count.
// Keeping every decoded crm.Item would add about rows × 3 KiB.
// flatAllowance is the growth checkFlatHeap tolerates.
const flatAllowance = 24 << 20

func checkFlatHeap(t *testing.T, r exportResult) {
	t.Helper()
	base := r.base()
	for _, p := range r.Points {
		if p.HeapInuse > base+flatAllowance {
			t.Errorf("heap in use at %d rows = %s, at 1,000 rows %s: grew by more than %s", p.Rows, mib(p.HeapInuse), mib(base), mib(flatAllowance))
		}
	}
	t.Logf("heap in use: %s at 1,000 rows, max %s up to %d rows", mib(base), mib(r.max()), r.Rows)
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// TestExportHeapCheckCatchesRetention is the control of checkFlatHeap: the
// same export keeping every row must break the bound.
func TestExportHeapCheckCatchesRetention(t *testing.T) {
	if !*full {
		t.Skip("control experiment; run with -perf.full")
	}
	r := measureExport(t, 20_000, true)
	if r.max() <= r.base()+flatAllowance {
		t.Errorf("retaining 20,000 rows grew the heap by only %s: the flat-heap bound cannot catch a leak", mib(r.max()-r.base()))
	}
	t.Logf("retaining rows: %s at 1,000 rows, %s at 20,000", mib(r.base()), mib(r.max()))
}
