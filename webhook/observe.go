package webhook

import (
	"context"
	"time"

	"github.com/b24go/sdk/events"
)

// Observer is told about deliveries, handler runs and the asynchronous
// queue; see [events.Observer] (the offline events.Consumer takes the same
// type). Package otelbitrix turns it into OpenTelemetry spans and metrics.
type Observer = events.Observer

// WithObserver installs o. Given several times, the observers are all
// called, in the order given.
func WithObserver(o Observer) Option {
	return func(c *config) error {
		c.observer = c.observer.Join(o)
		c.observed = true
		return nil
	}
}

// obs returns the observer, nil when none is installed.
func (h *Handler) obs() *events.Observer {
	if !h.cfg.observed {
		return nil
	}
	return &h.cfg.observer
}

// delivered reports a delivery that does not reach a handler.
func (h *Handler) delivered(ctx context.Context, ev *events.Event, outcome string, err error, received time.Time) {
	o := h.obs()
	if o == nil || o.Delivery == nil {
		return
	}
	d := events.Delivery{Outcome: outcome, Received: received}
	if ev != nil {
		d.Event, d.Portal = ev.Name, ev.Auth.Domain
	}
	if outcome == events.DeliveryRefused {
		d.Reason = refusalReason(err)
	}
	o.Delivery(ctx, d)
}

// queued reports a queue change of j.
func (h *Handler) queued(ctx context.Context, j job, op string, wait time.Duration) {
	if o := h.obs(); o != nil && o.Queue != nil {
		o.Queue(ctx, events.QueueEvent{Event: j.ev.Name, Op: op, Depth: len(h.queue), Wait: wait})
	}
}
