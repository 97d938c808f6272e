package webhook

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

// TestMemoryQueueIDsUnique: jobs put and dead letters put straight share
// one sequence of ids: interleaved, every id differs and no pending job is
// replaced by another.
func TestMemoryQueueIDsUnique(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	q := NewMemoryQueue(0)
	seen := map[string]bool{}
	for i := range 3 {
		a, err := q.Put(ctx, Job{Event: "A"})
		if err != nil {
			t.Fatal(err)
		}
		d, err := q.PutDead(ctx, Job{Event: "D", Attempt: 2}, "failed")
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{a.ID, d.ID} {
			if seen[id] {
				t.Errorf("round %d: id %q given twice", i, id)
			}
			seen[id] = true
		}
	}
	if s, _ := q.Stats(ctx); s.Pending != 3 || s.Dead != 3 {
		t.Errorf("stats %+v, want 3 pending and 3 dead", s)
	}
}

// TestMemoryQueueRetryThenLeaseDeadline: a job retried before its lease
// ran out is claimable once, also after the old lease's deadline passed;
// InFlight counts only jobs claimed and not finished.
func TestMemoryQueueRetryThenLeaseDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		q := NewMemoryQueue(0)
		if _, err := q.Put(ctx, Job{Event: "A"}); err != nil {
			t.Fatal(err)
		}
		j, err := q.Claim(ctx, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if err := q.Retry(ctx, j, time.Now().Add(time.Second), "failed"); err != nil {
			t.Fatal(err)
		}
		if s, _ := q.Stats(ctx); s.InFlight != 0 || s.Pending != 1 {
			t.Errorf("after Retry: stats %+v, want 1 pending, 0 in flight", s)
		}
		time.Sleep(2 * time.Minute) // past the retry time and the first lease's deadline
		j2, err := q.Claim(ctx, time.Minute)
		if err != nil || j2.ID != j.ID || j2.Attempt != 2 {
			t.Fatalf("claim after the retry: %+v, %v", j2, err)
		}
		short, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		if j3, err := q.Claim(short, time.Minute); err == nil {
			t.Errorf("the job was claimable twice: %+v", j3)
		}
		if err := q.Dead(ctx, j2, "failed again"); err != nil {
			t.Fatal(err)
		}
		if s, _ := q.Stats(ctx); s.InFlight != 0 || s.Pending != 0 || s.Dead != 1 {
			t.Errorf("after Dead: stats %+v, want 1 dead, 0 in flight", s)
		}
	})
}
