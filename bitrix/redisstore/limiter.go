package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/b24go/sdk/bitrix"
)

// reserveScript debits one request from the bucket KEYS[1] and answers how
// many microseconds the caller must wait before sending it (0: go now). It
// reads the clock with the server's TIME, so replicas with skewed clocks
// share one timeline. ARGV: drain per second, bucket size.
//
// The bucket is a hash {l: level, t: last drain, unix µs}; it expires once
// it would have drained empty.
var reserveScript = redis.NewScript(`
if redis.replicate_commands then pcall(redis.replicate_commands) end
local rate = tonumber(ARGV[1])
local cap = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local v = redis.call('HMGET', KEYS[1], 'l', 't')
local level = tonumber(v[1]) or 0
local last = tonumber(v[2]) or now
if now > last then
  level = level - (now - last) * rate / 1000000
  if level < 0 then level = 0 end
  last = now
end
level = level + 1
redis.call('HSET', KEYS[1], 'l', string.format('%.17g', level), 't', string.format('%.17g', last))
redis.call('PEXPIRE', KEYS[1], math.ceil(level * 1000 / rate) + 1000)
local over = level - cap
if over <= 0 then return 0 end
return math.ceil(over * 1000000 / rate)
`)

// refundScript gives back one reservation of a caller that gave up
// waiting (its context ended).
var refundScript = redis.NewScript(`
if redis.replicate_commands then pcall(redis.replicate_commands) end
local rate = tonumber(ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local v = redis.call('HMGET', KEYS[1], 'l', 't')
if not v[1] then return 0 end
local level = tonumber(v[1]) or 0
local last = tonumber(v[2]) or now
if now > last then
  level = level - (now - last) * rate / 1000000
  last = now
end
level = level - 1
if level < 0 then level = 0 end
redis.call('HSET', KEYS[1], 'l', string.format('%.17g', level), 't', string.format('%.17g', last))
redis.call('PEXPIRE', KEYS[1], math.ceil(level * 1000 / rate) + 1000)
return 1
`)

// Limiter is a [bitrix.Limiter] whose leaky bucket lives in Redis, so that
// every replica of a service draws from one bucket per portal. It has the
// semantics of [bitrix.NewLimiter]: each request adds one unit, the bucket
// drains at a fixed rate, a request that would overflow it waits; the same
// safety margin (5% slower drain, a bucket 2 requests smaller than the
// burst); a waiter whose context ends gives its reservation back.
//
// Each Wait costs one Redis round trip (a Lua script that reads the
// server's clock, so replica clocks need not agree). When Redis fails,
// Wait returns an error matching [ErrUnavailable], unless a fallback is
// configured with [WithLimiterFallback].
type Limiter struct {
	rdb      redis.UniversalClient
	rate     float64
	capac    float64
	o        config
	circ     circuit
	rateArg  string
	capacArg string
}

var _ bitrix.Limiter = (*Limiter)(nil)

// NewLimiter returns a limiter draining perSecond requests per second with
// room for burst requests (less the safety margin), e.g.
// NewLimiter(rdb, bitrix.DefaultRate, bitrix.DefaultBurst) or
// NewLimiter(rdb, bitrix.EnterpriseRate, bitrix.EnterpriseBurst). Every
// replica must use the same rate, burst and prefix. It does no I/O. Like
// [bitrix.NewLimiter], it returns an error if perSecond is not in
// (0, 1e6] or burst < 1, and also for a nil rdb or a bad option.
//
// Options used: [WithPrefix], [WithOpTimeout], [WithLimiterFallback],
// [WithRetryAfter], [WithLogger].
func NewLimiter(rdb redis.UniversalClient, perSecond float64, burst int, opts ...Option) (*Limiter, error) {
	o, err := buildConfig("NewLimiter", rdb, opts)
	if err != nil {
		return nil, err
	}
	if !(perSecond > 0) || perSecond > 1e6 {
		return nil, fmt.Errorf("redisstore: NewLimiter: rate limit must be a positive number of requests per second up to 1e6, got %v", perSecond)
	}
	if burst < 1 {
		return nil, fmt.Errorf("redisstore: NewLimiter: rate limit burst must be at least 1, got %d", burst)
	}
	capac := float64(burst - 2)
	if capac < 1 {
		capac = 1
	}
	l := &Limiter{rdb: rdb, rate: perSecond * 0.95, capac: capac, o: o}
	l.rateArg = fmt.Sprintf("%.17g", l.rate)
	l.capacArg = fmt.Sprintf("%.17g", l.capac)
	return l, nil
}

func (l *Limiter) key(portal string) string { return l.o.prefix + "limit:" + portal }

// Wait blocks until a request for the portal key may be sent, then debits
// it. It returns the context's error when ctx ends first, and an error
// matching [ErrUnavailable] when Redis fails and no fallback is set.
func (l *Limiter) Wait(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fb := l.o.limitFallback
	if fb != nil && l.circ.isOpen() {
		return fb.Wait(ctx, key)
	}
	d, err := l.reserve(ctx, key)
	if err != nil {
		if fb != nil && errors.Is(err, ErrUnavailable) {
			if l.circ.open(l.o.retryAfter) {
				l.o.log.LogAttrs(ctx, slog.LevelWarn, "redisstore: Redis unavailable, limiter uses its in-process fallback",
					slog.String("portal", key), slog.String("error", err.Error()))
			}
			return fb.Wait(ctx, key)
		}
		return err
	}
	if fb != nil && l.circ.close() {
		l.o.log.LogAttrs(ctx, slog.LevelInfo, "redisstore: Redis is back, limiter uses it again", slog.String("portal", key))
	}
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		// Give the reservation back; best effort, the caller has gone.
		rctx, cancel := l.o.opCtx(context.WithoutCancel(ctx))
		defer cancel()
		if err := refundScript.Run(rctx, l.rdb, []string{l.key(key)}, l.rateArg).Err(); err != nil {
			l.o.log.LogAttrs(ctx, slog.LevelDebug, "redisstore: limiter refund failed", slog.String("portal", key), slog.String("error", err.Error()))
		}
		return ctx.Err()
	}
}

// reserve debits one request and returns how long to wait before sending it.
func (l *Limiter) reserve(ctx context.Context, key string) (time.Duration, error) {
	octx, cancel := l.o.opCtx(ctx)
	defer cancel()
	us, err := reserveScript.Run(octx, l.rdb, []string{l.key(key)}, l.rateArg, l.capacArg).Int64()
	if err != nil {
		return 0, wrap(ctx, "limiter reserve", err)
	}
	return time.Duration(us) * time.Microsecond, nil
}
