package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/b24go/sdk/bitrix"
)

// DefaultPrefix is the prefix of every key this package writes, unless
// [WithPrefix] sets another.
const DefaultPrefix = "b24go:"

// Defaults of the options.
const (
	// DefaultOpTimeout bounds one Redis command (see [WithOpTimeout]).
	DefaultOpTimeout = 2 * time.Second
	// DefaultLeaseTTL is how long a refresh lease lives without renewal
	// (see [WithLeaseTTL]).
	DefaultLeaseTTL = 10 * time.Second
	// DefaultPollInterval is how often a replica waiting for another
	// replica's refresh lease checks it again (see [WithPollInterval]).
	DefaultPollInterval = 50 * time.Millisecond
	// DefaultRetryAfter is how long a component with a fallback keeps using
	// it after Redis failed, before it tries Redis again (see
	// [WithLimiterFallback]).
	DefaultRetryAfter = time.Second
)

// ErrUnavailable is matched (with errors.Is) by every error caused by
// Redis itself: refused or broken connections, timeouts, a server that is
// loading or read-only, unexpected replies. The error also wraps the
// cause. A context's own cancellation or deadline is returned as the
// context's error instead.
//
// Without a fallback ([WithLimiterFallback], [WithGateFallback]) the
// components fail with ErrUnavailable rather than let a request through
// unlimited, so a bitrix.Client call fails fast while Redis is down.
var ErrUnavailable = errors.New("redisstore: Redis is unavailable")

// Option configures the constructors of this package. Options that do not
// apply to a component are ignored by its constructor. An option given a
// bad value makes the constructor return its error.
type Option func(*config) error

type config struct {
	prefix        string
	opTimeout     time.Duration
	leaseTTL      time.Duration
	poll          time.Duration
	retryAfter    time.Duration
	log           *slog.Logger
	limitFallback bitrix.Limiter
	gateFallback  bitrix.OperatingGate
}

// buildConfig checks the client given to the constructor named ctor and
// applies opts over the defaults, returning the first error.
func buildConfig(ctor string, rdb redis.UniversalClient, opts []Option) (config, error) {
	if isNilClient(rdb) {
		return config{}, fmt.Errorf("redisstore: %s: nil Redis client", ctor)
	}
	o := config{
		prefix:     DefaultPrefix,
		opTimeout:  DefaultOpTimeout,
		leaseTTL:   DefaultLeaseTTL,
		poll:       DefaultPollInterval,
		retryAfter: DefaultRetryAfter,
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return config{}, err
		}
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// isNilClient reports a nil client, including a nil pointer of one of the
// go-redis client types held in the interface.
func isNilClient(rdb redis.UniversalClient) bool {
	switch c := rdb.(type) {
	case nil:
		return true
	case *redis.Client:
		return c == nil
	case *redis.ClusterClient:
		return c == nil
	case *redis.Ring:
		return c == nil
	}
	return false
}

// positive is the check of the duration options.
func positive(name string, d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("redisstore: %s: duration must be positive, got %v", name, d)
	}
	return nil
}

// WithPrefix sets the prefix of every key (default [DefaultPrefix]). Give
// every component of one deployment the same prefix, and different
// deployments sharing a Redis different ones. An empty prefix is an error:
// omit the option for the default.
func WithPrefix(prefix string) Option {
	return func(o *config) error {
		if prefix == "" {
			return errors.New("redisstore: WithPrefix: empty prefix (omit the option for DefaultPrefix)")
		}
		o.prefix = prefix
		return nil
	}
}

// WithOpTimeout bounds each Redis command (default [DefaultOpTimeout]), so
// that a hung Redis fails a call with [ErrUnavailable] instead of blocking
// it. A value <= 0 is an error. The go-redis client's own DialTimeout,
// ReadTimeout and MaxRetries apply as well; see the package documentation.
func WithOpTimeout(d time.Duration) Option {
	return func(o *config) error {
		if err := positive("WithOpTimeout", d); err != nil {
			return err
		}
		o.opTimeout = d
		return nil
	}
}

// WithLeaseTTL sets the lifetime of a refresh lease (default
// [DefaultLeaseTTL]). The holder renews the lease while it refreshes, so
// the TTL only bounds how long a crashed holder blocks the other replicas.
// A value <= 0 is an error.
func WithLeaseTTL(d time.Duration) Option {
	return func(o *config) error {
		if err := positive("WithLeaseTTL", d); err != nil {
			return err
		}
		o.leaseTTL = d
		return nil
	}
}

// WithPollInterval sets how often a replica waiting for a refresh lease
// retries it (default [DefaultPollInterval]). A value <= 0 is an error.
func WithPollInterval(d time.Duration) Option {
	return func(o *config) error {
		if err := positive("WithPollInterval", d); err != nil {
			return err
		}
		o.poll = d
		return nil
	}
}

// WithLogger logs Redis failures, fallbacks and lost leases to l (silent
// by default; nil keeps it silent). No secret is ever logged.
func WithLogger(l *slog.Logger) Option {
	return func(o *config) error { o.log = l; return nil }
}

// WithLimiterFallback makes a [Limiter] use fb while Redis is unavailable
// instead of failing with [ErrUnavailable]. After a failure the limiter
// uses fb for [DefaultRetryAfter] (see [WithRetryAfter]) and then tries
// Redis again. A nil fb is an error.
//
// The fallback is per process, so N replicas falling back together may
// send N times its rate: give it the portal's rate divided by the number of
// replicas, for example bitrix.NewLimiter(bitrix.DefaultRate/4,
// bitrix.DefaultBurst/4) for four replicas. The client still retries
// QUERY_LIMIT_EXCEEDED answers should the fleet overshoot.
func WithLimiterFallback(fb bitrix.Limiter) Option {
	return func(o *config) error {
		if fb == nil {
			return errors.New("redisstore: WithLimiterFallback: nil limiter")
		}
		o.limitFallback = fb
		return nil
	}
}

// WithGateFallback makes an [OperatingGate] use fb while Redis is
// unavailable instead of failing with [ErrUnavailable]. Blocks are always
// recorded in fb as well, so a replica honours its own blocks while Redis
// is down. Use it together with [WithLimiterFallback]: a gate without a
// fallback fails every call while Redis is down anyway. A nil fb is an
// error.
func WithGateFallback(fb bitrix.OperatingGate) Option {
	return func(o *config) error {
		if fb == nil {
			return errors.New("redisstore: WithGateFallback: nil gate")
		}
		o.gateFallback = fb
		return nil
	}
}

// WithRetryAfter sets how long a component keeps using its fallback after
// a Redis failure before it tries Redis again (default
// [DefaultRetryAfter]). A value <= 0 is an error.
func WithRetryAfter(d time.Duration) Option {
	return func(o *config) error {
		if err := positive("WithRetryAfter", d); err != nil {
			return err
		}
		o.retryAfter = d
		return nil
	}
}

// opCtx bounds one Redis command.
func (o *config) opCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, o.opTimeout)
}

// wrap turns a Redis failure into an error matching ErrUnavailable, or
// returns the caller's context error when that is why the command failed.
func wrap(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return &Error{Op: op, Err: err}
}

// Error is the error of a failed Redis command. It matches
// [ErrUnavailable] and unwraps to the cause. It never contains a stored
// value.
type Error struct {
	Op  string // what was being done, e.g. "limiter reserve"
	Err error  // the go-redis error
}

// Error describes the failure.
func (e *Error) Error() string {
	return fmt.Sprintf("redisstore: %s: Redis is unavailable: %v", e.Op, e.Err)
}

// Unwrap returns ErrUnavailable and the cause.
func (e *Error) Unwrap() []error { return []error{ErrUnavailable, e.Err} }

// circuit remembers a recent Redis failure so that components with a
// fallback do not pay a failing round trip per request.
type circuit struct {
	until atomic.Int64 // unix nanoseconds; 0 = closed
}

func (c *circuit) open(d time.Duration) bool {
	prev := c.until.Swap(time.Now().Add(d).UnixNano())
	return prev == 0
}

func (c *circuit) isOpen() bool {
	u := c.until.Load()
	return u != 0 && time.Now().UnixNano() < u
}

// close reports whether the circuit was open (Redis came back).
func (c *circuit) close() bool { return c.until.Swap(0) != 0 }

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

// isNil reports a missing key.
func isNil(err error) bool { return errors.Is(err, redis.Nil) }
