package events

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestConsumerRetriesThenMarks: a failing record is run again after 1 s
// and 2 s (virtual time); one that fails MaxAttempts times is marked with
// event.offline.error (the portal's dead letters), one that recovers is
// cleared; the observer sees the retries and the dead letter.
func TestConsumerRetriesThenMarks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := &fakeQueue{}
		q.add(OnCRMLeadAdd, 1) // fails twice, then succeeds
		q.add(OnCRMLeadAdd, 2) // always fails
		runs := map[string][]time.Duration{}
		start := time.Now()
		var ops []string
		c := &Consumer{Client: q, Retry: RetryPolicy{MaxAttempts: 3, Backoff: time.Second},
			Observer: Observer{Queue: func(_ context.Context, e QueueEvent) {
				ops = append(ops, e.Op)
				if e.Err == nil || e.Attempt == 0 {
					t.Errorf("queue event without attempt or error: %+v", e)
				}
			}},
			Handler: func(_ context.Context, rec *OfflineRecord) error {
				runs[rec.MessageID] = append(runs[rec.MessageID], time.Since(start))
				if rec.MessageID == "m2" || len(runs[rec.MessageID]) < 3 {
					return errors.New("portal down")
				}
				return nil
			}}
		n, err := c.Once(t.Context())
		if err != nil || n != 2 {
			t.Fatalf("Once = %d, %v", n, err)
		}
		want := map[string][]time.Duration{"m1": {0, time.Second, 3 * time.Second}, "m2": {3 * time.Second, 4 * time.Second, 6 * time.Second}}
		if d := cmp.Diff(want, runs); d != "" {
			t.Errorf("runs (-want +got)\n%s", d)
		}
		if d := cmp.Diff([]string{"m1"}, q.cleared); d != "" {
			t.Errorf("cleared (-want +got)\n%s", d)
		}
		if d := cmp.Diff([]string{"m2"}, q.errored); d != "" {
			t.Errorf("errored (-want +got)\n%s", d)
		}
		if d := cmp.Diff([]string{QueueRetried, QueueRetried, QueueRetried, QueueRetried, QueueDead}, ops); d != "" {
			t.Errorf("observed (-want +got)\n%s", d)
		}
	})
}

// TestConsumerStopsDuringBackoff: a stop while a record waits for its
// retry leaves it neither cleared nor marked, to be re-read.
func TestConsumerStopsDuringBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := &fakeQueue{}
		q.add(OnCRMLeadAdd, 1)
		ctx, cancel := context.WithCancel(t.Context())
		c := &Consumer{Client: q, Retry: RetryPolicy{MaxAttempts: 3, Backoff: time.Minute},
			Handler: func(context.Context, *OfflineRecord) error { cancel(); return errors.New("down") }}
		n, err := c.Once(ctx)
		if n != 0 || err != nil || len(q.cleared)+len(q.errored) != 0 {
			t.Errorf("Once = %d, %v; cleared %v, errored %v", n, err, q.cleared, q.errored)
		}
	})
}

func TestRetryPolicyDelay(t *testing.T) {
	p := RetryPolicy{Backoff: time.Second, MaxBackoff: 5 * time.Second}
	var got []time.Duration
	for n := 1; n <= 5; n++ {
		got = append(got, p.Delay(n))
	}
	if d := cmp.Diff([]time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}, got); d != "" {
		t.Error(d)
	}
}
