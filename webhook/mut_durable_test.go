package webhook

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/b24go/sdk/events"
)

// Tests written for mutants of durable.go that the other tests let live
// (scripts/mutants.py; docs/TESTING.md, "Mutation testing").

// failingClaims is a MemoryQueue whose first n Claims fail, as a store
// that is down does.
type failingClaims struct {
	*MemoryQueue
	mu    sync.Mutex
	n     int
	calls int
}

func (q *failingClaims) Claim(ctx context.Context, visibility time.Duration) (Job, error) {
	q.mu.Lock()
	q.calls++
	fail := q.calls <= q.n
	q.mu.Unlock()
	if fail {
		return Job{}, errors.New("store down")
	}
	return q.MemoryQueue.Claim(ctx, visibility)
}

func (q *failingClaims) claims() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.calls
}

// TestQueueClaimErrorBacksOff: a worker whose Claim fails logs it and
// waits the policy's Backoff before it claims again, rather than spin.
func TestQueueClaimErrorBacksOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs syncBuffer
		q := &failingClaims{MemoryQueue: NewMemoryQueue(0), n: 3}
		h, err := New(WithApplicationToken(testToken), WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
			WithQueue(q, 1, RetryPolicy{MaxAttempts: 3, Backoff: time.Second, Visibility: time.Minute}))
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if n := q.claims(); n != 1 {
			t.Errorf("%d claims at once, want 1 and then a wait", n)
		}
		if !strings.Contains(logs.String(), "claiming a queued delivery failed") || !strings.Contains(logs.String(), "store down") {
			t.Errorf("log %q does not report the failed claim", logs.String())
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if n := q.claims(); n != 2 {
			t.Errorf("%d claims after one Backoff, want 2", n)
		}
		if err := h.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}

// TestQueueAckedObserved: a job whose handler succeeded is reported to the
// observer as enqueued, dequeued and acked, each once with Depth -1 (a
// durable queue's depth is QueueStats'; events.QueueEvent). Not in a fixed
// order: a worker may claim and finish the job before the intake reports
// it enqueued.
func TestQueueAckedObserved(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var ops []string
		var depths []int
		h, err := New(WithApplicationToken(testToken),
			WithQueue(NewMemoryQueue(0), 1, RetryPolicy{MaxAttempts: 3, Backoff: time.Second, Visibility: time.Minute}),
			WithObserver(Observer{Queue: func(_ context.Context, e events.QueueEvent) {
				mu.Lock()
				ops = append(ops, e.Op)
				depths = append(depths, e.Depth)
				mu.Unlock()
			}}))
		if err != nil {
			t.Fatal(err)
		}
		h.OnDealAdd(func(context.Context, *events.Event, *events.CRMEntity) error { return nil })
		if st := serve(h, dealBody(1, testToken)); st != 200 {
			t.Fatalf("status %d", st)
		}
		synctest.Wait()
		mu.Lock()
		got, gotDepths := slices.Clone(ops), slices.Clone(depths)
		mu.Unlock()
		slices.Sort(got)
		want := []string{events.QueueEnqueued, events.QueueDequeued, events.QueueAcked}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("queue events %v, want %v", got, want)
		}
		if want := []int{-1, -1, -1}; !slices.Equal(gotDepths, want) {
			t.Errorf("depths %v, want %v", gotDepths, want)
		}
		if err := h.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}

// TestQueueStats: QueueStats reports the WithQueue queue's size, and is
// an error without WithQueue.
func TestQueueStats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := NewMemoryQueue(0)
		h, err := New(WithApplicationToken(testToken),
			WithQueue(q, 1, RetryPolicy{MaxAttempts: 1, Backoff: time.Second, Visibility: time.Minute}))
		if err != nil {
			t.Fatal(err)
		}
		h.OnDealAdd(func(context.Context, *events.Event, *events.CRMEntity) error { return errors.New("broken") })
		if st := serve(h, dealBody(1, testToken)); st != 200 {
			t.Fatalf("status %d", st)
		}
		synctest.Wait()
		if s, err := h.QueueStats(t.Context()); err != nil || s.Dead != 1 || s.Pending != 0 {
			t.Errorf("QueueStats = %+v, %v; want one dead letter", s, err)
		}
		if err := h.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
		plain, err := New(WithApplicationToken(testToken))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := plain.QueueStats(t.Context()); err == nil {
			t.Error("QueueStats without WithQueue: no error")
		}
	})
}
