// Package redisstore lets several replicas of a service act as one
// Bitrix24 client, by keeping the state the portal's limits depend on in
// Redis (github.com/redis/go-redis/v9). It lives in a package of its own so
// that programs without Redis do not link go-redis.
//
// A portal's request-rate limit and an OAuth application's refresh token
// are shared by every process that talks to the portal. With this package
// the fleet as a whole stays under the limit, refreshes each token once,
// and holds a method blocked by the operating-time limit on every replica.
//
// # Sections
//
//   - Rate limit: [Limiter], a leaky bucket per portal key in Redis with the
//     semantics and defaults of bitrix.NewLimiter (2 req/s with a burst of
//     50; 5/250 for Enterprise), one atomic Lua script and round trip per
//     request, waiting with the caller's context.
//   - OAuth tokens: [TokenStore], the token pair per portal key, with a
//     refresh lease ([TokenStore.LockRefresh], SET NX PX with a random
//     owner, renewed while held, released by compare-and-delete, expiring
//     if its holder crashes) so that exactly one replica refreshes and the
//     others pick up the new pair; and [TokenStore.SaveTokenIfAbsent], so
//     that a replica starting up never overwrites a refreshed pair.
//   - Operating-time blocks: [OperatingGate], the per-method block after
//     OPERATION_TIME_LIMIT, shared by all replicas.
//   - Event receiver: [Dedupe] (webhook.DedupeStore: SET NX with a TTL), so
//     a delivery reaching two replicas runs its handler once, and
//     [Registry] (events.Registry), the application token of each portal by
//     member id; [Queue] (webhook.Queue: Redis Streams with a consumer
//     group, XAUTOCLAIM after the visibility timeout, a delayed set for
//     retries and a dead-letter stream), so that replicas share the
//     accepted deliveries and finish those of a replica that crashed.
//   - Failures: [ErrUnavailable], [Error], [WithLimiterFallback],
//     [WithGateFallback], [WithOpTimeout].
//
// # Wiring
//
// Give every replica the same components on its own go-redis client:
//
//	rdb := redis.NewClient(&redis.Options{Addr: "redis:6379"})
//	tokens, err1 := redisstore.NewTokenStore(rdb)
//	limiter, err2 := redisstore.NewLimiter(rdb, bitrix.DefaultRate, bitrix.DefaultBurst)
//	gate, err3 := redisstore.NewOperatingGate(rdb)
//	registry, err4 := redisstore.NewRegistry(rdb)
//	dedupe, err5 := redisstore.NewDedupe(rdb)
//	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
//		return err // a nil client or a bad option value
//	}
//	c, err := bitrix.New(bitrix.OAuth(tok, app, tokens),
//		bitrix.WithLimiter(limiter), bitrix.WithOperatingGate(gate))
//
//	h, err := webhook.New(webhook.WithRegistry(registry),
//		webhook.WithDedupe(dedupe, 24*time.Hour))
//
// The constructors do no I/O; a nil client or a bad option value
// ([Option]) is an error from the constructor.
//
// Keys are the portal key of the client (bitrix.Client.PortalKey: the
// member id for OAuth, the portal host for webhooks) under a common prefix
// ([DefaultPrefix], see [WithPrefix]); every replica must use the same
// prefix, rate and burst. Each component touches one key per command, so
// Redis Cluster works too (any redis.UniversalClient).
//
// # When Redis is down
//
// Every component fails fast with an error matching [ErrUnavailable] (and
// wrapping the go-redis cause): a bitrix.Client call then fails before
// anything is sent, instead of bypassing the shared limits silently. Each
// Redis command is bounded by [WithOpTimeout]; for a quick failure also keep
// the go-redis client's own retries short, for example
//
//	redis.Options{DialTimeout: time.Second, ReadTimeout: 500 * time.Millisecond,
//		WriteTimeout: 500 * time.Millisecond, MaxRetries: 1, DialerRetries: 1}
//
// To keep calling the portal while Redis is down, configure in-process
// fallbacks explicitly with [WithLimiterFallback] and [WithGateFallback].
// The fallback limiter is per process, so give it the portal's rate divided
// by the number of replicas. The token store has no fallback: refreshing
// without the shared lease could spend a rotated refresh token twice.
//
// # Tests
//
// The package's tests start a private redis-server (the Debian package
// redis-server) on a free loopback port; without the binary they skip,
// except under CI=true where they fail.
package redisstore
