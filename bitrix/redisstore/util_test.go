package redisstore

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func (s *syncBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(s, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// must returns v, failing the test at once when its constructor returned
// an error: must(t)(NewX(...)) where the arguments are known to be good.
func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func newTokenStore(t testing.TB, rdb redis.UniversalClient, opts ...Option) *TokenStore {
	t.Helper()
	return must[*TokenStore](t)(NewTokenStore(rdb, opts...))
}

func newRegistry(t testing.TB, rdb redis.UniversalClient, opts ...Option) *Registry {
	t.Helper()
	return must[*Registry](t)(NewRegistry(rdb, opts...))
}

func newDedupe(t testing.TB, rdb redis.UniversalClient, opts ...Option) *Dedupe {
	t.Helper()
	return must[*Dedupe](t)(NewDedupe(rdb, opts...))
}

func newGate(t testing.TB, rdb redis.UniversalClient, opts ...Option) *OperatingGate {
	t.Helper()
	return must[*OperatingGate](t)(NewOperatingGate(rdb, opts...))
}

func newLimiter(t testing.TB, rdb redis.UniversalClient, perSecond float64, burst int, opts ...Option) *Limiter {
	t.Helper()
	return must[*Limiter](t)(NewLimiter(rdb, perSecond, burst, opts...))
}

func newOffsetStore(t testing.TB, rdb redis.UniversalClient, opts ...Option) *OffsetStore {
	t.Helper()
	return must[*OffsetStore](t)(NewOffsetStore(rdb, opts...))
}

func newQueue(t testing.TB, rdb redis.UniversalClient, name string, maxLen int, maxAge time.Duration, opts ...Option) *Queue {
	t.Helper()
	return must[*Queue](t)(NewQueue(rdb, name, maxLen, maxAge, opts...))
}
