package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/b24go/sdk/bitrix"
)

// OfflineRecord is one record of the offline event queue, as returned by
// event.offline.get.
type OfflineRecord struct {
	ID bitrix.Int `json:"ID"`
	// Timestamp is TIMESTAMP_X, when the record was last written.
	Timestamp bitrix.Time `json:"TIMESTAMP_X"`
	// Name is EVENT_NAME ("ONCRMLEADADD").
	Name string `json:"EVENT_NAME"`
	// Data is EVENT_DATA as JSON (e.g. {"FIELDS":{"ID":"1"}}; false when
	// the portal stored none).
	Data json.RawMessage `json:"EVENT_DATA"`
	// Additional is EVENT_ADDITIONAL as JSON (e.g. {"user_id":"1"}).
	Additional json.RawMessage `json:"EVENT_ADDITIONAL"`
	// MessageID identifies the record for event.offline.clear/error.
	MessageID string `json:"MESSAGE_ID"`
}

// DecodeData decodes Data into the typed Data of the record's event (as
// [NewData] returns) or *[Unknown].
func (r *OfflineRecord) DecodeData() (any, error) {
	raw := r.Data
	if string(raw) == "false" || string(raw) == "null" || len(raw) == 0 {
		raw = nil
	}
	return decodeData(r.Name, raw)
}

// Consumer drains the offline event queue with at-least-once delivery:
// it reserves a batch with event.offline.get (clear=0), hands each record to
// Handler, then removes the handled records with event.offline.clear and
// marks the failed ones with event.offline.error. A batch whose clear call
// fails is re-read (same process_id) and handed to Handler again, so
// Handler must tolerate repeats.
//
// The methods need OAuth application auth with admin rights, and clear=0
// needs the portal feature rest_offline_extended.
type Consumer struct {
	// Client calls the portal: a *bitrix.Client (required).
	Client Caller
	// Handler processes one record (required). A non-nil error (or a
	// panic) runs it again after the waits of Retry, up to
	// Retry.MaxAttempts runs; then the record is marked with
	// event.offline.error instead of cleared. Marked records are the
	// portal's dead letters: event.offline.get leaves them out unless
	// asked with error=1
	// (https://apidocs.bitrix24.com/api-reference/events/event-offline-get.html),
	// and event.offline.list shows them.
	Handler func(ctx context.Context, rec *OfflineRecord) error
	// Retry bounds the runs of a failing record (zero fields: from
	// [DefaultRetryPolicy]; MaxAttempts 1 marks a record at its first
	// failure). The batch stays reserved while a record waits.
	Retry RetryPolicy
	// Connector is sent as auth_connector ("" = none).
	Connector string
	// Limit is the batch size (default 50).
	Limit int
	// Filter is event.offline.get's filter (nil = all events).
	Filter bitrix.Params
	// Idle is how long Run waits after an empty batch or an error before
	// asking again (default 10 s); [Consumer.Notify] cuts the wait short.
	Idle time.Duration
	// Logger receives errors (default: discard).
	Logger *slog.Logger
	// Observer is told about each handler run (HandlerStart, HandlerEnd;
	// Handling.Source is SourceOffline). The zero value observes nothing.
	Observer Observer

	processID string
	wake      chan struct{}
}

type offlineBatch struct {
	ProcessID *string         `json:"process_id"`
	Events    []OfflineRecord `json:"events"`
}

// Notify makes a running [Consumer.Run] poll now, for example from an
// ONOFFLINEEVENT handler. It never blocks.
func (c *Consumer) Notify() {
	c.init()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *Consumer) init() {
	if c.wake == nil {
		c.wake = make(chan struct{}, 1)
	}
}

// Run polls until ctx is done, then returns nil. It processes batches back
// to back while the queue has records and waits Idle between empty polls or
// after errors. Run must not be called concurrently on one Consumer.
func (c *Consumer) Run(ctx context.Context) error {
	if c.Client == nil || c.Handler == nil {
		return errors.New("events: Consumer needs Client and Handler")
	}
	c.init()
	idle := c.Idle
	if idle <= 0 {
		idle = 10 * time.Second
	}
	for {
		n, err := c.Once(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			c.logger().LogAttrs(ctx, slog.LevelError, "offline events: batch failed", slog.String("error", err.Error()))
		}
		if err == nil && n > 0 {
			continue
		}
		t := time.NewTimer(idle)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-c.wake:
			t.Stop()
		case <-t.C:
		}
	}
}

func (c *Consumer) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// Once reserves and processes one batch and returns the number of records
// handed to Handler. Records whose handler ran are cleared or marked as
// failed before Once returns; if ctx ends mid-batch, the rest of the batch
// stays reserved and the next call re-reads it.
func (c *Consumer) Once(ctx context.Context) (int, error) {
	limit := c.Limit
	if limit <= 0 {
		limit = 50
	}
	params := bitrix.Params{"clear": 0, "limit": limit}
	if c.Connector != "" {
		params["auth_connector"] = c.Connector
	}
	if c.Filter != nil {
		params["filter"] = c.Filter
	}
	if c.processID != "" {
		params["process_id"] = c.processID
	}
	var batch offlineBatch
	if _, err := c.Client.Call(ctx, "event.offline.get", params, &batch); err != nil {
		return 0, fmt.Errorf("events: event.offline.get: %w", err)
	}
	if len(batch.Events) == 0 {
		c.processID = ""
		return 0, nil
	}
	if batch.ProcessID == nil || *batch.ProcessID == "" {
		return 0, errors.New("events: event.offline.get returned records without a process_id (clear=0 needs rest_offline_extended)")
	}
	pid := *batch.ProcessID
	c.processID = pid // until the batch is settled, re-read it

	var done, failed []string
	n := 0
	for i := range batch.Events {
		if ctx.Err() != nil {
			break
		}
		rec := &batch.Events[i]
		settled, err := c.attempts(ctx, rec)
		if !settled { // ctx ended while it waited for a retry: re-read later
			break
		}
		n++
		if err != nil {
			failed = append(failed, rec.MessageID)
		} else {
			done = append(done, rec.MessageID)
		}
	}
	// Settle what ran even when ctx is done: a fresh context keeps the
	// at-least-once window small.
	sctx := context.WithoutCancel(ctx)
	if len(done) > 0 {
		if _, err := c.Client.Call(sctx, "event.offline.clear", bitrix.Params{"process_id": pid, "message_id": done}, nil); err != nil {
			return n, fmt.Errorf("events: event.offline.clear: %w", err)
		}
	}
	if len(failed) > 0 {
		if _, err := c.Client.Call(sctx, "event.offline.error", bitrix.Params{"process_id": pid, "message_id": failed}, nil); err != nil {
			return n, fmt.Errorf("events: event.offline.error: %w", err)
		}
	}
	if n == len(batch.Events) {
		c.processID = ""
	}
	return n, nil
}

// attempts runs the handler on rec up to Retry.MaxAttempts times, waiting
// Retry's backoff between runs. settled is false when ctx ended during a
// wait (the record is then neither cleared nor marked).
func (c *Consumer) attempts(ctx context.Context, rec *OfflineRecord) (settled bool, err error) {
	p := c.Retry.WithDefaults()
	for attempt := 1; ; attempt++ {
		err = c.handle(ctx, rec)
		if err == nil {
			return true, nil
		}
		c.logger().LogAttrs(ctx, slog.LevelWarn, "offline events: handler failed",
			slog.String("event", rec.Name), slog.String("message_id", rec.MessageID),
			slog.Int("attempt", attempt), slog.String("error", err.Error()))
		if attempt >= p.MaxAttempts {
			c.queued(ctx, rec, QueueDead, attempt, 0, err)
			return true, err
		}
		wait := p.Delay(attempt)
		c.queued(ctx, rec, QueueRetried, attempt, wait, err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return false, err
		case <-t.C:
		}
	}
}

// queued reports a retry or a dead letter to the observer.
func (c *Consumer) queued(ctx context.Context, rec *OfflineRecord, op string, attempt int, wait time.Duration, err error) {
	if c.Observer.Queue != nil {
		c.Observer.Queue(ctx, QueueEvent{Event: rec.Name, Op: op, Depth: -1, Wait: wait, Attempt: attempt, Err: err})
	}
}

func (c *Consumer) handle(ctx context.Context, rec *OfflineRecord) (err error) {
	ctx, hi := c.Observer.StartHandler(ctx, rec.Name, "", SourceOffline, false)
	panicked := false
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("events: offline handler panicked: %v", p)
			panicked = true
		}
		c.Observer.EndHandler(ctx, hi, err, panicked)
	}()
	return c.Handler(ctx, rec)
}
