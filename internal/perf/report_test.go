package perf_test

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/b24go/sdk/bitrix"
)

var report = flag.Bool("report", false, "run the whole suite at full size and print the table of docs/BENCHMARKS.md")

// TestReport runs every measurement at the sizes of docs/BENCHMARKS.md and
// prints the table (markdown). It asserts nothing the other tests do not
// assert already; it is skipped unless -report is given:
//
//	go test -count=1 -run '^TestReport$' -report -v ./internal/perf/
func TestReport(t *testing.T) {
	if !*report {
		t.Skip("run with -report")
	}
	var rows [][3]string
	add := func(area, what, figure string) {
		rows = append(rows, [3]string{area, what, figure})
	}
	start := time.Now()

	// Each export runs in a subtest so that its portal is closed (and its
	// store freed) before the next heap measurement.
	export := func(n int, retain bool) (r exportResult) {
		t.Run(fmt.Sprint("export", n, retain), func(t *testing.T) { r = measureExport(t, n, retain) })
		return r
	}
	for _, n := range []int{20_000, 100_000} {
		r := export(n, false)
		add("throughput", fmt.Sprintf("full export of %d deals (bitrix.All, fast ID scan), portal at 2 req/s burst 50", n),
			fmt.Sprintf("%d HTTP requests (floor %d), %d QUERY_LIMIT_EXCEEDED; heap in use %s at 1,000 rows, max %s at later checkpoints (+%s)",
				r.Requests, (n+2499)/2500, r.QueryLimit, mib(r.base()), mib(r.max()), mib(r.max()-r.base())))
	}
	if r := export(20_000, true); true {
		add("throughput", "control: the same export keeping every row", fmt.Sprintf("heap in use %s at 1,000 rows, %s at 20,000 (+%s)", mib(r.base()), mib(r.max()), mib(r.max()-r.base())))
	}
	if r := measureBulkAdd(t, 1000); true {
		add("throughput", "bulk add of 1,000 deals (crm AddMany)", fmt.Sprintf("%d HTTP requests, %d QUERY_LIMIT_EXCEEDED, %v virtual", r.Requests, r.QueryLimit, r.Virtual))
	}
	for _, tc := range []struct {
		what             string
		workers, clients int
		shared           bool
		window           time.Duration
	}{
		{"120 single calls, 8 goroutines, one client", 8, 1, false, 0},
		{"120 single calls, 8 goroutines, two clients sharing one limiter", 8, 2, true, 0},
		{"control: two clients with their own limiters", 8, 2, false, 0},
		{"120 single calls, 120 goroutines, WithCoalescing(5ms)", 120, 1, false, 5 * time.Millisecond},
		{"120 single calls, 8 goroutines, WithCoalescing(5ms)", 8, 1, false, 5 * time.Millisecond},
	} {
		r := measureConcurrent(t, 120, tc.workers, tc.clients, tc.shared, tc.window)
		add("throughput", tc.what, fmt.Sprintf("%d HTTP requests, %d QUERY_LIMIT_EXCEEDED, %d failed calls, %.2f s virtual (floor %.0f s without coalescing)",
			r.Requests, r.QueryLimit, r.Failed, r.Virtual.Seconds(), floor(120).Seconds()))
	}

	for _, lat := range latencies {
		for _, api := range []string{"Batch", "AddMany"} {
			for _, par := range []int{1, bitrix.DefaultParallelism} {
				r := measureAddsAtLatency(t, api, 1000, lat, par)
				add("latency", fmt.Sprintf("1,000 adds via %s, portal %v away, WithParallelism(%d)", api, lat, par),
					fmt.Sprintf("%d HTTP requests, %.1f s virtual (%.1f round trips), %d in flight at most, %d duplicates, %d results not matching their input",
						r.Requests, r.Virtual.Seconds(), r.Virtual.Seconds()/lat.Seconds(), r.Peak, r.Duplicates, r.OutOfOrder))
			}
		}
		r := measureConcurrentAt(t, lat, 120, 120, 1, false, 0)
		fl := floor(120) + lat
		add("latency", fmt.Sprintf("120 concurrent crm.item.get (120 goroutines), portal %v away", lat),
			fmt.Sprintf("%d QUERY_LIMIT_EXCEEDED (503), %d failed, %.2f s virtual = %.3f× the floor %.1f s", r.QueryLimit, r.Failed, r.Virtual.Seconds(), r.Virtual.Seconds()/fl.Seconds(), fl.Seconds()))
	}
	for _, rs := range [][]scanLatencyResult{
		measureScanAtLatency(t, 100_000, 200*time.Millisecond, true, 1, bitrix.DefaultParallelism),
		measureScanAtLatency(t, 100_000, time.Second, false, 1, bitrix.DefaultParallelism),
	} {
		for _, r := range rs {
			heap := "heap not sampled"
			if len(r.Points) > 0 {
				er := exportResult{Points: r.Points}
				heap = fmt.Sprintf("heap in use %s at 1,000 rows, max %s", mib(er.base()), mib(er.max()))
			}
			add("latency", fmt.Sprintf("scan of 100,000 deals (bitrix.All), portal %v away, WithParallelism(%d)", r.Latency, r.Parallelism),
				fmt.Sprintf("%d HTTP requests (bound %d), %.1f s virtual, %d in flight at most; %s", r.Requests, maxRequests(r.Rows, r.Parallelism), r.Virtual.Seconds(), r.Peak, heap))
		}
	}
	if r := measureOperatingExport(t, 10_000, 4*time.Second); true {
		add("latency", "export of 10,000 deals needing 800 s of operating time (4 s per page, budget 480 s / 10 min), portal 200 ms away",
			fmt.Sprintf("%d rows, %d OPERATION_TIME_LIMIT, %d requests, %.1f s virtual (floor %.0f s)", r.Rows, r.Limited, r.Requests, r.Virtual.Seconds(), r.Floor.Seconds()))
	}

	for i, fc := range faultCases {
		var sum exactlyOnceResult
		for s := range 8 {
			r := measureAddManyFaults(t, fc, 1000, int64(100*i+s))
			sum.Created += r.Created
			sum.Lost += r.Lost
			sum.Duplicated += r.Duplicated
			sum.Recovered += r.Recovered
			sum.Requests += r.Requests
			sum.Faults += r.Faults
		}
		add("faults", "crm AddMany of 1,000 deals ×8 seeds, "+fc.Name,
			fmt.Sprintf("%d created of 8,000, %d lost, %d duplicated; %d faults in %d requests, %d items confirmed by marker lookup",
				sum.Created, sum.Lost, sum.Duplicated, sum.Faults, sum.Requests, sum.Recovered))
		for _, api := range []string{"Batch", "Call"} {
			runs := 1
			if api == "Batch" {
				runs = 8
			}
			var sum plainResult
			for s := range runs {
				r := measurePlainFaults(t, fc, api, 1000, int64(100*i+s))
				sum.Items += r.Items
				sum.OK += r.OK
				sum.Failed += r.Failed
				sum.MaybeApplied += r.MaybeApplied
				sum.MaybeAppliedCreated += r.MaybeAppliedCreated
				sum.SilentLosses += r.SilentLosses
				sum.Duplicates += r.Duplicates
				sum.FalseFailures += r.FalseFailures
				sum.Faults += r.Faults
				sum.Requests += r.Requests
			}
			add("faults", fmt.Sprintf("plain %s, %d crm.item.add, %s", api, sum.Items, fc.Name),
				fmt.Sprintf("%d ok, %d failed (none applied: %d), %d ErrMaybeApplied (%d of them applied); %d silent losses, %d duplicates; %d faults in %d requests",
					sum.OK, sum.Failed, sum.FalseFailures, sum.MaybeApplied, sum.MaybeAppliedCreated, sum.SilentLosses, sum.Duplicates, sum.Faults, sum.Requests))
		}
	}
	if r := measureExpiredToken(t, false); true {
		add("faults", "50 concurrent calls on an expired OAuth token", fmt.Sprintf("%d refresh at the portal, %d failed calls", r.Refreshes, r.Failed))
	}
	if r := measureExpiredToken(t, true); true {
		add("faults", "50 concurrent calls, refresh refused (invalid_grant)", fmt.Sprintf("%d of 50 calls fail with ErrRefresh+ErrInvalidGrant, %d token requests", r.Failed, r.TokenRequests))
	}
	if r := measureOperatingLimit(t); true {
		add("faults", "OPERATION_TIME_LIMIT on crm.item.get (budget 10 s, 4 s per call)",
			fmt.Sprintf("%d refused answer; crm.item.get resumes after %v (operating_reset_at); crm.item.fields: %d calls done after %.1f s",
				r.LimitedAnswers, r.ResetWait, r.OtherCalls, r.OtherDone.Seconds()))
	}
	if r := measureMixed(t, 10_000, 16); true {
		add("events", "10,000 mixed deliveries (valid, wrong token, malformed, oversized, panicking handler), 16 senders",
			fmt.Sprintf("statuses %v (want %v), %d other statuses, %d goroutines left", r.Got, r.Want, r.Wrong, r.LeakedGoroutines))
	}
	ingest := measureIngest(t, 20_000, 8)
	for i := 0; i+1 < len(ingest); i += 2 {
		bare, full := ingest[i], ingest[i+1]
		add("events", fmt.Sprintf("%s over loopback, 20,000 requests, 8 workers", full.Event),
			fmt.Sprintf("bare net/http %.0f req/s (p50 %v, p99 %v); webhook.Handler %.0f req/s (p50 %v, p99 %v): **%.2f×** of bare",
				bare.perSecond(), bare.P50.Round(time.Microsecond), bare.P99.Round(time.Microsecond),
				full.perSecond(), full.P50.Round(time.Microsecond), full.P99.Round(time.Microsecond), full.perSecond()/bare.perSecond()))
	}
	for _, ef := range eventFiles {
		add("events", ef.Name+": allocations per parsed, verified, dispatched event", fmt.Sprintf("%.0f (budget %.0f)", parseAllocs(t, ef.File), allocBudget[ef.Name]))
	}

	var b strings.Builder
	fmt.Fprintf(&b, "\n%s, %s/%s, GOMAXPROCS %d, suite took %v\n\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), time.Since(start).Round(time.Second))
	b.WriteString("| area | measurement | result |\n|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", r[0], r[1], r[2])
	}
	fmt.Fprint(os.Stdout, b.String())
}
