package redisstore

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/b24go/sdk/bitrix"
)

func TestLimiterBurstThenWait(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	tests := []struct {
		name  string
		rate  float64
		burst int
		free  int // requests that go at once: burst less the margin of 2
	}{
		{"cloud", bitrix.DefaultRate, bitrix.DefaultBurst, 48},
		{"enterprise", bitrix.EnterpriseRate, bitrix.EnterpriseBurst, 248},
		{"tiny burst", 1, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := newLimiter(t, srv.client(t), tt.rate, tt.burst, WithPrefix(t.Name()+":"))
			ctx := t.Context()
			start := time.Now()
			for i := range tt.free {
				d, err := l.reserve(ctx, "portal")
				if err != nil {
					t.Fatal(err)
				}
				if d != 0 {
					t.Fatalf("request %d of the burst must go at once, got a wait of %v", i+1, d)
				}
			}
			d, err := l.reserve(ctx, "portal")
			if err != nil {
				t.Fatal(err)
			}
			elapsed := time.Since(start)
			// One request over the bucket waits one drain interval at the
			// margined rate (rate*0.95), less what drained meanwhile. The
			// bucket (on Redis's clock) cannot have drained for longer than
			// the burst took here, so on a slow, loaded machine the wait may
			// shrink by that much, never more; it never exceeds the interval.
			full := time.Duration(float64(time.Second) / (tt.rate * 0.95))
			if d < full-elapsed-time.Millisecond || d > full+time.Millisecond {
				t.Errorf("wait after the burst = %v (burst took %v), want in [%v, %v]", d, elapsed, max(full-elapsed, 0), full)
			}
			// Another portal has its own bucket.
			if d, err := l.reserve(ctx, "other"); err != nil || d != 0 {
				t.Errorf("first request of another portal: wait %v, err %v; want 0, nil", d, err)
			}
		})
	}
}

// Two limiters on separate connections (two replicas) share one bucket.
func TestLimiterSharedBetweenReplicas(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	a := newLimiter(t, srv.client(t), bitrix.DefaultRate, bitrix.DefaultBurst)
	b := newLimiter(t, srv.client(t), bitrix.DefaultRate, bitrix.DefaultBurst)
	ctx := t.Context()
	for i := range 48 {
		l := a
		if i%2 == 1 {
			l = b
		}
		if d, err := l.reserve(ctx, "p"); err != nil || d != 0 {
			t.Fatalf("request %d: wait %v, err %v; want 0, nil", i+1, d, err)
		}
	}
	for _, l := range []*Limiter{a, b} {
		d, err := l.reserve(ctx, "p")
		if err != nil {
			t.Fatal(err)
		}
		if d <= 0 {
			t.Errorf("after 48 requests between two replicas the next one must wait, got %v", d)
		}
	}
}

func TestLimiterWaitHonoursContextAndRefunds(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	rdb := srv.client(t)
	l := newLimiter(t, rdb, bitrix.DefaultRate, bitrix.DefaultBurst)
	ctx := t.Context()
	for range 48 {
		if err := l.Wait(ctx, "p"); err != nil {
			t.Fatal(err)
		}
	}
	wctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := l.Wait(wctx, "p"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait on a full bucket with a 100 ms deadline = %v, want context.DeadlineExceeded", err)
	}
	// The reservation was given back: the level is at most the 48 of the
	// burst (without the refund it would be about 48.8).
	level, err := rdb.HGet(ctx, l.key("p"), "l").Float64()
	if err != nil {
		t.Fatal(err)
	}
	if level > 48 {
		t.Errorf("bucket level after a cancelled wait = %v, want <= 48 (reservation refunded)", level)
	}
	// A context that is already done debits nothing.
	done, cancelDone := context.WithCancel(ctx)
	cancelDone()
	if err := l.Wait(done, "p"); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestLimiterKeyExpires(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	rdb := srv.client(t)
	l := newLimiter(t, rdb, 1000, 10)
	if err := l.Wait(t.Context(), "p"); err != nil {
		t.Fatal(err)
	}
	ttl, err := rdb.PTTL(t.Context(), l.key("p")).Result()
	if err != nil {
		t.Fatal(err)
	}
	// One request at 950/s drains in about a millisecond; the key lives
	// that long plus one second, never forever.
	if ttl <= 0 || ttl > 1100*time.Millisecond {
		t.Errorf("bucket key TTL = %v, want in (0, 1.1s]", ttl)
	}
}

func TestLimiterRedisDownFailsFast(t *testing.T) {
	t.Parallel()
	l := newLimiter(t, deadClient(t), bitrix.DefaultRate, bitrix.DefaultBurst)
	err := l.Wait(t.Context(), "p")
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Wait with Redis down = %v, want ErrUnavailable", err)
	}
	var re *Error
	if !errors.As(err, &re) || re.Op != "limiter reserve" {
		t.Errorf("error %v is not a *redisstore.Error for the reserve", err)
	}
	var oe *net.OpError
	if !errors.As(err, &oe) {
		t.Errorf("error %v does not wrap the dial error", err)
	}
}

// countingLimiter is a fallback that counts its calls.
type countingLimiter struct{ n atomic.Int64 }

func (c *countingLimiter) Wait(ctx context.Context, _ string) error {
	c.n.Add(1)
	return ctx.Err()
}

// flakyDialer fails to connect while down is set.
type flakyDialer struct {
	addr string
	down atomic.Bool
}

func (f *flakyDialer) dial(ctx context.Context, network, _ string) (net.Conn, error) {
	if f.down.Load() {
		return nil, &net.OpError{Op: "dial", Net: network, Err: errors.New("connection refused (test)")}
	}
	var d net.Dialer
	return d.DialContext(ctx, network, f.addr)
}

func TestLimiterFallback(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	fd := &flakyDialer{addr: srv.Addr}
	fd.down.Store(true)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, Dialer: fd.dial, MaxRetries: -1, DisableIdentity: true})
	t.Cleanup(func() { _ = rdb.Close() })
	fb := &countingLimiter{}
	var logs syncBuffer
	l := newLimiter(t, rdb, bitrix.DefaultRate, bitrix.DefaultBurst,
		WithLimiterFallback(fb), WithRetryAfter(time.Nanosecond), WithLogger(logs.logger()))
	ctx := t.Context()
	for range 3 {
		if err := l.Wait(ctx, "p"); err != nil {
			t.Fatalf("Wait with Redis down and a fallback = %v, want nil", err)
		}
	}
	if got := fb.n.Load(); got != 3 {
		t.Errorf("fallback used %d times, want 3", got)
	}
	fd.down.Store(false)
	if err := l.Wait(ctx, "p"); err != nil {
		t.Fatal(err)
	}
	if got := fb.n.Load(); got != 3 {
		t.Errorf("fallback used %d times after Redis came back, want still 3", got)
	}
	if n, err := rdb.Exists(ctx, l.key("p")).Result(); err != nil || n != 1 {
		t.Errorf("bucket key in Redis after recovery: exists=%d err=%v, want 1", n, err)
	}
	out := logs.String()
	for _, want := range []string{"limiter uses its in-process fallback", "Redis is back"} {
		if !contains(out, want) {
			t.Errorf("log %q lacks %q", out, want)
		}
	}
}

// With a long retry-after the fallback is used without asking Redis.
func TestLimiterFallbackCircuit(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	fd := &flakyDialer{addr: srv.Addr}
	fd.down.Store(true)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, Dialer: fd.dial, MaxRetries: -1, DisableIdentity: true})
	t.Cleanup(func() { _ = rdb.Close() })
	fb := &countingLimiter{}
	l := newLimiter(t, rdb, bitrix.DefaultRate, bitrix.DefaultBurst, WithLimiterFallback(fb), WithRetryAfter(time.Hour))
	ctx := t.Context()
	if err := l.Wait(ctx, "p"); err != nil {
		t.Fatal(err)
	}
	fd.down.Store(false)
	if err := l.Wait(ctx, "p"); err != nil {
		t.Fatal(err)
	}
	if got := fb.n.Load(); got != 2 {
		t.Errorf("fallback used %d times, want 2 (circuit open for an hour)", got)
	}
	if n, _ := rdb.Exists(ctx, l.key("p")).Result(); n != 0 {
		t.Errorf("bucket key exists while the circuit is open")
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b = append(s.b, p...)
	return len(p), nil
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.b)
}
