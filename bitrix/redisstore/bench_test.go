package redisstore

import (
	"strconv"
	"testing"
	"time"

	"github.com/b24go/sdk/bitrix"
)

// BenchmarkLimiterWait measures one Wait that does not have to wait: the
// Lua round trip to a local redis-server.
func BenchmarkLimiterWait(b *testing.B) {
	srv := startRedis(b)
	l := newLimiter(b, srv.client(b), 1e6, 1<<30)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if err := l.Wait(ctx, "portal"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOperatingGateWait measures Wait on a method that is not blocked.
func BenchmarkOperatingGateWait(b *testing.B) {
	srv := startRedis(b)
	g := newGate(b, srv.client(b))
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if err := g.Wait(ctx, "portal", "crm.item.list"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTokenStoreLoad measures loading and decoding a stored pair.
func BenchmarkTokenStoreLoad(b *testing.B) {
	srv := startRedis(b)
	s := newTokenStore(b, srv.client(b))
	ctx := b.Context()
	tok := bitrix.Token{AccessToken: "a", RefreshToken: "r", Expires: time.Unix(1_900_000_000, 0), MemberID: "m",
		Domain: "portal.example", ClientEndpoint: "https://portal.example/rest/"}
	if err := s.SaveToken(ctx, "m", tok); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.LoadToken(ctx, "m"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDedupeClaim measures claiming a fresh key.
func BenchmarkDedupeClaim(b *testing.B) {
	srv := startRedis(b)
	d := newDedupe(b, srv.client(b))
	ctx := b.Context()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if _, err := d.Claim(ctx, strconv.Itoa(i), time.Minute); err != nil {
			b.Fatal(err)
		}
	}
}
