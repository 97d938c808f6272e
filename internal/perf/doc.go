// Package perf holds the SDK's performance and reliability suite: request
// counts and memory of full scans and bulk writes against the fake portal's
// rate limit, the 120-concurrent-calls floor (with and without
// bitrix.WithCoalescing), fault injection (exactly-once bulk adds, no silent
// losses, one refresh for many callers, operating-time blocks), event
// ingestion throughput and robustness, the same workloads with the portal
// 200 ms or 1 s away (bitrixtest.WithLatency: parallel bulk writes, sharded
// scans, operating-time pacing), and fuzz targets for the parsers that have
// none elsewhere.
//
// # Sections
//
// The tests run in the default `go test ./internal/perf/` at sizes that
// prove the claims; time-dependent ones run under testing/synctest over
// an in-memory network ([Serve], [Network]) so that 35 seconds of
// rate-limit waiting cost no real time. The flag -perf.full runs the big
// sizes (100,000 rows, 10,000 deliveries), and
//
//	go test ./internal/perf/ -run TestReport -report
//
// prints the table of docs/BENCHMARKS.md (scripts/bench.sh runs it with the
// benchmarks of the other packages).
//
// The only non-test code is [Network], the in-memory network.
package perf
