package perf_test

import (
	"testing"
	"testing/synctest"
)

// TestBubbleGoroutines: the leak count sees the goroutines the bubble
// starts and none started outside it meanwhile, so a finalizer or another
// test's goroutine cannot fail a leak check (runtime.NumGoroutine counts
// both).
func TestBubbleGoroutines(t *testing.T) {
	spawn, spawned, stop := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() { // outside any bubble
		<-spawn
		go func() { <-stop }()
		close(spawned)
	}()
	defer close(stop)
	synctest.Test(t, func(t *testing.T) {
		base := len(bubbleGoroutines(t))
		close(spawn)
		<-spawned
		if got := len(bubbleGoroutines(t)); got != base {
			t.Errorf("a goroutine started outside the bubble is counted: %d, want %d", got, base)
		}
		release := make(chan struct{})
		for range 2 {
			go func() { <-release }()
		}
		synctest.Wait()
		if got := len(bubbleGoroutines(t)); got != base+2 {
			t.Errorf("bubble goroutines with two started: %d, want %d", got, base+2)
		}
		close(release)
		synctest.Wait()
		if got := len(bubbleGoroutines(t)); got != base {
			t.Errorf("bubble goroutines after both ended: %d, want %d", got, base)
		}
	})
}
