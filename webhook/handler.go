package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/events"
)

// HandlerFunc handles one verified event. A non-nil error answers the
// delivery with 500 (synchronous mode) and is reported to the error hook.
type HandlerFunc func(ctx context.Context, ev *events.Event) error

// Middleware wraps every HandlerFunc the Handler dispatches to.
type Middleware func(next HandlerFunc) HandlerFunc

// Errors of the Handler.
var (
	// ErrNoClient is returned by [PortalClient] and [Handler.Client] when
	// no OAuth tokens are known for the portal (no [WithApp], or the portal
	// never delivered ONAPPINSTALL).
	ErrNoClient = errors.New("webhook: no OAuth tokens stored for this portal")
	// ErrShuttingDown is returned for deliveries that arrive after Shutdown.
	ErrShuttingDown = errors.New("webhook: handler is shutting down")
)

// PanicError is the error [Handler.Dispatch] returns when a handler panics.
type PanicError struct {
	Value any    // the value passed to panic
	Stack []byte // the goroutine's stack at the panic
}

// Error describes the panic value (not the stack).
func (e *PanicError) Error() string { return fmt.Sprintf("webhook: handler panicked: %v", e.Value) }

// Option configures a Handler. Options validate their arguments; [New]
// returns the first error.
type Option func(*config) error

type config struct {
	tokens          []string
	registry        events.Registry
	app             *bitrix.App
	tokenStore      bitrix.TokenStore
	clientOpts      []bitrix.Option
	installVerifier func(ctx context.Context, ev *events.Event) error
	oauthServers    []string
	limits          events.Limits
	logger          *slog.Logger
	defaultLog      bool // no WithLogger: refusals go to slog.Default()
	dedupe          DedupeStore
	dedupeTTL       time.Duration
	workers, queue  int
	onError         func(ctx context.Context, ev *events.Event, err error)
	insecure        bool
	observer        events.Observer // WithObserver (observe.go)
	observed        bool
	durable         *durableConfig // WithQueue (durable.go)
}

// WithApplicationToken accepts events whose auth[application_token]
// equals one of tokens: the token of an outgoing webhook, of a
// webhook-registered bot (its CLIENT_ID), or of a single-portal app. Pass
// several during rotation. Can be combined with a registry. No token, or
// an empty one, is an error (an unset environment variable would otherwise
// give a receiver that refuses every delivery).
func WithApplicationToken(tokens ...string) Option {
	return func(c *config) error {
		if len(tokens) == 0 {
			return errors.New("webhook: WithApplicationToken: no token")
		}
		for i, t := range tokens {
			if strings.TrimSpace(t) == "" {
				return fmt.Errorf("webhook: WithApplicationToken: token %d is empty", i)
			}
		}
		c.tokens = append(c.tokens, tokens...)
		return nil
	}
}

// WithRegistry sets the per-portal application-token registry (default: an
// in-memory one when [WithApp] is used).
func WithRegistry(r events.Registry) Option {
	return func(c *config) error { c.registry = r; return nil }
}

// WithApp turns on the application lifecycle for app: ONAPPINSTALL and
// ONAPPUPDATE are proven with [events.VerifyInstall] (the event's refresh
// token is refreshed with app's client id and secret at the authorization
// server, and the answer must name the event's portal: one token request
// per install), then the new token pair goes to the token store and the
// event's application token to the registry, replacing (and logging the
// replacement of) a different one only after that proof; ONAPPUNINSTALL,
// once verified, removes the portal. Handlers of later events get a client
// for their portal from [PortalClient]; when app.TokenURL is "", it
// refreshes at the token endpoint of the allow-listed server
// ([WithOAuthServers]) that issued the portal's pair. An empty
// app.ClientID or app.ClientSecret is an error: the install proof needs
// both.
func WithApp(app bitrix.App) Option {
	return func(c *config) error {
		if strings.TrimSpace(app.ClientID) == "" {
			return errors.New("webhook: WithApp: empty ClientID")
		}
		if strings.TrimSpace(app.ClientSecret.Reveal()) == "" {
			return errors.New("webhook: WithApp: empty ClientSecret")
		}
		c.app = &app
		return nil
	}
}

// WithTokenStore sets where portal OAuth tokens are kept (default: a
// bitrix.MemoryTokenStore). A store that is also a [bitrix.TokenDeleter]
// forgets the portal's tokens on ONAPPUNINSTALL.
func WithTokenStore(s bitrix.TokenStore) Option {
	return func(c *config) error { c.tokenStore = s; return nil }
}

// WithClientOptions sets the options of the per-portal clients (and of the
// install check), e.g. bitrix.WithLogger or, for loopback tests,
// bitrix.WithAllowHTTP.
func WithClientOptions(opts ...bitrix.Option) Option {
	return func(c *config) error { c.clientOpts = append(c.clientOpts, opts...); return nil }
}

// DefaultOAuthServers are the REST roots of Bitrix24's authorization
// servers (west and east regions), where install events are proven. The
// token endpoint of each is its REST root minus "rest/" plus
// "oauth/token/", as for https://oauth.bitrix.info/oauth/token/
// ([token renewal]).
//
// [token renewal]: https://apidocs.bitrix24.com/settings/oauth/auto-renewal.html
var DefaultOAuthServers = []string{"https://oauth.bitrix.info/rest/", "https://oauth.bitrix24.tech/rest/"}

// WithOAuthServers sets the authorization servers (REST roots, ending in
// "rest/") an install event may be proven at (default
// [DefaultOAuthServers]). The event's auth[server_endpoint] picks one of
// them (the first when it names none); an event naming any other server
// is refused, so a forged install cannot send the proof to a server of its
// own choosing. Tests against bitrixtest pass the fake's ServerEndpoint.
func WithOAuthServers(restURLs ...string) Option {
	return func(c *config) error { c.oauthServers = append(c.oauthServers, restURLs...); return nil }
}

// WithInstallVerifier adds a check of ONAPPINSTALL and ONAPPUPDATE, for
// example to require the portal to be a customer. It runs before the proof
// of [WithApp] and cannot replace it; return nil to go on to the proof.
func WithInstallVerifier(fn func(ctx context.Context, ev *events.Event) error) Option {
	return func(c *config) error { c.installVerifier = fn; return nil }
}

// WithLimits sets the body and decoder limits (default events.DefaultLimits).
func WithLimits(l events.Limits) Option { return func(c *config) error { c.limits = l; return nil } }

// WithMaxBodySize sets the body limit; larger deliveries get 413.
func WithMaxBodySize(n int64) Option {
	return func(c *config) error { c.limits.MaxBodySize = n; return nil }
}

// WithLogger sets the logger (default: refused deliveries go to
// slog.Default() at Warn, everything else is discarded). Refusals are
// logged at most once a second, with the number left out since (every one
// reaches [WithObserver]'s Delivery hook). Tokens are never logged.
func WithLogger(l *slog.Logger) Option { return func(c *config) error { c.logger = l; return nil } }

// WithDedupe makes handlers idempotent: an event whose
// [events.Event.DedupeKey] was accepted within ttl is answered 200 without
// running a handler again. A nil store means a [MemoryDedupe]; ttl 0 means
// 24 hours. A key is released when its handler fails, and with
// [WithQueue] when its delivery goes to the dead letters (its retries run
// without a dedupe check): an event that was not handled is never answered
// "duplicate", so delivery stays at least once. A re-driven dead letter
// runs without a check too.
//
// Use it for handlers with effects that must not repeat (a notification, a
// message). Bitrix24 events carry no id, so two real changes of one entity
// within the same second have the same key and the second is skipped:
// handlers that bring something in step with the portal's current state
// should be idempotent instead and run without dedupe.
func WithDedupe(store DedupeStore, ttl time.Duration) Option {
	return func(c *config) error {
		if store == nil {
			store = NewMemoryDedupe(nil)
		}
		if ttl <= 0 {
			ttl = 24 * time.Hour
		}
		c.dedupe, c.dedupeTTL = store, ttl
		return nil
	}
}

// WithAsync answers deliveries as soon as they are verified and queued,
// and runs handlers on a pool of workers. When all queue slots are taken,
// a delivery waits for one (backpressure: Bitrix24 never resends, so
// nothing is dropped); it gets 503 only if its request ends or
// [Handler.Shutdown] starts first. Shutdown drains what was accepted.
// workers must be at least 1 and queue at least 0 (0: a delivery waits
// until a worker takes it).
func WithAsync(workers, queue int) Option {
	return func(c *config) error {
		if workers < 1 || queue < 0 {
			return fmt.Errorf("webhook: WithAsync: %d workers, queue %d: need at least 1 worker and a queue of 0 or more", workers, queue)
		}
		c.workers, c.queue = workers, queue
		return nil
	}
}

// WithErrorHandler is called with every handler error and recovered panic
// (after logging), e.g. to count them. In async mode it is the only place
// handler errors surface.
func WithErrorHandler(fn func(ctx context.Context, ev *events.Event, err error)) Option {
	return func(c *config) error { c.onError = fn; return nil }
}

// WithInsecureSkipVerify accepts events without checking their application
// token. Only for local experiments: anyone can then call your handlers.
func WithInsecureSkipVerify() Option {
	return func(c *config) error { c.insecure = true; return nil }
}

// Handler is an http.Handler that receives Bitrix24 events: it checks the
// method and body size, parses and verifies the event, and routes it to the
// handler registered for its name. Register handlers before serving.
type Handler struct {
	cfg      config
	verifier *events.Verifier

	mu     sync.RWMutex
	routes map[string]HandlerFunc
	def    HandlerFunc
	mws    []Middleware

	clientsMu sync.Mutex
	clients   map[string]*bitrix.Client

	queue      chan job
	sendMu     sync.RWMutex
	closed     bool
	workers    sync.WaitGroup
	baseCtx    context.Context
	cancelBase context.CancelFunc
	durable    *durable // WithQueue (durable.go)
	refusals   refusalLog
}

type job struct {
	ev  *events.Event
	key string
	at  time.Time // when it asked for a queue slot
}

// New returns a Handler. It fails on an invalid option and when no way to
// verify events is configured (no application token, registry or app, and
// not [WithInsecureSkipVerify]).
func New(opts ...Option) (*Handler, error) {
	var c config
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&c); err != nil {
			return nil, err
		}
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
		c.defaultLog = true
	}
	if len(c.oauthServers) == 0 {
		c.oauthServers = slices.Clone(DefaultOAuthServers)
	}
	for i, u := range c.oauthServers {
		c.oauthServers[i] = normalizeServer(u)
	}
	if c.app != nil {
		if c.registry == nil {
			c.registry = events.NewMemoryRegistry()
		}
		if c.tokenStore == nil {
			c.tokenStore = bitrix.NewMemoryTokenStore(nil)
		}
	}
	if len(c.tokens) == 0 && c.registry == nil && !c.insecure {
		return nil, errors.New("webhook: New needs WithApplicationToken, WithRegistry or WithApp (or WithInsecureSkipVerify)")
	}
	h := &Handler{
		cfg:      c,
		verifier: events.NewVerifier(c.registry, c.tokens...),
		routes:   map[string]HandlerFunc{},
		clients:  map[string]*bitrix.Client{},
	}
	h.baseCtx, h.cancelBase = context.WithCancel(context.Background())
	if c.durable != nil {
		h.cfg.workers = 0 // WithQueue replaces WithAsync
		h.startDurable()
	} else if c.workers > 0 {
		h.queue = make(chan job, c.queue)
		for range c.workers {
			h.workers.Add(1)
			go h.work()
		}
	}
	return h, nil
}

// Handle registers fn for the event name (case-insensitive). It panics if
// fn is nil or the name already has a handler. Dynamic-item events are
// routed by entity type, whichever of their names was delivered (see
// [Handler.OnDynamicItemUpdate]).
func (h *Handler) Handle(name string, fn HandlerFunc) {
	name = strings.ToUpper(strings.TrimSpace(name))
	if name == "" {
		panic("webhook: Handle with an empty event name")
	}
	if fn == nil {
		panic("webhook: nil handler for " + name)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, dup := h.routes[name]; dup {
		panic("webhook: duplicate handler for " + name)
	}
	h.routes[name] = fn
}

// HandleDefault registers fn for events without a handler of their own
// (by default they are acknowledged and ignored). It panics if fn is nil
// or a default is already set.
func (h *Handler) HandleDefault(fn HandlerFunc) {
	if fn == nil {
		panic("webhook: nil default handler")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.def != nil {
		panic("webhook: duplicate default handler")
	}
	h.def = fn
}

// Use appends middleware; the first one added runs outermost. It panics on
// nil.
func (h *Handler) Use(mw ...Middleware) {
	for _, m := range mw {
		if m == nil {
			panic("webhook: nil middleware")
		}
	}
	h.mu.Lock()
	h.mws = append(h.mws, mw...)
	h.mu.Unlock()
}

type ctxKey struct{}

type dispatchInfo struct {
	h  *Handler
	ev *events.Event
}

// Format prints the handler without its tokens.
func (h *Handler) Format(f fmt.State, _ rune) {
	client := ""
	if h.cfg.app != nil {
		client = h.cfg.app.ClientID
	}
	h.mu.RLock()
	n := len(h.routes)
	h.mu.RUnlock()
	fmt.Fprintf(f, "webhook.Handler{app: %q, tokens: %d, registry: %v, routes: %d}", client, len(h.cfg.tokens), h.cfg.registry != nil, n)
}

// PortalClient returns a client for the portal of the event being handled,
// authenticated with the OAuth tokens stored from its ONAPPINSTALL (see
// [WithApp]). It returns [ErrNoClient] when there are none, and an error
// outside a handler.
func PortalClient(ctx context.Context) (*bitrix.Client, error) {
	d, ok := ctx.Value(ctxKey{}).(*dispatchInfo)
	if !ok {
		return nil, errors.New("webhook: PortalClient called outside an event handler")
	}
	return d.h.Client(ctx, d.ev.MemberID())
}

// Client returns the (cached) client for the installed portal with
// memberID, built from the token store. See [PortalClient].
func (h *Handler) Client(ctx context.Context, memberID string) (*bitrix.Client, error) {
	if h.cfg.app == nil || memberID == "" {
		return nil, ErrNoClient
	}
	h.clientsMu.Lock()
	defer h.clientsMu.Unlock()
	if c, ok := h.clients[memberID]; ok {
		return c, nil
	}
	// Only installed portals get a client: the token store may keep the
	// pair of an uninstalled portal (TokenStore has no delete).
	if _, err := h.cfg.registry.Lookup(ctx, memberID); errors.Is(err, events.ErrUnknownPortal) {
		return nil, ErrNoClient
	} else if err != nil {
		return nil, fmt.Errorf("webhook: looking up the portal: %w", err)
	}
	tok, err := h.cfg.tokenStore.LoadToken(ctx, memberID)
	if errors.Is(err, bitrix.ErrTokenNotFound) {
		return nil, ErrNoClient
	}
	if err != nil {
		return nil, fmt.Errorf("webhook: loading the portal's token: %w", err)
	}
	// Refresh at the allow-listed server that issued the pair (the proof
	// stored its answer's server_endpoint).
	c, err := bitrix.New(bitrix.OAuth(tok, h.appFor(tok.ServerEndpoint), h.cfg.tokenStore), h.cfg.clientOpts...)
	if err != nil {
		return nil, fmt.Errorf("webhook: building the portal client: %w", err)
	}
	h.clients[memberID] = c
	return c, nil
}

func (h *Handler) forgetClient(memberID string) {
	h.clientsMu.Lock()
	delete(h.clients, memberID)
	h.clientsMu.Unlock()
}

// Dispatch runs the handler registered for ev.Name (or the default) with
// the middleware, as ServeHTTP does after verification. It recovers panics
// into a *[PanicError]. Use it to test handlers without HTTP; it does not
// verify ev.
func (h *Handler) Dispatch(ctx context.Context, ev *events.Event) (err error) {
	h.mu.RLock()
	fn, ok := h.route(ev)
	if !ok {
		fn = h.def
	}
	mws := h.mws
	h.mu.RUnlock()
	if fn == nil {
		return nil
	}
	for i := len(mws) - 1; i >= 0; i-- {
		fn = mws[i](fn)
	}
	defer func() {
		if p := recover(); p != nil {
			err = &PanicError{Value: p, Stack: debug.Stack()}
		}
	}()
	return fn(context.WithValue(ctx, ctxKey{}, &dispatchInfo{h: h, ev: ev}), ev)
}

// ServeHTTP receives one delivery:
//   - 405 for methods other than POST; 413 above the body limit; 400 for a
//     body that is not an event;
//   - 401 when the application token is missing or wrong (or an install
//     cannot be verified): the handler is not called, and the token is
//     checked before the event's data is decoded, so a refused delivery
//     costs little. The body names the reason without quoting anything
//     secret, {"error":"invalid_token","reason":"token_mismatch",
//     "error_description":"…"}, the reason being one of the
//     events.Refused* codes; the refusal is logged at Warn (see
//     [WithLogger]);
//   - 200 {"result":"ok"} after the handler succeeded, {"result":
//     "duplicate"} for a repeat (WithDedupe), {"result":"accepted"} once
//     queued (WithAsync, WithQueue); 500 when the handler failed or
//     panicked (synchronous mode); 503 while shutting down, and when the
//     queue of WithQueue cannot keep the delivery.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	received := time.Now()
	if r.Method != http.MethodPost {
		h.delivered(r.Context(), nil, events.DeliveryMalformed, nil, received)
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "events are delivered with POST")
		return
	}
	lim := h.cfg.limits
	if lim.MaxBodySize <= 0 {
		lim.MaxBodySize = events.DefaultMaxBodySize
	}
	if r.ContentLength < 0 || r.ContentLength > lim.MaxBodySize {
		// A body of unknown or too large a length: cut at the limit, and
		// net/http closes the connection rather than read on. A body of a
		// Content-Length within the limit ends there (net/http reads no
		// further), and ReadAny enforces the limit on any body.
		r.Body = http.MaxBytesReader(w, r.Body, lim.MaxBodySize)
	}
	raw, err := lim.ReadAny(r) // form, or JSON (Chatbots 2.0 webhook mode, events.ParseAny)
	if err != nil {
		if errors.Is(err, events.ErrBodyTooLarge) {
			h.delivered(r.Context(), nil, events.DeliveryTooLarge, nil, received)
			writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", "event body too large")
			return
		}
		h.cfg.logger.LogAttrs(r.Context(), slog.LevelWarn, "webhook: malformed event", slog.String("error", err.Error()))
		h.delivered(r.Context(), nil, events.DeliveryMalformed, nil, received)
		writeError(w, http.StatusBadRequest, "malformed_event", "body is not a Bitrix24 event")
		return
	}
	ctx := r.Context()
	ev, err, malformed := h.verifyThenDecode(ctx, raw, lim) // intake.go
	// ev is nil when the delivery went no further than its envelope;
	// envelope makes the event of the envelope only for a log line or the
	// observer, so that a refusal costs little.
	envelope := func() *events.Event {
		if ev == nil {
			ev = &events.Event{Name: raw.Name, Auth: raw.Auth()}
		}
		return ev
	}
	observed := h.obs() != nil
	if malformed != nil {
		h.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "webhook: malformed event", slog.String("error", malformed.Error()))
		if observed {
			h.delivered(ctx, envelope(), events.DeliveryMalformed, nil, received)
		}
		writeError(w, http.StatusBadRequest, "malformed_event", "body is not a Bitrix24 event")
		return
	}
	if err != nil {
		if reason := refusalReason(err); reason != "" {
			h.refused(ctx, envelope, reason, err, received) // refusal.go
			if observed {
				h.delivered(ctx, envelope(), events.DeliveryRefused, err, received)
			}
			writeRefusal(w, reason)
		} else {
			h.cfg.logger.LogAttrs(ctx, slog.LevelError, "webhook: could not verify an event", slog.Any("event", envelope()), slog.String("error", err.Error()))
			h.delivered(ctx, envelope(), events.DeliveryFailed, err, received)
			writeError(w, http.StatusInternalServerError, "internal_error", "could not verify the event")
		}
		return
	}
	var key string
	if h.cfg.dedupe != nil {
		key = ev.DedupeKey()
		fresh, err := h.cfg.dedupe.Claim(ctx, key, h.cfg.dedupeTTL)
		if err != nil {
			h.cfg.logger.LogAttrs(ctx, slog.LevelError, "webhook: dedupe store failed", slog.String("error", err.Error()))
			h.delivered(ctx, ev, events.DeliveryFailed, err, received)
			writeError(w, http.StatusInternalServerError, "internal_error", "dedupe store failed")
			return
		}
		if !fresh {
			h.delivered(ctx, ev, events.DeliveryDuplicate, nil, received)
			writeResult(w, "duplicate")
			return
		}
	}
	if h.durable != nil {
		if err := h.accept(ctx, raw, ev); err != nil { // durable.go
			h.release(key)
			h.delivered(ctx, ev, events.DeliveryUnavailable, err, received)
			writeError(w, http.StatusServiceUnavailable, "unavailable", "the event could not be queued")
			return
		}
		writeResult(w, "accepted")
		return
	}
	if h.queue != nil {
		if err := h.enqueue(ctx, job{ev: ev, key: key}); err != nil {
			h.release(key)
			h.delivered(ctx, ev, events.DeliveryUnavailable, err, received)
			writeError(w, http.StatusServiceUnavailable, "unavailable", "handler is not accepting events")
			return
		}
		writeResult(w, "accepted")
		return
	}
	if err := h.run(ctx, ev, key); err != nil {
		writeError(w, http.StatusInternalServerError, "handler_failed", "the event handler failed")
		return
	}
	writeResult(w, "ok")
}

// run dispatches, logs failures and releases the dedupe key on failure.
func (h *Handler) run(ctx context.Context, ev *events.Event, key string) error {
	hctx, hi := h.obs().StartHandler(ctx, ev.Name, ev.Auth.Domain, events.SourceWebhook, h.queue != nil || h.durable != nil)
	err := h.Dispatch(hctx, ev)
	_, panicked := err.(*PanicError) // Dispatch returns it unwrapped
	h.obs().EndHandler(hctx, hi, err, panicked)
	if err == nil {
		return nil
	}
	var pe *PanicError
	if errors.As(err, &pe) {
		h.cfg.logger.LogAttrs(ctx, slog.LevelError, "webhook: handler panicked", slog.Any("event", ev),
			slog.String("panic", fmt.Sprint(pe.Value)), slog.String("stack", string(pe.Stack)))
	} else {
		h.cfg.logger.LogAttrs(ctx, slog.LevelError, "webhook: handler failed", slog.Any("event", ev), slog.String("error", err.Error()))
	}
	h.release(key)
	if h.cfg.onError != nil {
		h.cfg.onError(ctx, ev, err)
	}
	return err
}

func (h *Handler) release(key string) {
	if key == "" || h.cfg.dedupe == nil {
		return
	}
	if err := h.cfg.dedupe.Release(context.WithoutCancel(h.baseCtx), key); err != nil {
		h.cfg.logger.Error("webhook: dedupe release failed", "error", err.Error())
	}
}

// authenticate verifies ev (unless its token was verified already) and
// runs the lifecycle side effects of app events.
func (h *Handler) authenticate(ctx context.Context, ev *events.Event, verified bool) error {
	if h.cfg.insecure {
		return nil
	}
	switch {
	case h.cfg.app != nil && (ev.Name == events.OnAppInstall || ev.Name == events.OnAppUpdate):
		return h.install(ctx, ev)
	case ev.Name == events.OnAppUninstall:
		if !verified {
			if err := h.verifier.Verify(ctx, ev); err != nil {
				return err
			}
		}
		return h.uninstall(ctx, ev)
	}
	if verified {
		return nil
	}
	return h.verifier.Verify(ctx, ev)
}

func (h *Handler) install(ctx context.Context, ev *events.Event) error {
	member := ev.MemberID()
	if ev.Auth.ApplicationToken == "" {
		return fmt.Errorf("%w: %w", events.ErrInstallUnverified, events.ErrMissingToken)
	}
	if member == "" {
		return fmt.Errorf("%w: no auth[member_id]", events.ErrInstallUnverified)
	}
	// The caller's own check first: it is local, and the proof spends the
	// event's refresh token.
	if verify := h.cfg.installVerifier; verify != nil {
		if err := verify(ctx, ev); err != nil {
			if refusalReason(err) == "" {
				err = fmt.Errorf("%w: %w: %w", events.ErrInstallUnverified, errInstallRejected, err)
			}
			return err
		}
	}
	tok, err := h.proveInstall(ctx, ev)
	if err != nil {
		return err
	}
	switch old, err := h.cfg.registry.Lookup(ctx, member); {
	case errors.Is(err, events.ErrUnknownPortal):
	case err != nil:
		return fmt.Errorf("webhook: looking up the portal: %w", err)
	case old != ev.Auth.ApplicationToken:
		// Allowed: the event is proven to come from our app on this portal
		// (a reinstall, or ONAPPUPDATE rotating the token). Never silent.
		h.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "webhook: a proven install replaces the portal's application token",
			slog.String("event", ev.Name), slog.String("member_id", member), slog.String("domain", tok.Domain))
	}
	if err := h.cfg.tokenStore.SaveToken(ctx, member, tok); err != nil {
		return fmt.Errorf("webhook: saving the portal's tokens: %w", err)
	}
	if err := h.cfg.registry.Store(ctx, member, ev.Auth.ApplicationToken); err != nil {
		return fmt.Errorf("webhook: storing the application token: %w", err)
	}
	h.forgetClient(member)
	h.cfg.logger.LogAttrs(ctx, slog.LevelInfo, "webhook: app installed", slog.Any("event", ev))
	return nil
}

// normalizeServer lower-cases scheme and host and ends the path with "/".
func normalizeServer(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return raw
	}
	u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u.String()
}

// oauthServer returns the configured authorization server the event names
// (the first one when it names none).
func (h *Handler) oauthServer(named string) (string, error) {
	if named == "" {
		return h.cfg.oauthServers[0], nil
	}
	n := normalizeServer(named)
	for _, s := range h.cfg.oauthServers {
		if s == n {
			return s, nil
		}
	}
	return "", fmt.Errorf("%w %.80q (see WithOAuthServers)", errUnknownOAuthServer, named)
}

// proveInstall runs [events.VerifyInstall] at the allow-listed OAuth
// server the event names, with our app's credentials, and returns the new
// token pair.
func (h *Handler) proveInstall(ctx context.Context, ev *events.Event) (bitrix.Token, error) {
	server, err := h.oauthServer(ev.Auth.ServerEndpoint)
	if err != nil {
		return bitrix.Token{}, fmt.Errorf("%w: %w", events.ErrInstallUnverified, err)
	}
	app := *h.cfg.app
	app.TokenURL = tokenURLOf(server)
	return events.VerifyInstall(ctx, ev, func(ctx context.Context, rt bitrix.Secret) (bitrix.Token, error) {
		return bitrix.RefreshToken(ctx, app, rt, h.cfg.clientOpts...)
	})
}

// tokenURLOf returns the token endpoint of the OAuth server with REST root
// server, as Bitrix24's clients derive it: https://oauth.bitrix.info/rest/
// → https://oauth.bitrix.info/oauth/token/ (settings/oauth/auto-renewal.md).
func tokenURLOf(server string) string { return strings.TrimSuffix(server, "rest/") + "oauth/token/" }

func (h *Handler) uninstall(ctx context.Context, ev *events.Event) error {
	member := ev.MemberID()
	if h.cfg.registry != nil && member != "" {
		if err := h.cfg.registry.Delete(ctx, member); err != nil {
			return fmt.Errorf("webhook: removing the portal: %w", err)
		}
	}
	if d, ok := h.cfg.tokenStore.(bitrix.TokenDeleter); ok && member != "" {
		if err := d.DeleteToken(ctx, member); err != nil {
			return fmt.Errorf("webhook: removing the portal's tokens: %w", err)
		}
	}
	h.forgetClient(member)
	return nil
}

func (h *Handler) enqueue(ctx context.Context, j job) error {
	h.sendMu.RLock()
	defer h.sendMu.RUnlock()
	if h.closed {
		return ErrShuttingDown
	}
	j.at = time.Now()
	select {
	case h.queue <- j:
		h.queued(ctx, j, events.QueueEnqueued, time.Since(j.at))
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Handler) work() {
	defer h.workers.Done()
	for j := range h.queue {
		h.queued(h.baseCtx, j, events.QueueDequeued, time.Since(j.at))
		_ = h.run(h.baseCtx, j.ev, j.key)
	}
}

// Shutdown stops accepting deliveries (they get 503) and waits until the
// events already accepted have been handled, or ctx ends; then it cancels
// the context of handlers still running and returns ctx.Err(). Call it
// after http.Server.Shutdown. Without WithAsync it returns at once.
func (h *Handler) Shutdown(ctx context.Context) error {
	h.sendMu.Lock()
	if !h.closed {
		h.closed = true
		if h.queue != nil {
			close(h.queue)
		}
	}
	h.sendMu.Unlock()
	if err := h.stopDurable(ctx); err != nil { // durable.go
		h.cancelBase()
		return err
	}
	done := make(chan struct{})
	go func() { h.workers.Wait(); close(done) }()
	select {
	case <-done:
		h.cancelBase()
		return nil
	case <-ctx.Done():
		h.cancelBase()
		return ctx.Err()
	}
}

var results = map[string][]byte{
	"ok":        []byte(`{"result":"ok"}` + "\n"),
	"duplicate": []byte(`{"result":"duplicate"}` + "\n"),
	"accepted":  []byte(`{"result":"accepted"}` + "\n"),
}

func writeResult(w http.ResponseWriter, result string) {
	setJSONHeaders(w.Header())
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(results[result])
}

func writeError(w http.ResponseWriter, status int, code, desc string) {
	setJSONHeaders(w.Header())
	w.WriteHeader(status)
	_, _ = w.Write(errorBody(code, desc))
}

// setJSONHeaders sets the headers of every answer: one allocation for
// both values, each a slice of its own (capacity 1, so that an append
// copies), not shared with other answers.
func setJSONHeaders(hd http.Header) {
	v := &[2]string{"application/json", "nosniff"}
	hd["Content-Type"] = v[0:1:1]
	hd["X-Content-Type-Options"] = v[1:2:2]
}

// errorBodies caches the JSON of the (few, constant) error answers: a
// refused delivery should cost little (intake.go).
var errorBodies sync.Map // code + "\x00" + desc → []byte

func errorBody(code, desc string) []byte {
	k := code + "\x00" + desc
	if b, ok := errorBodies.Load(k); ok {
		return b.([]byte)
	}
	b, _ := json.Marshal(map[string]string{"error": code, "error_description": desc})
	b = append(b, '\n')
	errorBodies.Store(k, b)
	return b
}
