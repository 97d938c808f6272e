package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/b24go/sdk/events"
)

// RetryPolicy bounds the attempts at a queued delivery ([WithQueue]);
// the offline events.Consumer takes the same policy.
type RetryPolicy = events.RetryPolicy

// DefaultRetryPolicy is the policy [WithQueue] fills unset fields from.
var DefaultRetryPolicy = events.DefaultRetryPolicy

// WithQueue turns on durable intake: a verified delivery is written to q
// before it is answered 200 ({"result":"accepted"}), and workers run the
// handlers from q. A failed handler (error or panic) is retried after a
// growing wait, up to policy.MaxAttempts runs; then the job goes to q's
// dead letters, which an operator lists, re-drives or drops through the
// Queue. When q cannot keep a delivery (full, or its store is down) the
// delivery is answered 503, which Bitrix24 logs as failed, rather than
// accepted and lost. Delivery is at least once (see [Queue]); handlers
// find their job with [JobOf]. [Handler.Shutdown] stops the workers;
// what they did not finish stays in q (a [MemoryQueue] loses it with the
// process). It replaces [WithAsync].
func WithQueue(q Queue, workers int, policy RetryPolicy) Option {
	return func(c *config) error {
		if q == nil {
			return errors.New("webhook: WithQueue: nil queue")
		}
		if workers < 1 {
			return fmt.Errorf("webhook: WithQueue: %d workers, need at least 1", workers)
		}
		c.durable = &durableConfig{q: q, workers: workers, policy: policy.WithDefaults()}
		return nil
	}
}

type durableConfig struct {
	q       Queue
	workers int
	policy  RetryPolicy
}

// durable is the worker pool of WithQueue.
type durable struct {
	cfg    durableConfig
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type jobKey struct{}

// JobOf returns the queued job a handler runs for ([WithQueue]): its ID
// and Attempt tell a redelivery from a first run.
func JobOf(ctx context.Context) (Job, bool) {
	j, ok := ctx.Value(jobKey{}).(Job)
	return j, ok
}

// startDurable starts the workers of WithQueue (from New).
func (h *Handler) startDurable() {
	dc := h.cfg.durable
	if dc == nil {
		return
	}
	d := &durable{cfg: *dc}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	h.durable = d
	for range dc.workers {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			for d.ctx.Err() == nil {
				h.work1(d)
			}
		}()
	}
}

// stopDurable stops claiming and waits for the jobs in hand, or ctx.
func (h *Handler) stopDurable(ctx context.Context) error {
	d := h.durable
	if d == nil {
		return nil
	}
	d.cancel()
	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// accept writes a verified delivery to the queue (ServeHTTP).
func (h *Handler) accept(ctx context.Context, raw *events.Raw, ev *events.Event) error {
	h.sendMu.RLock()
	closed := h.closed
	h.sendMu.RUnlock()
	if closed {
		return ErrShuttingDown
	}
	start := time.Now()
	j, err := h.durable.cfg.q.Put(ctx, Job{Event: ev.Name, Body: raw.Body(), JSON: raw.IsJSON()})
	if err != nil {
		h.cfg.logger.LogAttrs(ctx, slog.LevelError, "webhook: the queue did not keep a delivery", slog.Any("event", ev), slog.String("error", err.Error()))
		return err
	}
	h.jobEvent(ctx, j, events.QueueEnqueued, time.Since(start), nil)
	return nil
}

// work1 claims one job and runs its handler.
func (h *Handler) work1(d *durable) {
	p := d.cfg.policy
	j, err := d.cfg.q.Claim(d.ctx, p.Visibility)
	if err != nil {
		if d.ctx.Err() == nil {
			h.cfg.logger.Error("webhook: claiming a queued delivery failed", "error", err.Error())
			select { // a store that is down: do not spin
			case <-d.ctx.Done():
			case <-time.After(p.Backoff):
			}
		}
		return
	}
	h.jobEvent(d.ctx, j, events.QueueDequeued, time.Since(j.Enqueued), nil)
	// The lease ends at the visibility timeout: so does the handler. A
	// Shutdown stops the claims (d.ctx) but lets the handler finish until
	// its deadline (h.baseCtx).
	ctx, cancel := context.WithTimeout(context.WithValue(h.baseCtx, jobKey{}, j), p.Visibility)
	defer cancel()
	lim := h.cfg.limits
	raw, err := lim.ReadBody([]byte(j.Body), j.JSON)
	var ev *events.Event
	if err == nil {
		ev, err = lim.Decode(raw)
	}
	if err != nil { // it decoded at intake: the queue returned another body
		h.finish(d, j, fmt.Errorf("webhook: queued delivery does not decode: %w", err), true, "")
		return
	}
	err = h.run(ctx, ev, "")
	key := ""
	if err != nil && h.cfg.dedupe != nil {
		key = ev.DedupeKey()
	}
	h.finish(d, j, err, false, key)
}

// finish acknowledges, retries or buries j after a run. A job that goes
// to the dead letters releases its dedupe key (WithDedupe): the event
// was not handled, so a new delivery of it must run, not be answered
// "duplicate".
func (h *Handler) finish(d *durable, j Job, runErr error, final bool, key string) {
	q, p := d.cfg.q, d.cfg.policy
	ctx := context.WithoutCancel(d.ctx)
	var err error
	switch {
	case runErr == nil:
		err = q.Ack(ctx, j)
		if err == nil {
			h.jobEvent(ctx, j, events.QueueAcked, 0, nil)
		}
	case final || j.Attempt >= p.MaxAttempts:
		err = q.Dead(ctx, j, runErr.Error())
		if err == nil {
			h.cfg.logger.LogAttrs(ctx, slog.LevelError, "webhook: a delivery went to the dead letters",
				slog.String("job", j.ID), slog.String("event", j.Event), slog.Int("attempts", j.Attempt), slog.String("error", runErr.Error()))
			h.jobEvent(ctx, j, events.QueueDead, 0, runErr)
			h.release(key)
		}
	default:
		wait := p.Delay(j.Attempt)
		err = q.Retry(ctx, j, time.Now().Add(wait), runErr.Error())
		if err == nil {
			h.jobEvent(ctx, j, events.QueueRetried, wait, runErr)
		}
	}
	if errors.Is(err, ErrLeaseLost) {
		h.cfg.logger.Warn("webhook: a queued delivery outran its visibility timeout and was claimed again", "job", j.ID, "event", j.Event)
	} else if err != nil {
		h.cfg.logger.Error("webhook: updating a queued delivery failed", "job", j.ID, "error", err.Error())
	}
}

// QueueStats returns the size of the [WithQueue] queue (for metrics).
func (h *Handler) QueueStats(ctx context.Context) (QueueStats, error) {
	if h.durable == nil {
		return QueueStats{}, errors.New("webhook: no queue (WithQueue)")
	}
	return h.durable.cfg.q.Stats(ctx)
}

// jobEvent reports a change of a queued job to the observer.
func (h *Handler) jobEvent(ctx context.Context, j Job, op string, wait time.Duration, err error) {
	if o := h.obs(); o != nil && o.Queue != nil {
		o.Queue(ctx, events.QueueEvent{Event: j.Event, Op: op, Depth: -1, Wait: wait, Attempt: j.Attempt, Err: err})
	}
}
