package bitrix

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/b24go/sdk/internal/phpform"
	"github.com/b24go/sdk/internal/transport"
)

// Client calls the REST API of one Bitrix24 portal. It is safe for
// concurrent use. Build it with [New].
type Client struct {
	cfg      config
	http     *transport.Client
	key      string
	webhook  *webhookAuth
	oauth    *oauthState
	log      *slog.Logger
	limiter  Limiter
	gate     OperatingGate
	retry    RetryPolicy
	progress func(Progress)
	red      redactor
	dumpSeq  atomic.Int64
	resetAt  sync.Map // lower-case method → last operating_reset_at
	// coal gathers calls into batches (WithCoalescing, coalesce.go); nil when off.
	coal *coalescer
	// serial and coolUntil: one request in flight after QUERY_LIMIT_EXCEEDED (limiter.go).
	serial    chan struct{}
	coolUntil atomic.Int64
	// op paces methods within their operating-time budget (gate.go); nil when off.
	op *opPacer
	// obs is the WithObserver hook (observe.go); nil when unset.
	obs    *Observer
	domain string // the portal host, for the observer
}

// New returns a client for auth. It does no network I/O; it validates auth
// and the options and fails with an error that says what is wrong.
func New(auth Auth, opts ...Option) (*Client, error) {
	cfg := config{retry: DefaultRetryPolicy(), timeout: DefaultTimeout, userAgent: DefaultUserAgent,
		parallelism: DefaultParallelism, cooldown: DefaultCooldown, opBudget: DefaultOperatingBudget}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	c := &Client{cfg: cfg, retry: cfg.retry.withDefaults(), progress: cfg.progress, serial: make(chan struct{}, 1)}
	switch a := auth.(type) {
	case *webhookAuth:
		w := &webhookAuth{raw: a.raw}
		if err := w.parse(cfg.allowHTTP); err != nil {
			return nil, err
		}
		c.webhook = w
		c.key, c.domain = w.host, w.host
	case *oauthAuth:
		st, err := newOAuthState(a, cfg.allowHTTP)
		if err != nil {
			return nil, err
		}
		c.oauth = st
		c.key, c.domain = st.key, st.tok.Domain
	case nil:
		return nil, errors.New("bitrix: New: nil Auth (use bitrix.WebhookURL or bitrix.OAuth)")
	default:
		return nil, fmt.Errorf("bitrix: New: unsupported Auth %T", auth)
	}
	if cfg.insecure {
		rt := cfg.transport
		if rt == nil && cfg.httpClient != nil {
			rt = cfg.httpClient.Transport
		}
		if !transport.InsecureSupported(rt) {
			return nil, errors.New("bitrix: WithInsecureSkipVerify needs the default transport or an *http.Transport")
		}
	}
	c.log = cfg.logger
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.limiter = cfg.limiter
	if c.limiter == nil {
		c.limiter = defaultLimiter()
	}
	c.gate = cfg.gate
	if c.gate == nil {
		c.gate = NewOperatingGate()
	}
	c.red = redactor{secrets: c.secrets}
	c.http = transport.New(transport.Config{
		HTTPClient:         cfg.httpClient,
		Transport:          cfg.transport,
		Timeout:            cfg.timeout,
		UserAgent:          cfg.userAgent,
		MaxBody:            cfg.maxBody,
		InsecureSkipVerify: cfg.insecure,
	})
	c.coal = newCoalescer(c, cfg.coalesce)
	c.op = newOpPacer(cfg.opBudget)
	if cfg.observed {
		c.obs = &cfg.observer
	}
	return c, nil
}

// PortalKey is the key of the portal for limiters, operating gates and
// token stores: the OAuth member id (or portal host when unknown), or the
// webhook's portal host.
func (c *Client) PortalKey() string { return c.key }

// Format prints the client without credentials.
func (c *Client) Format(f fmt.State, _ rune) {
	kind := "webhook"
	if c.oauth != nil {
		kind = "oauth"
	}
	fmt.Fprintf(f, "bitrix.Client{portal: %q, auth: %s}", c.key, kind)
}

// String prints the client without credentials.
func (c *Client) String() string { return fmt.Sprintf("%v", c) }

// secrets lists the credential values currently known to the client.
func (c *Client) secrets() []string {
	var out []string
	if c.webhook != nil {
		out = append(out, c.webhook.secret.Reveal())
	}
	if c.oauth != nil {
		out = append(out, c.oauth.secrets()...)
	}
	return out
}

// Call calls method with params and decodes the "result" of the answer
// into out (nil to discard it). params may be [Params], map[string]any, a
// struct (json tags apply), url.Values, json.RawMessage (sent as JSON) or nil.
//
// Errors: *[APIError] for an error answer (match codes with errors.Is and
// the sentinels), *[ResponseError] for an answer that is not an envelope,
// *[TransportError] for a failed exchange; a write whose outcome is unknown
// matches [ErrMaybeApplied]. See [RetryPolicy] for what is retried.
func (c *Client) Call(ctx context.Context, method string, params any, out any) (*Response, error) {
	raw, resp, err := c.CallRaw(ctx, method, params)
	if err != nil {
		return resp, err
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp, fmt.Errorf("bitrix: %s: decoding result into %T: %w", method, out, err)
		}
	}
	return resp, nil
}

// CallRaw is Call returning the undecoded "result".
func (c *Client) CallRaw(ctx context.Context, method string, params any) (json.RawMessage, *Response, error) {
	if err := checkMethod(method); err != nil {
		return nil, nil, err
	}
	if c.coal != nil { // WithCoalescing: gathered into a batch unless it must go alone
		if raw, resp, ok, err := c.coal.call(ctx, method, params); ok {
			return raw, resp, err
		}
	}
	body, ctype, err := encodeParams(params)
	if err != nil {
		return nil, nil, fmt.Errorf("bitrix: %s: encoding params: %w", method, err)
	}
	readOnly := c.retry.ReadOnly(method)
	release, err := c.paceOperating(ctx, map[string]int{method: 1})
	if err != nil {
		return nil, nil, err
	}
	ctx, call := c.startCall(ctx, method, 0, readOnly)
	env, err := c.do(ctx, method, 0, body, ctype, readOnly)
	c.endCall(ctx, call, err)
	if err == nil {
		c.op.observe(method, env.Time)
	}
	release()
	if err != nil {
		return nil, nil, err
	}
	return env.Result, env.response(), nil
}

func checkMethod(method string) error {
	if method == "" {
		return errors.New("bitrix: empty method name")
	}
	for _, r := range method {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("bitrix: invalid method name %.60q", method)
		}
	}
	return nil
}

const (
	ctypeForm = "application/x-www-form-urlencoded"
	ctypeJSON = "application/json"
)

// encodeParams renders params as a form (or JSON for json.RawMessage).
func encodeParams(params any) ([]byte, string, error) {
	switch p := params.(type) {
	case nil:
		return nil, ctypeForm, nil
	case json.RawMessage:
		if !json.Valid(p) || len(bytes.TrimSpace(p)) == 0 || bytes.TrimSpace(p)[0] != '{' {
			return nil, "", errors.New("json.RawMessage params must be a JSON object")
		}
		return p, ctypeJSON, nil
	}
	s, err := phpform.Encode(plainValue(params))
	if err != nil {
		return nil, "", err
	}
	return []byte(s), ctypeForm, nil
}

// envelope is a decoded Bitrix24 answer.
type envelope struct {
	Result json.RawMessage `json:"result"`
	Next   Int             `json:"next"`
	Total  Int             `json:"total"`
	Time   Timing          `json:"time"`
	status int
}

func (e *envelope) response() *Response {
	// With start=-1 the total is 0 or absent: docs/CONFORMANCE.md.
	return &Response{Total: int(e.Total), Next: int(e.Next), Time: e.Time, StatusCode: e.status}
}

type wireEnvelope struct {
	Result           json.RawMessage `json:"result"`
	Error            json.RawMessage `json:"error"`
	ErrorDescription json.RawMessage `json:"error_description"`
	Argument         json.RawMessage `json:"argument"`
	Next             json.RawMessage `json:"next"`
	Total            json.RawMessage `json:"total"`
	Time             json.RawMessage `json:"time"`
}

// decodeEnvelope parses a body. It returns an *APIError for error envelopes
// and a *ResponseError for anything that is not an envelope.
func (c *Client) decodeEnvelope(method string, status int, ctype string, body []byte) (*envelope, error) {
	bad := func(err error) error {
		return &ResponseError{StatusCode: status, Method: method, ContentType: ctype, Snippet: c.red.snippet(body, 200), Err: err}
	}
	trim := bytes.TrimSpace(body)
	if len(trim) == 0 {
		return nil, bad(errors.New("empty body"))
	}
	if trim[0] != '{' {
		return nil, bad(errors.New("not a JSON object"))
	}
	var w wireEnvelope
	if err := json.Unmarshal(trim, &w); err != nil {
		return nil, bad(errors.New("invalid JSON: " + shortErr(err)))
	}
	if w.Error != nil && string(w.Error) != "null" {
		return nil, c.redactAPI(apiErrorFrom(method, status, w.Error, w.ErrorDescription, w.Argument))
	}
	if w.Result == nil {
		return nil, bad(errors.New("no result in the answer"))
	}
	env := &envelope{Result: w.Result, status: status}
	if w.Next != nil {
		_ = env.Next.UnmarshalJSON(w.Next)
	}
	if w.Total != nil {
		_ = env.Total.UnmarshalJSON(w.Total)
	}
	if w.Time != nil {
		_ = env.Time.UnmarshalJSON(w.Time)
	}
	return env, nil
}

func shortErr(err error) string {
	s := err.Error()
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}

// redactAPI removes credentials the server may have echoed into an error.
func (c *Client) redactAPI(e *APIError) *APIError {
	e.Description = c.red.text(e.Description)
	e.Argument = c.red.text(e.Argument)
	e.Code = c.red.text(e.Code)
	return e
}

// apiErrorFrom builds an APIError from the envelope's raw fields (the
// classic string code, or the v3 object {"code","message"}).
func apiErrorFrom(method string, status int, code, desc, arg json.RawMessage) *APIError {
	e := &APIError{StatusCode: status, Method: method}
	var s string
	if json.Unmarshal(code, &s) == nil {
		e.Code = s
	} else {
		var obj struct {
			Code    any    `json:"code"`
			Message string `json:"message"`
		}
		if json.Unmarshal(code, &obj) == nil {
			if obj.Code != nil {
				e.Code = fmt.Sprint(obj.Code)
			}
			e.Description = obj.Message
		} else {
			e.Code = strings.Trim(string(code), `"`)
		}
	}
	if desc != nil {
		var d string
		if json.Unmarshal(desc, &d) == nil {
			e.Description = d
		} else if string(desc) != "null" {
			e.Description = string(desc)
		}
	}
	if arg != nil {
		var a string
		if json.Unmarshal(arg, &a) == nil {
			e.Argument = a
		}
	}
	return e
}

// do runs one REST call with limits, auth, retries and error decoding;
// cmds is the number of commands of a batch request. Whether a failed
// attempt is repeated is decided by [RetryPolicy.retryable].
func (c *Client) do(ctx context.Context, method string, cmds int, body []byte, ctype string, readOnly bool) (*envelope, error) {
	if ctx == nil {
		return nil, errors.New("bitrix: nil context")
	}
	attempt, opWaits, sent := 0, 0, 0 // sent: HTTP requests of this call, for the observer
	refreshed := false
	for {
		attempt++
		if err := c.waitGate(ctx, method); err != nil {
			return nil, err
		}
		release, err := c.enterSerial(ctx)
		if err != nil {
			return nil, err
		}
		if err := c.waitLimiter(ctx, method); err != nil {
			release()
			return nil, err
		}
		reqURL, reqBody, usedTok, err := c.prepare(ctx, method, body, ctype)
		if err != nil {
			release()
			return nil, err
		}
		start := time.Now()
		sent++
		res, terr := c.send(ctx, method, reqURL, ctype, reqBody)
		release()
		c.dumpExchange(method, reqURL, ctype, reqBody, res, terr)
		o := outcome{readOnly: readOnly, attempt: attempt, opWaits: opWaits, canRefresh: c.oauth != nil && !refreshed}
		if terr != nil {
			var te *transport.Error
			if !errors.As(terr, &te) {
				return nil, terr
			}
			err = &TransportError{Method: method, Sent: te.Sent, Timeout: te.Timeout, Err: te.Err}
			c.observeRequest(ctx, method, cmds, sent, start, len(reqBody), nil, err, readOnly)
			c.log.LogAttrs(ctx, slog.LevelDebug, "bitrix request failed", slog.String("method", method),
				slog.Bool("sent", te.Sent), slog.String("error", c.red.text(te.Err.Error())))
			o.kind, o.sent, o.ctxDone = noAnswer, te.Sent, ctx.Err() != nil
		} else {
			var env *envelope
			env, err = c.decodeEnvelope(method, res.Status, res.Header.Get("Content-Type"), res.Body)
			c.observeRequest(ctx, method, cmds, sent, start, len(reqBody), res, err, readOnly)
			c.log.LogAttrs(ctx, slog.LevelDebug, "bitrix request", slog.String("method", method),
				slog.Int("status", res.Status), slog.Int("attempt", attempt), slog.Duration("elapsed", time.Since(start)))
			if err == nil {
				if !env.Time.OperatingResetAt.IsZero() {
					c.resetAt.Store(strings.ToLower(method), env.Time.OperatingResetAt)
				}
				c.observeTiming(ctx, method, env.Time)
				return env, nil
			}
			o.kind, o.status = badResponse, res.Status
			if errors.As(err, &o.api) {
				o.kind = apiError
			}
		}
		d := c.retry.retryable(o)
		if d.cooldown {
			c.startCooldown()
		}
		if d.block {
			c.blockMethod(ctx, method)
		}
		switch d.action {
		case retryAfterRefresh:
			// The refresh repeats the call once without spending an attempt.
			c.retrying(ctx, method, attempt, d.reason, o.status, 0, err)
			refreshed = true
			attempt--
			if _, rerr := c.oauth.refresh(ctx, c, usedTok); rerr != nil {
				return nil, rerr
			}
		case retryAfterGate:
			// Operating waits count against MaxOperatingWaits, not attempts.
			c.retrying(ctx, method, attempt, d.reason, o.status, 0, err)
			opWaits++
			attempt--
		case retryAfterBackoff:
			if berr := c.backoff(ctx, method, attempt, d.reason, o.status, err); berr != nil {
				return nil, berr
			}
		default:
			if d.maybeApplied {
				return nil, &maybeAppliedError{err}
			}
			return nil, err
		}
	}
}

// outcomeKind is how an attempt failed.
type outcomeKind int

const (
	noAnswer    outcomeKind = iota // no HTTP answer: dial error, timeout, broken connection
	apiError                       // an error envelope (outcome.api)
	badResponse                    // an answer that is not an envelope: proxy page, truncated body
)

// outcome is a failed attempt of a call as the retry decision sees it.
type outcome struct {
	kind       outcomeKind
	readOnly   bool      // the call only reads (RetryPolicy.ReadOnly)
	sent       bool      // noAnswer: the request may have reached the portal
	ctxDone    bool      // noAnswer: the caller's context is done
	status     int       // HTTP status of the answer (0 for noAnswer)
	api        *APIError // apiError: the error
	attempt    int       // attempts made, this one included (refresh and operating waits not counted)
	opWaits    int       // operating-limit waits made
	canRefresh bool      // OAuth client whose token was not refreshed during this call yet
}

// retryAction is what the call does after a failed attempt.
type retryAction int

const (
	giveUp            retryAction = iota // return the error
	retryAfterBackoff                    // sleep RetryPolicy.backoff, then try again
	retryAfterRefresh                    // refresh the OAuth token, then try again
	retryAfterGate                       // wait for the method's operating gate, then try again
)

// decision is the verdict of [RetryPolicy.retryable].
type decision struct {
	action       retryAction
	reason       string // a Retry constant, for retries
	maybeApplied bool   // giveUp: the error must match ErrMaybeApplied
	cooldown     bool   // QUERY_LIMIT_EXCEEDED: one request at a time for a while (limiter.go)
	block        bool   // OPERATION_TIME_LIMIT: block the method in the operating gate
}

// retryable decides what follows a failed attempt; the rules are the ones
// the RetryPolicy documentation lists, in that order.
func (p RetryPolicy) retryable(o outcome) decision {
	more := o.attempt < p.MaxAttempts
	switch o.kind {
	case noAnswer:
		// A write that may have reached the portal is never repeated.
		ambiguous := o.sent && !o.readOnly
		if !o.ctxDone && !ambiguous && more {
			return decision{action: retryAfterBackoff, reason: RetryNetwork}
		}
		return decision{maybeApplied: ambiguous}
	case apiError:
		e := o.api
		switch {
		case o.canRefresh && (errors.Is(e, ErrExpiredToken) || errors.Is(e, ErrInvalidToken)):
			return decision{action: retryAfterRefresh, reason: RetryTokenRefresh}
		case errors.Is(e, ErrQueryLimitExceeded):
			if more {
				return decision{action: retryAfterBackoff, reason: RetryQueryLimit, cooldown: true}
			}
			return decision{cooldown: true}
		case errors.Is(e, ErrOperationTimeLimit):
			if o.opWaits < p.MaxOperatingWaits {
				return decision{action: retryAfterGate, reason: RetryOperatingLimit, block: true}
			}
			return decision{block: true}
		case o.status >= 500 && o.readOnly && more && !errors.Is(e, ErrOverloadLimit) && isServerFault(e):
			return decision{action: retryAfterBackoff, reason: RetryServerError}
		}
		return decision{}
	}
	// badResponse: a 5xx or 2xx body that is not an envelope may come from
	// a proxy after the portal ran the call.
	proxied := o.status >= 500 || o.status < 300
	if !o.readOnly {
		return decision{maybeApplied: proxied}
	}
	if proxied && more {
		return decision{action: retryAfterBackoff, reason: RetryBadResponse}
	}
	return decision{}
}

// isServerFault reports an error answer that a retry may fix.
func isServerFault(e *APIError) bool {
	if e.Code == "" || errors.Is(e, ErrInternal) {
		return true
	}
	switch strings.ToUpper(e.Code) {
	case "INTERNAL_SERVER_ERROR", "ERROR_UNEXPECTED_ANSWER", "SERVICE_UNAVAILABLE", "TEMPORARY_UNAVAILABLE":
		return true
	}
	return false
}

// blockMethod blocks method in the gate until the last known
// operating_reset_at (or a minute from now when unknown).
func (c *Client) blockMethod(ctx context.Context, method string) {
	until := time.Now().Add(time.Minute)
	if t, ok := c.resetAt.Load(strings.ToLower(method)); ok {
		if rt := t.(time.Time); rt.After(time.Now()) {
			until = rt
		}
	}
	if err := c.gate.Block(ctx, c.key, method, until); err != nil {
		c.log.Warn("bitrix: operating gate block failed", "method", method, "error", err.Error())
	}
	c.log.LogAttrs(ctx, slog.LevelInfo, "bitrix method blocked by operating time limit",
		slog.String("method", method), slog.Time("until", until))
}

func (c *Client) waitGate(ctx context.Context, method string) error {
	var w time.Duration
	var err error
	if gw, ok := c.gate.(gateWaiter); ok {
		w, err = gw.waitFor(ctx, c.key, method)
	} else {
		start := time.Now()
		err = c.gate.Wait(ctx, c.key, method)
		w = elapsedWait(start)
	}
	if err != nil {
		return err
	}
	if w > 0 {
		c.report(Progress{Method: method, Waited: w, Reason: ReasonOperatingLimit})
		c.observeWait(ctx, method, ReasonOperatingLimit, w)
	}
	return nil
}

func (c *Client) waitLimiter(ctx context.Context, method string) error {
	var w time.Duration
	var err error
	if lw, ok := c.limiter.(limitWaiter); ok {
		w, err = lw.waitFor(ctx, c.key)
	} else {
		start := time.Now()
		err = c.limiter.Wait(ctx, c.key)
		w = elapsedWait(start)
	}
	if err != nil {
		return err
	}
	if w > 0 {
		c.report(Progress{Method: method, Waited: w, Reason: ReasonRateLimit})
		c.observeWait(ctx, method, ReasonRateLimit, w)
	}
	return nil
}

// minReportedWait is the shortest Wait of a Limiter or OperatingGate of
// the caller's own (one that cannot tell whether it waited) that progress
// reports as a wait: shorter ones are the implementation's own work, such as
// a Redis round trip (about 0.1 ms on loopback, docs/BENCHMARKS.md).
const minReportedWait = 5 * time.Millisecond

func elapsedWait(start time.Time) time.Duration {
	if w := time.Since(start); w >= minReportedWait {
		return w
	}
	return 0
}

// backoff sleeps before the retry after attempt; reason is a Retry constant,
// status the failed answer's HTTP status (0: none) and cause its error.
func (c *Client) backoff(ctx context.Context, method string, attempt int, reason string, status int, cause error) error {
	d := c.retry.backoff(attempt)
	c.retrying(ctx, method, attempt, reason, status, d, cause)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	c.report(Progress{Method: method, Waited: d, Reason: ReasonRetry})
	return nil
}

// retrying logs a retry at debug level and reports it to the observer. The
// errors of do carry no secrets (redacted when built), and the text is
// redacted once more.
func (c *Client) retrying(ctx context.Context, method string, attempt int, reason string, status int, delay time.Duration, cause error) {
	c.log.LogAttrs(ctx, slog.LevelDebug, "bitrix retrying", slog.String("method", method),
		slog.String("reason", reason), slog.Int("status", status), slog.Int("attempt", attempt),
		slog.Duration("delay", delay), slog.String("error", c.red.text(cause.Error())))
	c.observeRetry(ctx, method, attempt, reason, status, delay)
}

func (c *Client) report(p Progress) {
	if c.progress != nil {
		c.progress(p)
	}
}

// prepare returns the URL and body of one attempt, with auth added.
func (c *Client) prepare(ctx context.Context, method string, body []byte, ctype string) (string, []byte, Secret, error) {
	if c.webhook != nil {
		return c.webhook.base() + method, body, "", nil
	}
	tok, err := c.oauth.current(ctx, c)
	if err != nil {
		return "", nil, "", err
	}
	u := strings.TrimSuffix(tok.ClientEndpoint, "/") + "/" + method
	return u, withAuth(body, ctype, tok.AccessToken), tok.AccessToken, nil
}

// withAuth adds the access token to the body (never to the URL).
func withAuth(body []byte, ctype string, tok Secret) []byte {
	if ctype == ctypeJSON {
		trim := bytes.TrimSpace(body)
		q, _ := json.Marshal(tok.Reveal())
		out := make([]byte, 0, len(trim)+len(q)+10)
		out = append(out, `{"auth":`...)
		out = append(out, q...)
		rest := bytes.TrimSpace(trim[1:])
		if len(rest) > 0 && rest[0] != '}' {
			out = append(out, ',')
		}
		return append(out, rest...)
	}
	out := make([]byte, 0, len(body)+len(tok)+6)
	out = append(out, body...)
	if len(out) > 0 {
		out = append(out, '&')
	}
	out = append(out, "auth="...)
	return append(out, url.QueryEscape(tok.Reveal())...)
}

const maxRedirects = 3

// send posts the body, following a moved portal's redirects with the same POST.
func (c *Client) send(ctx context.Context, method, reqURL, ctype string, body []byte) (*transport.Result, error) {
	for hop := 0; ; hop++ {
		res, err := c.http.Do(ctx, transport.Request{URL: reqURL, ContentType: ctype, Body: body})
		if err != nil {
			return nil, err
		}
		switch res.Status {
		case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		default:
			return res, nil
		}
		loc := res.Header.Get("Location")
		if loc == "" || hop >= maxRedirects {
			return res, nil
		}
		base, err := url.Parse(reqURL)
		if err != nil {
			return res, nil
		}
		next, err := base.Parse(loc)
		if err != nil || (next.Scheme != "https" && !(next.Scheme == "http" && c.cfg.allowHTTP)) {
			return res, nil
		}
		c.log.LogAttrs(ctx, slog.LevelWarn, "bitrix portal moved; repeating the request", slog.String("method", method),
			slog.String("from", base.Host), slog.String("to", next.Host))
		reqURL = next.String()
	}
}

func (c *Client) dumpExchange(method, reqURL, ctype string, body []byte, res *transport.Result, err error) {
	if c.cfg.dumpDir == "" {
		return
	}
	if res == nil {
		c.dump(method, reqURL, ctype, body, 0, nil, nil, err)
		return
	}
	c.dump(method, reqURL, ctype, body, res.Status, res.Header, res.Body, nil)
}
