package bitrix

import (
	"context"
	"strings"
	"sync"
	"time"
)

// OperatingGate holds per-method blocks after OPERATION_TIME_LIMIT: a
// blocked method waits until the portal's operating_reset_at while other
// methods go on. Share one between the clients of a portal (a Redis
// implementation can share it between processes).
type OperatingGate interface {
	// Wait returns when method is not blocked for the portal key (or with the context's error).
	Wait(ctx context.Context, key, method string) error
	// Block blocks method for the portal key until the given time.
	Block(ctx context.Context, key, method string, until time.Time) error
}

type memoryGate struct {
	mu     sync.Mutex
	blocks map[string]time.Time
}

// NewOperatingGate returns the in-memory OperatingGate clients use by default.
func NewOperatingGate() OperatingGate {
	return &memoryGate{blocks: map[string]time.Time{}}
}

func gateKey(key, method string) string { return key + "\x00" + strings.ToLower(method) }

func (g *memoryGate) Wait(ctx context.Context, key, method string) error {
	_, err := g.waitFor(ctx, key, method)
	return err
}

// gateWaiter is an OperatingGate that tells how long it waited (the
// in-memory one), so that progress reports only real waits.
type gateWaiter interface {
	waitFor(ctx context.Context, key, method string) (time.Duration, error)
}

func (g *memoryGate) waitFor(ctx context.Context, key, method string) (time.Duration, error) {
	k := gateKey(key, method)
	var waited time.Duration
	for {
		if err := ctx.Err(); err != nil {
			return waited, err
		}
		g.mu.Lock()
		until, ok := g.blocks[k]
		now := time.Now()
		if ok && !now.Before(until) {
			delete(g.blocks, k)
			ok = false
		}
		g.mu.Unlock()
		if !ok {
			return waited, nil
		}
		t := time.NewTimer(until.Sub(now))
		select {
		case <-t.C:
			waited += until.Sub(now)
		case <-ctx.Done():
			t.Stop()
			return waited, ctx.Err()
		}
	}
}

func (g *memoryGate) Block(_ context.Context, key, method string, until time.Time) error {
	k := gateKey(key, method)
	g.mu.Lock()
	defer g.mu.Unlock()
	if cur, ok := g.blocks[k]; !ok || until.After(cur) {
		g.blocks[k] = until
	}
	return nil
}
