package redisstore

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// OffsetStore keeps the confirmed offsets of imbot.v2 fetch-mode bots
// (imbotv2.OffsetStore) in Redis, so that a restarted or replacement
// worker resumes where the last one stopped. Offsets only move forward:
// a save below the stored offset (a stale worker) is ignored, since every
// saved offset was reached after its events were handled.
type OffsetStore struct {
	rdb redis.UniversalClient
	o   config
}

// NewOffsetStore returns a store on rdb. It does no I/O; a nil rdb or a
// bad option is an error.
//
// Options used: [WithPrefix], [WithOpTimeout].
func NewOffsetStore(rdb redis.UniversalClient, opts ...Option) (*OffsetStore, error) {
	o, err := buildConfig("NewOffsetStore", rdb, opts)
	if err != nil {
		return nil, err
	}
	return &OffsetStore{rdb: rdb, o: o}, nil
}

func (s *OffsetStore) key(k string) string { return s.o.prefix + "offset:" + k }

// saveMax sets KEYS[1] to ARGV[1] unless it holds a larger number.
var saveMax = redis.NewScript(`
local cur = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local new = tonumber(ARGV[1])
if new > cur then redis.call('SET', KEYS[1], ARGV[1]) end
return 1`)

// LoadOffset returns the offset stored under key, or 0 when none is.
func (s *OffsetStore) LoadOffset(ctx context.Context, key string) (int64, error) {
	octx, cancel := s.o.opCtx(ctx)
	defer cancel()
	v, err := s.rdb.Get(octx, s.key(key)).Result()
	if isNil(err) {
		return 0, nil
	}
	if err != nil {
		return 0, wrap(ctx, "loading an offset", err)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("redisstore: the offset stored for %q is not a number", key)
	}
	return n, nil
}

// SaveOffset stores offset under key unless a larger one is stored.
func (s *OffsetStore) SaveOffset(ctx context.Context, key string, offset int64) error {
	if offset < 0 {
		return fmt.Errorf("redisstore: negative offset %d", offset)
	}
	octx, cancel := s.o.opCtx(ctx)
	defer cancel()
	return wrap(ctx, "saving an offset", saveMax.Run(octx, s.rdb, []string{s.key(key)}, strconv.FormatInt(offset, 10)).Err())
}
