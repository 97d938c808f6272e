package perf_test

import (
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/crm"
	"github.com/b24go/sdk/internal/perf"
)

// The fake portal enforces the cloud's leaky bucket: 2 requests per second,
// 50 outstanding.
var cloudLimit = []bitrixtest.Option{bitrixtest.WithRateLimit(bitrix.DefaultRate, bitrix.DefaultBurst)}

type bulkResult struct {
	Items, Requests, QueryLimit, Created int
	Virtual                              time.Duration
}

// measureBulkAdd adds n deals with crm AddMany (50 crm.item.add per batch)
// under synctest, counting requests at the portal.
func measureBulkAdd(t *testing.T, n int) (r bulkResult) {
	inBubble(t, cloudLimit, func(t *testing.T, srv *bitrixtest.Server, net *perf.Network) {
		c, err := crm.New(webhookClient(t, srv, net))
		if err != nil {
			t.Fatal(err)
		}
		items := make([]crm.Fields, n)
		for i := range items {
			items[i] = crm.Fields{"title": fmt.Sprintf("Bulk %04d", i), "opportunity": crm.NewDecimal(int64(i), 0)}
		}
		start := time.Now()
		res, err := c.Items(crm.Deal).AddMany(t.Context(), items)
		if err != nil {
			t.Fatal(err)
		}
		r.Virtual = time.Since(start)
		for i, br := range res {
			if br.Err != nil || br.ID == 0 {
				t.Fatalf("item %d: %+v", i, br)
			}
		}
		r.Items, r.Requests = n, srv.Requests()
		r.QueryLimit = codeCount(srv, "QUERY_LIMIT_EXCEEDED")
		r.Created = len(srv.CRMItems(bitrixtest.EntityDeal))
	})
	return r
}

// TestBulkAddRequests: 1,000 items in 20 requests, none refused.
func TestBulkAddRequests(t *testing.T) {
	r := measureBulkAdd(t, 1000)
	if r.Requests != 20 || r.QueryLimit != 0 || r.Created != 1000 {
		t.Errorf("bulk add of 1,000: %d requests (want 20), %d QUERY_LIMIT_EXCEEDED (want 0), %d created", r.Requests, r.QueryLimit, r.Created)
	}
}

// latencies are the round trips the suite measures at: a nearby portal and
// a distant or busy one.
var latencies = []time.Duration{200 * time.Millisecond, time.Second}

type latencyAddResult struct {
	API                               string
	Latency, Virtual                  time.Duration
	Items, Requests, QueryLimit, Peak int
	Created, Duplicates, OutOfOrder   int
	Parallelism                       int
}

// measureAddsAtLatency adds n deals through one plain Batch ("Batch") or
// crm AddMany ("AddMany") with the portal lat away, counting requests, the
// requests in flight at once, virtual time, duplicates and results that
// do not match their input.
func measureAddsAtLatency(t *testing.T, api string, n int, lat time.Duration, parallelism int) (r latencyAddResult) {
	var fl inFlight
	opts := append([]bitrixtest.Option{bitrixtest.WithLatency(lat)}, cloudLimit...)
	inBubbleWith(t, opts, fl.wrap, func(t *testing.T, srv *bitrixtest.Server, net *perf.Network) {
		c := webhookClient(t, srv, net, bitrix.WithParallelism(parallelism))
		ids := make([]int, n)
		start := time.Now()
		switch api {
		case "Batch":
			b := c.NewBatch()
			cmds := make([]*bitrix.BatchCmd, n)
			for i := range n {
				cmds[i] = b.Add("", "crm.item.add", bitrix.Params{"entityTypeId": bitrixtest.EntityDeal, "fields": bitrix.Params{"title": fmt.Sprintf("Bulk %04d", i)}})
			}
			if err := b.Run(t.Context()); err != nil {
				t.Fatal(err)
			}
			for i, cmd := range cmds {
				var out struct {
					Item struct {
						ID bitrix.Int `json:"id"`
					} `json:"item"`
				}
				if err := cmd.Decode(&out); err != nil {
					t.Fatalf("command %d: %v", i, err)
				}
				ids[i] = int(out.Item.ID)
			}
		case "AddMany":
			items := make([]crm.Fields, n)
			for i := range items {
				items[i] = crm.Fields{"title": fmt.Sprintf("Bulk %04d", i)}
			}
			cc, err := crm.New(c)
			if err != nil {
				t.Fatal(err)
			}
			res, err := cc.Items(crm.Deal).AddMany(t.Context(), items)
			if err != nil {
				t.Fatal(err)
			}
			for i, br := range res {
				if br.Err != nil {
					t.Fatalf("item %d: %v", i, br.Err)
				}
				ids[i] = br.ID
			}
		}
		r.Virtual = time.Since(start)
		byID := map[int]string{}
		for _, it := range srv.CRMItems(bitrixtest.EntityDeal) {
			id, _ := strconv.Atoi(fmt.Sprint(it["id"]))
			byID[id] = fmt.Sprint(it["title"])
			r.Created++
		}
		titles := map[string]int{}
		for _, title := range byID {
			titles[title]++
		}
		for i, id := range ids {
			if byID[id] != fmt.Sprintf("Bulk %04d", i) {
				r.OutOfOrder++
			}
			if k := titles[fmt.Sprintf("Bulk %04d", i)]; k > 1 {
				r.Duplicates += k - 1
			}
		}
		r.API, r.Latency, r.Items, r.Parallelism = api, lat, n, parallelism
		r.Requests, r.QueryLimit = srv.Requests(), codeCount(srv, "QUERY_LIMIT_EXCEEDED")
	})
	r.Peak = fl.Peak()
	return r
}

// TestAddsAtLatency: 1,000 adds with the portal 200 ms away take 20
// requests and at most three round trips of virtual time at default
// settings (8 in flight), through Batch and AddMany alike; every result
// belongs to its input item and nothing is created twice.
func TestAddsAtLatency(t *testing.T) {
	t.Parallel()
	for _, api := range []string{"Batch", "AddMany"} {
		t.Run(api, func(t *testing.T) {
			t.Parallel()
			lat := 200 * time.Millisecond
			r := measureAddsAtLatency(t, api, 1000, lat, bitrix.DefaultParallelism)
			t.Logf("%+v", r)
			if r.Requests != 20 || r.QueryLimit != 0 || r.Created != 1000 || r.Duplicates != 0 || r.OutOfOrder != 0 {
				t.Errorf("%d requests (want 20), %d QUERY_LIMIT_EXCEEDED, %d created, %d duplicates, %d results not matching their input",
					r.Requests, r.QueryLimit, r.Created, r.Duplicates, r.OutOfOrder)
			}
			if r.Virtual > 3*lat || r.Peak != bitrix.DefaultParallelism {
				t.Errorf("took %v with %d in flight, want <= %v (three round trips)", r.Virtual, r.Peak, 3*lat)
			}
		})
	}
}

type concurrentResult struct {
	Calls, Goroutines, Clients, Requests, QueryLimit, Failed int
	FirstErr                                                 error
	Virtual                                                  time.Duration
}

// floor is the least time the portal's bucket allows for calls single
// requests: the first DefaultBurst go at once, the rest drain at DefaultRate.
func floor(calls int) time.Duration {
	return time.Duration(float64(calls-bitrix.DefaultBurst) / bitrix.DefaultRate * float64(time.Second))
}

// measureConcurrent runs calls crm.item.get calls from goroutines workers
// spread over clients clients under synctest; shared makes the clients share
// one limiter, coalesce turns WithCoalescing on.
func measureConcurrent(t *testing.T, calls, workers, clients int, shared bool, coalesce time.Duration) (r concurrentResult) {
	return measureConcurrentAt(t, 0, calls, workers, clients, shared, coalesce)
}

// measureConcurrentAt is measureConcurrent with the portal lat away.
func measureConcurrentAt(t *testing.T, lat time.Duration, calls, workers, clients int, shared bool, coalesce time.Duration) (r concurrentResult) {
	opts := append([]bitrixtest.Option{bitrixtest.WithLatency(lat)}, cloudLimit...)
	inBubble(t, opts, func(t *testing.T, srv *bitrixtest.Server, net *perf.Network) {
		ids, err := srv.SeedCRMItems(bitrixtest.EntityDeal, calls, nil)
		if err != nil {
			t.Fatal(err)
		}
		var opts []bitrix.Option
		if shared {
			l, err := bitrix.NewLimiter(bitrix.DefaultRate, bitrix.DefaultBurst) // one limiter for every client
			if err != nil {
				t.Fatal(err)
			}
			opts = append(opts, bitrix.WithLimiter(l))
		}
		if coalesce > 0 {
			opts = append(opts, bitrix.WithCoalescing(coalesce))
		}
		cs := make([]*bitrix.Client, clients)
		for i := range cs {
			cs[i] = webhookClient(t, srv, net, opts...)
		}
		jobs := make(chan int)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var failures []error
		start := time.Now()
		for w := range workers {
			c := cs[w%clients]
			wg.Go(func() {
				for i := range jobs {
					var out struct {
						Item struct {
							ID bitrix.Int `json:"id"`
						} `json:"item"`
					}
					_, err := c.Call(t.Context(), "crm.item.get", bitrix.Params{"entityTypeId": bitrixtest.EntityDeal, "id": ids[i]}, &out)
					if err == nil && int(out.Item.ID) != ids[i] {
						err = fmt.Errorf("call %d got item %d, want %d", i, out.Item.ID, ids[i])
					}
					if err != nil {
						mu.Lock()
						failures = append(failures, err)
						mu.Unlock()
					}
				}
			})
		}
		for i := range calls {
			jobs <- i
		}
		close(jobs)
		wg.Wait()
		r.Virtual = time.Since(start)
		r.Failed = len(failures)
		if len(failures) > 0 {
			r.FirstErr = failures[0]
		}
		r.Calls, r.Goroutines, r.Clients = calls, workers, clients
		r.Requests = srv.Requests()
		r.QueryLimit = codeCount(srv, "QUERY_LIMIT_EXCEEDED")
	})
	return r
}

// TestConcurrentCallsFloor: 120 single calls from 8 goroutines finish
// within 3% of the bucket's floor, (120-50)/2 s = 35 s of virtual time,
// with no QUERY_LIMIT_EXCEEDED; the same with two clients sharing one
// limiter (counted at the portal). Without a shared limiter two clients
// overrun the portal: the control that the check can fail.
func TestConcurrentCallsFloor(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		clients int
		shared  bool
		wantQLE bool
	}{
		{"one client", 1, false, false},
		{"two clients, shared limiter", 2, true, false},
		{"two clients, own limiters (control)", 2, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := measureConcurrent(t, 120, 8, tc.clients, tc.shared, 0)
			t.Logf("%d requests, %d QUERY_LIMIT_EXCEEDED, %d failed calls, %v virtual", r.Requests, r.QueryLimit, r.Failed, r.Virtual)
			if tc.wantQLE {
				if r.QueryLimit == 0 {
					t.Errorf("two unshared limiters: no QUERY_LIMIT_EXCEEDED; the portal's bucket is not being tested")
				}
				return
			}
			if r.QueryLimit != 0 || r.Failed != 0 {
				t.Errorf("QUERY_LIMIT_EXCEEDED answers = %d, failed calls = %d (%v), want 0", r.QueryLimit, r.Failed, r.FirstErr)
			}
			if r.Requests != 120 {
				t.Errorf("requests = %d, want 120", r.Requests)
			}
			fl := floor(120)
			if r.Virtual < fl || r.Virtual > fl*103/100 {
				t.Errorf("120 calls took %v of virtual time, want within 3%% above the floor %v", r.Virtual, fl)
			}
		})
	}
}

// TestConcurrentGetsAtLatency: 120 gets from 120 goroutines at once with
// the portal 200 ms or 1 s away: no QUERY_LIMIT_EXCEEDED (503) at the
// portal and at most 1.03× the bucket's floor, (120-50)/2 s plus the last
// request's round trip, of virtual time.
func TestConcurrentGetsAtLatency(t *testing.T) {
	t.Parallel()
	for _, lat := range latencies {
		t.Run(lat.String(), func(t *testing.T) {
			t.Parallel()
			r := measureConcurrentAt(t, lat, 120, 120, 1, false, 0)
			t.Logf("%d requests, %d QUERY_LIMIT_EXCEEDED, %d failed calls, %v virtual", r.Requests, r.QueryLimit, r.Failed, r.Virtual)
			fl := floor(120) + lat
			if r.QueryLimit != 0 || r.Failed != 0 || r.Requests != 120 {
				t.Errorf("%d requests (want 120), %d QUERY_LIMIT_EXCEEDED (want 0), %d failed (%v)", r.Requests, r.QueryLimit, r.Failed, r.FirstErr)
			}
			if r.Virtual < fl || r.Virtual > fl*103/100 {
				t.Errorf("took %v, want within 3%% above the floor %v", r.Virtual, fl)
			}
		})
	}
}

// TestConcurrentCallsCoalesced: with WithCoalescing the same 120 calls,
// started at once, cost at most 3 requests and no waiting for the bucket;
// from 8 goroutines (at most 8 calls in flight) at most 15.
func TestConcurrentCallsCoalesced(t *testing.T) {
	t.Parallel()
	const window = 5 * time.Millisecond
	for _, tc := range []struct {
		workers, maxRequests int
	}{{120, 3}, {8, 15}} {
		t.Run(fmt.Sprintf("%d goroutines", tc.workers), func(t *testing.T) {
			t.Parallel()
			r := measureConcurrent(t, 120, tc.workers, 1, false, window)
			t.Logf("%d requests, %v virtual", r.Requests, r.Virtual)
			if r.Requests > tc.maxRequests || r.QueryLimit != 0 || r.Failed != 0 {
				t.Errorf("coalesced: %d requests (want <= %d), %d QUERY_LIMIT_EXCEEDED, %d failed (%v)", r.Requests, tc.maxRequests, r.QueryLimit, r.Failed, r.FirstErr)
			}
			if r.Virtual > time.Second {
				t.Errorf("coalesced calls took %v of virtual time; they should not wait for the bucket", r.Virtual)
			}
		})
	}
}
