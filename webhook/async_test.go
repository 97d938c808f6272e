package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/b24go/sdk/events"
)

func TestAsyncConcurrent(t *testing.T) {
	t.Parallel()
	var handled sync.Map
	var count atomic.Int32
	h, err := New(WithApplicationToken(testToken), WithAsync(4, 8))
	if err != nil {
		t.Fatal(err)
	}
	h.OnDealAdd(func(_ context.Context, _ *events.Event, d *events.CRMEntity) error {
		if _, dup := handled.LoadOrStore(d.EntityID(), true); dup {
			return fmt.Errorf("deal %d handled twice", d.EntityID())
		}
		count.Add(1)
		return nil
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	const senders, perSender = 16, 25
	var wg sync.WaitGroup
	errs := make(chan error, senders*perSender)
	for s := range senders {
		wg.Go(func() {
			for i := range perSender {
				got := post(t, srv.URL, dealBody(s*1000+i, testToken))
				if got.status != 200 || got.body["result"] != "accepted" {
					errs <- fmt.Errorf("deal %d: %d %v", s*1000+i, got.status, got.body)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := h.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := count.Load(); n != senders*perSender {
		t.Errorf("handled %d events, want %d (accepted events were dropped)", n, senders*perSender)
	}
	if got := post(t, srv.URL, dealBody(1, testToken)); got.status != http.StatusServiceUnavailable {
		t.Errorf("after Shutdown: %d %v", got.status, got.body)
	}
}

func TestAsyncBackpressure(t *testing.T) {
	t.Parallel()
	started := make(chan int, 10)
	release := make(chan struct{})
	var handled []int
	var mu sync.Mutex
	h, err := New(WithApplicationToken(testToken), WithAsync(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	h.OnDealAdd(func(_ context.Context, _ *events.Event, d *events.CRMEntity) error {
		started <- d.EntityID()
		<-release
		mu.Lock()
		handled = append(handled, d.EntityID())
		mu.Unlock()
		return nil
	})
	serve := func(ctx context.Context, id int) *httptest.ResponseRecorder {
		req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/", strings.NewReader(dealBody(id, testToken)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	ctx := t.Context()
	if rec := serve(ctx, 1); rec.Code != 200 {
		t.Fatalf("1: %d", rec.Code)
	}
	<-started // the only worker is busy with 1
	if rec := serve(ctx, 2); rec.Code != 200 {
		t.Fatalf("2: %d", rec.Code) // waits in the queue's one slot
	}
	// The queue is full: 3 waits until its request gives up.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if rec := serve(cctx, 3); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("3 (request gave up): %d, want 503", rec.Code)
	}
	// 4 waits (backpressure) and is accepted once a slot frees.
	done4 := make(chan int)
	go func() { done4 <- serve(ctx, 4).Code }()
	close(release)
	if code := <-done4; code != 200 {
		t.Errorf("4: %d", code)
	}
	if err := h.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(handled) != "[1 2 4]" {
		t.Errorf("handled %v, want [1 2 4]", handled)
	}
}

func TestAsyncShutdownDeadline(t *testing.T) {
	t.Parallel()
	var failures atomic.Int32
	canceled := make(chan error, 1)
	h, err := New(WithApplicationToken(testToken), WithAsync(1, 0),
		WithErrorHandler(func(context.Context, *events.Event, error) { failures.Add(1) }))
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	h.OnDealAdd(func(ctx context.Context, _ *events.Event, _ *events.CRMEntity) error {
		close(started)
		<-ctx.Done()
		canceled <- ctx.Err()
		return ctx.Err()
	})
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(dealBody(1, testToken)))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("%d", rec.Code)
	}
	<-started
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // the deadline has already passed
	if err := h.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown = %v", err)
	}
	if err := <-canceled; !errors.Is(err, context.Canceled) {
		t.Errorf("handler ctx: %v", err)
	}
	if err := h.Shutdown(t.Context()); err != nil { // second call waits for the worker
		t.Errorf("second Shutdown: %v", err)
	}
	if failures.Load() != 1 {
		t.Errorf("error hook ran %d times", failures.Load())
	}
}
