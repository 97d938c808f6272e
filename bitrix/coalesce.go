package bitrix

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MaxCoalescingWindow is the longest gathering window [WithCoalescing] accepts.
const MaxCoalescingWindow = time.Second

// WithCoalescing gathers concurrent single calls ([Client.Call],
// [Client.CallRaw]) that arrive within window of each other and sends them
// together as one "batch" request of up to [MaxBatchCommands] commands. A
// full batch is sent at once; otherwise the first call of a gathering waits
// at most window before it goes. Under the portal's request-rate limit this
// turns many concurrent calls into a few requests: 120 concurrent calls cost
// 3 requests instead of 120 (and 35 seconds of waiting at 2 req/s).
//
// Each caller gets exactly its own result and error, with the semantics of a
// separate call:
//
//   - read-only and write methods (see [RetryPolicy].ReadOnly) are gathered
//     separately, so a read is retried on a server fault as a single read
//     would be, and a write whose batch outcome is unknown fails with an
//     error matching [ErrMaybeApplied] (never replayed);
//   - a portal error for one command is that caller's *[APIError] (its
//     StatusCode is 0: commands inside a batch have no HTTP status of
//     their own); the other commands are unaffected (halt=0);
//   - a command the portal did not run (OPERATION_TIME_LIMIT,
//     ERROR_BATCH_METHOD_NOT_ALLOWED, ERROR_BATCH_LENGTH_EXCEEDED) is sent
//     again as a separate call, which waits for the [OperatingGate] as
//     usual;
//   - a lone call in its window is sent as a separate call.
//
// Calls that cannot be part of a batch are never gathered: the "batch"
// method itself, methods whose name contains "upload" or "download",
// json.RawMessage params, params that cannot be encoded as a form, and
// params with a value that looks like a batch reference ($result[...]),
// which the portal would substitute inside a batch.
//
// A caller whose context ends while its call is gathered leaves the batch
// (its call is not sent). If the context ends after the batch was handed
// over, a read returns the context's error and a write returns an error
// matching [ErrMaybeApplied] and the context's error: the batch goes on for
// the other callers, and is cancelled when none of them waits any more.
//
// window must be positive and at most [MaxCoalescingWindow]; a few
// milliseconds is typical. Coalescing is off by default.
func WithCoalescing(window time.Duration) Option {
	return func(c *config) error {
		if window <= 0 || window > MaxCoalescingWindow {
			return fmt.Errorf("bitrix: WithCoalescing: window must be in (0, %v], got %v", MaxCoalescingWindow, window)
		}
		c.coalesce = window
		return nil
	}
}

// coalescer gathers concurrent single calls into batch requests.
type coalescer struct {
	c      *Client
	window time.Duration

	mu   sync.Mutex
	open [2]*gathering // by class: 0 read-only, 1 write
	deny sync.Map      // lower-case method → true after ERROR_BATCH_METHOD_NOT_ALLOWED
}

// gathering is one batch in the making.
type gathering struct {
	write   bool
	calls   []*gathered
	timer   *time.Timer
	sent    bool // handed over to the sender: no more joins or leaves
	waiting int  // callers still waiting for the answer (after sent)
	cancel  context.CancelFunc
}

// gathered is one caller's call inside a gathering.
type gathered struct {
	method string
	query  string
	done   chan struct{}
	raw    json.RawMessage
	resp   *Response
	err    error
	direct bool // send it as a separate call
}

// newCoalescer returns nil when coalescing is off.
func newCoalescer(c *Client, window time.Duration) *coalescer {
	if window <= 0 {
		return nil
	}
	return &coalescer{c: c, window: window}
}

// coalescible reports whether method may be gathered into a batch.
func (co *coalescer) coalescible(method string) bool {
	m := strings.ToLower(method)
	if m == "batch" || strings.Contains(m, "upload") || strings.Contains(m, "download") {
		return false
	}
	_, denied := co.deny.Load(m)
	return !denied
}

// call runs one call through a gathering. handled is false when the call
// must go the usual way (not coalescible, alone in its window, or not run
// by the portal inside the batch).
func (co *coalescer) call(ctx context.Context, method string, params any) (raw json.RawMessage, resp *Response, handled bool, err error) {
	if ctx == nil || !co.coalescible(method) {
		return nil, nil, false, nil
	}
	if _, raw := params.(json.RawMessage); raw {
		return nil, nil, false, nil
	}
	q, deps, qerr := encodeCommand(params)
	if qerr != nil || len(deps) > 0 {
		return nil, nil, false, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, true, err
	}
	// A method blocked by OPERATION_TIME_LIMIT waits here, as a separate call would.
	if err := co.c.waitGate(ctx, method); err != nil {
		return nil, nil, true, err
	}
	write := !co.c.retry.ReadOnly(method)
	g, call := co.join(method, q, write)
	select {
	case <-call.done:
	case <-ctx.Done():
		if co.leave(g, call) {
			return nil, nil, true, ctx.Err()
		}
		select {
		case <-call.done: // answered meanwhile
		default:
			if write {
				return nil, nil, true, &maybeAppliedError{fmt.Errorf("bitrix: %s: %w", method, ctx.Err())}
			}
			return nil, nil, true, ctx.Err()
		}
	}
	if call.direct {
		return nil, nil, false, nil
	}
	return call.raw, call.resp, true, call.err
}

// join adds a call to the open gathering of its class, starting one (and
// its window timer) if needed, and sends the gathering when it is full.
func (co *coalescer) join(method, query string, write bool) (*gathering, *gathered) {
	call := &gathered{method: method, query: query, done: make(chan struct{})}
	class := 0
	if write {
		class = 1
	}
	co.mu.Lock()
	g := co.open[class]
	if g == nil {
		g = &gathering{write: write}
		co.open[class] = g
		g.timer = time.AfterFunc(co.window, func() { co.flush(g) })
	}
	g.calls = append(g.calls, call)
	full := len(g.calls) >= MaxBatchCommands
	if full {
		co.open[class] = nil // later calls start a new gathering
	}
	co.mu.Unlock()
	if full {
		g.timer.Stop()
		go co.flush(g)
	}
	return g, call
}

// leave removes a call whose caller gave up. It reports true when the call
// had not been handed over yet (it will not be sent).
func (co *coalescer) leave(g *gathering, call *gathered) bool {
	co.mu.Lock()
	defer co.mu.Unlock()
	if !g.sent {
		for i, c := range g.calls {
			if c == call {
				g.calls = append(g.calls[:i], g.calls[i+1:]...)
				break
			}
		}
		return true
	}
	g.waiting--
	if g.waiting == 0 && g.cancel != nil {
		g.cancel() // nobody waits for the answer any more
	}
	return false
}

// flush sends a gathering once.
func (co *coalescer) flush(g *gathering) {
	co.mu.Lock()
	if g.sent {
		co.mu.Unlock()
		return
	}
	g.sent = true
	class := 0
	if g.write {
		class = 1
	}
	if co.open[class] == g {
		co.open[class] = nil
	}
	calls := g.calls
	g.waiting = len(calls)
	ctx, cancel := context.WithCancel(context.Background())
	g.cancel = cancel
	co.mu.Unlock()
	defer cancel()

	switch len(calls) {
	case 0:
		return
	case 1:
		calls[0].direct = true
		close(calls[0].done)
		return
	}
	co.send(ctx, calls, g.write)
	for _, call := range calls {
		close(call.done)
	}
}

// send runs the calls as one batch request and routes each command's
// outcome to its caller.
func (co *coalescer) send(ctx context.Context, calls []*gathered, write bool) {
	b := co.c.NewBatch()
	for i, call := range calls {
		name := "c" + strconv.Itoa(i)
		cmd := &BatchCmd{b: b, index: i, name: name, method: call.method, query: call.query}
		b.cmds = append(b.cmds, cmd)
		b.names[name] = cmd
	}
	b.ran = true
	_, err := b.runChunk(ctx, b.cmds)
	for i, call := range calls {
		if err != nil {
			call.err = err
			continue
		}
		cmd := b.cmds[i]
		switch {
		case cmd.err == nil:
			call.raw, call.resp = cmd.result, cmd.resp
		case errors.Is(cmd.err, ErrBatchMethodNotAllowed):
			co.deny.Store(strings.ToLower(call.method), true)
			call.direct = true
		case errors.Is(cmd.err, ErrOperationTimeLimit), errors.Is(cmd.err, ErrBatchLengthExceeded),
			errors.Is(cmd.err, ErrQueryLimitExceeded):
			call.direct = true // not run: send it alone (the gate holds it if blocked)
		case errors.Is(cmd.err, ErrNotRun):
			// The answer has neither a result nor an error for the command.
			if write {
				call.err = &maybeAppliedError{fmt.Errorf("bitrix: %s: no result for the command in the batch answer: %w", call.method, ErrNotRun)}
			} else {
				call.direct = true
			}
		default:
			call.err = cmd.err
		}
	}
}
