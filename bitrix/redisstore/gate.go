package redisstore

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/b24go/sdk/bitrix"
)

// blockScript sets the block key KEYS[1] to expire in ARGV[1] ms unless it
// already lives longer.
var blockScript = redis.NewScript(`
local cur = redis.call('PTTL', KEYS[1])
local want = tonumber(ARGV[1])
if cur == -2 or (cur >= 0 and cur < want) then
  redis.call('SET', KEYS[1], '1', 'PX', want)
  return 1
end
return 0
`)

// OperatingGate is a [bitrix.OperatingGate] shared through Redis: when one
// replica gets OPERATION_TIME_LIMIT for a method, every replica holds that
// method of that portal until the block ends, while other methods go on.
//
// A block is a key per (portal, method) that expires when the block ends;
// Wait reads its remaining time with PTTL, so replica clocks need not agree
// (only the replica that blocks converts the portal's operating_reset_at to
// a duration with its own clock). Wait costs one round trip when the
// method is not blocked.
type OperatingGate struct {
	rdb  redis.UniversalClient
	o    config
	circ circuit
}

var _ bitrix.OperatingGate = (*OperatingGate)(nil)

// NewOperatingGate returns a gate on rdb. It does no I/O; a nil rdb or a
// bad option is an error.
//
// Options used: [WithPrefix], [WithOpTimeout], [WithGateFallback],
// [WithRetryAfter], [WithLogger].
func NewOperatingGate(rdb redis.UniversalClient, opts ...Option) (*OperatingGate, error) {
	o, err := buildConfig("NewOperatingGate", rdb, opts)
	if err != nil {
		return nil, err
	}
	return &OperatingGate{rdb: rdb, o: o}, nil
}

func (g *OperatingGate) key(portal, method string) string {
	return g.o.prefix + "gate:" + portal + ":" + strings.ToLower(method)
}

// Wait returns when method is not blocked for the portal key, with the
// context's error, or with an error matching [ErrUnavailable] when Redis
// fails and no fallback is set.
func (g *OperatingGate) Wait(ctx context.Context, key, method string) error {
	fb := g.o.gateFallback
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if fb != nil && g.circ.isOpen() {
			return fb.Wait(ctx, key, method)
		}
		octx, cancel := g.o.opCtx(ctx)
		left, err := g.rdb.PTTL(octx, g.key(key, method)).Result()
		cancel()
		if err != nil {
			err = wrap(ctx, "operating gate wait", err)
			if fb != nil && errors.Is(err, ErrUnavailable) {
				g.fellBack(ctx, err)
				return fb.Wait(ctx, key, method)
			}
			return err
		}
		if fb != nil && g.circ.close() {
			g.o.log.LogAttrs(ctx, slog.LevelInfo, "redisstore: Redis is back, operating gate uses it again")
		}
		// go-redis maps the -2 (no key) and -1 (no expiry) replies to
		// negative durations; a key without expiry is not ours.
		if left <= 0 {
			return nil
		}
		t := time.NewTimer(left)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

// Block blocks method for the portal key on every replica until the given
// time (extending, never shortening, a current block). With a fallback
// the block is recorded there too.
func (g *OperatingGate) Block(ctx context.Context, key, method string, until time.Time) error {
	fb := g.o.gateFallback
	if fb != nil {
		_ = fb.Block(ctx, key, method, until)
	}
	ms := time.Until(until).Milliseconds()
	if ms <= 0 {
		return nil
	}
	octx, cancel := g.o.opCtx(ctx)
	defer cancel()
	err := wrap(ctx, "operating gate block", blockScript.Run(octx, g.rdb, []string{g.key(key, method)}, ms).Err())
	if err != nil && fb != nil && errors.Is(err, ErrUnavailable) {
		g.fellBack(ctx, err)
		return nil
	}
	return err
}

func (g *OperatingGate) fellBack(ctx context.Context, err error) {
	if g.circ.open(g.o.retryAfter) {
		g.o.log.LogAttrs(ctx, slog.LevelWarn, "redisstore: Redis unavailable, operating gate uses its in-process fallback",
			slog.String("error", err.Error()))
	}
}
