package redisstore

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// Dedupe is the Redis store of event keys already accepted by the webhook
// receiver (it implements webhook.DedupeStore): with every replica of the
// receiver on one Dedupe, a delivery that reaches two replicas runs its
// handler once. Claim is SET NX PX, so the keys expire by themselves.
type Dedupe struct {
	rdb redis.UniversalClient
	o   config
}

// NewDedupe returns a dedupe store on rdb. It does no I/O; a nil rdb or a
// bad option is an error. Pass it to webhook.WithDedupe with the TTL to
// remember keys.
//
// Options used: [WithPrefix], [WithOpTimeout].
func NewDedupe(rdb redis.UniversalClient, opts ...Option) (*Dedupe, error) {
	o, err := buildConfig("NewDedupe", rdb, opts)
	if err != nil {
		return nil, err
	}
	return &Dedupe{rdb: rdb, o: o}, nil
}

func (d *Dedupe) key(k string) string { return d.o.prefix + "dedupe:" + k }

// Claim records key for ttl and reports true if no replica had recorded
// it yet (the caller processes the event), false if one had. A ttl below a
// millisecond counts as one millisecond. Redis failures match
// [ErrUnavailable].
func (d *Dedupe) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if ttl < time.Millisecond {
		ttl = time.Millisecond
	}
	octx, cancel := d.o.opCtx(ctx)
	defer cancel()
	ok, err := d.rdb.SetNX(octx, d.key(key), "1", ttl).Result()
	if err != nil {
		return false, wrap(ctx, "dedupe claim", err)
	}
	return ok, nil
}

// Release forgets key, so that a redelivery is processed again (the
// receiver releases the key of an event whose handler failed).
func (d *Dedupe) Release(ctx context.Context, key string) error {
	octx, cancel := d.o.opCtx(ctx)
	defer cancel()
	return wrap(ctx, "dedupe release", d.rdb.Del(octx, d.key(key)).Err())
}
