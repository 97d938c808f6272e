package redisstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/b24go/sdk/bitrix"
)

func TestOperatingGateSharedBlock(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	a := newGate(t, srv.client(t))
	b := newGate(t, srv.client(t))
	ctx := t.Context()
	// A block far longer than any margin below: a Wait that is held cannot
	// end with nil before its deadline, however slow the machine is.
	if err := a.Block(ctx, "p", "crm.deal.list", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// Other methods and other portals are not held.
	for _, k := range [][2]string{{"p", "crm.deal.get"}, {"q", "crm.deal.list"}} {
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := b.Wait(wctx, k[0], k[1])
		cancel()
		if err != nil {
			t.Errorf("Wait(%q, %q) = %v, want nil (not blocked)", k[0], k[1], err)
		}
	}
	// The method is held on the other replica (method names are case
	// insensitive) until its deadline.
	wctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	err := b.Wait(wctx, "p", "CRM.Deal.List")
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait on a blocked method with a short deadline = %v, want DeadlineExceeded", err)
	}
	// A short block: Wait returns once it ended, never before.
	const block = 300 * time.Millisecond
	start := time.Now()
	if err := a.Block(ctx, "p", "crm.deal.update", start.Add(block)); err != nil {
		t.Fatal(err)
	}
	if err := b.Wait(ctx, "p", "crm.deal.update"); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < block-20*time.Millisecond {
		t.Errorf("Wait returned after %v, before the block of %v ended", waited, block)
	}
}

func TestOperatingGateBlockExtendsOnly(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	rdb := srv.client(t)
	g := newGate(t, rdb)
	ctx := t.Context()
	now := time.Now()
	steps := []time.Duration{10 * time.Second, time.Second, 20 * time.Second, -time.Second}
	for _, d := range steps {
		if err := g.Block(ctx, "p", "m", now.Add(d)); err != nil {
			t.Fatal(err)
		}
	}
	ttl, err := rdb.PTTL(ctx, g.key("p", "m")).Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl < 19*time.Second || ttl > 20*time.Second {
		t.Errorf("block TTL = %v, want about 20s (the longest block wins)", ttl)
	}
	// A block in the past writes nothing.
	if err := g.Block(ctx, "p", "other", now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if n, _ := rdb.Exists(ctx, g.key("p", "other")).Result(); n != 0 {
		t.Error("a block that already ended was stored")
	}
}

func TestOperatingGateRedisDown(t *testing.T) {
	t.Parallel()
	g := newGate(t, deadClient(t))
	ctx := t.Context()
	if err := g.Wait(ctx, "p", "m"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Wait with Redis down = %v, want ErrUnavailable", err)
	}
	if err := g.Block(ctx, "p", "m", time.Now().Add(time.Minute)); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Block with Redis down = %v, want ErrUnavailable", err)
	}

	// With a fallback, blocks land there and Wait consults it.
	fb := bitrix.NewOperatingGate()
	g = newGate(t, deadClient(t), WithGateFallback(fb))
	if err := g.Block(ctx, "p", "m", time.Now().Add(time.Minute)); err != nil {
		t.Fatalf("Block with a fallback = %v, want nil", err)
	}
	wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := g.Wait(wctx, "p", "m"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait on a method blocked in the fallback = %v, want DeadlineExceeded", err)
	}
	if err := g.Wait(ctx, "p", "other"); err != nil {
		t.Errorf("Wait on a free method with the fallback = %v, want nil", err)
	}
}
