#!/bin/sh
# cpu.sh BINARY FIXTURE MODE [TOKEN]: serve FIXTURE's form body with
# BINARY (go build -o BINARY ./internal/intakebench) on core 0
# (GOMAXPROCS=1), load it with wrk on core 1 (8 connections, or $CONNS;
# 4 s), and print requests/s and the server's CPU time (user+system, from
# /proc/PID/stat) per request. TOKEN defaults to the fixture's own;
# pass "wrong" for the 401 path. Mode redis uses the Redis at $REDIS
# (default 127.0.0.1:6379). docs/BENCHMARKS.md, "Intake, external
# load generator".
set -eu
bin=$1 fixture=$2 mode=$3
"$bin" -body "$fixture" -print >/tmp/intakebench.body 2>/tmp/intakebench.tok
token=${4:-$(cat /tmp/intakebench.tok)}
GOMAXPROCS=1 taskset -c 0 "$bin" -mode "$mode" -token "$token" -redis "${REDIS:-127.0.0.1:6379}" 2>/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
sleep 0.5
c0=$(awk '{print $14+$15}' /proc/$pid/stat)
out=$(taskset -c 1 wrk -t1 -c"${CONNS:-8}" -d4s -s "$(dirname "$0")/post.lua" http://127.0.0.1:8099/)
c1=$(awk '{print $14+$15}' /proc/$pid/stat)
n=$(echo "$out" | awk '/requests in/{print $1}')
rps=$(echo "$out" | awk '/Requests\/sec/{print $2}')
ticks=$(getconf CLK_TCK)
echo "$(basename "$fixture" .json) $mode${4:+ token=$4} rps=$rps cpu_us_per_req=$(echo "scale=1; ($c1-$c0)*1000000/$ticks/$n" | bc)"
