#!/usr/bin/env bash
# Runs the performance and reliability suite and prints the tables of
# docs/BENCHMARKS.md. No make, no extra tools: only the Go toolchain.
#
#   scripts/bench.sh           # the suite's table (internal/perf TestReport), ~1 min
#   scripts/bench.sh --all     # plus every package's go test -bench (1 s each)
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== performance and reliability suite (internal/perf, TestReport)"
go test -count=1 ./internal/perf/ -run '^TestReport$' -v -report |
  grep -v -e '^=== ' -e '^--- ' -e '^    [a-z_]*_test.go:' -e '^PASS$' -e '^ok '

if [ "${1:-}" = "--all" ]; then
  for pkg in ./bitrix/ ./bitrix/bitrixtest/ ./crm/ ./webhook/ ./internal/phpform/; do
    echo
    echo "== go test -run XXX -bench . -benchtime 1s $pkg"
    go test -count=1 -run XXX -bench . -benchtime 1s "$pkg" | grep -e '^Benchmark' -e 'ns/op' || true
  done
fi
