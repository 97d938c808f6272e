//go:build race

package perf_test

// raceEnabled: the race detector slows the fake portal and JSON decoding
// about tenfold, so the default sizes shrink (the claims are the same).
const raceEnabled = true
