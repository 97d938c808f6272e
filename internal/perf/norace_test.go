//go:build !race

package perf_test

const raceEnabled = false
