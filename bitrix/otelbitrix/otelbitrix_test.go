package otelbitrix_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/bitrix/otelbitrix"
	"github.com/b24go/sdk/events"
	"github.com/b24go/sdk/webhook"
)

// syncBuffer is a log sink for several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type telemetry struct {
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
	tp     *sdktrace.TracerProvider
	tel    *otelbitrix.Telemetry
}

func newTelemetry(t *testing.T) *telemetry {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) })
	tel, err := otelbitrix.New(otelbitrix.WithTracerProvider(tp), otelbitrix.WithMeterProvider(mp))
	if err != nil {
		t.Fatal(err)
	}
	return &telemetry{spans: rec, reader: reader, tp: tp, tel: tel}
}

func (tm *telemetry) metrics(t *testing.T) map[string]metricdata.Aggregation {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := tm.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]metricdata.Aggregation{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != otelbitrix.ScopeName {
			t.Errorf("scope %q", sm.Scope.Name)
		}
		for _, m := range sm.Metrics {
			out[m.Name] = m.Data
		}
	}
	return out
}

func attrMap(kvs []attribute.KeyValue) map[attribute.Key]string {
	m := map[attribute.Key]string{}
	for _, kv := range kvs {
		m[kv.Key] = kv.Value.String()
	}
	return m
}

// has reports whether kvs holds every key=value of want.
func has(kvs []attribute.KeyValue, want map[attribute.Key]string) bool {
	m := attrMap(kvs)
	for k, v := range want {
		if m[k] != v {
			return false
		}
	}
	return true
}

// histCount sums the counts of the histogram points matching want.
func histCount(t *testing.T, agg metricdata.Aggregation, want map[attribute.Key]string) uint64 {
	t.Helper()
	h, ok := agg.(metricdata.Histogram[float64])
	if !ok {
		t.Fatalf("want a float64 histogram, got %T", agg)
	}
	var n uint64
	for _, dp := range h.DataPoints {
		if has(dp.Attributes.ToSlice(), want) {
			n += dp.Count
		}
	}
	return n
}

// sumValue sums the counter points matching want.
func sumValue(t *testing.T, agg metricdata.Aggregation, want map[attribute.Key]string) int64 {
	t.Helper()
	s, ok := agg.(metricdata.Sum[int64])
	if !ok {
		t.Fatalf("want an int64 sum, got %T", agg)
	}
	var n int64
	for _, dp := range s.DataPoints {
		if has(dp.Attributes.ToSlice(), want) {
			n += dp.Value
		}
	}
	return n
}

// allText lists every string a span or metric exports: names, attribute
// keys and values, event names, status descriptions.
func allText(spans []sdktrace.ReadOnlySpan, rm map[string]metricdata.Aggregation) []string {
	var out []string
	kv := func(kvs []attribute.KeyValue) {
		for _, a := range kvs {
			out = append(out, string(a.Key)+"="+a.Value.String())
		}
	}
	for _, s := range spans {
		out = append(out, s.Name(), s.Status().Description)
		kv(s.Attributes())
		for _, e := range s.Events() {
			out = append(out, e.Name)
			kv(e.Attributes)
		}
		kv(s.Resource().Attributes())
	}
	for name, agg := range rm {
		out = append(out, name)
		switch a := agg.(type) {
		case metricdata.Histogram[float64]:
			for _, dp := range a.DataPoints {
				kv(dp.Attributes.ToSlice())
			}
		case metricdata.Sum[int64]:
			for _, dp := range a.DataPoints {
				kv(dp.Attributes.ToSlice())
			}
		case metricdata.Gauge[float64]:
			for _, dp := range a.DataPoints {
				kv(dp.Attributes.ToSlice())
			}
		case metricdata.Gauge[int64]:
			for _, dp := range a.DataPoints {
				kv(dp.Attributes.ToSlice())
			}
		}
	}
	return out
}

type dealRow struct {
	ID bitrix.Int `json:"ID"`
}

// TestDashboard runs a bulk job and a webhook burst against the fake
// portal with faults, and checks the spans and metrics a dashboard is
// built from: a rate-limit wait, a retry, a maybe-applied write, a batch's
// commands, a token refresh, handled and refused deliveries, and that no
// credential reaches an attribute or a log line.
func TestDashboard(t *testing.T) {
	tm := newTelemetry(t)
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	portal := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit())
	if _, err := portal.SeedCRMItems(bitrixtest.EntityDeal, 120, map[string]any{"title": "Deal"}); err != nil {
		t.Fatal(err)
	}
	fast := bitrix.RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond, MaxOperatingWaits: 1}
	c, err := bitrix.New(bitrix.WebhookURL(portal.WebhookURL()), bitrix.WithAllowHTTP(),
		bitrix.WithRateLimit(5, 3), // a bucket of one request: a request within 200 ms of the last waits (the retry surely does)
		bitrix.WithRetryPolicy(fast), bitrix.WithLogger(logger), bitrix.WithObserver(tm.tel.Observer()))
	if err != nil {
		t.Fatal(err)
	}

	// ---- the bulk job, under a span of the caller ----
	ctx, job := tm.tp.Tracer("test").Start(t.Context(), "bulk job")
	portal.FailNext(1, 503, "QUERY_LIMIT_EXCEEDED") // the scan's first request is retried
	var ids []int
	for row, err := range bitrix.All[dealRow](ctx, c, bitrix.Query{Method: "crm.deal.list"}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, int(row.ID))
	}
	if len(ids) != 120 {
		t.Fatalf("scan: %d rows", len(ids))
	}
	b := c.NewBatch()
	for _, id := range ids[:5] {
		b.Add("", "crm.deal.update", bitrix.Params{"id": id, "fields": bitrix.Params{"TITLE": "Updated"}})
	}
	portal.FailMethod("crm.deal.update", 1, 400, "ACCESS_DENIED") // one command fails
	if err := b.Run(ctx); err != nil {
		t.Fatal(err)
	}
	portal.DropAfterProcessing(1) // the add runs, its answer is lost
	if _, err := c.Call(ctx, "crm.deal.add", bitrix.Params{"fields": bitrix.Params{"TITLE": "New"}}, nil); !errors.Is(err, bitrix.ErrMaybeApplied) {
		t.Fatalf("crm.deal.add: %v, want ErrMaybeApplied", err)
	}
	job.End()

	// ---- an OAuth client whose token the portal declares expired ----
	app := portal.App()
	tok, err := portal.InstallApp("")
	if err != nil {
		t.Fatal(err)
	}
	oc, err := bitrix.New(bitrix.OAuth(bitrix.Token{AccessToken: bitrix.Secret(tok.AccessToken), RefreshToken: bitrix.Secret(tok.RefreshToken),
		MemberID: tok.MemberID, ClientEndpoint: tok.ClientEndpoint},
		bitrix.App{ClientID: app.ClientID, ClientSecret: bitrix.Secret(app.ClientSecret), TokenURL: app.TokenURL}, nil),
		bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit(), bitrix.WithLogger(logger), bitrix.WithObserver(tm.tel.Observer()))
	if err != nil {
		t.Fatal(err)
	}
	portal.FailNext(1, 401, "expired_token")
	if _, err := oc.Call(t.Context(), "profile", nil, nil); err != nil {
		t.Fatalf("profile after refresh: %v", err)
	}

	// ---- a webhook burst: 12 deliveries, one handler failure, one forged delivery ----
	const appToken = "hook-app-token-0123456789"
	h, err := webhook.New(webhook.WithApplicationToken(appToken), webhook.WithAsync(2, 3), webhook.WithLogger(logger),
		webhook.WithObserver(tm.tel.EventObserver()))
	if err != nil {
		t.Fatal(err)
	}
	h.Handle("ONTASKADD", func(ctx context.Context, ev *events.Event) error {
		// A call from a handler nests under the handler's span.
		if _, err := oc.Call(ctx, "profile", nil, nil); err != nil {
			return err
		}
		if id := ev.RawData(); strings.Contains(string(id), `"13"`) {
			return errors.New("task 13 is cursed")
		}
		return nil
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	portal.AddOutboundWebhook([]string{"ONTASKADD"}, srv.URL, appToken)
	portal.AddOutboundWebhook([]string{"ONTASKUPDATE"}, srv.URL, "forged-token-9876543210")
	var wg sync.WaitGroup
	for g := range 3 {
		wg.Go(func() {
			for i := range 4 {
				if err := portal.FireEvent("ONTASKADD", map[string]any{"FIELDS_AFTER": map[string]any{"ID": fmt.Sprint(10 + g*4 + i)}}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if err := portal.FireEvent("ONTASKUPDATE", map[string]any{"FIELDS_AFTER": map[string]any{"ID": "1"}}); err == nil {
		t.Error("the forged delivery was accepted")
	}
	if err := h.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}

	spans := tm.spans.Ended()
	rm := tm.metrics(t)
	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		byID[s.SpanContext().SpanID()] = s
	}
	named := func(name string) []sdktrace.ReadOnlySpan {
		var out []sdktrace.ReadOnlySpan
		for _, s := range spans {
			if s.Name() == name {
				out = append(out, s)
			}
		}
		return out
	}
	eventsNamed := func(s sdktrace.ReadOnlySpan, name string) []sdktrace.Event {
		var out []sdktrace.Event
		for _, e := range s.Events() {
			if e.Name == name {
				out = append(out, e)
			}
		}
		return out
	}

	// Spans: every call of the job is a child of the job's span; the HTTP
	// attempts are children of their call.
	jobID := job.SpanContext().SpanID()
	var retried, waited, batchSeen bool
	for _, s := range spans {
		if s.Parent().SpanID() != jobID {
			continue
		}
		if s.SpanKind() != trace.SpanKindInternal {
			t.Errorf("call span %s kind %v", s.Name(), s.SpanKind())
		}
		for _, e := range eventsNamed(s, "bitrix24.retry") {
			if has(e.Attributes, map[attribute.Key]string{otelbitrix.RetryReasonKey: bitrix.RetryQueryLimit}) {
				retried = true
			}
		}
		for _, e := range eventsNamed(s, "bitrix24.wait") {
			if has(e.Attributes, map[attribute.Key]string{otelbitrix.WaitReasonKey: bitrix.ReasonRateLimit}) {
				waited = true
			}
		}
		if cmds := eventsNamed(s, "bitrix24.batch.command"); len(cmds) == 5 {
			batchSeen = true
			failed := 0
			for _, e := range cmds {
				if has(e.Attributes, map[attribute.Key]string{otelbitrix.ErrorCodeKey: "ACCESS_DENIED", otelbitrix.MethodKey: "crm.deal.update"}) {
					failed++
				}
			}
			if failed != 1 {
				t.Errorf("batch: %d failed command events, want 1", failed)
			}
		}
	}
	if !retried || !waited || !batchSeen {
		t.Errorf("job spans: retry event %v, rate-limit wait event %v, batch with 5 command events %v", retried, waited, batchSeen)
	}
	// The retried request: a 503 attempt and a second attempt, siblings
	// under one call span.
	var limited sdktrace.ReadOnlySpan
	for _, s := range named("POST") {
		if has(s.Attributes(), map[attribute.Key]string{"http.response.status_code": "503", otelbitrix.ErrorCodeKey: "QUERY_LIMIT_EXCEEDED"}) {
			limited = s
		}
	}
	if limited == nil {
		t.Fatal("no HTTP span for the 503 QUERY_LIMIT_EXCEEDED answer")
	}
	call := byID[limited.Parent().SpanID()]
	if call == nil || call.Parent().SpanID() != jobID {
		t.Fatalf("the 503 attempt's parent is not a call of the job")
	}
	var resent bool
	for _, s := range named("POST") {
		if s.Parent().SpanID() == call.SpanContext().SpanID() && has(s.Attributes(), map[attribute.Key]string{
			"http.request.resend_count": "1", otelbitrix.OutcomeKey: bitrix.OutcomeOK}) {
			resent = true
		}
	}
	if !resent {
		t.Error("no successful resend under the retried call")
	}
	if limited.SpanKind() != trace.SpanKindClient || limited.Status().Code != codes.Error {
		t.Errorf("503 attempt: kind %v status %v", limited.SpanKind(), limited.Status())
	}
	// The maybe-applied write.
	adds := named("crm.deal.add")
	if len(adds) != 1 || !has(adds[0].Attributes(), map[attribute.Key]string{otelbitrix.OutcomeKey: bitrix.OutcomeMaybeApplied}) ||
		adds[0].Status().Code != codes.Error {
		t.Fatalf("crm.deal.add spans: %v", adds)
	}
	// The portal's time block: the scan's batch requests carry one per
	// crm.deal.list command.
	var timed bool
	for _, s := range named("batch") {
		for _, e := range eventsNamed(s, "bitrix24.time") {
			m := attrMap(e.Attributes)
			if _, ok := m[otelbitrix.OperatingKey]; ok && m[otelbitrix.MethodKey] == "crm.deal.list" {
				timed = true
			}
		}
	}
	if !timed {
		t.Error("no bitrix24.time event for crm.deal.list on the scan's call spans")
	}
	// The refresh is a span under the profile call.
	refreshes := named("bitrix24.oauth.refresh")
	if len(refreshes) != 1 || byID[refreshes[0].Parent().SpanID()] == nil || byID[refreshes[0].Parent().SpanID()].Name() != "profile" {
		t.Errorf("refresh spans: %d (want 1, child of the profile call)", len(refreshes))
	}
	// Handler spans: 12, consumer kind, each with the client call nested.
	handlers := named("ONTASKADD")
	if len(handlers) != 12 {
		t.Fatalf("%d ONTASKADD handler spans, want 12", len(handlers))
	}
	nested := 0
	for _, s := range spans {
		if p := byID[s.Parent().SpanID()]; p != nil && p.Name() == "ONTASKADD" && s.Name() == "profile" {
			nested++
		}
	}
	if nested != 12 || handlers[0].SpanKind() != trace.SpanKindConsumer {
		t.Errorf("%d profile calls nested under handler spans (want 12); kind %v", nested, handlers[0].SpanKind())
	}
	refused := named("bitrix24.webhook.delivery")
	if len(refused) != 1 || !has(refused[0].Attributes(), map[attribute.Key]string{
		otelbitrix.EventOutcomeKey: events.DeliveryRefused, otelbitrix.EventReasonKey: "token_mismatch"}) {
		t.Errorf("refused delivery spans: %v", refused)
	}

	// Metrics.
	req := rm["bitrix24.client.request.duration"]
	if n := histCount(t, req, map[attribute.Key]string{otelbitrix.MethodKey: "crm.deal.add", otelbitrix.OutcomeKey: bitrix.OutcomeMaybeApplied}); n != 1 {
		t.Errorf("maybe-applied crm.deal.add requests: %d", n)
	}
	if n := histCount(t, req, map[attribute.Key]string{otelbitrix.OutcomeKey: bitrix.OutcomeAPIError, otelbitrix.ErrorCodeKey: "QUERY_LIMIT_EXCEEDED"}); n != 1 {
		t.Errorf("QUERY_LIMIT_EXCEEDED requests: %d", n)
	}
	if n := histCount(t, req, map[attribute.Key]string{otelbitrix.MethodKey: "batch", otelbitrix.OutcomeKey: bitrix.OutcomeOK}); n < 2 {
		t.Errorf("ok batch requests: %d", n)
	}
	if n := histCount(t, rm["bitrix24.client.wait.duration"], map[attribute.Key]string{otelbitrix.WaitReasonKey: bitrix.ReasonRateLimit}); n == 0 {
		t.Error("no rate-limit waits")
	}
	if n := histCount(t, rm["bitrix24.client.wait.duration"], map[attribute.Key]string{otelbitrix.WaitReasonKey: bitrix.ReasonRefresh}); n != 1 {
		t.Errorf("token-refresh waits: %d, want 1", n)
	}
	if n := sumValue(t, rm["bitrix24.client.retries"], map[attribute.Key]string{otelbitrix.RetryReasonKey: bitrix.RetryQueryLimit}); n != 1 {
		t.Errorf("QUERY_LIMIT_EXCEEDED retries: %d", n)
	}
	if n := sumValue(t, rm["bitrix24.client.retries"], map[attribute.Key]string{otelbitrix.RetryReasonKey: bitrix.RetryTokenRefresh}); n != 1 {
		t.Errorf("token-refresh retries: %d", n)
	}
	if n := sumValue(t, rm["bitrix24.client.refreshes"], map[attribute.Key]string{otelbitrix.OutcomeKey: "ok"}); n != 1 {
		t.Errorf("refreshes: %d", n)
	}
	op, ok := rm["bitrix24.client.operating"].(metricdata.Gauge[float64])
	opSeen := false
	for _, dp := range op.DataPoints {
		if has(dp.Attributes.ToSlice(), map[attribute.Key]string{otelbitrix.MethodKey: "crm.deal.list", "server.address": "127.0.0.1"}) {
			opSeen = true
		}
	}
	if !ok || !opSeen {
		t.Errorf("operating gauge lacks crm.deal.list on 127.0.0.1: %v", rm["bitrix24.client.operating"])
	}
	ev := rm["bitrix24.events"]
	for _, c := range []struct {
		outcome string
		want    int64
	}{{events.HandlerOK, 11}, {events.HandlerError, 1}} {
		if n := sumValue(t, ev, map[attribute.Key]string{otelbitrix.EventNameKey: "ONTASKADD", otelbitrix.EventOutcomeKey: c.outcome}); n != c.want {
			t.Errorf("ONTASKADD %s: %d, want %d", c.outcome, n, c.want)
		}
	}
	if n := sumValue(t, ev, map[attribute.Key]string{otelbitrix.EventOutcomeKey: events.DeliveryRefused, otelbitrix.EventReasonKey: "token_mismatch"}); n != 1 {
		t.Errorf("refused deliveries: %d", n)
	}
	if n := histCount(t, rm["bitrix24.event.handler.duration"], map[attribute.Key]string{otelbitrix.EventNameKey: "ONTASKADD"}); n != 12 {
		t.Errorf("handler durations: %d", n)
	}
	if n := histCount(t, rm["bitrix24.webhook.queue.wait"], map[attribute.Key]string{otelbitrix.QueueOpKey: events.QueueDequeued}); n != 12 {
		t.Errorf("dequeued: %d", n)
	}
	if d, ok := rm["bitrix24.webhook.queue.depth"].(metricdata.Gauge[int64]); !ok || len(d.DataPoints) != 1 {
		t.Errorf("queue depth gauge: %v", rm["bitrix24.webhook.queue.depth"])
	}

	// No credential anywhere.
	secrets := map[string]string{
		"webhook secret": portal.WebhookSecret(), "webhook URL": portal.WebhookURL(),
		"access token": tok.AccessToken, "refresh token": tok.RefreshToken, "client secret": app.ClientSecret,
		"application token": appToken, "forged token": "forged-token-9876543210", "app's application token": app.ApplicationToken,
	}
	texts := append(allText(spans, rm), logs.String())
	for what, secret := range secrets {
		if secret == "" {
			t.Fatalf("%s is empty", what)
		}
		for _, s := range texts {
			if strings.Contains(s, secret) {
				t.Errorf("the %s leaked into %.200q", what, s)
			}
		}
	}
	if !strings.Contains(logs.String(), "bitrix retrying") {
		t.Error("the log saw no retry: the leak check would prove little")
	}
}
