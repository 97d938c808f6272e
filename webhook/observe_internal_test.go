package webhook

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/b24go/sdk/events"
	"github.com/google/go-cmp/cmp"
)

// TestObserverUnsetAllocatesNothing runs the receiver's call-outs with no
// observer installed: none may allocate.
func TestObserverUnsetAllocatesNothing(t *testing.T) {
	h, err := New(WithApplicationToken("t"))
	if err != nil {
		t.Fatal(err)
	}
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

// TestObserverDeliveries sends one delivery of each kind that does not
// reach a handler, and a good one twice (dedupe), and checks what the
// observer is told.
func TestObserverDeliveries(t *testing.T) {
	var mu sync.Mutex
	var got []string
	h, err := New(WithApplicationToken(testToken), WithDedupe(nil, 0), WithMaxBodySize(2048),
		WithObserver(Observer{
			Delivery: func(_ context.Context, d events.Delivery) {
				mu.Lock()
				got = append(got, d.Outcome+" "+d.Reason+" "+d.Event+" "+d.Portal)
				mu.Unlock()
			},
			HandlerEnd: func(_ context.Context, h events.Handling) {
				mu.Lock()
				got = append(got, "handled "+h.Event+" "+h.Outcome+" "+h.Portal)
				mu.Unlock()
			},
		}))
	if err != nil {
		t.Fatal(err)
	}
	h.Handle("ONCRMDEALADD", func(context.Context, *events.Event) error { return nil })
	srv := httptest.NewServer(h)
	defer srv.Close()
	do(t, http.MethodGet, srv.URL, "")
	post(t, srv.URL, "not an event")
	post(t, srv.URL, dealBody(1, testToken)+"&data[FIELDS][PAD]="+strings.Repeat("x", 4096))
	post(t, srv.URL, dealBody(1, ""))
	post(t, srv.URL, dealBody(1, "wrong"))
	post(t, srv.URL, dealBody(1, testToken))
	post(t, srv.URL, dealBody(1, testToken))
	want := []string{
		"malformed   ", "malformed   ", "too_large   ",
		"refused missing_token ONCRMDEALADD portal.bitrix24.com",
		"refused token_mismatch ONCRMDEALADD portal.bitrix24.com",
		"handled ONCRMDEALADD ok portal.bitrix24.com",
		"duplicate  ONCRMDEALADD portal.bitrix24.com",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("observed (-want +got)\n%s", d)
	}
}
