package redisstore

import (
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/b24go/sdk/bitrix"
)

// Every constructor refuses a missing client and bad values with an error
// naming the culprit (no panic, no silent default), and does no I/O: the
// client points at a port nobody listens on.
func TestConstructorsRefuseBadInput(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { _ = rdb.Close() })
	var nilClient *redis.Client

	// each builds one component with the given client and options.
	type ctor func(redis.UniversalClient, ...Option) (any, error)
	ctors := map[string]ctor{
		"NewTokenStore":    func(c redis.UniversalClient, o ...Option) (any, error) { return NewTokenStore(c, o...) },
		"NewRegistry":      func(c redis.UniversalClient, o ...Option) (any, error) { return NewRegistry(c, o...) },
		"NewDedupe":        func(c redis.UniversalClient, o ...Option) (any, error) { return NewDedupe(c, o...) },
		"NewOperatingGate": func(c redis.UniversalClient, o ...Option) (any, error) { return NewOperatingGate(c, o...) },
		"NewOffsetStore":   func(c redis.UniversalClient, o ...Option) (any, error) { return NewOffsetStore(c, o...) },
		"NewLimiter": func(c redis.UniversalClient, o ...Option) (any, error) {
			return NewLimiter(c, bitrix.DefaultRate, bitrix.DefaultBurst, o...)
		},
		"NewQueue": func(c redis.UniversalClient, o ...Option) (any, error) { return NewQueue(c, "q", 0, 0, o...) },
	}
	common := []struct {
		name string
		rdb  redis.UniversalClient
		opts []Option
		want string // in the error
	}{
		{"nil client", nil, nil, ": nil Redis client"},
		{"nil *redis.Client", nilClient, nil, ": nil Redis client"},
		{"empty prefix", rdb, []Option{WithPrefix("")}, "WithPrefix: empty prefix"},
		{"zero op timeout", rdb, []Option{WithOpTimeout(0)}, "WithOpTimeout: duration must be positive, got 0s"},
		{"negative op timeout", rdb, []Option{WithOpTimeout(-time.Second)}, "WithOpTimeout: duration must be positive, got -1s"},
		{"zero lease TTL", rdb, []Option{WithLeaseTTL(0)}, "WithLeaseTTL: duration must be positive"},
		{"negative poll interval", rdb, []Option{WithPollInterval(-time.Millisecond)}, "WithPollInterval: duration must be positive"},
		{"zero retry after", rdb, []Option{WithRetryAfter(0)}, "WithRetryAfter: duration must be positive"},
		{"nil limiter fallback", rdb, []Option{WithLimiterFallback(nil)}, "WithLimiterFallback: nil limiter"},
		{"nil gate fallback", rdb, []Option{WithGateFallback(nil)}, "WithGateFallback: nil gate"},
		{"bad option after good ones", rdb, []Option{WithPrefix("x:"), nil, WithOpTimeout(-1)}, "WithOpTimeout"},
	}
	for name, build := range ctors {
		for _, tt := range common {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				v, err := build(tt.rdb, tt.opts...)
				if err == nil {
					t.Fatalf("%s returned %T and no error", name, v)
				}
				if !strings.HasPrefix(err.Error(), "redisstore: ") || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("error = %q, want one containing %q", err, tt.want)
				}
				if tt.rdb == nil || tt.rdb == redis.UniversalClient(nilClient) {
					if !strings.Contains(err.Error(), name) {
						t.Errorf("error = %q does not name %s", err, name)
					}
				}
			})
		}
	}

	// Arguments of one constructor only.
	for _, tt := range []struct {
		name  string
		build func() (any, error)
		want  string
	}{
		{"limiter zero rate", func() (any, error) { return NewLimiter(rdb, 0, 50) }, "NewLimiter: rate limit must be a positive number"},
		{"limiter negative rate", func() (any, error) { return NewLimiter(rdb, -1, 50) }, "got -1"},
		{"limiter rate above 1e6", func() (any, error) { return NewLimiter(rdb, 2e6, 50) }, "up to 1e6, got 2e+06"},
		{"limiter zero burst", func() (any, error) { return NewLimiter(rdb, 2, 0) }, "NewLimiter: rate limit burst must be at least 1, got 0"},
		{"queue empty name", func() (any, error) { return NewQueue(rdb, "", 0, 0) }, "NewQueue: empty queue name"},
		{"queue negative maxLen", func() (any, error) { return NewQueue(rdb, "q", -1, 0) }, "NewQueue: negative maxLen -1"},
		{"queue negative maxAge", func() (any, error) { return NewQueue(rdb, "q", 0, -time.Hour) }, "NewQueue: negative maxAge -1h0m0s"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v, err := tt.build()
			if err == nil {
				t.Fatalf("returned %T and no error", v)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want one containing %q", err, tt.want)
			}
		})
	}
}

// Good options are applied, a nil Option is skipped, and the zero values
// documented as "use the default" still mean it.
func TestConstructorsApplyOptions(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { _ = rdb.Close() })
	fb := bitrix.NewOperatingGate()
	s := newTokenStore(t, rdb, nil, WithPrefix("app:"), WithOpTimeout(3*time.Second),
		WithLeaseTTL(4*time.Second), WithPollInterval(5*time.Millisecond), WithRetryAfter(6*time.Second),
		WithGateFallback(fb))
	o := s.o
	if o.prefix != "app:" || o.opTimeout != 3*time.Second || o.leaseTTL != 4*time.Second ||
		o.poll != 5*time.Millisecond || o.retryAfter != 6*time.Second || o.gateFallback != fb || o.log == nil {
		t.Errorf("options = %+v", o)
	}
	d := newDedupe(t, rdb).o
	if d.prefix != DefaultPrefix || d.opTimeout != DefaultOpTimeout || d.leaseTTL != DefaultLeaseTTL ||
		d.poll != DefaultPollInterval || d.retryAfter != DefaultRetryAfter {
		t.Errorf("defaults = %+v", d)
	}
	q := newQueue(t, rdb, "q", 0, 0)
	if q.max != DefaultQueueMax || q.maxAge != DefaultQueueMaxAge {
		t.Errorf("queue max = %d, maxAge = %v, want the defaults", q.max, q.maxAge)
	}
	q = newQueue(t, rdb, "q", 7, time.Hour)
	if q.max != 7 || q.maxAge != time.Hour {
		t.Errorf("queue max = %d, maxAge = %v, want 7, 1h", q.max, q.maxAge)
	}
}
