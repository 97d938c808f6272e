package bitrix_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/internal/perf"
	"github.com/google/go-cmp/cmp"
)

// recorder is an Observer that writes one line per event.
type recorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *recorder) add(format string, a ...any) {
	r.mu.Lock()
	r.lines = append(r.lines, fmt.Sprintf(format, a...))
	r.mu.Unlock()
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.lines
	r.lines = nil
	return out
}

func (r *recorder) observer() bitrix.Observer {
	return bitrix.Observer{
		CallStart: func(ctx context.Context, c bitrix.CallInfo) context.Context {
			r.add("call %s", c.Method)
			return ctx
		},
		CallEnd: func(_ context.Context, c bitrix.CallInfo) {
			r.add("end %s maybe-applied=%v", c.Method, errors.Is(c.Err, bitrix.ErrMaybeApplied))
		},
		Request: func(_ context.Context, q bitrix.RequestInfo) {
			r.add("request %s #%d %d %s %s", q.Method, q.Attempt, q.StatusCode, q.Outcome, q.ErrorCode)
		},
		Wait: func(_ context.Context, w bitrix.WaitInfo) { r.add("wait %s %s %v", w.Method, w.Reason, w.Duration) },
		Retry: func(_ context.Context, q bitrix.RetryInfo) {
			r.add("retry %s #%d %s %d", q.Method, q.Attempt, q.Reason, q.StatusCode)
		},
	}
}

// TestObserverOutcomes drives one call through each kind of failure the
// client tells apart, on virtual time, and checks what the observer sees:
// the operating-time block and its wait, a bad answer to a read (retried)
// and to a write (maybe applied), and a request that never left.
func TestObserverOutcomes(t *testing.T) {
	srv := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit())
	synctest.Test(t, func(t *testing.T) {
		n := perf.Serve(srv.Handler())
		defer n.Close()
		rec := &recorder{}
		c, err := bitrix.New(bitrix.WebhookURL(srv.WebhookURL()), bitrix.WithAllowHTTP(), bitrix.WithTransport(n.Transport()),
			bitrix.WithoutRateLimit(), bitrix.WithRetryPolicy(bitrix.RetryPolicy{BaseDelay: time.Second, MaxDelay: time.Second, MaxOperatingWaits: 1}),
			bitrix.WithObserver(rec.observer()))
		if err != nil {
			t.Fatal(err)
		}
		ctx := t.Context()
		check := func(name string, want []string) {
			t.Helper()
			if d := cmp.Diff(want, rec.take()); d != "" {
				t.Errorf("%s (-want +got)\n%s", name, d)
			}
		}

		// OPERATION_TIME_LIMIT without a known reset time blocks the method
		// for a minute (client.go blockMethod); the call waits it out.
		srv.FailNext(1, 503, "OPERATION_TIME_LIMIT")
		if _, err := c.Call(ctx, "profile", nil, nil); err != nil {
			t.Fatal(err)
		}
		check("operating limit", []string{
			"call profile",
			"request profile #1 503 api_error OPERATION_TIME_LIMIT",
			"retry profile #1 OPERATION_TIME_LIMIT 503",
			"wait profile operating time limit 1m0s",
			"request profile #2 200 ok ",
			"end profile maybe-applied=false",
		})

		srv.HTML502(1)
		if _, err := c.Call(ctx, "profile", nil, nil); err != nil {
			t.Fatal(err)
		}
		check("bad answer to a read", []string{
			"call profile",
			"request profile #1 502 bad_response ",
			"retry profile #1 bad response 502",
			"request profile #2 200 ok ",
			"end profile maybe-applied=false",
		})

		srv.HTML502(1)
		if _, err := c.Call(ctx, "crm.deal.add", bitrix.Params{"fields": bitrix.Params{"TITLE": "x"}}, nil); !errors.Is(err, bitrix.ErrMaybeApplied) {
			t.Fatalf("crm.deal.add: %v", err)
		}
		check("bad answer to a write", []string{
			"call crm.deal.add",
			"request crm.deal.add #1 502 maybe_applied ",
			"end crm.deal.add maybe-applied=true",
		})

		srv.DropAfterProcessing(1)
		if _, err := c.Call(ctx, "profile", nil, nil); err != nil {
			t.Fatal(err)
		}
		check("no answer to a read", []string{
			"call profile",
			"request profile #1 0 transport_error ",
			"retry profile #1 network error 0",
			"request profile #2 200 ok ",
			"end profile maybe-applied=false",
		})
	})
}
