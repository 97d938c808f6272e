package redisstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/b24go/sdk/events"
	"github.com/b24go/sdk/webhook"
)

func TestQueueAckRetryDead(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := t.Context()
	q := newQueue(t, srv.client(t), "t1", 0, 0)
	put, err := q.Put(ctx, webhook.Job{Event: "ONCRMDEALADD", Body: "event=ONCRMDEALADD&x=%26", JSON: false})
	if err != nil {
		t.Fatal(err)
	}
	j, err := q.Claim(ctx, time.Minute)
	if err != nil || j.ID != put.ID || j.Attempt != 1 || j.Body != put.Body || j.Event != "ONCRMDEALADD" || j.Enqueued.UnixMilli() != put.Enqueued.UnixMilli() {
		t.Fatalf("claim %+v, %v (put %+v)", j, err, put)
	}
	// A retry waits in the delayed set until due, then comes back with
	// its attempt and error.
	due := time.Now().Add(300 * time.Millisecond)
	if err := q.Retry(ctx, j, due, "portal down"); err != nil {
		t.Fatal(err)
	}
	if s, _ := q.Stats(ctx); s.Pending != 1 || s.InFlight != 0 {
		t.Errorf("stats while delayed %+v", s)
	}
	j2, err := q.Claim(ctx, time.Minute)
	if err != nil || j2.ID != put.ID || j2.Attempt != 2 || j2.LastError != "portal down" {
		t.Fatalf("second claim %+v, %v", j2, err)
	}
	if time.Now().Before(due) {
		t.Errorf("claimed before the retry was due")
	}
	if err := q.Ack(ctx, j); !errors.Is(err, webhook.ErrLeaseLost) {
		t.Errorf("ack with the first lease: %v", err)
	}
	if err := q.Dead(ctx, j2, "still down"); err != nil {
		t.Fatal(err)
	}
	dead, err := q.DeadLetters(ctx)
	if err != nil || len(dead) != 1 || dead[0].ID != put.ID || dead[0].Attempt != 2 || dead[0].LastError != "still down" || dead[0].Body != put.Body {
		t.Fatalf("dead letters %+v, %v", dead, err)
	}
	if s, _ := q.Stats(ctx); s.Pending != 0 || s.Dead != 1 {
		t.Errorf("stats %+v", s)
	}
	// Nothing to claim: the dead letter stays dead.
	cctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	if j, err := q.Claim(cctx, time.Minute); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("claimed a dead letter: %+v %v", j, err)
	}
	cancel()
	if err := q.Redrive(ctx, put.ID); err != nil {
		t.Fatal(err)
	}
	j3, err := q.Claim(ctx, time.Minute)
	if err != nil || j3.ID != put.ID || j3.Attempt != 1 {
		t.Fatalf("after redrive %+v, %v", j3, err)
	}
	if err := q.Ack(ctx, j3); err != nil {
		t.Fatal(err)
	}
	if err := q.Drop(ctx, put.ID); !errors.Is(err, webhook.ErrNoSuchJob) {
		t.Errorf("drop of a redriven job: %v", err)
	}
	if s, _ := q.Stats(ctx); s != (webhook.QueueStats{}) {
		t.Errorf("stats at the end %+v", s)
	}
}

// TestQueueVisibilityTimeout: a job whose consumer stopped (a crashed
// replica) is taken over by another once idle for the visibility timeout;
// the first consumer's acknowledgement is then refused.
func TestQueueVisibilityTimeout(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := t.Context()
	a := newQueue(t, srv.client(t), "vis", 0, 0)
	b := newQueue(t, srv.client(t), "vis", 0, 0)
	put, _ := a.Put(ctx, webhook.Job{Event: "E", Body: "event=E"})
	ja, err := a.Claim(ctx, time.Second)
	if err != nil || ja.ID != put.ID {
		t.Fatal(ja, err)
	}
	start := time.Now()
	jb, err := b.Claim(ctx, time.Second)
	if err != nil || jb.ID != put.ID || jb.Attempt != 2 {
		t.Fatalf("takeover %+v %v", jb, err)
	}
	if waited := time.Since(start); waited < 500*time.Millisecond {
		t.Errorf("taken over after %v, before the visibility timeout", waited)
	}
	if err := a.Ack(ctx, ja); !errors.Is(err, webhook.ErrLeaseLost) {
		t.Errorf("stale ack: %v", err)
	}
	if err := b.Ack(ctx, jb); err != nil {
		t.Errorf("ack: %v", err)
	}
}

// TestQueueUnavailable: with Redis down a delivery is answered 503, not
// accepted.
func TestQueueUnavailable(t *testing.T) {
	t.Parallel()
	q := newQueue(t, deadClient(t), "down", 0, 0, WithOpTimeout(time.Second))
	if _, err := q.Put(t.Context(), webhook.Job{Event: "E", Body: "x"}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("put: %v", err)
	}
	h, err := webhook.New(webhook.WithApplicationToken("tok"), webhook.WithQueue(q, 1, webhook.RetryPolicy{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Shutdown(context.Background()) })
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(queueDeal(1, "tok"))))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", rec.Code)
	}
}

func queueDeal(id int, token string) string {
	v := url.Values{}
	v.Set("event", "ONCRMDEALADD")
	v.Set("event_handler_id", "58")
	v.Set("data[FIELDS][ID]", fmt.Sprint(id))
	v.Set("ts", "1727018926")
	v.Set("auth[domain]", "portal.bitrix24.com")
	v.Set("auth[member_id]", "m1")
	v.Set("auth[application_token]", token)
	return v.Encode()
}

// TestQueueReplicasShareWork: two receivers on one Redis queue; handlers
// fail 10% of first attempts; every accepted delivery is handled
// successfully once, and both replicas did part of the work.
func TestQueueReplicasShareWork(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: -short")
	}
	t.Parallel()
	srv := startRedis(t)
	const n = 1000
	var mu sync.Mutex
	ok := map[int]int{}
	byReplica := map[int]int{}
	runs := map[int]int{}
	var hs []*webhook.Handler
	var servers []*httptest.Server
	for r := range 2 {
		q := newQueue(t, srv.client(t), "share", 0, 0, WithPollInterval(10*time.Millisecond))
		h, err := webhook.New(webhook.WithApplicationToken("tok"),
			webhook.WithQueue(q, 4, webhook.RetryPolicy{MaxAttempts: 5, Backoff: 50 * time.Millisecond, Visibility: 30 * time.Second}))
		if err != nil {
			t.Fatal(err)
		}
		h.OnDealAdd(func(_ context.Context, _ *events.Event, d *events.CRMEntity) error {
			id := d.EntityID()
			mu.Lock()
			defer mu.Unlock()
			runs[id]++
			if runs[id] == 1 && rand.IntN(10) == 0 {
				return errors.New("transient")
			}
			ok[id]++
			byReplica[r]++
			return nil
		})
		hs = append(hs, h)
		s := httptest.NewServer(h)
		servers = append(servers, s)
		t.Cleanup(s.Close)
	}
	for i := 1; i <= n; i++ {
		resp, err := http.Post(servers[i%2].URL, "application/x-www-form-urlencoded", strings.NewReader(queueDeal(i, "tok")))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("delivery %d: %d", i, resp.StatusCode)
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		done := len(ok)
		mu.Unlock()
		if done == n || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond) // waiting for other processes' work (Redis)
	}
	for _, h := range hs {
		if err := h.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for i := 1; i <= n; i++ {
		if ok[i] != 1 {
			t.Errorf("delivery %d handled %d times", i, ok[i])
		}
	}
	if byReplica[0] == 0 || byReplica[1] == 0 {
		t.Errorf("work by replica %v", byReplica)
	}
}

func TestQueueFull(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	q := newQueue(t, srv.client(t), "full", 1, 0)
	if _, err := q.Put(t.Context(), webhook.Job{Event: "E", Body: "a"}); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Put(t.Context(), webhook.Job{Event: "E", Body: "b"}); !errors.Is(err, webhook.ErrQueueFull) {
		t.Fatalf("second put: %v", err)
	}
}

// TestQueuePutDead: a job stored straight in the dead letters keeps its
// attempt and error, is never claimed, and is re-driven (attempt from 0)
// and dropped like any dead letter.
func TestQueuePutDead(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := t.Context()
	q := newQueue(t, srv.client(t), "t-putdead", 0, 0)
	d, err := q.PutDead(ctx, webhook.Job{Event: "ONIMBOTV2MESSAGEADD", Body: `{"eventId":7}`, JSON: true, Attempt: 5}, "still broken")
	if err != nil || d.ID == "" || d.Enqueued.IsZero() {
		t.Fatalf("PutDead %+v, %v", d, err)
	}
	dead, err := q.DeadLetters(ctx)
	if err != nil || len(dead) != 1 || dead[0].ID != d.ID || dead[0].Attempt != 5 || dead[0].LastError != "still broken" ||
		dead[0].Body != `{"eventId":7}` || !dead[0].JSON || dead[0].Event != "ONIMBOTV2MESSAGEADD" {
		t.Fatalf("dead letters %+v, %v", dead, err)
	}
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	if j, err := q.Claim(cctx, time.Minute); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("claimed a dead letter: %+v %v", j, err)
	}
	cancel()
	if err := q.Redrive(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if j, err := q.Claim(ctx, time.Minute); err != nil || j.ID != d.ID || j.Attempt != 1 {
		t.Fatalf("after redrive %+v, %v", j, err)
	}
	d2, _ := q.PutDead(ctx, webhook.Job{Event: "X"}, "e")
	if err := q.Drop(ctx, d2.ID); err != nil {
		t.Fatal(err)
	}
	if s, _ := q.Stats(ctx); s.Dead != 0 {
		t.Errorf("stats %+v", s)
	}
}
