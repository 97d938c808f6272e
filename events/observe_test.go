package events

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestConsumerObserver checks that the offline consumer reports every
// handler run with its outcome, and hands the handler HandlerStart's context.
func TestConsumerObserver(t *testing.T) {
	q := &fakeQueue{}
	q.add("ONCRMDEALADD", 1)
	q.add("ONCRMDEALUPDATE", 2)
	q.add("ONCRMDEALDELETE", 3)
	type key struct{}
	var mu sync.Mutex
	var got []string
	obs := Observer{
		HandlerStart: func(ctx context.Context, h Handling) context.Context {
			return context.WithValue(ctx, key{}, "span of "+h.Event)
		},
		HandlerEnd: func(ctx context.Context, h Handling) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, h.Source+" "+h.Event+" "+h.Outcome+" "+ctx.Value(key{}).(string))
		},
	}
	c := &Consumer{Client: q, Observer: obs, Retry: RetryPolicy{MaxAttempts: 1}, Handler: func(ctx context.Context, rec *OfflineRecord) error {
		if ctx.Value(key{}) != "span of "+rec.Name {
			t.Errorf("%s: handler context lacks HandlerStart's value", rec.Name)
		}
		switch rec.Name {
		case "ONCRMDEALUPDATE":
			return errors.New("boom")
		case "ONCRMDEALDELETE":
			panic("oops")
		}
		return nil
	}}
	if n, err := c.Once(t.Context()); err != nil || n != 3 {
		t.Fatalf("Once = %d, %v", n, err)
	}
	want := []string{
		"offline ONCRMDEALADD ok span of ONCRMDEALADD",
		"offline ONCRMDEALUPDATE error span of ONCRMDEALUPDATE",
		"offline ONCRMDEALDELETE panic span of ONCRMDEALDELETE",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("observed (-want +got)\n%s", d)
	}
}
