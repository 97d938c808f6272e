package imbotv2

import (
	"context"
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
// all events below it returned nil. A handler that fails (or panics) stops
// the batch: its event and the ones after it come again after a backoff,
// so make handlers idempotent, and a handler that can never succeed holds
// the queue until it does (log and return nil to drop an event). A worker
// killed between handling and saving sees the same events again on
// restart; nothing is skipped.
//
// One bot, one consumer: only the application that registered the bot
// receives its events (imbot.v2/events/event-get.md), and two Pollers on
// one bot would confirm each other's events. Run one per bot; a standby
// worker with a shared Store (bitrix/redisstore) takes over after the
// first one stopped.
//
// Requests go through the Client's bitrix.Client, with its rate limiter
// and retry policy. Between polls the Poller waits MorePause while the
// portal reports more events, Idle after a batch, and from Idle doubling
// up to MaxIdle while the queue stays empty; after an error it backs off
// from Idle doubling up to MaxBackoff (index.md#polling: 5–30 s when idle,
// at least 2 s when hasMore, up to 60 s after errors). Time goes through
// the runtime's timers, so tests run it under testing/synctest.
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
	// user (event-get.md#combined-fetch).
	WithUserEvents bool
	// Idle, MaxIdle, MorePause and MaxBackoff tune the waits (defaults
	// 5 s, 30 s, 2 s and 60 s).
	Idle, MaxIdle, MorePause, MaxBackoff time.Duration
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

func (p *Poller) key() string { return OffsetKey(p.Client.c.PortalKey(), p.BotID) }

// ErrHandler wraps the error of a failed handler (or of an event that
// would not decode) returned by [Poller.Once]; its event was not confirmed.
var ErrHandler = errors.New("imbotv2: event handler failed")

// Batch reports one [Poller.Once].
type Batch struct {
	// Handled is the number of events whose handlers returned nil.
	Handled int
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
// again in the next batch.
func (p *Poller) Once(ctx context.Context) (Batch, error) {
	if p.Client == nil || p.BotID <= 0 {
		return Batch{}, errors.New("imbotv2: Poller needs Client and BotID")
	}
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
		if err == nil {
			err = p.Dispatch(hctx, ev)
		}
		if err != nil {
			p.logger().LogAttrs(ctx, slog.LevelError, "imbotv2: event handler failed",
				slog.Int64("event_id", fe.EventID), slog.String("type", fe.Type), slog.String("error", err.Error()))
			failure = fmt.Errorf("%w: event %d (%s): %w", ErrHandler, fe.EventID, fe.Type, err)
			break
		}
		res.Handled++
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
	var ve *ValidationError
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
// credentials), which it returns. Handler failures and transport, 5xx and
// rate-limit errors are logged and retried after a backoff. On the way
// out it lets the handler in hand finish (up to StopGrace), starts no new
// one, and sends the last saved offset to the portal, so that the next
// consumer does not see handled events again. Run must not be called
// concurrently on one Poller.
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
		case err != nil:
			if !errors.Is(err, ErrHandler) {
				p.logger().LogAttrs(ctx, slog.LevelWarn, "imbotv2: polling failed", slog.Int("bot_id", p.BotID), slog.String("error", err.Error()))
			}
			wait = errWait
			errWait = min(errWait*2, maxBackoff)
		case b.HasMore:
			wait, idleWait, errWait = more, idle, idle
		case b.Handled > 0:
			wait, idleWait, errWait = idle, idle, idle
		default:
			wait = idleWait
			idleWait = min(idleWait*2, maxIdle)
			errWait = idle
		}
		t := time.NewTimer(wait)
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
