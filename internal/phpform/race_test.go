//go:build race

package phpform

// raceEnabled: under the race detector sync.Pool drops items at random.
const raceEnabled = true
