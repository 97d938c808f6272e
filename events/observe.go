package events

import (
	"context"
	"time"

	"github.com/b24go/sdk/internal/hook"
)

// Observer is told what an event receiver does: the webhook receiver
// (webhook.WithObserver) reports deliveries, handlers and its queue; the
// offline [Consumer] and the fetch-mode imbotv2.Poller report handlers. It is the events counterpart of
// bitrix.Observer; package otelbitrix turns both into OpenTelemetry spans
// and metrics.
//
// Every func is optional. They run synchronously and must be quick and safe
// for concurrent use. No value passed holds a token. A receiver without an
// observer pays nothing for the hooks.
type Observer struct {
	// Delivery is called once per webhook delivery that does not reach a
	// handler's queue or the handler as a new event: refused, malformed,
	// too large, a duplicate or arriving during shutdown. Verified
	// deliveries are reported by HandlerStart (or Queue when async).
	Delivery func(ctx context.Context, d Delivery)
	// HandlerStart is called before an event's handler runs; the handler
	// gets the context it returns (nil: ctx), which HandlerEnd gets too.
	HandlerStart func(ctx context.Context, h Handling) context.Context
	// HandlerEnd is called after the handler, with Handling.Duration,
	// Outcome and Err set.
	HandlerEnd func(ctx context.Context, h Handling)
	// Queue is called when a verified delivery enters or leaves the
	// asynchronous queue (webhook.WithAsync), and for every change of a
	// durable queue's job (webhook.WithQueue: enqueued, dequeued, acked,
	// retried, dead) and for the offline Consumer's retries and dead
	// letters, which gives retry and dead-letter counts; a queue's depth
	// and oldest pending age come from webhook.Handler.QueueStats.
	Queue func(ctx context.Context, q QueueEvent)
}

// Delivery outcomes ([Delivery.Outcome]).
const (
	DeliveryRefused     = "refused"     // token missing or wrong, install unverified (Reason says which)
	DeliveryMalformed   = "malformed"   // not an event, or not a POST
	DeliveryTooLarge    = "too_large"   // above the body limit
	DeliveryDuplicate   = "duplicate"   // answered without running the handler (dedupe)
	DeliveryUnavailable = "unavailable" // shutting down, or the request ended while queued
	DeliveryFailed      = "failed"      // the receiver could not check it (a store failed)
)

// Delivery describes a delivery that did not reach a handler.
type Delivery struct {
	// Event is the event name ("" when the body is not an event).
	Event string
	// Portal is the portal's host name from auth[domain] (as the sender
	// claims it: a refused delivery's claim is unverified).
	Portal string
	// Outcome is one of the Delivery constants.
	Outcome string
	// Reason says why, for DeliveryRefused: one of the Refused codes
	// ("missing_token", "token_mismatch", ...), as in the 401 body.
	Reason string
	// Received is when the delivery arrived.
	Received time.Time
}

// Handler sources ([Handling.Source]).
const (
	SourceWebhook = "webhook" // a delivery to webhook.Handler
	SourceOffline = "offline" // a record of the offline queue (Consumer)
	SourceFetch   = "fetch"   // an event a bot fetched (imbotv2.Poller)
)

// Handler outcomes ([Handling.Outcome]).
const (
	HandlerOK    = "ok"
	HandlerError = "error"
	HandlerPanic = "panic"
)

// Handling describes one run of an event handler.
type Handling struct {
	Event  string // the event name
	Portal string // the portal's host name ("" when unknown)
	Source string // SourceWebhook, SourceOffline or SourceFetch
	// Async reports that the handler runs on the webhook's worker pool,
	// after the delivery was answered.
	Async bool
	// Start is when the handler started.
	Start time.Time
	// Duration, Outcome (a Handler constant) and Err are set for HandlerEnd.
	Duration time.Duration
	Outcome  string
	Err      error
}

// Queue operations ([QueueEvent.Op]).
const (
	QueueEnqueued = "enqueued" // accepted into the queue (Wait: backpressure)
	QueueDequeued = "dequeued" // taken by a worker (Wait: time in the queue)
	QueueAcked    = "acked"    // handled and removed from a durable queue
	QueueRetried  = "retried"  // failed, back in the queue (Wait: the backoff; Err)
	QueueDead     = "dead"     // failed for the last time, moved to the dead letters (Err)
)

// QueueEvent describes a change of the asynchronous queue.
type QueueEvent struct {
	Event string // the event name
	Op    string // QueueEnqueued or QueueDequeued
	// Depth is the number of events waiting in the queue after the change
	// (-1 for a durable queue, whose depth QueueStats reports).
	Depth int
	// Wait is how long the delivery waited for a free slot (enqueued), or
	// since it asked for one (dequeued); for a durable queue the time to
	// store it (enqueued), since it was accepted (dequeued), or the
	// backoff (retried).
	Wait time.Duration
	// Attempt is the job's attempt (durable queue: 1 on its first run).
	Attempt int
	// Err is the handler's error (retried, dead).
	Err error
}

// Join returns an Observer that calls o's funcs, then p's.
func (o Observer) Join(p Observer) Observer {
	return Observer{
		Delivery:     hook.Join(o.Delivery, p.Delivery),
		HandlerStart: hook.JoinStart(o.HandlerStart, p.HandlerStart),
		HandlerEnd:   hook.Join(o.HandlerEnd, p.HandlerEnd),
		Queue:        hook.Join(o.Queue, p.Queue),
	}
}

// StartHandler calls HandlerStart (when set) for a handler of the event
// named event from portal about to run, and returns the context for the handler and the Handling to pass to
// [Observer.EndHandler]. Receivers call it; it costs nothing when o has no
// HandlerStart and no HandlerEnd.
func (o *Observer) StartHandler(ctx context.Context, event, portal, source string, async bool) (context.Context, Handling) {
	if o == nil || (o.HandlerStart == nil && o.HandlerEnd == nil) {
		return ctx, Handling{}
	}
	h := Handling{Event: event, Portal: portal, Source: source, Async: async, Start: time.Now()}
	if o.HandlerStart != nil {
		if hctx := o.HandlerStart(ctx, h); hctx != nil {
			ctx = hctx
		}
	}
	return ctx, h
}

// EndHandler calls HandlerEnd (when set) with h's Duration, Outcome and
// Err filled in; panicked reports a recovered panic.
func (o *Observer) EndHandler(ctx context.Context, h Handling, err error, panicked bool) {
	if o == nil || o.HandlerEnd == nil {
		return
	}
	h.Duration, h.Err, h.Outcome = time.Since(h.Start), err, HandlerOK
	switch {
	case panicked:
		h.Outcome = HandlerPanic
	case err != nil:
		h.Outcome = HandlerError
	}
	o.HandlerEnd(ctx, h)
}
