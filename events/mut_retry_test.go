package events

import (
	"testing"
	"time"
)

// TestRetryPolicyWithDefaults: zero and negative fields take the defaults,
// set ones (down to 1) are kept.
func TestRetryPolicyWithDefaults(t *testing.T) {
	t.Parallel()
	d := DefaultRetryPolicy
	for _, p := range []RetryPolicy{{}, {MaxAttempts: -1, Backoff: -1, MaxBackoff: -1, Visibility: -1}} {
		if got := p.WithDefaults(); got != d {
			t.Errorf("%+v.WithDefaults() = %+v, want %+v", p, got, d)
		}
	}
	one := RetryPolicy{MaxAttempts: 1, Backoff: 1, MaxBackoff: 1, Visibility: 1}
	if got := one.WithDefaults(); got != one {
		t.Errorf("%+v.WithDefaults() = %+v", one, got)
	}
	if d != (RetryPolicy{MaxAttempts: 5, Backoff: time.Second, MaxBackoff: 5 * time.Minute, Visibility: time.Minute}) {
		t.Errorf("DefaultRetryPolicy = %+v", d)
	}
}

// TestRetryPolicyDelayAtTheCap: a wait that reached MaxBackoff stays there
// without doubling further, even where doubling would overflow.
func TestRetryPolicyDelayAtTheCap(t *testing.T) {
	t.Parallel()
	const big = time.Duration(1 << 62)
	p := RetryPolicy{Backoff: big, MaxBackoff: big}
	for n := 1; n <= 4; n++ {
		if got := p.Delay(n); got != big {
			t.Errorf("Delay(%d) = %v, want %v", n, got, big)
		}
	}
	if got := (RetryPolicy{}).Delay(20); got != 5*time.Minute {
		t.Errorf("default Delay(20) = %v", got)
	}
}
