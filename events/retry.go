package events

import "time"

// RetryPolicy bounds the attempts at an event whose handler fails: the
// durable webhook intake (webhook.WithQueue) and the offline [Consumer]
// both follow it, so every intake path fails the same way: a few retries
// after growing waits, then the dead letters (the queue's, or the portal's
// records marked with event.offline.error).
type RetryPolicy struct {
	// MaxAttempts is the number of handler runs before an event goes to
	// the dead letters (default 5).
	MaxAttempts int
	// Backoff is the wait before the second attempt (default 1 s); each
	// later wait doubles, up to MaxBackoff (default 5 min).
	Backoff, MaxBackoff time.Duration
	// Visibility is how long a claimed job of a durable queue stays
	// hidden from other workers (default 1 min). A worker that has not
	// finished by then is taken for dead and the job is claimed again; the
	// handler's context ends at that time, so a handler that outruns it
	// stops rather than running twice at once. The offline Consumer does
	// not use it.
	Visibility time.Duration
}

// DefaultRetryPolicy is the policy unset fields are filled from.
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 5, Backoff: time.Second, MaxBackoff: 5 * time.Minute, Visibility: time.Minute}

// WithDefaults returns p with its unset (zero or negative) fields taken
// from [DefaultRetryPolicy].
func (p RetryPolicy) WithDefaults() RetryPolicy {
	d := DefaultRetryPolicy
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = d.MaxAttempts
	}
	if p.Backoff <= 0 {
		p.Backoff = d.Backoff
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = d.MaxBackoff
	}
	if p.Visibility <= 0 {
		p.Visibility = d.Visibility
	}
	return p
}

// Delay returns the wait after failed attempt n (1-based).
func (p RetryPolicy) Delay(n int) time.Duration {
	p = p.WithDefaults()
	d := p.Backoff
	for i := 1; i < n && d < p.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, p.MaxBackoff)
}
