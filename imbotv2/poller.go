package imbotv2

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/events"
	"github.com/b24go/sdk/webhook"
)

// Router is what the typed On* helpers register on: a *webhook.Handler
// (webhook mode) or a *[Poller] (fetch mode). Handlers have one signature
// in both modes, so a bot can switch modes without touching them.
type Router = webhook.Router

// OnMessage registers fn for ONIMBOTV2MESSAGEADD, a message to the bot.
func OnMessage(r Router, fn func(ctx context.Context, ev *events.Event, d *events.BotV2Message) error) {
	webhook.On(r, events.OnBotV2MessageAdd, fn)
}

// OnMessageUpdate registers fn for ONIMBOTV2MESSAGEUPDATE.
func OnMessageUpdate(r Router, fn func(ctx context.Context, ev *events.Event, d *events.BotV2Message) error) {
	webhook.On(r, events.OnBotV2MessageUpdate, fn)
}

// OnMessageDelete registers fn for ONIMBOTV2MESSAGEDELETE.
func OnMessageDelete(r Router, fn func(ctx context.Context, ev *events.Event, d *events.BotV2MessageDelete) error) {
	webhook.On(r, events.OnBotV2MessageDelete, fn)
}

// OnJoinChat registers fn for ONIMBOTV2JOINCHAT (greet the chat here).
func OnJoinChat(r Router, fn func(ctx context.Context, ev *events.Event, d *events.BotV2JoinChat) error) {
	webhook.On(r, events.OnBotV2JoinChat, fn)
}

// OnDelete registers fn for ONIMBOTV2DELETE, the bot's last event.
func OnDelete(r Router, fn func(ctx context.Context, ev *events.Event, d *events.BotV2Delete) error) {
	webhook.On(r, events.OnBotV2Delete, fn)
}

// OnContextGet registers fn for ONIMBOTV2CONTEXTGET.
func OnContextGet(r Router, fn func(ctx context.Context, ev *events.Event, d *events.BotV2ContextGet) error) {
	webhook.On(r, events.OnBotV2ContextGet, fn)
}

// OnCommand registers fn for ONIMBOTV2COMMANDADD, a slash command (answer
// with [CommandService.Answer]).
func OnCommand(r Router, fn func(ctx context.Context, ev *events.Event, d *events.BotV2CommandAdd) error) {
	webhook.On(r, events.OnBotV2CommandAdd, fn)
}

// OnReactionChange registers fn for ONIMBOTV2REACTIONCHANGE.
func OnReactionChange(r Router, fn func(ctx context.Context, ev *events.Event, d *events.BotV2ReactionChange) error) {
	webhook.On(r, events.OnBotV2ReactionChange, fn)
}

// OnUserMessage registers fn for ONIMV2MESSAGEADD (withUserEvents).
func OnUserMessage(r Router, fn func(ctx context.Context, ev *events.Event, d *events.IMV2Message) error) {
	webhook.On(r, events.OnIMV2MessageAdd, fn)
}

// Poller is the run loop of a fetch-mode bot (eventMode "fetch"): it pulls
// the bot's events with imbot.v2.Event.get and hands each, typed, to the
// handler registered for its name, in queue order.
//
// Delivery is at least once. An offset is saved to Store and sent to the
// portal (which then drops the events below it) only after the handlers of
// all events below it returned nil, or their event went to the dead
// letters. A handler that fails (or panics) stops the batch: its event and
// the ones after it come again after the waits of Retry, so make handlers
// idempotent. After Retry.MaxAttempts failed runs the event is stored in
// Queue's dead letters (with its last error) and the Poller goes on past
// it: one broken event does not hold the bot's queue. This is the failure
// story of webhook.WithQueue and events.Consumer: an operator lists the
// dead letters with Queue.DeadLetters, re-drives one with Queue.Redrive
// (Run then hands it to its handler again, with a fresh round of attempts)
// or drops it with Queue.Drop. A worker killed between handling and
// saving sees the same events again on restart; nothing is skipped.
//
// One bot, one consumer: only the application that registered the bot
// receives its events, and two Pollers on
// one bot would confirm each other's events. Run one per bot; a standby
// worker with a shared Store (bitrix/redisstore) takes over after the
// first one stopped.
//
// Requests go through the Client's bitrix.Client, with its rate limiter
// and retry policy. Between polls the Poller waits MorePause while the
// portal reports more events, Idle after a batch, and from Idle doubling
// up to MaxIdle while the queue stays empty; after an error it backs off
// from Idle doubling up to MaxBackoff (the [polling cycle] the docs
// recommend: 5–30 s when idle, at least 2 s when hasMore, up to 60 s after
// errors). Time goes through the runtime's timers, so tests run it under
// testing/synctest.
//
// [polling cycle]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/index.html#polling
type Poller struct {
	// Client calls the portal (required).
	Client *Client
	// BotID is the bot whose queue this is (required).
	BotID int
	// Store keeps the offset (default: a [MemoryOffsetStore]).
	Store OffsetStore
	// Limit is the batch size, 1–1000 (default 100).
	Limit int
	// WithUserEvents also fetches the ONIMV2* events of the authorizing
	// user.
	WithUserEvents bool
	// Idle, MaxIdle, MorePause and MaxBackoff tune the waits (defaults
	// 5 s, 30 s, 2 s and 60 s).
	Idle, MaxIdle, MorePause, MaxBackoff time.Duration
	// Retry bounds the runs of a failing event (zero fields: from
	// events.DefaultRetryPolicy, 5 runs after waits of 1, 2, 4 and 8 s);
	// Visibility is the lease of a re-driven dead letter, and its
	// handler's deadline.
	Retry events.RetryPolicy
	// Queue keeps the events that failed every attempt, as dead letters
	// (default: a webhook.MemoryQueue made at the first Once or Run, lost
	// with the process; a redisstore.Queue keeps them across restarts).
	// Set it to reach the dead letters. Give each bot a queue of its own:
	// Run runs every job it can claim from it.
	Queue webhook.Queue
	// StopGrace is how long a handler that is running when ctx ends may
	// go on (default 10 s): its context is cancelled only then, so a stop
	// lets the event in hand finish and be confirmed instead of leaving a
	// half-done answer to be repeated.
	StopGrace time.Duration
	// Logger receives failures (default: discard).
	Logger *slog.Logger
	// Observer is told about each handler run (HandlerStart, HandlerEnd;
	// Handling.Source is events.SourceFetch). The zero value observes nothing.
	Observer events.Observer

	mu      sync.RWMutex
	routes  map[string]webhook.HandlerFunc
	def     webhook.HandlerFunc
	running atomic.Bool

	handleMu sync.Mutex // one handler at a time: fetched events and re-driven dead letters
	failID   int64      // the event whose handler failed last
	failN    int        // its failed runs so far

	offset int64 // confirmed locally (saved); 0 before the first load
	loaded bool
	remote int64 // last offset sent to the portal
	wakeMu sync.Mutex
	wakeCh chan struct{}
}

// Handle registers fn for the event name (case-insensitive); it panics on
// an empty name, a nil fn or a second handler for a name. Events without a
// handler (and no default) are confirmed and dropped.
func (p *Poller) Handle(name string, fn webhook.HandlerFunc) {
	name = strings.ToUpper(strings.TrimSpace(name))
	if name == "" || fn == nil {
		panic("imbotv2: Poller.Handle needs a name and a handler")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.routes == nil {
		p.routes = map[string]webhook.HandlerFunc{}
	}
	if _, dup := p.routes[name]; dup {
		panic("imbotv2: duplicate handler for " + name)
	}
	p.routes[name] = fn
}

// HandleDefault registers fn for events without a handler of their own.
func (p *Poller) HandleDefault(fn webhook.HandlerFunc) {
	if fn == nil {
		panic("imbotv2: nil default handler")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.def != nil {
		panic("imbotv2: duplicate default handler")
	}
	p.def = fn
}

// Dispatch runs the handler for ev (recovering a panic into an error).
func (p *Poller) Dispatch(ctx context.Context, ev *events.Event) (err error) {
	p.mu.RLock()
	fn, ok := p.routes[ev.Name]
	if !ok {
		fn = p.def
	}
	p.mu.RUnlock()
	if fn == nil {
		return nil
	}
	ctx = withReplyClient(ctx, p.Client) // Reply answers with the Poller's Client
	ctx, hi := p.Observer.StartHandler(ctx, ev.Name, ev.Auth.Domain, events.SourceFetch, false)
	defer func() {
		if r := recover(); r != nil {
			err = &webhook.PanicError{Value: r, Stack: debug.Stack()}
		}
		_, panicked := err.(*webhook.PanicError)
		p.Observer.EndHandler(ctx, hi, err, panicked)
	}()
	return fn(ctx, ev)
}

// Wake makes a waiting Run poll now (for example after the bot sent a
// message and expects an answer soon). It never blocks.
func (p *Poller) Wake() {
	select {
	case p.wake() <- struct{}{}:
	default:
	}
}

func (p *Poller) wake() chan struct{} {
	p.wakeMu.Lock()
	defer p.wakeMu.Unlock()
	if p.wakeCh == nil {
		p.wakeCh = make(chan struct{}, 1)
	}
	return p.wakeCh
}

// Offset returns the offset saved last (0 before the first batch).
func (p *Poller) Offset() int64 { return atomic.LoadInt64(&p.offset) }

func (p *Poller) logger() *slog.Logger {
	if p.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Logger
}

func (p *Poller) store() OffsetStore {
	if p.Store == nil {
		p.Store = NewMemoryOffsetStore()
	}
	return p.Store
}

func (p *Poller) queue() webhook.Queue {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Queue == nil {
		p.Queue = webhook.NewMemoryQueue(0)
	}
	return p.Queue
}

func (p *Poller) key() string { return OffsetKey(p.Client.c.PortalKey(), p.BotID) }

// ErrHandler wraps the error of a failed handler (or of an event that
// would not decode) returned by [Poller.Once]; its event was not confirmed.
var ErrHandler = errors.New("imbotv2: event handler failed")

// Batch reports one [Poller.Once].
type Batch struct {
	// Handled is the number of events whose handlers returned nil.
	Handled int
	// Dead is the number of events moved to the dead letters.
	Dead int
	// HasMore is the portal's hasMore.
	HasMore bool
	// Offset is the offset saved after the batch.
	Offset int64
}

// Once fetches one batch (confirming the saved offset), hands its events
// to the handlers in order until one fails or ctx ends (the handler in
// hand may finish, see StopGrace), and saves the offset below the first
// failed or unhandled event (or past the batch). Once and Run must not be
// called concurrently. A handler failure returns an
// error wrapping [ErrHandler]; the events from the failed one on come
// again in the next batch. The run that uses up Retry.MaxAttempts (or an
// event that does not decode) moves the event to the dead letters
// instead, and the batch goes on. Once does not run re-driven dead
// letters; Run does.
func (p *Poller) Once(ctx context.Context) (Batch, error) {
	if p.Client == nil || p.BotID <= 0 {
		return Batch{}, errors.New("imbotv2: Poller needs Client and BotID")
	}
	p.queue()
	if !p.loaded {
		off, err := p.store().LoadOffset(ctx, p.key())
		if err != nil {
			return Batch{}, fmt.Errorf("imbotv2: loading the offset: %w", err)
		}
		atomic.StoreInt64(&p.offset, off)
		p.loaded = true
	}
	offset := p.Offset()
	limit := p.Limit
	if limit <= 0 {
		limit = 100
	}
	batch, err := p.Client.Events.Get(ctx, p.BotID, EventQuery{Offset: offset, Limit: limit, WithUserEvents: p.WithUserEvents})
	if err != nil {
		return Batch{Offset: offset}, err
	}
	p.remote = offset
	res := Batch{HasMore: batch.HasMore, Offset: offset}
	confirm := offset
	var failure error
	hctx, hcancel := p.handlerContext(ctx)
	defer hcancel()
	for i := range batch.Events {
		fe := &batch.Events[i]
		if fe.EventID < offset {
			continue // confirmed already; a portal should not send it
		}
		if ctx.Err() != nil {
			failure = ctx.Err()
			break
		}
		ev, err := fe.Event()
		final := err != nil // it will not decode next time either
		if err == nil {
			p.handleMu.Lock()
			err = p.Dispatch(hctx, ev)
			p.handleMu.Unlock()
		}
		if err != nil {
			if dead, derr := p.failed(ctx, fe, err, final); derr != nil {
				failure = derr
				break
			} else if !dead {
				failure = fmt.Errorf("%w: event %d (%s): %w", ErrHandler, fe.EventID, fe.Type, err)
				break
			}
			res.Dead++
		} else {
			res.Handled++
		}
		p.failID, p.failN = 0, 0
		confirm = fe.EventID + 1
	}
	if failure == nil && batch.NextOffset > confirm {
		confirm = batch.NextOffset
	}
	if confirm > offset {
		// Save even when ctx ended: the events below confirm were handled.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		err := p.store().SaveOffset(sctx, p.key(), confirm)
		cancel()
		if err != nil {
			return res, fmt.Errorf("imbotv2: saving offset %d: %w", confirm, err)
		}
		atomic.StoreInt64(&p.offset, confirm)
		res.Offset = confirm
	}
	return res, failure
}

// failed counts a failed run of fe's handler and reports whether fe went
// to the dead letters: after Retry.MaxAttempts runs, or at once when final.
// A run cut short by the end of ctx does not count. derr is the error of
// a dead letter the queue did not keep (fe then comes again).
func (p *Poller) failed(ctx context.Context, fe *FetchedEvent, err error, final bool) (dead bool, derr error) {
	if ctx.Err() != nil && !final {
		return false, nil
	}
	if p.failID != fe.EventID {
		p.failID, p.failN = fe.EventID, 0
	}
	p.failN++
	pol := p.Retry.WithDefaults()
	log := p.logger()
	if !final && p.failN < pol.MaxAttempts {
		wait := pol.Delay(p.failN)
		log.LogAttrs(ctx, slog.LevelWarn, "imbotv2: event handler failed",
			slog.Int64("event_id", fe.EventID), slog.String("type", fe.Type), slog.Int("attempt", p.failN), slog.String("error", err.Error()))
		p.queued(ctx, fe.Type, events.QueueRetried, p.failN, wait, err)
		return false, nil
	}
	body, jerr := json.Marshal(fe)
	if jerr != nil {
		return false, fmt.Errorf("imbotv2: event %d to the dead letters: %w", fe.EventID, jerr)
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	j, qerr := p.queue().PutDead(sctx, webhook.Job{Event: fe.Type, Body: string(body), JSON: true, Attempt: p.failN}, err.Error())
	cancel()
	if qerr != nil {
		return false, fmt.Errorf("imbotv2: event %d (%s) failed %d times and the queue did not keep it: %w", fe.EventID, fe.Type, p.failN, qerr)
	}
	log.LogAttrs(ctx, slog.LevelError, "imbotv2: an event went to the dead letters",
		slog.Int64("event_id", fe.EventID), slog.String("type", fe.Type), slog.String("job", j.ID),
		slog.Int("attempts", p.failN), slog.String("error", err.Error()))
	p.queued(ctx, fe.Type, events.QueueDead, p.failN, 0, err)
	return true, nil
}

// queued reports a retry or a dead letter to the observer.
func (p *Poller) queued(ctx context.Context, event, op string, attempt int, wait time.Duration, err error) {
	if p.Observer.Queue != nil {
		p.Observer.Queue(ctx, events.QueueEvent{Event: event, Op: op, Depth: -1, Wait: wait, Attempt: attempt, Err: err})
	}
}

// redrive runs the jobs Run claims from Queue (re-driven dead letters)
// until ctx ends, one at a time, under Retry like webhook.WithQueue.
func (p *Poller) redrive(ctx context.Context) {
	q, pol := p.queue(), p.Retry.WithDefaults()
	for ctx.Err() == nil {
		j, err := q.Claim(ctx, pol.Visibility)
		if err != nil {
			if ctx.Err() == nil {
				p.logger().LogAttrs(ctx, slog.LevelError, "imbotv2: claiming a re-driven event failed", slog.String("error", err.Error()))
				t := time.NewTimer(pol.Backoff) // a store that is down: do not spin
				select {
				case <-ctx.Done():
				case <-t.C:
				}
				t.Stop()
			}
			continue
		}
		p.runJob(ctx, q, pol, j)
	}
}

// runJob runs the handler of a claimed job and acknowledges, retries or
// buries it.
func (p *Poller) runJob(ctx context.Context, q webhook.Queue, pol events.RetryPolicy, j webhook.Job) {
	var fe FetchedEvent
	err := json.Unmarshal([]byte(j.Body), &fe)
	var ev *events.Event
	if err == nil {
		ev, err = fe.Event()
	}
	final := err != nil
	if err == nil {
		hctx, cancel := p.handlerContext(ctx)
		hctx, cancelT := context.WithTimeout(hctx, pol.Visibility)
		p.handleMu.Lock()
		err = p.Dispatch(hctx, ev)
		p.handleMu.Unlock()
		cancelT()
		cancel()
	}
	sctx := context.WithoutCancel(ctx)
	var qerr error
	switch {
	case err == nil:
		if qerr = q.Ack(sctx, j); qerr == nil {
			p.queued(ctx, j.Event, events.QueueAcked, j.Attempt, 0, nil)
		}
	case final || j.Attempt >= pol.MaxAttempts:
		if qerr = q.Dead(sctx, j, err.Error()); qerr == nil {
			p.logger().LogAttrs(ctx, slog.LevelError, "imbotv2: a re-driven event went to the dead letters",
				slog.String("job", j.ID), slog.String("type", j.Event), slog.Int("attempts", j.Attempt), slog.String("error", err.Error()))
			p.queued(ctx, j.Event, events.QueueDead, j.Attempt, 0, err)
		}
	default:
		wait := pol.Delay(j.Attempt)
		if qerr = q.Retry(sctx, j, time.Now().Add(wait), err.Error()); qerr == nil {
			p.queued(ctx, j.Event, events.QueueRetried, j.Attempt, wait, err)
		}
	}
	if qerr != nil {
		p.logger().LogAttrs(ctx, slog.LevelError, "imbotv2: updating a re-driven event failed", slog.String("job", j.ID), slog.String("error", qerr.Error()))
	}
}

// handlerContext is ctx for handlers, except that its end reaches them
// StopGrace later.
func (p *Poller) handlerContext(ctx context.Context) (context.Context, context.CancelFunc) {
	grace := orDefault(p.StopGrace, 10*time.Second)
	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(grace, cancel)
		context.AfterFunc(hctx, func() { t.Stop() })
	})
	return hctx, func() { stop(); cancel() }
}

// fatal reports errors that waiting does not fix.
func fatal(err error) bool {
	if errors.Is(err, ErrHandler) {
		return false
	}
	var ve *bitrix.ValidationError
	if errors.As(err, &ve) {
		return true
	}
	var ae *bitrix.APIError
	if errors.As(err, &ae) {
		// imbot.v2/events/event-get.md, "Possible Error Codes".
		switch ae.Code {
		case "BOT_NOT_FOUND", "BOT_OWNERSHIP_ERROR", "BOT_TOKEN_NOT_SPECIFIED", "BOT_ID_REQUIRED",
			"SCOPE_ERROR", "USER_NOT_SUBSCRIBED":
			return true
		}
	}
	return errors.Is(err, bitrix.ErrInvalidCredentials) || errors.Is(err, bitrix.ErrInsufficientScope) ||
		errors.Is(err, bitrix.ErrInvalidGrant) || errors.Is(err, bitrix.ErrPortalDeleted)
}

// Run polls until ctx ends (then it returns nil) or an error that waiting
// does not fix (an unknown or foreign bot, missing token or scope, wrong
// credentials), which it returns. A failed handler runs again after the
// waits of Retry (then its event goes to the dead letters); transport,
// 5xx and rate-limit errors are logged and retried after a backoff. Run
// also claims the jobs of Queue (dead letters re-driven by an operator)
// and runs them under Retry, one handler at a time with the fetched
// events. On the way out it lets the handler in hand finish (up to
// StopGrace), starts no new one, and sends the last saved offset to the
// portal, so that the next consumer does not see handled events again.
// Run must not be called concurrently on one Poller.
func (p *Poller) Run(ctx context.Context) error {
	if p.Client == nil || p.BotID <= 0 {
		return errors.New("imbotv2: Poller needs Client and BotID")
	}
	if !p.running.CompareAndSwap(false, true) {
		return errors.New("imbotv2: Poller.Run is already running")
	}
	defer p.running.Store(false)
	idle, maxIdle := orDefault(p.Idle, 5*time.Second), orDefault(p.MaxIdle, 30*time.Second)
	more, maxBackoff := orDefault(p.MorePause, 2*time.Second), orDefault(p.MaxBackoff, 60*time.Second)
	if maxIdle < idle {
		maxIdle = idle
	}
	idleWait, errWait := idle, idle
	wake := p.wake()
	p.queue()
	rctx, stopRedrive := context.WithCancel(ctx)
	var redriving sync.WaitGroup
	redriving.Go(func() { p.redrive(rctx) })
	defer func() { stopRedrive(); redriving.Wait() }()
	for {
		b, err := p.Once(ctx)
		if ctx.Err() != nil {
			p.flush(ctx)
			return nil
		}
		var wait time.Duration
		switch {
		case err != nil && fatal(err):
			return err
		case errors.Is(err, ErrHandler):
			wait = p.Retry.Delay(p.failN)
		case err != nil:
			p.logger().LogAttrs(ctx, slog.LevelWarn, "imbotv2: polling failed", slog.Int("bot_id", p.BotID), slog.String("error", err.Error()))
			wait = errWait
			errWait = min(errWait*2, maxBackoff)
		case b.HasMore:
			wait, idleWait, errWait = more, idle, idle
		case b.Handled > 0 || b.Dead > 0:
			wait, idleWait, errWait = idle, idle, idle
		default:
			wait = idleWait
			idleWait = min(idleWait*2, maxIdle)
			errWait = idle
		}
		t := time.NewTimer(wait)
		if errors.Is(err, ErrHandler) {
			wake = nil // a retry keeps its wait: Wake does not cut it short
		}
		select {
		case <-ctx.Done():
			t.Stop()
			p.flush(ctx)
			return nil
		case <-wake:
			t.Stop()
			idleWait = idle
		case <-t.C:
		}
		wake = p.wake()
	}
}

// flush sends the saved offset to the portal if it has not seen it, with
// limit 1: the one event that may come back is not confirmed.
func (p *Poller) flush(ctx context.Context) {
	off := p.Offset()
	if off <= p.remote {
		return
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := p.Client.Events.Get(fctx, p.BotID, EventQuery{Offset: off, Limit: 1, WithUserEvents: p.WithUserEvents}); err != nil {
		p.logger().LogAttrs(fctx, slog.LevelWarn, "imbotv2: confirming the last offset failed", slog.String("error", err.Error()))
		return
	}
	p.remote = off
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
