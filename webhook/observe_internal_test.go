package webhook

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/b24go/sdk/events"
)

// TestObserverUnsetAllocatesNothing runs the receiver's call-outs with no
// observer installed: none may allocate.
func TestObserverUnsetAllocatesNothing(t *testing.T) {
	h := New(WithApplicationToken("t"))
	ctx := context.Background()
	ev := &events.Event{Name: "ONCRMDEALADD"}
	j := job{ev: ev, at: time.Now()}
	boom := errors.New("boom")
	n := testing.AllocsPerRun(200, func() {
		h.delivered(ctx, ev, events.DeliveryRefused, events.ErrTokenMismatch, j.at)
		h.queued(ctx, j, events.QueueEnqueued, time.Millisecond)
		hctx, hi := h.obs().StartHandler(ctx, ev.Name, ev.Auth.Domain, events.SourceWebhook, false)
		h.obs().EndHandler(hctx, hi, boom, false)
	})
	if n != 0 {
		t.Errorf("call-outs without an observer: %v allocations, want 0", n)
	}
}
