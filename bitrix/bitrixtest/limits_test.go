package bitrixtest

import (
	"testing"
	"time"
)

// TestBucketAfterClockSetBack: a clock set back neither freezes the leaky
// bucket until the clock catches up nor empties it: the level stays, and
// it drains again from the new time.
func TestBucketAfterClockSetBack(t *testing.T) {
	t.Parallel()
	s := NewServer(t, WithRateLimit(2, 4), WithoutOperatingLimit())
	base := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	s.SetTime(base)
	call := func() int {
		return callHook(t, s, "user.current", nil).Status
	}
	for i := range 4 {
		if st := call(); st != 200 {
			t.Fatalf("call %d of the burst: HTTP %d", i+1, st)
		}
	}
	if st := call(); st != 503 {
		t.Fatalf("call over the burst: HTTP %d, want 503", st)
	}

	s.SetTime(base.Add(-time.Hour))
	if st := call(); st != 503 {
		t.Errorf("a clock set back admitted a call over the burst: HTTP %d", st)
	}
	s.Advance(time.Second) // drains 2
	for i := range 2 {
		if st := call(); st != 200 {
			t.Errorf("call %d one second after the clock was set back: HTTP %d, want 200", i+1, st)
		}
	}
	if st := call(); st != 503 {
		t.Errorf("third call one second after the clock was set back: HTTP %d, want 503", st)
	}
}
