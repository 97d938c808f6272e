package redisstore

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/b24go/sdk/bitrix"
)

// releaseScript deletes the lease KEYS[1] only if ARGV[1] still owns it.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// renewScript extends the lease KEYS[1] to ARGV[2] ms if ARGV[1] owns it.
var renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`)

// saveIfAbsentScript stores ARGV[1] under KEYS[1] unless a value is
// there; it returns the present value, or nil after saving.
var saveIfAbsentScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur then return cur end
redis.call('SET', KEYS[1], ARGV[1])
return false
`)

// TokenStore is a [bitrix.TokenStore] and [bitrix.RefreshLocker] in Redis:
// the OAuth pair of each portal lives under one key shared by every
// replica, and a refresh lease makes sure only one replica at a time runs
// the refresh.
//
// With it, when the access token expires, one replica takes the lease and
// refreshes; the others wait for the lease, and the bitrix client then
// reloads the token from the store and uses the new pair instead of
// refreshing again, so a rotated refresh token is never sent twice.
//
// The lease is a key set with SET NX PX holding a random owner value; the
// holder renews it every third of its TTL while it works and deletes it
// with a compare-and-delete script. If the holder crashes, the lease
// expires after [WithLeaseTTL] and another replica takes over.
//
// Tokens are stored as JSON, with the secrets in clear: protect the Redis
// (AUTH, TLS, network) like any credential store. Nothing in this package
// logs them or puts them in an error.
type TokenStore struct {
	rdb redis.UniversalClient
	o   config
}

var (
	_ bitrix.TokenStore       = (*TokenStore)(nil)
	_ bitrix.RefreshLocker    = (*TokenStore)(nil)
	_ bitrix.TokenInitializer = (*TokenStore)(nil)
)

// NewTokenStore returns a token store on rdb. It does no I/O; a nil rdb or
// a bad option is an error.
//
// Options used: [WithPrefix], [WithOpTimeout], [WithLeaseTTL],
// [WithPollInterval], [WithLogger].
func NewTokenStore(rdb redis.UniversalClient, opts ...Option) (*TokenStore, error) {
	o, err := buildConfig("NewTokenStore", rdb, opts)
	if err != nil {
		return nil, err
	}
	return &TokenStore{rdb: rdb, o: o}, nil
}

func (s *TokenStore) tokenKey(key string) string { return s.o.prefix + "token:" + key }
func (s *TokenStore) leaseKey(key string) string { return s.o.prefix + "refresh:" + key }

// LoadToken returns the token stored under key, or bitrix.ErrTokenNotFound.
func (s *TokenStore) LoadToken(ctx context.Context, key string) (bitrix.Token, error) {
	octx, cancel := s.o.opCtx(ctx)
	defer cancel()
	b, err := s.rdb.Get(octx, s.tokenKey(key)).Bytes()
	if isNil(err) {
		return bitrix.Token{}, bitrix.ErrTokenNotFound
	}
	if err != nil {
		return bitrix.Token{}, wrap(ctx, "loading a token", err)
	}
	var tok bitrix.Token
	if err := tok.UnmarshalBinary(b); err != nil {
		// The cause could quote the stored value: leave it out.
		return bitrix.Token{}, fmt.Errorf("redisstore: the token stored for portal %q is not valid JSON", key)
	}
	return tok, nil
}

// SaveToken stores tok under key, replacing the previous pair.
func (s *TokenStore) SaveToken(ctx context.Context, key string, tok bitrix.Token) error {
	b, err := tok.MarshalBinary()
	if err != nil {
		return fmt.Errorf("redisstore: encoding the token: %w", err)
	}
	octx, cancel := s.o.opCtx(ctx)
	defer cancel()
	return wrap(ctx, "saving a token", s.rdb.Set(octx, s.tokenKey(key), b, 0).Err())
}

// DeleteToken removes the pair stored under key (bitrix.TokenDeleter); a
// missing key is not an error.
func (s *TokenStore) DeleteToken(ctx context.Context, key string) error {
	octx, cancel := s.o.opCtx(ctx)
	defer cancel()
	return wrap(ctx, "deleting a token", s.rdb.Del(octx, s.tokenKey(key)).Err())
}

// SaveTokenIfAbsent stores tok under key if no token is stored there
// (saved = true); otherwise it returns the stored token. The bitrix client
// saves the token given to bitrix.OAuth this way, so that a replica
// starting up never overwrites a pair another replica has refreshed.
func (s *TokenStore) SaveTokenIfAbsent(ctx context.Context, key string, tok bitrix.Token) (stored bitrix.Token, saved bool, err error) {
	b, err := tok.MarshalBinary()
	if err != nil {
		return bitrix.Token{}, false, fmt.Errorf("redisstore: encoding the token: %w", err)
	}
	octx, cancel := s.o.opCtx(ctx)
	defer cancel()
	cur, err := saveIfAbsentScript.Run(octx, s.rdb, []string{s.tokenKey(key)}, b).Text()
	if isNil(err) {
		return bitrix.Token{}, true, nil
	}
	if err != nil {
		return bitrix.Token{}, false, wrap(ctx, "saving a token", err)
	}
	if err := stored.UnmarshalBinary([]byte(cur)); err != nil {
		return bitrix.Token{}, false, fmt.Errorf("redisstore: the token stored for portal %q is not valid JSON", key)
	}
	return stored, false, nil
}

// LockRefresh takes the refresh lease of the portal key, waiting (polling
// every [WithPollInterval]) while another replica holds it. It returns the
// function that releases the lease; call it exactly once (later calls do
// nothing). It fails with the context's error, or with an error matching
// [ErrUnavailable] when Redis fails.
func (s *TokenStore) LockRefresh(ctx context.Context, key string) (unlock func(), err error) {
	lk := s.leaseKey(key)
	owner := randHex(16)
	for {
		octx, cancel := s.o.opCtx(ctx)
		ok, err := s.rdb.SetNX(octx, lk, owner, s.o.leaseTTL).Result()
		cancel()
		if err != nil {
			return nil, wrap(ctx, "taking the refresh lease", err)
		}
		if ok {
			return s.hold(ctx, key, lk, owner), nil
		}
		t := time.NewTimer(s.o.poll)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
}

// hold renews the lease until the returned unlock is called.
func (s *TokenStore) hold(ctx context.Context, key, lk, owner string) func() {
	bg := context.WithoutCancel(ctx)
	stop := make(chan struct{})
	done := make(chan struct{})
	ttlMS := s.o.leaseTTL.Milliseconds()
	if ttlMS < 1 {
		ttlMS = 1
	}
	go func() {
		defer close(done)
		tick := time.NewTicker(s.o.leaseTTL / 3)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			octx, cancel := s.o.opCtx(bg)
			n, err := renewScript.Run(octx, s.rdb, []string{lk}, owner, ttlMS).Int64()
			cancel()
			switch {
			case err != nil:
				s.o.log.LogAttrs(bg, slog.LevelWarn, "redisstore: renewing the refresh lease failed",
					slog.String("portal", key), slog.String("error", err.Error()))
			case n == 0:
				s.o.log.LogAttrs(bg, slog.LevelWarn, "redisstore: the refresh lease was lost (expired); another replica may refresh",
					slog.String("portal", key))
				return
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(stop)
			<-done
			octx, cancel := s.o.opCtx(bg)
			defer cancel()
			if err := releaseScript.Run(octx, s.rdb, []string{lk}, owner).Err(); err != nil {
				s.o.log.LogAttrs(bg, slog.LevelWarn, "redisstore: releasing the refresh lease failed; it expires by itself",
					slog.String("portal", key), slog.String("error", err.Error()))
			}
		})
	}
}
