// Package otelbitrix reports what the SDK does to OpenTelemetry: spans for
// calls, HTTP attempts, token refreshes and event handlers, and metrics for
// dashboards. It adapts [bitrix.Observer] and [events.Observer]:
//
//	tel, err := otelbitrix.New() // the global TracerProvider and MeterProvider
//	c, err := bitrix.New(auth, bitrix.WithObserver(tel.Observer()))
//	h, err := webhook.New(opts, webhook.WithObserver(tel.EventObserver()))
//
// Programs that do not import this package do not link OpenTelemetry.
//
// # Spans
//
// Each call (one REST method, or one batch request) is an internal span
// named after the method ("crm.deal.get", "batch"), a child of the span in
// the caller's context. Each HTTP attempt is a client span "POST" under it
// with the HTTP semantic-convention attributes; the attempts of a retried
// call are siblings. Commands of a batch, waits, retries and the portal's
// "time" block are span events of the call span; a token refresh is a span
// of its own. Event handlers are consumer spans named after the event
// ("ONCRMDEALADD") whose context the handler gets, so that its calls nest
// under it; deliveries refused or dropped before a handler are short spans
// "bitrix24.webhook.delivery". Calls that [bitrix.WithCoalescing] gathers
// travel in a batch request of several callers, whose span is a root span.
//
// No attribute holds a credential: the portal is its host name, never the
// webhook URL, and errors are recorded by type and code, never by message.
//
// # Metrics
//
//	bitrix24.client.request.duration  histogram, s   bitrix24.method, bitrix24.outcome, bitrix24.error.code, server.address
//	bitrix24.client.wait.duration     histogram, s   bitrix24.method, bitrix24.wait.reason
//	bitrix24.client.retries           counter        bitrix24.method, bitrix24.retry.reason
//	bitrix24.client.operating         gauge, s       bitrix24.method, server.address (the portal's "operating" of the method's window)
//	bitrix24.client.refreshes         counter        bitrix24.outcome (ok, reloaded, error)
//	bitrix24.events                   counter        bitrix24.event.name, bitrix24.event.outcome, bitrix24.event.source
//	bitrix24.event.handler.duration   histogram, s   bitrix24.event.name, bitrix24.event.outcome, bitrix24.event.source
//	bitrix24.webhook.queue.depth      gauge          (events waiting in the WithAsync queue)
//	bitrix24.webhook.queue.wait       histogram, s   bitrix24.queue.op
//
// The outcome of a request is one of the bitrix.Outcome constants
// (ok, api_error, transport_error, bad_response, maybe_applied); of an
// event, one of the events.Delivery and events.Handler constants (refused,
// malformed, too_large, duplicate, unavailable, failed; ok, error, panic).
// The name of an event that was not verified is recorded as "_OTHER".
package otelbitrix

import (
	"context"
	"errors"
	"net"
	"strconv"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/events"
)

// ScopeName is the instrumentation scope of the tracer and the meter.
const ScopeName = "github.com/b24go/sdk/bitrix/otelbitrix"

// Attribute keys of the bitrix24.* namespace.
const (
	MethodKey        = attribute.Key("bitrix24.method")
	PortalKey        = attribute.Key("bitrix24.portal")
	CommandsKey      = attribute.Key("bitrix24.batch.commands")
	CommandNameKey   = attribute.Key("bitrix24.batch.command")
	OutcomeKey       = attribute.Key("bitrix24.outcome")
	ErrorCodeKey     = attribute.Key("bitrix24.error.code")
	WaitReasonKey    = attribute.Key("bitrix24.wait.reason")
	RetryReasonKey   = attribute.Key("bitrix24.retry.reason")
	DurationKey      = attribute.Key("bitrix24.duration") // seconds, of a wait or delay
	AttemptKey       = attribute.Key("bitrix24.attempt")
	OperatingKey     = attribute.Key("bitrix24.time.operating")          // seconds
	OperatingResetAt = attribute.Key("bitrix24.time.operating_reset_at") // Unix seconds
	TimeDurationKey  = attribute.Key("bitrix24.time.duration")           // seconds
	ProcessingKey    = attribute.Key("bitrix24.time.processing")         // seconds
	EventNameKey     = attribute.Key("bitrix24.event.name")
	EventOutcomeKey  = attribute.Key("bitrix24.event.outcome")
	EventSourceKey   = attribute.Key("bitrix24.event.source")
	EventReasonKey   = attribute.Key("bitrix24.event.reason")
	EventAsyncKey    = attribute.Key("bitrix24.event.async")
	QueueOpKey       = attribute.Key("bitrix24.queue.op")
)

// Option configures [New]. Options validate their arguments; [New]
// returns the first error.
type Option func(*config) error

type config struct {
	tp trace.TracerProvider
	mp metric.MeterProvider
}

// WithTracerProvider uses tp (default: otel.GetTracerProvider()). A nil
// tp is an error.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) error {
		if tp == nil {
			return errors.New("otelbitrix: WithTracerProvider: nil provider")
		}
		c.tp = tp
		return nil
	}
}

// WithMeterProvider uses mp (default: otel.GetMeterProvider()). A nil mp
// is an error.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) error {
		if mp == nil {
			return errors.New("otelbitrix: WithMeterProvider: nil provider")
		}
		c.mp = mp
		return nil
	}
}

// Telemetry holds the tracer and the instruments. Build it once with
// [New] and share it between clients and receivers.
type Telemetry struct {
	tracer trace.Tracer

	reqDur, waitDur, handlerDur, queueWait metric.Float64Histogram
	retries, refreshes, evCount            metric.Int64Counter
	operating                              metric.Float64Gauge
	queueDepth                             metric.Int64Gauge
}

// durationBuckets (seconds) cover fast calls and the long waits of the
// operating-time limit.
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600}

// New creates the tracer and the instruments. It fails only on an invalid
// option: an instrument the meter cannot create is reported to otel.Handle
// and left out, as OpenTelemetry treats instrumentation errors as
// non-fatal.
func New(opts ...Option) (*Telemetry, error) {
	var cfg config
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.tp == nil {
		cfg.tp = otel.GetTracerProvider()
	}
	if cfg.mp == nil {
		cfg.mp = otel.GetMeterProvider()
	}
	t := &Telemetry{tracer: cfg.tp.Tracer(ScopeName, trace.WithSchemaURL(semconv.SchemaURL))}
	m := cfg.mp.Meter(ScopeName, metric.WithSchemaURL(semconv.SchemaURL))
	var errs []error
	hist := func(name, desc string) metric.Float64Histogram {
		h, err := m.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc),
			metric.WithExplicitBucketBoundaries(durationBuckets...))
		errs = append(errs, err)
		return h
	}
	count := func(name, desc string) metric.Int64Counter {
		c, err := m.Int64Counter(name, metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	t.reqDur = hist("bitrix24.client.request.duration", "Duration of HTTP requests to the portal, by method and outcome.")
	t.waitDur = hist("bitrix24.client.wait.duration", "Time calls waited for the rate limit, the operating-time gate or a token refresh.")
	t.handlerDur = hist("bitrix24.event.handler.duration", "Duration of event handlers.")
	t.queueWait = hist("bitrix24.webhook.queue.wait", "Time deliveries waited for a queue slot (enqueued) or in the queue (dequeued).")
	t.retries = count("bitrix24.client.retries", "Calls repeated, by method and reason.")
	t.refreshes = count("bitrix24.client.refreshes", "OAuth token refreshes, by outcome.")
	t.evCount = count("bitrix24.events", "Events received, by name and outcome.")
	var err error
	t.operating, err = m.Float64Gauge("bitrix24.client.operating", metric.WithUnit("s"),
		metric.WithDescription("The portal's operating time of a method in its current 10-minute window."))
	errs = append(errs, err)
	t.queueDepth, err = m.Int64Gauge("bitrix24.webhook.queue.depth", metric.WithDescription("Events waiting in the asynchronous queue."))
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		otel.Handle(err)
	}
	return t, nil
}

// Observer returns the client hook: install it with bitrix.WithObserver.
func (t *Telemetry) Observer() bitrix.Observer {
	return bitrix.Observer{
		CallStart: t.callStart,
		CallEnd:   t.callEnd,
		Request:   t.request,
		Command:   t.command,
		Wait:      t.wait,
		Retry:     t.retry,
		Refresh:   t.refresh,
		Timing:    t.timing,
	}
}

// EventObserver returns the receiver hook: install it with
// webhook.WithObserver, or as events.Consumer.Observer or
// imbotv2.Poller.Observer.
func (t *Telemetry) EventObserver() events.Observer {
	return events.Observer{
		Delivery:     t.delivery,
		HandlerStart: t.handlerStart,
		HandlerEnd:   t.handlerEnd,
		Queue:        t.queue,
	}
}

func seconds(d time.Duration) float64 { return d.Seconds() }

func (t *Telemetry) callStart(ctx context.Context, c bitrix.CallInfo) context.Context {
	attrs := []attribute.KeyValue{MethodKey.String(c.Method), PortalKey.String(c.Portal)}
	if c.Commands > 0 {
		attrs = append(attrs, CommandsKey.Int(c.Commands))
	}
	ctx, _ = t.tracer.Start(ctx, c.Method, trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithTimestamp(c.Start), trace.WithAttributes(attrs...))
	return ctx
}

func (t *Telemetry) callEnd(ctx context.Context, c bitrix.CallInfo) {
	span := trace.SpanFromContext(ctx)
	if c.Err != nil {
		class, code := classify(c.Err)
		span.SetAttributes(semconv.ErrorTypeKey.String(errorType(class, code)), OutcomeKey.String(class))
		if code != "" {
			span.SetAttributes(ErrorCodeKey.String(code))
		}
		span.SetStatus(codes.Error, class)
	} else {
		span.SetAttributes(OutcomeKey.String(bitrix.OutcomeOK))
	}
	span.End(trace.WithTimestamp(c.Start.Add(c.Duration)))
}

// classify returns the outcome class and API error code of a call's error.
func classify(err error) (outcome, code string) {
	var api *bitrix.APIError
	var te *bitrix.TransportError
	var re *bitrix.ResponseError
	switch {
	case errors.Is(err, bitrix.ErrMaybeApplied):
		return bitrix.OutcomeMaybeApplied, ""
	case errors.As(err, &api):
		return bitrix.OutcomeAPIError, api.Code
	case errors.As(err, &te):
		return bitrix.OutcomeTransportError, ""
	case errors.As(err, &re):
		return bitrix.OutcomeBadResponse, ""
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "canceled", ""
	}
	return "error", ""
}

// errorType is error.type: the API error code, else the outcome class.
func errorType(outcome, code string) string {
	if code != "" {
		return code
	}
	return outcome
}

func hostPort(portal string) []attribute.KeyValue {
	host, port, err := net.SplitHostPort(portal)
	if err != nil {
		return []attribute.KeyValue{semconv.ServerAddressKey.String(portal)}
	}
	p, _ := strconv.Atoi(port)
	return []attribute.KeyValue{semconv.ServerAddressKey.String(host), semconv.ServerPortKey.Int(p)}
}

func (t *Telemetry) request(ctx context.Context, r bitrix.RequestInfo) {
	attrs := append(hostPort(r.Portal),
		semconv.HTTPRequestMethodKey.String("POST"),
		semconv.HTTPRequestBodySizeKey.Int(r.BytesSent),
		MethodKey.String(r.Method),
		OutcomeKey.String(r.Outcome),
		AttemptKey.Int(r.Attempt),
	)
	if r.Attempt > 1 {
		attrs = append(attrs, semconv.HTTPRequestResendCountKey.Int(r.Attempt-1))
	}
	if r.StatusCode > 0 {
		attrs = append(attrs, semconv.HTTPResponseStatusCodeKey.Int(r.StatusCode), semconv.HTTPResponseBodySizeKey.Int(r.BytesReceived))
	}
	if r.Commands > 0 {
		attrs = append(attrs, CommandsKey.Int(r.Commands))
	}
	if r.ErrorCode != "" {
		attrs = append(attrs, ErrorCodeKey.String(r.ErrorCode))
	}
	if r.Outcome != bitrix.OutcomeOK {
		attrs = append(attrs, semconv.ErrorTypeKey.String(errorType(r.Outcome, r.ErrorCode)))
	}
	_, span := t.tracer.Start(ctx, "POST", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithTimestamp(r.Start), trace.WithAttributes(attrs...))
	if r.Outcome != bitrix.OutcomeOK {
		span.SetStatus(codes.Error, r.Outcome)
	}
	span.End(trace.WithTimestamp(r.Start.Add(r.Duration)))

	mattrs := []attribute.KeyValue{MethodKey.String(r.Method), OutcomeKey.String(r.Outcome), attrs[0]}
	if r.ErrorCode != "" {
		mattrs = append(mattrs, ErrorCodeKey.String(r.ErrorCode))
	}
	t.reqDur.Record(ctx, seconds(r.Duration), metric.WithAttributes(mattrs...))
}

func (t *Telemetry) command(ctx context.Context, c bitrix.CommandInfo) {
	attrs := []attribute.KeyValue{CommandNameKey.String(c.Name), MethodKey.String(c.Method)}
	switch {
	case c.ErrorCode != "":
		attrs = append(attrs, OutcomeKey.String(bitrix.OutcomeAPIError), ErrorCodeKey.String(c.ErrorCode))
	case errors.Is(c.Err, bitrix.ErrNotRun):
		attrs = append(attrs, OutcomeKey.String("not_run"))
	case c.Err != nil:
		attrs = append(attrs, OutcomeKey.String(bitrix.OutcomeAPIError))
	default:
		attrs = append(attrs, OutcomeKey.String(bitrix.OutcomeOK))
	}
	trace.SpanFromContext(ctx).AddEvent("bitrix24.batch.command", trace.WithAttributes(attrs...))
}

func (t *Telemetry) wait(ctx context.Context, w bitrix.WaitInfo) {
	trace.SpanFromContext(ctx).AddEvent("bitrix24.wait", trace.WithAttributes(
		WaitReasonKey.String(w.Reason), DurationKey.Float64(seconds(w.Duration))))
	t.waitDur.Record(ctx, seconds(w.Duration), metric.WithAttributes(MethodKey.String(w.Method), WaitReasonKey.String(w.Reason)))
}

func (t *Telemetry) retry(ctx context.Context, r bitrix.RetryInfo) {
	attrs := []attribute.KeyValue{RetryReasonKey.String(r.Reason), AttemptKey.Int(r.Attempt), DurationKey.Float64(seconds(r.Delay))}
	if r.StatusCode > 0 {
		attrs = append(attrs, semconv.HTTPResponseStatusCodeKey.Int(r.StatusCode))
	}
	trace.SpanFromContext(ctx).AddEvent("bitrix24.retry", trace.WithAttributes(attrs...))
	t.retries.Add(ctx, 1, metric.WithAttributes(MethodKey.String(r.Method), RetryReasonKey.String(r.Reason)))
}

func (t *Telemetry) refresh(ctx context.Context, r bitrix.RefreshInfo) {
	outcome := "ok"
	switch {
	case r.Err != nil:
		outcome = "error"
	case r.Reloaded:
		outcome = "reloaded"
	}
	end := time.Now()
	_, span := t.tracer.Start(ctx, "bitrix24.oauth.refresh", trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithTimestamp(end.Add(-r.Duration)), trace.WithAttributes(PortalKey.String(r.Portal), OutcomeKey.String(outcome)))
	if r.Err != nil {
		class, code := classify(r.Err)
		span.SetAttributes(semconv.ErrorTypeKey.String(errorType(class, code)))
		span.SetStatus(codes.Error, "refresh failed")
	}
	span.End(trace.WithTimestamp(end))
	t.refreshes.Add(ctx, 1, metric.WithAttributes(OutcomeKey.String(outcome)))
}

func (t *Telemetry) timing(ctx context.Context, ti bitrix.TimingInfo) {
	attrs := []attribute.KeyValue{MethodKey.String(ti.Method),
		OperatingKey.Float64(seconds(ti.Time.Operating)),
		TimeDurationKey.Float64(seconds(ti.Time.Duration)),
		ProcessingKey.Float64(seconds(ti.Time.Processing))}
	if !ti.Time.OperatingResetAt.IsZero() {
		attrs = append(attrs, OperatingResetAt.Int64(ti.Time.OperatingResetAt.Unix()))
	}
	trace.SpanFromContext(ctx).AddEvent("bitrix24.time", trace.WithAttributes(attrs...))
	t.operating.Record(ctx, seconds(ti.Time.Operating), metric.WithAttributes(MethodKey.String(ti.Method), hostPort(ti.Portal)[0]))
}

// otherEvent is the name recorded for events that were not verified: their
// names are the sender's word and could be anything.
const otherEvent = "_OTHER"

func (t *Telemetry) delivery(ctx context.Context, d events.Delivery) {
	name := d.Event
	if d.Outcome != events.DeliveryDuplicate || name == "" {
		name = otherEvent
	}
	attrs := []attribute.KeyValue{EventNameKey.String(name), EventOutcomeKey.String(d.Outcome), EventSourceKey.String(events.SourceWebhook)}
	if d.Reason != "" {
		attrs = append(attrs, EventReasonKey.String(d.Reason))
	}
	_, span := t.tracer.Start(ctx, "bitrix24.webhook.delivery", trace.WithSpanKind(trace.SpanKindServer),
		trace.WithTimestamp(d.Received), trace.WithAttributes(attrs...))
	if d.Outcome != events.DeliveryDuplicate {
		span.SetStatus(codes.Error, d.Outcome)
	}
	span.End()
	t.evCount.Add(ctx, 1, metric.WithAttributes(attrs...))
}

func (t *Telemetry) handlerStart(ctx context.Context, h events.Handling) context.Context {
	attrs := []attribute.KeyValue{EventNameKey.String(h.Event), EventSourceKey.String(h.Source), EventAsyncKey.Bool(h.Async)}
	if h.Portal != "" {
		attrs = append(attrs, PortalKey.String(h.Portal))
	}
	ctx, _ = t.tracer.Start(ctx, h.Event, trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithTimestamp(h.Start), trace.WithAttributes(attrs...))
	return ctx
}

func (t *Telemetry) handlerEnd(ctx context.Context, h events.Handling) {
	span := trace.SpanFromContext(ctx)
	span.SetAttributes(EventOutcomeKey.String(h.Outcome))
	if h.Outcome != events.HandlerOK {
		span.SetAttributes(semconv.ErrorTypeKey.String(h.Outcome))
		span.SetStatus(codes.Error, h.Outcome)
	}
	span.End(trace.WithTimestamp(h.Start.Add(h.Duration)))
	attrs := metric.WithAttributes(EventNameKey.String(h.Event), EventOutcomeKey.String(h.Outcome), EventSourceKey.String(h.Source))
	t.evCount.Add(ctx, 1, attrs)
	t.handlerDur.Record(ctx, seconds(h.Duration), attrs)
}

func (t *Telemetry) queue(ctx context.Context, q events.QueueEvent) {
	if q.Depth >= 0 { // -1: a durable queue (webhook.WithQueue), sized by QueueStats
		t.queueDepth.Record(ctx, int64(q.Depth))
	}
	t.queueWait.Record(ctx, seconds(q.Wait), metric.WithAttributes(QueueOpKey.String(q.Op)))
}
