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
// and a request that would overflow the bucket waits.
//
// To stay clear of the portal's line despite clock drift and requests in
// flight, it keeps a safety margin: it drains 5% slower than the configured
// rate and its bucket holds 2 requests fewer than the configured burst
// (at least 1).
type BucketLimiter struct {
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

// NewLimiter returns a leaky bucket draining perSecond requests per second
// with room for burst requests (less the safety margin). It panics if
// perSecond <= 0 or burst < 1; options validate these before calling it.
func NewLimiter(perSecond float64, burst int) *BucketLimiter {
	if err := checkRate(perSecond, burst); err != nil {
		panic(err)
	}
	capac := float64(burst - 2)
	if capac < 1 {
		capac = 1
	}
	return &BucketLimiter{rate: perSecond * 0.95, capac: capac, keys: map[string]*bucket{}, now: time.Now}
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
	if err := ctx.Err(); err != nil {
		return err
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
		return nil
	}
	d := time.Duration(over / l.rate * float64(time.Second))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		l.mu.Lock()
		b.level-- // give the reservation back
		l.mu.Unlock()
		return ctx.Err()
	}
}

// unlimited is the Limiter of WithoutRateLimit.
type unlimited struct{}

func (unlimited) Wait(ctx context.Context, _ string) error { return ctx.Err() }
