package perf_test

// Before/after measurements of issue 14 (docs/BENCHMARKS.md). Written
// against the API both versions share, so that the same file runs on the
// old tree (commit 09f80af) and the new one.

import (
	"flag"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/crm"
	"github.com/b24go/sdk/internal/perf"
)

var baRows = flag.Int("ba.rows", 100_000, "rows of the before/after scan")

type baFlight struct {
	mu        sync.Mutex
	cur, peak int
}

func (f *baFlight) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.cur++
		f.peak = max(f.peak, f.cur)
		f.mu.Unlock()
		defer func() { f.mu.Lock(); f.cur--; f.mu.Unlock() }()
		h.ServeHTTP(w, r)
	})
}

func (f *baFlight) take() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.peak
	f.peak = f.cur
	return p
}

func baBubble(t *testing.T, opts []bitrixtest.Option, fl *baFlight, fn func(t *testing.T, srv *bitrixtest.Server, n *perf.Network)) {
	srv := bitrixtest.NewServer(t, opts...)
	synctest.Test(t, func(t *testing.T) {
		n := perf.Serve(fl.wrap(srv.Handler()))
		defer n.Close()
		fn(t, srv, n)
	})
}

func TestBeforeAfter(t *testing.T) {
	if !*report {
		t.Skip("run with -report")
	}
	cloud := []bitrixtest.Option{bitrixtest.WithRateLimit(2, 50)}
	for _, lat := range []time.Duration{200 * time.Millisecond, time.Second} {
		var fl baFlight
		// 1,000 adds: one Batch, then crm AddMany.
		baBubble(t, cloud, &fl, func(t *testing.T, srv *bitrixtest.Server, net *perf.Network) {
			srv.Latency(lat)
			c := webhookClient(t, srv, net)
			b := c.NewBatch()
			for i := range 1000 {
				b.Add("", "crm.item.add", bitrix.Params{"entityTypeId": 2, "fields": bitrix.Params{"title": fmt.Sprint("B", i)}})
			}
			start := time.Now()
			err := b.Run(t.Context())
			fmt.Printf("BA | %v | 1,000 adds, one Batch | %d requests, %.1f s virtual, %d in flight at most, err %v\n", lat, srv.Requests(), time.Since(start).Seconds(), fl.take(), err)
			time.Sleep(time.Minute)
			before := srv.Requests()
			items := make([]crm.Fields, 1000)
			for i := range items {
				items[i] = crm.Fields{"title": fmt.Sprint("A", i)}
			}
			start = time.Now()
			cc, err := crm.New(c)
			if err != nil {
				t.Fatal(err)
			}
			_, err = cc.Items(crm.Deal).AddMany(t.Context(), items)
			fmt.Printf("BA | %v | 1,000 adds, crm AddMany | %d requests, %.1f s virtual, %d in flight at most, err %v\n", lat, srv.Requests()-before, time.Since(start).Seconds(), fl.take(), err)
		})
		// 120 concurrent gets from 120 goroutines.
		baBubble(t, cloud, &fl, func(t *testing.T, srv *bitrixtest.Server, net *perf.Network) {
			ids, _ := srv.SeedCRMItems(2, 120, nil)
			srv.Latency(lat)
			c := webhookClient(t, srv, net)
			var wg sync.WaitGroup
			var mu sync.Mutex
			failed := 0
			start := time.Now()
			for _, id := range ids {
				wg.Go(func() {
					if _, err := c.Call(t.Context(), "crm.item.get", bitrix.Params{"entityTypeId": 2, "id": id}, nil); err != nil {
						mu.Lock()
						failed++
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			el := time.Since(start)
			fl := 35*time.Second + lat
			fmt.Printf("BA | %v | 120 concurrent crm.item.get | %d QUERY_LIMIT_EXCEEDED (503), %d failed, %.2f s virtual = %.3f× the floor %.1f s\n", lat, codeCount(srv, "QUERY_LIMIT_EXCEEDED"), failed, el.Seconds(), el.Seconds()/fl.Seconds(), fl.Seconds())
		})
		// Export needing 800 s of operating time (200 pages at 4 s).
		baBubble(t, append([]bitrixtest.Option{bitrixtest.WithMethodCost("crm.item.list", 4*time.Second)}, cloud...), &fl, func(t *testing.T, srv *bitrixtest.Server, net *perf.Network) {
			_, _ = srv.SeedCRMItems(2, 10_000, nil)
			srv.Latency(lat)
			c := webhookClient(t, srv, net)
			q := bitrix.Query{Method: "crm.item.list", Params: bitrix.Params{"entityTypeId": 2}, ItemsKey: "items", IDField: "id"}
			rows := 0
			var err error
			start := time.Now()
			for _, e := range bitrix.All[crm.Item](t.Context(), c, q) {
				if e != nil {
					err = e
					break
				}
				rows++
			}
			fmt.Printf("BA | %v | export of 10,000 deals needing 800 s of operating time (budget 480 s / 10 min) | %d rows, %d OPERATION_TIME_LIMIT, %.1f s virtual (floor 600 s), %d requests, err %v\n", lat, rows, codeCount(srv, "OPERATION_TIME_LIMIT"), time.Since(start).Seconds(), srv.Requests(), err)
		})
	}
	// The big scan: seeded once, scanned at both latencies.
	var fl baFlight
	baBubble(t, []bitrixtest.Option{bitrixtest.WithRateLimit(2, 50), bitrixtest.WithoutOperatingLimit()}, &fl, func(t *testing.T, srv *bitrixtest.Server, net *perf.Network) {
		if _, err := srv.SeedCRMItems(2, *baRows, map[string]any{"opportunity": "1250.50", "currencyId": "EUR"}); err != nil {
			t.Fatal(err)
		}
		q := bitrix.Query{Method: "crm.item.list", Params: bitrix.Params{"entityTypeId": 2}, ItemsKey: "items", IDField: "id"}
		for _, lat := range []time.Duration{200 * time.Millisecond, time.Second} {
			time.Sleep(time.Minute)
			srv.Latency(lat)
			c := webhookClient(t, srv, net)
			before := srv.Requests()
			base := heapInuse()
			var peak uint64
			rows := 0
			start := time.Now()
			for _, err := range bitrix.All[crm.Item](t.Context(), c, q) {
				if err != nil {
					t.Fatal(err)
				}
				if rows++; rows%(*baRows/8) == 0 {
					peak = max(peak, heapInuse())
				}
			}
			fmt.Printf("BA | %v | scan of %d deals (bitrix.All) | %d requests, %.1f s virtual, %d in flight at most, heap +%.1f MiB over the scan\n", lat, rows, srv.Requests()-before, time.Since(start).Seconds(), fl.take(), (float64(peak)-float64(base))/(1<<20))
		}
	})
}
