package bitrix

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Rate-limit presets of Bitrix24 cloud portals (requests drained per second
// and the bucket size). Self-hosted portals have no request-rate limit by
// default.
const (
	DefaultRate     = 2.0
	DefaultBurst    = 50
	EnterpriseRate  = 5.0
	EnterpriseBurst = 250
)

// Limiter is a client-side request-rate limiter. Wait blocks until one
// request for the portal identified by key may be sent and debits it; it
// returns early with the context's error.
//
// Every HTTP request the client sends (retries and batches included, a
// batch counting once) goes through Wait. Implementations must be safe for
// concurrent use; share one between all clients of a portal.
type Limiter interface {
	Wait(ctx context.Context, key string) error
}

// BucketLimiter is an in-memory leaky bucket per key, the same model as the
// portal's: each request adds one unit, the bucket drains at a fixed rate,
// and a request that would overflow the bucket waits
// ([request limits]: "the counter value automatically decreases by Y once
// per second").
//
// The client debits a request when it sends it and the portal when it
// arrives, so requests in flight can reach the portal closer together than
// they left. To absorb that jitter the bucket holds [DefaultBurstMargin]
// requests fewer than the configured burst (at least 1 remains). It drains
// at the configured rate: both clocks tick at the same speed, and a slower
// drain only costs time (a 120-call storm took 1.08× the portal's floor
// with a 5% margin). [WithBurstMargin] and [WithDrainMargin] change the
// margins.
//
// [request limits]: https://apidocs.bitrix24.com/settings/performance/limits.html
type BucketLimiter struct {
	// The 120-call storm figure above: docs/BENCHMARKS.md.
	rate  float64 // effective drain per second
	capac float64 // effective bucket size
	mu    sync.Mutex
	keys  map[string]*bucket
	now   func() time.Time
}

type bucket struct {
	level float64
	last  time.Time
}

// DefaultBurstMargin is how many requests a [BucketLimiter] keeps back from
// the burst unless [WithBurstMargin] says otherwise.
const DefaultBurstMargin = 2

// LimiterOption configures [NewLimiter]. Options validate their
// arguments; NewLimiter returns the first error.
type LimiterOption func(*limiterConfig) error

type limiterConfig struct {
	burstMargin int
	drainMargin float64
}

// WithBurstMargin keeps n requests back from the burst (default
// [DefaultBurstMargin]; the bucket keeps room for at least one request).
// A negative n is an error.
func WithBurstMargin(n int) LimiterOption {
	return func(c *limiterConfig) error {
		if n < 0 {
			return fmt.Errorf("bitrix: WithBurstMargin: negative margin %d", n)
		}
		c.burstMargin = n
		return nil
	}
}

// WithDrainMargin makes the bucket drain the given fraction slower than
// the configured rate (default 0; 0.05 drains at 95%). A fraction outside
// [0, 0.5] is an error.
func WithDrainMargin(fraction float64) LimiterOption {
	return func(c *limiterConfig) error {
		if !(fraction >= 0 && fraction <= 0.5) {
			return fmt.Errorf("bitrix: WithDrainMargin: %v is outside [0, 0.5]", fraction)
		}
		c.drainMargin = fraction
		return nil
	}
}

// NewLimiter returns a leaky bucket draining perSecond requests per second
// with room for burst requests (less the margins). It fails if perSecond
// is not positive (or above a million), burst < 1, or an option is
// invalid.
func NewLimiter(perSecond float64, burst int, opts ...LimiterOption) (*BucketLimiter, error) {
	if err := checkRate(perSecond, burst); err != nil {
		return nil, err
	}
	cfg := limiterConfig{burstMargin: DefaultBurstMargin}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	return newBucketLimiter(perSecond, burst, cfg), nil
}

// defaultLimiter is the limiter of a client built without WithLimiter.
func defaultLimiter() *BucketLimiter {
	return newBucketLimiter(DefaultRate, DefaultBurst, limiterConfig{burstMargin: DefaultBurstMargin})
}

func newBucketLimiter(perSecond float64, burst int, cfg limiterConfig) *BucketLimiter {
	capac := float64(burst - cfg.burstMargin)
	if capac < 1 {
		capac = 1
	}
	return &BucketLimiter{rate: perSecond * (1 - cfg.drainMargin), capac: capac, keys: map[string]*bucket{}, now: time.Now}
}

func checkRate(perSecond float64, burst int) error {
	if !(perSecond > 0) || perSecond > 1e6 {
		return fmt.Errorf("bitrix: rate limit must be a positive number of requests per second, got %v", perSecond)
	}
	if burst < 1 {
		return fmt.Errorf("bitrix: rate limit burst must be at least 1, got %d", burst)
	}
	return nil
}

// Wait blocks until a request for key may be sent, then debits it.
func (l *BucketLimiter) Wait(ctx context.Context, key string) error {
	_, err := l.waitFor(ctx, key)
	return err
}

// waitFor is Wait that also returns how long it blocked (0 when the bucket
// had room), so that progress reports only real waits.
func (l *BucketLimiter) waitFor(ctx context.Context, key string) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	l.mu.Lock()
	now := l.now()
	b := l.keys[key]
	if b == nil {
		b = &bucket{last: now}
		l.keys[key] = b
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.level -= el * l.rate
		if b.level < 0 {
			b.level = 0
		}
		b.last = now
	}
	b.level++ // reserve: debited now, sent after the wait
	over := b.level - l.capac
	l.mu.Unlock()
	if over <= 0 {
		return 0, nil
	}
	d := time.Duration(over / l.rate * float64(time.Second))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return d, nil
	case <-ctx.Done():
		l.mu.Lock()
		b.level-- // give the reservation back
		l.mu.Unlock()
		return 0, ctx.Err()
	}
}

// limitWaiter is a Limiter that tells how long it waited (the in-memory ones).
type limitWaiter interface {
	waitFor(ctx context.Context, key string) (time.Duration, error)
}

// unlimited is the Limiter of WithoutRateLimit.
type unlimited struct{}

func (unlimited) Wait(ctx context.Context, _ string) error { return ctx.Err() }

func (unlimited) waitFor(ctx context.Context, _ string) (time.Duration, error) { return 0, ctx.Err() }

// DefaultCooldown is how long a client sends one request at a time after a
// QUERY_LIMIT_EXCEEDED answer unless [WithCooldown] says otherwise: the time
// the cloud's bucket needs to drain completely (DefaultBurst at
// DefaultRate). On QUERY_LIMIT_EXCEEDED, [request limits] says: "Decrease
// request frequency and retry calls with increasing delay. Do not run
// multiple parallel series of requests from a single IP address".
//
// [request limits]: https://apidocs.bitrix24.com/settings/performance/limits.html
const DefaultCooldown = time.Duration(DefaultBurst / DefaultRate * float64(time.Second))

// startCooldown starts (or extends) the one-request-at-a-time period.
func (c *Client) startCooldown() {
	if c.cfg.cooldown <= 0 {
		return
	}
	until := time.Now().Add(c.cfg.cooldown).UnixNano()
	for {
		cur := c.coolUntil.Load()
		if cur >= until || c.coolUntil.CompareAndSwap(cur, until) {
			return
		}
	}
}

// enterSerial returns at once outside a cool-down; during one it waits for
// the client's single request slot. release gives the slot back.
func (c *Client) enterSerial(ctx context.Context) (release func(), err error) {
	if time.Now().UnixNano() >= c.coolUntil.Load() {
		return func() {}, nil
	}
	select {
	case c.serial <- struct{}{}:
		return func() { <-c.serial }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
