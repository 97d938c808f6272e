//go:build !race

package phpform

const raceEnabled = false
