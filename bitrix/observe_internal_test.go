package bitrix

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/b24go/sdk/internal/transport"
)

// TestObserverUnsetAllocatesNothing runs every call-out of the client with
// no observer installed: none may allocate (the hooks cost nothing when
// unset; BenchmarkCallLoopback in docs/BENCHMARKS.md shows the whole call).
func TestObserverUnsetAllocatesNothing(t *testing.T) {
	c := &Client{domain: "portal.example"}
	ctx := context.Background()
	res := &transport.Result{Status: 200, Body: []byte(`{"result":true}`)}
	apiErr := &APIError{Code: "QUERY_LIMIT_EXCEEDED"}
	cmd := &BatchCmd{name: "a", method: "crm.deal.get", err: apiErr}
	tm := Timing{Operating: time.Second}
	start := time.Now()
	n := testing.AllocsPerRun(200, func() {
		cctx, call := c.startCall(ctx, "crm.deal.get", 0, true)
		c.observeRequest(cctx, "crm.deal.get", 0, 1, start, 10, res, nil, true)
		c.observeRequest(cctx, "crm.deal.get", 0, 2, start, 10, nil, apiErr, true)
		c.observeCommand(cctx, cmd)
		c.observeWait(cctx, "crm.deal.get", ReasonRateLimit, time.Second)
		c.observeRetry(cctx, "crm.deal.get", 1, RetryQueryLimit, 503, time.Second)
		c.observeRefresh(cctx, start, false, nil)
		c.observeTiming(cctx, "crm.deal.get", tm)
		c.endCall(cctx, call, apiErr)
	})
	if n != 0 {
		t.Errorf("call-outs without an observer: %v allocations, want 0", n)
	}
}

// TestWithObserverJoins installs two observers: both see every event, in
// order, and the second CallStart gets the first one's context.
func TestWithObserverJoins(t *testing.T) {
	type key struct{}
	var got []string
	first := Observer{
		CallStart: func(ctx context.Context, c CallInfo) context.Context {
			got = append(got, "start1 "+c.Method)
			return context.WithValue(ctx, key{}, "from first")
		},
		Retry: func(_ context.Context, r RetryInfo) { got = append(got, "retry1 "+r.Reason) },
	}
	second := Observer{
		CallStart: func(ctx context.Context, c CallInfo) context.Context {
			got = append(got, "start2 sees "+ctx.Value(key{}).(string))
			return nil // keep ctx
		},
		CallEnd: func(ctx context.Context, c CallInfo) {
			got = append(got, "end2 "+ctx.Value(key{}).(string)+" "+c.Err.Error())
		},
		Retry: func(_ context.Context, r RetryInfo) { got = append(got, "retry2 "+r.Reason) },
	}
	var cfg config
	for _, o := range []Option{WithObserver(first), WithObserver(second)} {
		if err := o(&cfg); err != nil {
			t.Fatal(err)
		}
	}
	c := &Client{obs: &cfg.observer}
	ctx, call := c.startCall(context.Background(), "crm.deal.get", 0, true)
	c.observeRetry(ctx, "crm.deal.get", 1, RetryNetwork, 0, time.Millisecond)
	c.endCall(ctx, call, errors.New("boom"))
	want := []string{"start1 crm.deal.get", "start2 sees from first", "retry1 network error", "retry2 network error", "end2 from first boom"}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}
