package redisstore

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/b24go/sdk/events"
	"github.com/b24go/sdk/webhook"
)

// BenchmarkIntakeModes measures the time a deal delivery spends in
// Handler.ServeHTTP before its 200, in each intake mode, with a no-op
// handler: sync (the handler runs first), async (an in-process channel),
// the durable MemoryQueue and the Redis queue (XLEN and XADD to a local
// redis-server). Workers run in the background where there are any.
// docs/BENCHMARKS.md, "Intake modes".
func BenchmarkIntakeModes(b *testing.B) {
	srv := startRedis(b)
	body := queueDeal(1, "tok")
	for _, mode := range []struct {
		name string
		opt  func() webhook.Option
	}{
		{"sync", func() webhook.Option { return webhook.WithLimits(events.Limits{}) }},
		{"async", func() webhook.Option { return webhook.WithAsync(2, 1024) }},
		{"memory", func() webhook.Option {
			return webhook.WithQueue(webhook.NewMemoryQueue(0), 2, webhook.RetryPolicy{})
		}},
		{"redis", func() webhook.Option {
			return webhook.WithQueue(newQueue(b, srv.client(b), "bench-"+b.Name(), 0, 0), 2, webhook.RetryPolicy{})
		}},
	} {
		b.Run(mode.name, func(b *testing.B) {
			h, err := webhook.New(webhook.WithApplicationToken("tok"), mode.opt())
			if err != nil {
				b.Fatal(err)
			}
			h.OnDealAdd(func(context.Context, *events.Event, *events.CRMEntity) error { return nil })
			b.Cleanup(func() { _ = h.Shutdown(context.Background()) })
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}
