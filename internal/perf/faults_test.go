package perf_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/crm"
	"github.com/b24go/sdk/internal/perf"
)

var allFaults = []bitrixtest.FaultKind{bitrixtest.FaultError, bitrixtest.FaultHTML502, bitrixtest.FaultDropBefore, bitrixtest.FaultDropAfter}

type faultCase struct {
	Name  string
	Rate  float64
	Kinds []bitrixtest.FaultKind
}

// batchSeeds is how many seeded runs the batch-level fault tests make: a
// bulk add of 1,000 items is only 20 requests, so at 5% one run sees about
// one fault; eight runs see several (three under the race detector, which
// is ten times slower).
var batchSeeds = map[bool]int{false: 8, true: 3}[raceEnabled]

var faultCases = []faultCase{
	{"5% mixed (5xx, HTML 502, drop before, drop after)", 0.05, allFaults},
	{"10% drop after processing", 0.10, []bitrixtest.FaultKind{bitrixtest.FaultDropAfter}},
}

type exactlyOnceResult struct {
	Case                                        string
	Items, Created, Lost, Duplicated, Recovered int
	Requests, Faults                            int
}

// measureAddManyFaults adds n deals with crm AddMany while the portal fails
// requests at random, and counts every marker at the portal's store.
func measureAddManyFaults(t *testing.T, fc faultCase, n int, seed int64) (r exactlyOnceResult) {
	inBubble(t, cloudLimit, func(t *testing.T, srv *bitrixtest.Server, net *perf.Network) {
		c, err := crm.New(webhookClient(t, srv, net))
		if err != nil {
			t.Fatal(err)
		}
		items := make([]crm.Fields, n)
		for i := range items {
			items[i] = crm.Fields{"title": fmt.Sprintf("Order %04d", i), "originId": fmt.Sprintf("erp-%04d", i)}
		}
		srv.FaultRate(fc.Rate, seed, fc.Kinds...)
		res, err := c.Items(crm.Deal).AddMany(t.Context(), items)
		srv.FaultRate(0, 0)
		if err != nil {
			t.Fatal(err)
		}
		r.Case, r.Items, r.Requests, r.Faults = fc.Name, n, srv.Requests(), srv.FaultsInjected()
		for i, br := range res {
			if br.Err != nil {
				t.Errorf("item %d: %v (AddMany must add every item with no action by the caller)", i, br.Err)
			}
			if br.Recovered {
				r.Recovered++
			}
		}
		count := map[string]int{}
		for _, it := range srv.CRMItems(bitrixtest.EntityDeal) {
			count[fmt.Sprint(it["originId"])]++
			r.Created++
		}
		for i := range items {
			switch k := count[fmt.Sprintf("erp-%04d", i)]; {
			case k == 0:
				r.Lost++
			case k > 1:
				r.Duplicated += k - 1
			}
		}
	})
	return r
}

// TestAddManyFaultsExactlyOnce: with random faults, AddMany creates every
// one of 1,000 items exactly once: zero lost, zero duplicated.
func TestAddManyFaultsExactlyOnce(t *testing.T) {
	skipShort(t)
	t.Parallel()
	for i, fc := range faultCases {
		t.Run(fc.Name, func(t *testing.T) {
			t.Parallel()
			faults := 0
			for s := range batchSeeds {
				r := measureAddManyFaults(t, fc, 1000, int64(100*i+s))
				t.Logf("%+v", r)
				faults += r.Faults
				if r.Created != 1000 || r.Lost != 0 || r.Duplicated != 0 {
					t.Errorf("seed %d: created %d, lost %d, duplicated %d; want 1000, 0, 0", s, r.Created, r.Lost, r.Duplicated)
				}
			}
			if faults < batchSeeds/2 {
				t.Fatalf("only %d faults fired in %d runs", faults, batchSeeds)
			}
		})
	}
}

// outcome of one write made with plain Call or Batch.
type plainResult struct {
	Case, API                               string
	Items, OK, Failed, MaybeApplied         int
	MaybeAppliedCreated, Requests, Faults   int
	SilentLosses, Duplicates, FalseFailures int
	NotRun                                  int // commands never sent (ErrNotRun)
}

// classify checks each item against the store: a success must exist once;
// a failure that is not ErrMaybeApplied must not exist; nothing twice.
func classify(t *testing.T, srv *bitrixtest.Server, errs []error, r *plainResult) {
	t.Helper()
	count := map[string]int{}
	for _, it := range srv.CRMItems(bitrixtest.EntityDeal) {
		count[fmt.Sprint(it["title"])]++
	}
	for i, err := range errs {
		k := count[fmt.Sprintf("Plain %04d", i)]
		if k > 1 {
			r.Duplicates += k - 1
		}
		if errors.Is(err, bitrix.ErrNotRun) {
			r.NotRun++
		}
		switch {
		case err == nil:
			r.OK++
			if k == 0 {
				r.SilentLosses++
			}
		case errors.Is(err, bitrix.ErrMaybeApplied):
			r.MaybeApplied++
			if k > 0 {
				r.MaybeAppliedCreated++
			}
		default:
			r.Failed++
			if k > 0 {
				r.FalseFailures++ // reported as failed, yet applied
			}
		}
	}
}

func plainFields(i int) bitrix.Params {
	return bitrix.Params{"entityTypeId": bitrixtest.EntityDeal, "fields": bitrix.Params{"title": fmt.Sprintf("Plain %04d", i)}}
}

// measurePlainFaults writes n deals with plain Batch (one Batch of n
// commands) or plain Call (8 goroutines) under random faults.
func measurePlainFaults(t *testing.T, fc faultCase, api string, n int, seed int64) (r plainResult) {
	inBubble(t, cloudLimit, func(t *testing.T, srv *bitrixtest.Server, net *perf.Network) {
		c := webhookClient(t, srv, net)
		errs := make([]error, n)
		srv.FaultRate(fc.Rate, seed, fc.Kinds...)
		switch api {
		case "Batch":
			// One Batch of n commands: its requests go out in parallel and a
			// failed one does not stop the others.
			b := c.NewBatch()
			cmds := make([]*bitrix.BatchCmd, n)
			for i := range n {
				cmds[i] = b.Add("", "crm.item.add", plainFields(i))
			}
			_ = b.Run(t.Context()) // per-command errors below
			for i, cmd := range cmds {
				errs[i] = cmd.Err()
			}
		case "Call":
			jobs := make(chan int)
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					for i := range jobs {
						_, errs[i] = c.Call(t.Context(), "crm.item.add", plainFields(i), nil)
					}
				})
			}
			for i := range n {
				jobs <- i
			}
			close(jobs)
			wg.Wait()
		}
		srv.FaultRate(0, 0)
		r.Case, r.API, r.Items, r.Requests, r.Faults = fc.Name, api, n, srv.Requests(), srv.FaultsInjected()
		classify(t, srv, errs, &r)
	})
	return r
}

// TestPlainWritesFaults: with plain Call and Batch every item is created
// once, or its caller is told it failed (and it was not created) or that it
// may have been applied; nothing is lost silently and the SDK's retries
// create nothing twice.
func TestPlainWritesFaults(t *testing.T) {
	skipShort(t)
	t.Parallel()
	for i, fc := range faultCases {
		for _, api := range []string{"Batch", "Call"} {
			t.Run(api+"/"+fc.Name, func(t *testing.T) {
				t.Parallel()
				runs := 1 // 1,000 requests
				if api == "Batch" {
					runs = batchSeeds // 20 requests per run
				}
				faults := 0
				for s := range runs {
					r := measurePlainFaults(t, fc, api, 1000, int64(100*i+s))
					t.Logf("%+v", r)
					faults += r.Faults
					if r.SilentLosses != 0 || r.Duplicates != 0 || r.FalseFailures != 0 || r.NotRun != 0 {
						t.Errorf("silent losses %d, duplicates %d, failures that were applied %d, commands never sent %d; want 0",
							r.SilentLosses, r.Duplicates, r.FalseFailures, r.NotRun)
					}
					if r.OK+r.Failed+r.MaybeApplied != r.Items || r.OK == 0 {
						t.Errorf("outcomes do not add up: %+v", r)
					}
				}
				if faults < runs/2 {
					t.Fatalf("only %d faults fired in %d runs", faults, runs)
				}
			})
		}
	}
}

type refreshResult struct {
	Calls, Failed, Refreshes, TokenRequests int
	FirstErr                                error
}

// measureExpiredToken makes 50 concurrent calls with an expired access
// token (revoke: the refresh itself is refused with invalid_grant).
func measureExpiredToken(t *testing.T, revoke bool) (r refreshResult) {
	inBubble(t, cloudLimit, func(t *testing.T, srv *bitrixtest.Server, net *perf.Network) {
		c := oauthClient(t, srv, net)
		if _, err := c.Call(t.Context(), "profile", nil, nil); err != nil {
			t.Fatal(err)
		}
		if revoke {
			srv.RevokeTokens()
		} else {
			srv.ExpireAccessTokens()
		}
		before := srv.RefreshCount()
		errs := parallelCalls(50, func(int) error {
			_, err := c.Call(t.Context(), "profile", nil, nil)
			return err
		})
		r.Calls = 50
		for _, err := range errs {
			if err != nil {
				r.Failed++
				if r.FirstErr == nil {
					r.FirstErr = err
				}
				if revoke && !(errors.Is(err, bitrix.ErrInvalidGrant) && errors.Is(err, bitrix.ErrRefresh)) {
					t.Errorf("call failed with %v, want ErrRefresh and ErrInvalidGrant", err)
				}
			}
		}
		r.Refreshes = srv.RefreshCount() - before
		r.TokenRequests = topLevel(srv, "oauth.token")
	})
	return r
}

func parallelCalls(n int, call func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = call(i) })
	}
	wg.Wait()
	return errs
}

// TestExpiredTokenOneRefresh: 50 concurrent calls on an expired token cause
// exactly one refresh and no failed call; when the refresh is refused
// (invalid_grant) every call fails with a typed error.
func TestExpiredTokenOneRefresh(t *testing.T) {
	t.Parallel()
	t.Run("expired", func(t *testing.T) {
		t.Parallel()
		r := measureExpiredToken(t, false)
		t.Logf("%+v", r)
		if r.Refreshes != 1 || r.TokenRequests != 1 || r.Failed != 0 {
			t.Errorf("refreshes %d, token requests %d, failed calls %d (%v); want 1, 1, 0", r.Refreshes, r.TokenRequests, r.Failed, r.FirstErr)
		}
	})
	t.Run("invalid_grant", func(t *testing.T) {
		t.Parallel()
		r := measureExpiredToken(t, true)
		t.Logf("%+v", r)
		if r.Failed != 50 || r.Refreshes != 0 || r.TokenRequests != 1 {
			t.Errorf("failed calls %d, refreshes %d, token requests %d; want 50, 0, 1", r.Failed, r.Refreshes, r.TokenRequests)
		}
	})
}

type operatingResult struct {
	ResetWait, OtherDone       time.Duration
	OtherCalls, LimitedAnswers int
}

// measureOperatingLimit: one method exhausts its operating time; it waits
// for operating_reset_at while another method keeps flowing.
func measureOperatingLimit(t *testing.T) (r operatingResult) {
	opts := append([]bitrixtest.Option{bitrixtest.WithOperatingLimit(10 * time.Second), bitrixtest.WithMethodCost("crm.item.get", 4*time.Second)}, cloudLimit...)
	inBubble(t, opts, func(t *testing.T, srv *bitrixtest.Server, net *perf.Network) {
		ids, _ := srv.SeedCRMItems(bitrixtest.EntityDeal, 1, nil)
		c := webhookClient(t, srv, net)
		get := bitrix.Params{"entityTypeId": bitrixtest.EntityDeal, "id": ids[0]}
		start := time.Now()
		var resetAt time.Time
		for i := range 3 { // 12 s of operating time: over the 10 s budget
			resp, err := c.Call(t.Context(), "crm.item.get", get, nil)
			if err != nil {
				t.Fatalf("get %d: %v", i, err)
			}
			resetAt = resp.Time.OperatingResetAt
		}
		if resetAt.IsZero() {
			t.Fatal("no operating_reset_at in the answers")
		}
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := range 100 {
				if _, err := c.Call(t.Context(), "crm.item.fields", bitrix.Params{"entityTypeId": bitrixtest.EntityDeal}, nil); err != nil {
					t.Errorf("other method, call %d: %v", i, err)
				}
				r.OtherCalls++
			}
			r.OtherDone = time.Since(start)
		})
		if _, err := c.Call(t.Context(), "crm.item.get", get, nil); err != nil {
			t.Errorf("blocked method after the reset: %v", err)
		}
		if now := time.Now(); now.Before(resetAt) {
			t.Errorf("blocked method answered at %v, before operating_reset_at %v", now, resetAt)
		}
		r.ResetWait = time.Since(start)
		wg.Wait()
		r.LimitedAnswers = codeCount(srv, "OPERATION_TIME_LIMIT")
	})
	return r
}

// TestOperatingLimitOneMethod: after OPERATION_TIME_LIMIT the method waits
// until operating_reset_at (one refused answer, no hammering) and the
// other method's 100 calls (about 30 s at 2 req/s) finish long before that.
func TestOperatingLimitOneMethod(t *testing.T) {
	t.Parallel()
	r := measureOperatingLimit(t)
	t.Logf("%+v", r)
	if r.LimitedAnswers != 1 {
		t.Errorf("OPERATION_TIME_LIMIT answers = %d, want 1", r.LimitedAnswers)
	}
	if r.OtherCalls != 100 || r.OtherDone >= r.ResetWait || r.OtherDone > time.Minute {
		t.Errorf("other method: %d calls done after %v, blocked method after %v; the other method must not wait", r.OtherCalls, r.OtherDone, r.ResetWait)
	}
	if r.ResetWait < 9*time.Minute {
		t.Errorf("blocked method waited only %v (the budget resets 10 minutes after the first call)", r.ResetWait)
	}
}

type operatingExportResult struct {
	Rows, Requests, Limited int
	Budget, PageCost        time.Duration
	Virtual, Floor          time.Duration
	Err                     error
}

// measureOperatingExport exports rows deals with bitrix.All while every
// crm.item.list call costs cost of operating time: more than the 480 s
// budget of ten minutes in all (settings/performance/limits.md), so the
// export must wait for the window to move on. opts configure the client.
func measureOperatingExport(t *testing.T, rows int, cost time.Duration, opts ...bitrix.Option) (r operatingExportResult) {
	sopts := append([]bitrixtest.Option{bitrixtest.WithMethodCost("crm.item.list", cost), bitrixtest.WithLatency(200 * time.Millisecond)}, cloudLimit...)
	inBubble(t, sopts, func(t *testing.T, srv *bitrixtest.Server, net *perf.Network) {
		if _, err := srv.SeedCRMItems(bitrixtest.EntityDeal, rows, nil); err != nil {
			t.Fatal(err)
		}
		c := webhookClient(t, srv, net, opts...)
		q := bitrix.Query{Method: "crm.item.list", Params: bitrix.Params{"entityTypeId": bitrixtest.EntityDeal}, ItemsKey: "items", IDField: "id"}
		start := time.Now()
		for _, err := range bitrix.All[crm.Item](t.Context(), c, q) {
			if err != nil {
				r.Err = err
				break
			}
			r.Rows++
		}
		r.Virtual = time.Since(start)
		r.Requests = srv.Requests()
		r.Limited = codeCount(srv, "OPERATION_TIME_LIMIT")
		r.Budget, r.PageCost = bitrix.DefaultOperatingBudget, cost
		// The floor: each ten-minute window admits at most the budget.
		pages := time.Duration((rows + 49) / 50)
		r.Floor = (pages*cost - 1) / bitrix.DefaultOperatingBudget * 10 * time.Minute
	})
	return r
}

// TestOperatingBudgetExport: an export that needs 800 s of operating time
// (200 pages at 4 s) finishes at the default settings with no
// OPERATION_TIME_LIMIT answer, waiting for the window instead; without the
// pacing (WithOperatingBudget(0)) the portal refuses a page and the export
// fails: the control.
func TestOperatingBudgetExport(t *testing.T) {
	skipShort(t)
	t.Parallel()
	rows, cost := 10_000, 4*time.Second
	if raceEnabled { // the same 800 s on half the rows
		rows, cost = 5_000, 8*time.Second
	}
	r := measureOperatingExport(t, rows, cost)
	t.Logf("%+v", r)
	if r.Err != nil || r.Rows != rows || r.Limited != 0 {
		t.Errorf("paced export: %d of %d rows, %d OPERATION_TIME_LIMIT (want 0), err %v", r.Rows, rows, r.Limited, r.Err)
	}
	if r.Virtual < r.Floor || r.Virtual > r.Floor+2*time.Minute {
		t.Errorf("paced export took %v, want just over the budget's floor %v", r.Virtual, r.Floor)
	}
	ctl := measureOperatingExport(t, rows, cost, bitrix.WithOperatingBudget(0))
	t.Logf("control %+v", ctl)
	if ctl.Limited == 0 {
		t.Errorf("without pacing the export met no OPERATION_TIME_LIMIT: the scenario does not reach the budget")
	}
}
