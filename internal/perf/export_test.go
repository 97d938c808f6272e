package perf_test

import (
	"fmt"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/crm"
	"github.com/b24go/sdk/internal/perf"
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
	skipShort(t)
	rows := size(20_000, 100_000)
	r := measureExport(t, rows, false)
	if r.Rows != rows {
		t.Fatalf("exported %d rows, want %d", r.Rows, rows)
	}
	// The first request brings 2,500 rows, then shards of up to 2,400 rows
	// take one request each.
	if want := (rows+2399)/2400 + 1; r.Requests > want {
		t.Errorf("HTTP requests = %d, want at most %d (2,400-2,500 rows per request)", r.Requests, want)
	}
	if r.QueryLimit != 0 {
		t.Errorf("QUERY_LIMIT_EXCEEDED answers = %d, want 0", r.QueryLimit)
	}
	checkFlatHeap(t, r)
}

// checkFlatHeap asserts that no checkpoint holds more than the first
// checkpoint after the first request's rows (2,500) plus a generous
// flatAllowance. From then on the sharded scan holds at most its
// read-ahead (parallelism+2 requests' rows, 2,500 each), so the growth must
// not depend on the row count. Keeping every decoded crm.Item would add
// about rows × 3 KiB.
// flatAllowance is the growth checkFlatHeap tolerates.
const flatAllowance = 24 << 20

func checkFlatHeap(t *testing.T, r exportResult) {
	t.Helper()
	base := r.steady()
	for _, p := range r.Points {
		if p.HeapInuse > base+flatAllowance {
			t.Errorf("heap in use at %d rows = %s, at the first checkpoint after 2,500 rows %s: grew by more than %s", p.Rows, mib(p.HeapInuse), mib(base), mib(flatAllowance))
		}
	}
	t.Logf("heap in use: %s at 1,000 rows, %s after the first request, max %s up to %d rows", mib(r.base()), mib(base), mib(r.max()), r.Rows)
}

// steady is the heap at the first checkpoint past the first request's rows.
func (r exportResult) steady() uint64 {
	for _, p := range r.Points {
		if p.Rows > 2500 {
			return p.HeapInuse
		}
	}
	return r.base()
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

type scanLatencyResult struct {
	Rows                          int
	Latency                       time.Duration
	Parallelism, Requests, Shards int
	Peak                          int // requests in flight at once
	Virtual                       time.Duration
	Points                        []heapPoint
}

// measureScanAtLatency seeds rows deals once, then scans them with
// bitrix.All at each parallelism with the portal lat away, inside one
// synctest bubble (virtual time); it records requests, requests in flight
// and (heap) the heap at checkpoints.
func measureScanAtLatency(t *testing.T, rows int, lat time.Duration, heap bool, parallelisms ...int) []scanLatencyResult {
	var out []scanLatencyResult
	var fl inFlight
	opts := append([]bitrixtest.Option{bitrixtest.WithLatency(lat)}, cloudLimit...)
	inBubbleWith(t, opts, fl.wrap, func(t *testing.T, srv *bitrixtest.Server, net *perf.Network) {
		if _, err := srv.SeedCRMItems(bitrixtest.EntityDeal, rows, map[string]any{"opportunity": "1250.50", "currencyId": "EUR"}); err != nil {
			t.Fatal(err)
		}
		q := bitrix.Query{Method: "crm.item.list", Params: bitrix.Params{"entityTypeId": bitrixtest.EntityDeal}, ItemsKey: "items", IDField: "id"}
		for _, par := range parallelisms {
			time.Sleep(time.Minute) // the portal's bucket drains between runs
			c := webhookClient(t, srv, net, bitrix.WithParallelism(par))
			fl.reset()
			r := scanLatencyResult{Latency: lat, Parallelism: par}
			before := srv.Requests()
			step := max(rows/4, 1000)
			last := 0
			start := time.Now()
			for row, err := range bitrix.All[crm.Item](t.Context(), c, q) {
				if err != nil {
					t.Fatalf("scan after %d rows: %v", r.Rows, err)
				}
				if row.ID <= last {
					t.Fatalf("row %d: id %d after %d", r.Rows, row.ID, last)
				}
				last = row.ID
				r.Rows++
				if heap && (r.Rows == 1000 || r.Rows%step == 0) {
					r.Points = append(r.Points, heapPoint{Rows: r.Rows, HeapInuse: heapInuse()})
				}
			}
			r.Virtual = time.Since(start)
			r.Requests = srv.Requests() - before
			r.Peak = fl.Peak()
			out = append(out, r)
		}
	})
	return out
}

// maxRequests bounds the requests of a scan of rows evenly spread ids with
// the given parallelism: sequential, the floor of 2,500 rows per request
// and one for the end; sharded, the first request and shards of up to 2,400
// rows (within the ceil(rows/2,500) + shards + 1).
func maxRequests(rows, parallelism int) int {
	if parallelism == 1 {
		return (rows+2499)/2500 + 1
	}
	return (rows+2399)/2400 + 1
}

// TestShardedScanAtLatency: with the portal 200 ms away, the default
// sharded scan is at least 3× faster (virtual time) than the sequential
// one, within the request bound, in id order; with -perf.full (100,000
// rows) its heap is checked to stay flat too (TestExportRequests checks it
// in the default run). 15,000 rows are 6 requests in a row against 2 round
// trips sharded; under the race detector 10,000 rows (4 against 2) must
// be twice as fast.
func TestShardedScanAtLatency(t *testing.T) {
	skipShort(t)
	t.Parallel()
	rows, speedup := size(15_000, 100_000), 3
	if raceEnabled && !*full {
		rows, speedup = 10_000, 2
	}
	rs := measureScanAtLatency(t, rows, 200*time.Millisecond, *full, 1, bitrix.DefaultParallelism)
	seq, par := rs[0], rs[1]
	t.Logf("sequential %+v", seq)
	t.Logf("sharded %+v", par)
	for _, r := range rs {
		if r.Rows != rows {
			t.Errorf("parallelism %d: %d rows, want %d", r.Parallelism, r.Rows, rows)
		}
		if r.Requests > maxRequests(rows, r.Parallelism) {
			t.Errorf("parallelism %d: %d requests, want at most %d", r.Parallelism, r.Requests, maxRequests(rows, r.Parallelism))
		}
		if len(r.Points) > 0 {
			checkFlatHeap(t, exportResult{Rows: r.Rows, Points: r.Points})
		}
	}
	if seq.Peak != 1 || par.Peak > bitrix.DefaultParallelism {
		t.Errorf("in flight: sequential %d (want 1), sharded %d (want <= %d)", seq.Peak, par.Peak, bitrix.DefaultParallelism)
	}
	if par.Virtual*time.Duration(speedup) > seq.Virtual {
		t.Errorf("sharded scan took %v, sequential %v: want at least %d× faster", par.Virtual, seq.Virtual, speedup)
	}
}

// TestShardedScanBreakCancels: leaving the loop cancels every shard's
// request at once: nothing is left in flight at the portal, no virtual
// time passes waiting for answers, and no request follows.
func TestShardedScanBreakCancels(t *testing.T) {
	skipShort(t)
	t.Parallel()
	var fl inFlight
	opts := append([]bitrixtest.Option{bitrixtest.WithLatency(time.Second)}, cloudLimit...)
	inBubbleWith(t, opts, fl.wrap, func(t *testing.T, srv *bitrixtest.Server, net *perf.Network) {
		if _, err := srv.SeedCRMItems(bitrixtest.EntityDeal, 10_000, nil); err != nil {
			t.Fatal(err)
		}
		c := webhookClient(t, srv, net, bitrix.WithParallelism(2)) // 2 of the 4 shards ahead
		q := bitrix.Query{Method: "crm.item.list", Params: bitrix.Params{"entityTypeId": bitrixtest.EntityDeal}, ItemsKey: "items", IDField: "id"}
		n := 0
		var stop time.Time
		for _, err := range bitrix.All[crm.Item](t.Context(), c, q) {
			if err != nil {
				t.Fatal(err)
			}
			if n++; n == 2451 { // the first row of the first shard
				stop = time.Now()
				break
			}
		}
		if el := time.Since(stop); el != 0 {
			t.Errorf("leaving the loop took %v: it waited for answers instead of cancelling", el)
		}
		synctest.Wait()
		sent := srv.Requests()
		if fl.Current() != 0 {
			t.Errorf("%d requests still in flight at the portal after the loop ended", fl.Current())
		}
		time.Sleep(time.Minute)
		if got := srv.Requests(); got != sent || got >= 5 { // a full scan: 1 + 4 shards

			t.Errorf("requests: %d when the loop ended, %d a minute later; want no more, and fewer than a full scan's", sent, got)
		}
	})
}
