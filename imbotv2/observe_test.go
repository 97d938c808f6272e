package imbotv2

import (
	"context"
	"errors"
	"testing"

	"github.com/b24go/sdk/events"
	"github.com/google/go-cmp/cmp"
)

// TestPollerObserver checks that Dispatch reports each handler run with
// its outcome (ok, error, panic) and source "fetch".
func TestPollerObserver(t *testing.T) {
	var got []string
	p := &Poller{Observer: events.Observer{HandlerEnd: func(_ context.Context, h events.Handling) {
		got = append(got, h.Source+" "+h.Event+" "+h.Outcome)
	}}}
	p.Handle("ONE", func(context.Context, *events.Event) error { return nil })
	p.Handle("TWO", func(context.Context, *events.Event) error { return errors.New("boom") })
	p.Handle("THREE", func(context.Context, *events.Event) error { panic("oops") })
	for _, name := range []string{"ONE", "TWO", "THREE"} {
		_ = p.Dispatch(t.Context(), &events.Event{Name: name})
	}
	want := []string{"fetch ONE ok", "fetch TWO error", "fetch THREE panic"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("observed (-want +got)\n%s", d)
	}
}
