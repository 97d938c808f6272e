package webhook

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/b24go/sdk/events"
)

// serve sends body to h without a network (inside synctest bubbles).
func serve(h http.Handler, body string) int {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	h.ServeHTTP(rec, req)
	return rec.Code
}

// TestQueueRetriesWithBackoff: a failing handler is run again after 1 s,
// then 2 s (virtual time), with its job's attempt and the last error seen
// by the observer; the delivery was answered before any run.
func TestQueueRetriesWithBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var runs []time.Time
		var attempts []int
		var retried []events.QueueEvent
		q := NewMemoryQueue(0)
		h, err := New(WithApplicationToken(testToken),
			WithQueue(q, 2, RetryPolicy{MaxAttempts: 5, Backoff: time.Second, Visibility: time.Minute}),
			WithObserver(Observer{Queue: func(_ context.Context, e events.QueueEvent) {
				if e.Op == events.QueueRetried {
					mu.Lock()
					retried = append(retried, e)
					mu.Unlock()
				}
			}}))
		if err != nil {
			t.Fatal(err)
		}
		h.OnDealAdd(func(ctx context.Context, _ *events.Event, _ *events.CRMEntity) error {
			j, _ := JobOf(ctx)
			mu.Lock()
			defer mu.Unlock()
			runs = append(runs, time.Now())
			attempts = append(attempts, j.Attempt)
			if len(runs) < 3 {
				return fmt.Errorf("portal down %d", len(runs))
			}
			return nil
		})
		start := time.Now()
		if st := serve(h, dealBody(1, testToken)); st != 200 {
			t.Fatalf("status %d", st)
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		if len(runs) != 3 {
			t.Fatalf("%d runs, want 3", len(runs))
		}
		if d1, d2 := runs[1].Sub(runs[0]), runs[2].Sub(runs[1]); d1 != time.Second || d2 != 2*time.Second || runs[0] != start {
			t.Errorf("runs at +%v, then after %v and %v; want +0, 1s, 2s", runs[0].Sub(start), d1, d2)
		}
		if fmt.Sprint(attempts) != "[1 2 3]" {
			t.Errorf("attempts %v", attempts)
		}
		if len(retried) != 2 || retried[1].Err == nil || retried[1].Err.Error() != "portal down 2" || retried[1].Wait != 2*time.Second || retried[1].Attempt != 2 {
			t.Errorf("retried events %+v", retried)
		}
		if s, _ := q.Stats(t.Context()); s.Pending != 0 || s.Dead != 0 {
			t.Errorf("stats %+v", s)
		}
		if err := h.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}

// TestQueueDeadLetters: a delivery failing every attempt goes to the dead
// letters with its last error after MaxAttempts runs and is not run again;
// Redrive runs it again, Drop forgets it.
func TestQueueDeadLetters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		runs := map[int]int{}
		fail := true
		q := NewMemoryQueue(0)
		h, err := New(WithApplicationToken(testToken), WithQueue(q, 1, RetryPolicy{MaxAttempts: 3, Backoff: time.Second}))
		if err != nil {
			t.Fatal(err)
		}
		h.OnDealAdd(func(_ context.Context, _ *events.Event, d *events.CRMEntity) error {
			mu.Lock()
			defer mu.Unlock()
			runs[d.EntityID()]++
			if fail {
				return errors.New("always broken")
			}
			return nil
		})
		for id := 1; id <= 2; id++ {
			if st := serve(h, dealBody(id, testToken)); st != 200 {
				t.Fatalf("status %d", st)
			}
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		dead, err := q.DeadLetters(t.Context())
		if err != nil || len(dead) != 2 {
			t.Fatalf("dead letters %v, %v", dead, err)
		}
		for _, d := range dead {
			if d.Attempt != 3 || d.LastError != "always broken" || d.Event != "ONCRMDEALADD" {
				t.Errorf("dead letter %+v", d)
			}
		}
		mu.Lock()
		if runs[1] != 3 || runs[2] != 3 {
			t.Errorf("runs %v, want 3 each", runs)
		}
		fail = false
		mu.Unlock()
		time.Sleep(time.Hour) // dead letters are not claimed
		synctest.Wait()
		mu.Lock()
		if runs[1] != 3 {
			t.Errorf("a dead letter ran again: %v", runs)
		}
		mu.Unlock()
		if err := q.Redrive(t.Context(), dead[0].ID); err != nil {
			t.Fatal(err)
		}
		if err := q.Drop(t.Context(), dead[1].ID); err != nil {
			t.Fatal(err)
		}
		if err := q.Drop(t.Context(), dead[1].ID); !errors.Is(err, ErrNoSuchJob) {
			t.Errorf("second drop: %v", err)
		}
		synctest.Wait()
		mu.Lock()
		if runs[1] != 4 || runs[2] != 3 {
			t.Errorf("after redrive and drop: runs %v", runs)
		}
		mu.Unlock()
		if s, _ := q.Stats(t.Context()); s.Pending != 0 || s.Dead != 0 {
			t.Errorf("stats %+v", s)
		}
		_ = h.Shutdown(t.Context())
	})
}

// TestMemoryQueueVisibilityTimeout: a job claimed by a worker that never
// finishes is claimed again after the visibility timeout, and the first
// worker can then neither acknowledge nor bury it.
func TestMemoryQueueVisibilityTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := NewMemoryQueue(0)
		ctx := t.Context()
		put, _ := q.Put(ctx, Job{Event: "E", Body: "b"})
		first, err := q.Claim(ctx, 10*time.Second)
		if err != nil || first.ID != put.ID || first.Attempt != 1 {
			t.Fatalf("claim %+v %v", first, err)
		}
		got := make(chan Job)
		go func() {
			j, _ := q.Claim(ctx, 10*time.Second)
			got <- j
		}()
		synctest.Wait()
		select {
		case j := <-got:
			t.Fatalf("claimed while leased: %+v", j)
		default:
		}
		time.Sleep(10 * time.Second)
		second := <-got
		if second.ID != put.ID || second.Attempt != 2 || second.Lease == first.Lease {
			t.Fatalf("second claim %+v", second)
		}
		if err := q.Ack(ctx, first); !errors.Is(err, ErrLeaseLost) {
			t.Errorf("stale ack: %v", err)
		}
		if err := q.Dead(ctx, first, "x"); !errors.Is(err, ErrLeaseLost) {
			t.Errorf("stale dead: %v", err)
		}
		if err := q.Ack(ctx, second); err != nil {
			t.Errorf("ack: %v", err)
		}
		if s, _ := q.Stats(ctx); s.Pending != 0 || s.InFlight != 0 {
			t.Errorf("stats %+v", s)
		}
	})
}

// TestQueueFullAnswers503: a delivery the queue cannot keep is not
// acknowledged.
func TestQueueFullAnswers503(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		block := make(chan struct{})
		h, err := New(WithApplicationToken(testToken), WithQueue(NewMemoryQueue(1), 1, RetryPolicy{}))
		if err != nil {
			t.Fatal(err)
		}
		h.OnDealAdd(func(context.Context, *events.Event, *events.CRMEntity) error { <-block; return nil })
		if st := serve(h, dealBody(1, testToken)); st != 200 {
			t.Fatalf("first: %d", st)
		}
		synctest.Wait() // claimed, still pending
		if st := serve(h, dealBody(2, testToken)); st != http.StatusServiceUnavailable {
			t.Errorf("over the limit: %d, want 503", st)
		}
		close(block)
		synctest.Wait()
		if st := serve(h, dealBody(3, testToken)); st != 200 {
			t.Errorf("after: %d", st)
		}
		_ = h.Shutdown(t.Context())
		if st := serve(h, dealBody(4, testToken)); st != http.StatusServiceUnavailable {
			t.Errorf("after shutdown: %d, want 503", st)
		}
	})
}

// TestMemoryQueueTenThousand: 10,000 deliveries, handlers failing 10% of
// first attempts at random and every 500th delivery always: each accepted
// delivery is handled successfully exactly once, the always-failing ones
// end in the dead letters after MaxAttempts runs and are never run after.
func TestMemoryQueueTenThousand(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 10_000
		rng := rand.New(rand.NewPCG(18, 18))
		var mu sync.Mutex
		ok := map[int]int{}
		runs := map[int]int{}
		flaky := map[int]bool{}
		for i := 1; i <= n; i++ {
			flaky[i] = rng.IntN(10) == 0
		}
		q := NewMemoryQueue(0)
		h, err := New(WithApplicationToken(testToken), WithQueue(q, 8, RetryPolicy{MaxAttempts: 4, Backoff: time.Second}))
		if err != nil {
			t.Fatal(err)
		}
		h.OnDealAdd(func(ctx context.Context, _ *events.Event, d *events.CRMEntity) error {
			id := d.EntityID()
			mu.Lock()
			defer mu.Unlock()
			runs[id]++
			if id%500 == 0 {
				return errors.New("poison")
			}
			if flaky[id] && runs[id] == 1 {
				return errors.New("transient")
			}
			ok[id]++
			return nil
		})
		for i := 1; i <= n; i++ {
			if st := serve(h, dealBody(i, testToken)); st != 200 {
				t.Fatalf("delivery %d: %d", i, st)
			}
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		poison := n / 500
		if len(ok) != n-poison {
			t.Errorf("%d handled, want %d", len(ok), n-poison)
		}
		retried := 0
		for i := 1; i <= n; i++ {
			switch {
			case i%500 == 0:
				if runs[i] != 4 || ok[i] != 0 {
					t.Errorf("poison %d: %d runs", i, runs[i])
				}
			case ok[i] != 1:
				t.Errorf("delivery %d handled %d times", i, ok[i])
			case flaky[i]:
				retried++
				if runs[i] != 2 {
					t.Errorf("flaky %d: %d runs", i, runs[i])
				}
			}
		}
		dead, _ := q.DeadLetters(t.Context())
		if len(dead) != poison || retried < n/20 {
			t.Errorf("%d dead letters (want %d), %d retried", len(dead), poison, retried)
		}
		_ = h.Shutdown(t.Context())
	})
}

// TestQueueShutdownLetsHandlerFinish: Shutdown stops the workers from
// claiming but lets the handler in hand finish (and acknowledge) with a
// live context; the job is not retried.
func TestQueueShutdownLetsHandlerFinish(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var ctxErr error
		runs := 0
		q := NewMemoryQueue(0)
		h, err := New(WithApplicationToken(testToken), WithQueue(q, 1, RetryPolicy{}))
		if err != nil {
			t.Fatal(err)
		}
		h.OnDealAdd(func(ctx context.Context, _ *events.Event, _ *events.CRMEntity) error {
			runs++
			<-release
			time.Sleep(time.Second)
			ctxErr = ctx.Err()
			return ctxErr
		})
		if st := serve(h, dealBody(1, testToken)); st != 200 {
			t.Fatal(st)
		}
		synctest.Wait()
		done := make(chan error)
		go func() { done <- h.Shutdown(context.Background()) }()
		synctest.Wait()
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if ctxErr != nil || runs != 1 {
			t.Errorf("handler context %v, %d runs", ctxErr, runs)
		}
		if s, _ := q.Stats(t.Context()); s.Pending != 0 {
			t.Errorf("stats %+v: the job was not acknowledged", s)
		}
	})
}

// TestQueueDeadLetterReleasesDedupeKey: with WithDedupe, a delivery that
// went to the dead letters no longer holds its dedupe key, so the same
// event delivered again is accepted and handled rather than answered
// "duplicate" and lost (at least once).
func TestQueueDeadLetterReleasesDedupeKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		runs, fail := 0, true
		q := NewMemoryQueue(0)
		dd := NewMemoryDedupe(nil)
		h, err := New(WithApplicationToken(testToken), WithDedupe(dd, time.Hour),
			WithQueue(q, 1, RetryPolicy{MaxAttempts: 2, Backoff: time.Second}))
		if err != nil {
			t.Fatal(err)
		}
		h.OnDealAdd(func(context.Context, *events.Event, *events.CRMEntity) error {
			mu.Lock()
			defer mu.Unlock()
			runs++
			if fail {
				return errors.New("broken")
			}
			return nil
		})
		body := dealBody(7, testToken)
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		h.ServeHTTP(rec, req)
		if !strings.Contains(rec.Body.String(), "accepted") {
			t.Fatalf("first delivery: %d %s", rec.Code, rec.Body)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if dead, _ := q.DeadLetters(t.Context()); len(dead) != 1 {
			t.Fatalf("dead letters %v", dead)
		}
		if dd.Len() != 0 {
			t.Errorf("the dead letter still holds its dedupe key (%d keys)", dd.Len())
		}
		mu.Lock()
		fail = false
		mu.Unlock()
		rec = httptest.NewRecorder()
		req = httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		h.ServeHTTP(rec, req)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), "accepted") {
			t.Fatalf("the delivery again after the dead letter: %d %s, want accepted", rec.Code, rec.Body)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		mu.Lock()
		if runs != 3 {
			t.Errorf("%d runs, want 2 failed + 1 of the new delivery", runs)
		}
		mu.Unlock()
		// Handled now: the key is claimed again, a repeat is a duplicate.
		if dd.Len() != 1 {
			t.Errorf("%d dedupe keys after the success, want 1", dd.Len())
		}
		if err := h.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}

// TestMemoryQueuePutDead: a job stored straight in the dead letters keeps
// its attempt and error, is never claimed, and is re-driven (attempt from
// 0) and dropped like any dead letter.
func TestMemoryQueuePutDead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := NewMemoryQueue(0)
		ctx := t.Context()
		d, err := q.PutDead(ctx, Job{Event: "E", Body: "b", JSON: true, Attempt: 5, Lease: "x"}, "broken")
		if err != nil || d.ID == "" || d.Lease != "" || d.Enqueued != time.Now() {
			t.Fatalf("PutDead %+v, %v", d, err)
		}
		if dead, _ := q.DeadLetters(ctx); len(dead) != 1 || dead[0] != d || d.Attempt != 5 || d.LastError != "broken" {
			t.Fatalf("dead letters %+v", dead)
		}
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		if j, err := q.Claim(cctx, time.Minute); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("claimed a dead letter: %+v %v", j, err)
		}
		cancel()
		if err := q.Redrive(ctx, d.ID); err != nil {
			t.Fatal(err)
		}
		if j, err := q.Claim(ctx, time.Minute); err != nil || j.ID != d.ID || j.Attempt != 1 || j.Body != "b" {
			t.Fatalf("after redrive %+v, %v", j, err)
		}
		d2, _ := q.PutDead(ctx, Job{Event: "E"}, "e")
		if d2.ID == d.ID {
			t.Errorf("two dead letters with id %s", d.ID)
		}
		if err := q.Drop(ctx, d2.ID); err != nil {
			t.Fatal(err)
		}
		if s, _ := q.Stats(ctx); s.Dead != 0 || s.Pending != 1 {
			t.Errorf("stats %+v", s)
		}
	})
}
