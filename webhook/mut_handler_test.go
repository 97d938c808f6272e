package webhook

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/b24go/sdk/events"
)

// Tests written for mutants of handler.go that the other tests let live
// (scripts/mutants.py; docs/TESTING.md, "Mutation testing").

// TestHandlingAsync: the observer's Handling.Async is false for a handler
// run within its delivery, true for one run by WithAsync's or WithQueue's
// workers.
func TestHandlingAsync(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opt   Option
		async bool
	}{
		{"synchronous", nil, false},
		{"WithAsync", WithAsync(1, 1), true},
		{"WithQueue", WithQueue(NewMemoryQueue(0), 1, RetryPolicy{MaxAttempts: 1, Backoff: time.Second, Visibility: time.Minute}), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var mu sync.Mutex
				var got []bool
				h, err := New(WithApplicationToken(testToken), tc.opt, WithObserver(Observer{
					HandlerStart: func(ctx context.Context, hd events.Handling) context.Context {
						mu.Lock()
						got = append(got, hd.Async)
						mu.Unlock()
						return ctx
					},
				}))
				if err != nil {
					t.Fatal(err)
				}
				h.OnDealAdd(func(context.Context, *events.Event, *events.CRMEntity) error { return nil })
				if st := serve(h, dealBody(1, testToken)); st != 200 {
					t.Fatalf("status %d", st)
				}
				synctest.Wait()
				if err := h.Shutdown(t.Context()); err != nil {
					t.Fatal(err)
				}
				mu.Lock()
				defer mu.Unlock()
				if len(got) != 1 || got[0] != tc.async {
					t.Errorf("Handling.Async of the runs: %v, want [%v]", got, tc.async)
				}
			})
		})
	}
}
