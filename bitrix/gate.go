package bitrix

import (
	"context"
	"log/slog"
	"sort"
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

// DefaultOperatingBudget is the operating time a method may accumulate per
// ten minutes for one application or webhook, unless
// [WithOperatingBudget] says otherwise: 480 s, the example limit of
// [request limits] ("assume the established limit is 480 seconds"; the
// cloud's value is set by Bitrix24's configuration, the self-hosted default
// when enabled is 420 s).
//
// [request limits]: https://apidocs.bitrix24.com/settings/performance/limits.html
const DefaultOperatingBudget = 480 * time.Second

// opPacer keeps each method inside its operating-time budget ahead of the
// portal's OPERATION_TIME_LIMIT. Every answer's time.operating (the
// method's accumulated time in the ten-minute window) and
// time.operating_reset_at (when the oldest minute leaves the window) are
// recorded, with the longest time.processing seen as the cost of one call.
// A request whose calls would lift operating, plus what requests in flight
// may add, over the budget waits: for answers in flight, or, when none
// are, in the operating gate until operating_reset_at. After that time the
// window's sum is unknown, so one request goes alone and its answer tells.
type opPacer struct {
	budget time.Duration
	mu     sync.Mutex
	m      map[string]*opState
}

type opState struct {
	operating time.Duration
	resetAt   time.Time
	cost      time.Duration // longest processing of one call seen
	pending   time.Duration // cost reserved by requests in flight
	inFlight  int
	stale     bool          // resetAt has passed: operating is unknown
	wake      chan struct{} // closed (and replaced) when the state changes
}

func newOpPacer(budget time.Duration) *opPacer {
	if budget <= 0 {
		return nil
	}
	return &opPacer{budget: budget, m: map[string]*opState{}}
}

func (p *opPacer) state(method string) *opState {
	k := strings.ToLower(method)
	st := p.m[k]
	if st == nil {
		st = &opState{wake: make(chan struct{})}
		p.m[k] = st
	}
	return st
}

func (st *opState) changed() {
	close(st.wake)
	st.wake = make(chan struct{})
}

// observe records the time block of an answer of one call of method.
func (p *opPacer) observe(method string, t Timing) {
	if p == nil || (t.OperatingResetAt.IsZero() && t.Operating == 0) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.state(method)
	st.cost = max(st.cost, t.Processing)
	switch {
	case t.OperatingResetAt.After(st.resetAt):
		st.operating, st.resetAt = t.Operating, t.OperatingResetAt
	case t.OperatingResetAt.Equal(st.resetAt):
		st.operating = max(st.operating, t.Operating)
	default:
		return // an older answer, overtaken by a newer one
	}
	if time.Now().Before(st.resetAt) {
		st.stale = false
	}
	st.changed()
}

// paceOperating waits until calls more calls of each method fit in its
// operating budget and reserves their estimated cost; release gives the
// reservations back once the answer is in (and observed).
func (c *Client) paceOperating(ctx context.Context, calls map[string]int) (release func(), err error) {
	p := c.op
	if p == nil {
		return func() {}, nil
	}
	methods := make([]string, 0, len(calls))
	for m := range calls {
		methods = append(methods, m)
	}
	sort.Strings(methods) // one order for every request: no reservation cycles
	var held []func()
	release = func() {
		for _, r := range held {
			r()
		}
	}
	for _, m := range methods {
		r, err := c.paceMethod(ctx, m, calls[m])
		if err != nil {
			release()
			return nil, err
		}
		held = append(held, r)
	}
	return release, nil
}

func (c *Client) paceMethod(ctx context.Context, method string, calls int) (func(), error) {
	p := c.op
	for {
		p.mu.Lock()
		st := p.state(method)
		now := time.Now()
		if !st.stale && !st.resetAt.IsZero() && !now.Before(st.resetAt) {
			st.stale = true
		}
		need := time.Duration(calls) * st.cost
		var admit bool
		switch {
		case st.stale:
			admit = st.inFlight == 0 // one request finds out the new sum
		case st.operating+st.pending+need <= p.budget:
			admit = true
		case st.inFlight == 0 && (st.operating == 0 || st.resetAt.IsZero()):
			admit = true // nothing to wait for: a request bigger than the budget goes alone
		}
		if admit {
			st.pending += need
			st.inFlight++
			p.mu.Unlock()
			var once sync.Once
			return func() {
				once.Do(func() {
					p.mu.Lock()
					st.pending -= need
					st.inFlight--
					st.changed()
					p.mu.Unlock()
				})
			}, nil
		}
		wake, until, inFlight := st.wake, st.resetAt, st.inFlight
		p.mu.Unlock()
		if inFlight > 0 {
			select { // an answer in flight may change the picture
			case <-wake:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			continue
		}
		c.log.LogAttrs(ctx, slog.LevelInfo, "bitrix method paced by its operating-time budget",
			slog.String("method", method), slog.Time("until", until))
		if err := c.gate.Block(ctx, c.key, method, until); err != nil {
			c.log.Warn("bitrix: operating gate block failed", "method", method, "error", err.Error())
		}
		if err := c.waitGate(ctx, method); err != nil {
			return nil, err
		}
		if time.Now().Before(until) { // a gate that could not block: wait here
			t := time.NewTimer(time.Until(until))
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return nil, ctx.Err()
			}
		}
	}
}

// callCost is the longest time one call of method has taken on the portal
// (time.processing) as far as the client has seen, 0 when unknown.
func (c *Client) callCost(method string) time.Duration {
	if c.op == nil {
		return 0
	}
	c.op.mu.Lock()
	defer c.op.mu.Unlock()
	if st := c.op.m[strings.ToLower(method)]; st != nil {
		return st.cost
	}
	return 0
}
