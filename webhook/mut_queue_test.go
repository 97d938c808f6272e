package webhook

import (
	"testing"
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
