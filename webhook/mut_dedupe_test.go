package webhook

import (
	"fmt"
	"testing"
	"time"
)

// TestMemoryDedupeSweepsEvery256Calls: expired keys stay counted by Len
// until the sweep, which runs on every 256th Claim (as Claim's doc says),
// not on every call.
func TestMemoryDedupeSweepsEvery256Calls(t *testing.T) {
	t.Parallel()
	now := time.Unix(0, 0)
	m := NewMemoryDedupe(func() time.Time { return now })
	ctx := t.Context()
	for i := range 10 { // calls 1..10
		_, _ = m.Claim(ctx, fmt.Sprint("old", i), time.Second)
	}
	now = now.Add(2 * time.Second)
	_, _ = m.Claim(ctx, "new0", time.Minute) // call 11: no sweep
	if n := m.Len(); n != 11 {
		t.Errorf("Len after 11 calls = %d, want 11 (expired keys held until the sweep)", n)
	}
	for i := 1; i < 246; i++ { // calls 12..256
		_, _ = m.Claim(ctx, fmt.Sprint("new", i), time.Minute)
	}
	if n := m.Len(); n != 246 {
		t.Errorf("Len after 256 calls = %d, want 246 (the 10 expired keys swept)", n)
	}
}
