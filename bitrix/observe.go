package bitrix

import (
	"context"
	"errors"
	"time"

	"github.com/b24go/sdk/internal/hook"
	"github.com/b24go/sdk/internal/transport"
)

// Observer is told what a [Client] does: every call, HTTP request, wait,
// retry and token refresh, and the portal's "time" block of every answer.
// Install it with [WithObserver]; package otelbitrix turns it into
// OpenTelemetry spans and metrics.
//
// Every func is optional. They run on the calling goroutine, synchronously,
// and must be quick and safe for concurrent use. None of the values passed
// holds a credential: no token, no webhook secret, no full URL. A client
// without an observer pays nothing for the hooks (no allocation).
type Observer struct {
	// CallStart is called when a call begins: one REST method, or one
	// batch request (a [Batch] or a scan of [All] sends several). The call
	// continues with the context it returns (nil: ctx), which is also
	// passed to the other funcs for this call: put a span in it.
	CallStart func(ctx context.Context, call CallInfo) context.Context
	// CallEnd is called when the call ends, with CallInfo.Duration and
	// CallInfo.Err set, and the context CallStart returned.
	CallEnd func(ctx context.Context, call CallInfo)
	// Request is called after each HTTP request of a call (each attempt).
	Request func(ctx context.Context, req RequestInfo)
	// Command is called for each command of a batch request that got an
	// answer, after the request (CommandInfo.Err is the command's error).
	Command func(ctx context.Context, cmd CommandInfo)
	// Wait is called after the call waited for the rate limiter
	// ([ReasonRateLimit]), for a method blocked by OPERATION_TIME_LIMIT
	// ([ReasonOperatingLimit]) or for a token refresh ([ReasonRefresh]: the
	// call needed a new token and waited for the one refresh that all
	// calls needing it share). Only real waits are reported, as
	// [WithProgress] reports them.
	Wait func(ctx context.Context, w WaitInfo)
	// Retry is called when a call is repeated, before the backoff delay.
	Retry func(ctx context.Context, r RetryInfo)
	// Refresh is called after each OAuth token refresh (one per refresh,
	// however many calls waited for it).
	Refresh func(ctx context.Context, r RefreshInfo)
	// Timing is called with the "time" block of each answer that has one,
	// and for each command of a batch with the command's own block.
	Timing func(ctx context.Context, t TimingInfo)
}

// CallInfo describes a call for [Observer.CallStart] and [Observer.CallEnd].
type CallInfo struct {
	// Method is the REST method, or "batch".
	Method string
	// Commands is the number of commands of a batch request (0 otherwise).
	Commands int
	// Portal is the portal's host name (never a URL with credentials).
	Portal string
	// ReadOnly reports whether the call only reads (see [RetryPolicy]).
	ReadOnly bool
	// Start is when the call began.
	Start time.Time
	// Duration and Err are the call's length and error (CallEnd only).
	Duration time.Duration
	Err      error
}

// Request outcomes ([RequestInfo.Outcome]).
const (
	// OutcomeOK: the portal answered a result.
	OutcomeOK = "ok"
	// OutcomeAPIError: the portal answered an error (RequestInfo.ErrorCode).
	OutcomeAPIError = "api_error"
	// OutcomeTransportError: no answer; the request was not sent, or it
	// only reads.
	OutcomeTransportError = "transport_error"
	// OutcomeBadResponse: the answer is not an envelope (a proxy page, a
	// truncated body) and the request only reads or surely did not run.
	OutcomeBadResponse = "bad_response"
	// OutcomeMaybeApplied: a write was sent and its outcome is unknown
	// (no answer, or a bad one); the error matches [ErrMaybeApplied].
	OutcomeMaybeApplied = "maybe_applied"
)

// RequestInfo describes one HTTP request for [Observer.Request].
type RequestInfo struct {
	Method   string // REST method, or "batch"
	Commands int    // commands of a batch request (0 otherwise)
	Portal   string // the portal's host name
	// Attempt is the request's number within its call: 1 for the first,
	// 2 for the next one (a retry, or the repeat after an operating-time
	// wait or a token refresh), and so on.
	Attempt int
	// Start and Duration time the exchange (redirects included).
	Start    time.Time
	Duration time.Duration
	// StatusCode is the HTTP status (0 when there was no answer).
	StatusCode int
	// BytesSent and BytesReceived are the sizes of the request and
	// response bodies.
	BytesSent, BytesReceived int
	// Outcome is one of the Outcome constants; ErrorCode is the API error
	// code for OutcomeAPIError.
	Outcome   string
	ErrorCode string
	// Err is the request's error (nil for OutcomeOK).
	Err error
}

// CommandInfo describes one command of a batch request for [Observer.Command].
type CommandInfo struct {
	Name   string // the command's name in the batch
	Method string
	// ErrorCode is the code of the command's error ("" on success).
	ErrorCode string
	// Err is the command's error: an *[APIError], [ErrNotRun] or nil.
	Err error
}

// ReasonRefresh is the reason of a wait for an OAuth token refresh (see
// [Observer.Wait]; the other reasons are the [Progress] ones).
const ReasonRefresh = "token refresh"

// WaitInfo describes a wait for [Observer.Wait].
type WaitInfo struct {
	Method string // the method that waited ("" for a token refresh)
	// Reason is ReasonRateLimit, ReasonOperatingLimit or ReasonRefresh.
	Reason   string
	Duration time.Duration
}

// Retry reasons ([RetryInfo.Reason]).
const (
	RetryNetwork        = "network error"
	RetryQueryLimit     = "QUERY_LIMIT_EXCEEDED"
	RetryServerError    = "server error"
	RetryBadResponse    = "bad response"
	RetryOperatingLimit = "OPERATION_TIME_LIMIT"
	RetryTokenRefresh   = "token refresh"
)

// RetryInfo describes a retry for [Observer.Retry].
type RetryInfo struct {
	Method string
	// Attempt is the attempt that failed, counted as
	// RetryPolicy.MaxAttempts counts them: operating-time waits and the
	// repeat after a token refresh do not spend one.
	Attempt int
	// Reason is one of the Retry constants.
	Reason string
	// StatusCode is the HTTP status of the failed answer (0: none).
	StatusCode int
	// Delay is the backoff before the next attempt (0 when the call waits
	// in the operating gate or repeats at once after a token refresh).
	Delay time.Duration
}

// RefreshInfo describes an OAuth token refresh for [Observer.Refresh].
type RefreshInfo struct {
	Portal string // the portal's host name
	// Reloaded reports that another process had refreshed already and the
	// new pair was taken from the token store.
	Reloaded bool
	Duration time.Duration
	Err      error
}

// TimingInfo is an answer's "time" block for [Observer.Timing].
type TimingInfo struct {
	Method string // the method (a batch command's own method for its block)
	Portal string // the portal's host name
	Time   Timing
}

// WithObserver installs o. Given several times, the observers are all
// called, in the order given.
func WithObserver(o Observer) Option {
	return func(c *config) error {
		c.observer = c.observer.join(o)
		c.observed = true
		return nil
	}
}

// join returns an Observer that calls o's funcs, then p's.
func (o Observer) join(p Observer) Observer {
	return Observer{
		CallStart: hook.JoinStart(o.CallStart, p.CallStart),
		CallEnd:   hook.Join(o.CallEnd, p.CallEnd),
		Request:   hook.Join(o.Request, p.Request),
		Command:   hook.Join(o.Command, p.Command),
		Wait:      hook.Join(o.Wait, p.Wait),
		Retry:     hook.Join(o.Retry, p.Retry),
		Refresh:   hook.Join(o.Refresh, p.Refresh),
		Timing:    hook.Join(o.Timing, p.Timing),
	}
}

// The observe* methods below are the client's call-outs; each does nothing
// (and allocates nothing) when no observer is installed.

func (c *Client) startCall(ctx context.Context, method string, cmds int, readOnly bool) (context.Context, CallInfo) {
	o := c.obs
	if o == nil {
		return ctx, CallInfo{}
	}
	call := CallInfo{Method: method, Commands: cmds, Portal: c.domain, ReadOnly: readOnly, Start: time.Now()}
	if o.CallStart != nil {
		if cctx := o.CallStart(ctx, call); cctx != nil {
			ctx = cctx
		}
	}
	return ctx, call
}

func (c *Client) endCall(ctx context.Context, call CallInfo, err error) {
	if o := c.obs; o != nil && o.CallEnd != nil {
		call.Duration, call.Err = time.Since(call.Start), err
		o.CallEnd(ctx, call)
	}
}

// observeRequest reports one exchange: res is nil when there was no
// answer; err is the attempt's error before retry decisions.
func (c *Client) observeRequest(ctx context.Context, method string, cmds, attempt int, start time.Time, sent int,
	res *transport.Result, err error, readOnly bool) {
	o := c.obs
	if o == nil || o.Request == nil {
		return
	}
	r := RequestInfo{Method: method, Commands: cmds, Portal: c.domain, Attempt: attempt, Start: start,
		Duration: time.Since(start), BytesSent: sent, Outcome: OutcomeOK, Err: err}
	if res != nil {
		r.StatusCode, r.BytesReceived = res.Status, len(res.Body)
	}
	var api *APIError
	var te *TransportError
	switch {
	case err == nil:
	case errors.As(err, &api):
		r.Outcome, r.ErrorCode = OutcomeAPIError, api.Code
	case errors.As(err, &te):
		r.Outcome = OutcomeTransportError
		if te.Sent && !readOnly {
			r.Outcome = OutcomeMaybeApplied
		}
	default:
		r.Outcome = OutcomeBadResponse
		if !readOnly && (r.StatusCode >= 500 || r.StatusCode < 300) {
			r.Outcome = OutcomeMaybeApplied
		}
	}
	o.Request(ctx, r)
}

func (c *Client) observeCommand(ctx context.Context, cmd *BatchCmd) {
	if o := c.obs; o != nil && o.Command != nil {
		ci := CommandInfo{Name: cmd.name, Method: cmd.method, Err: cmd.err}
		var api *APIError
		if errors.As(cmd.err, &api) {
			ci.ErrorCode = api.Code
		}
		o.Command(ctx, ci)
	}
}

func (c *Client) observeWait(ctx context.Context, method, reason string, d time.Duration) {
	if o := c.obs; o != nil && o.Wait != nil && d > 0 {
		o.Wait(ctx, WaitInfo{Method: method, Reason: reason, Duration: d})
	}
}

func (c *Client) observeRetry(ctx context.Context, method string, attempt int, reason string, status int, delay time.Duration) {
	if o := c.obs; o != nil && o.Retry != nil {
		o.Retry(ctx, RetryInfo{Method: method, Attempt: attempt, Reason: reason, StatusCode: status, Delay: delay})
	}
}

func (c *Client) observeRefresh(ctx context.Context, start time.Time, reloaded bool, err error) {
	if o := c.obs; o != nil && o.Refresh != nil {
		o.Refresh(ctx, RefreshInfo{Portal: c.domain, Reloaded: reloaded, Duration: time.Since(start), Err: err})
	}
}

func (c *Client) observeTiming(ctx context.Context, method string, t Timing) {
	if o := c.obs; o != nil && o.Timing != nil && t != (Timing{}) {
		o.Timing(ctx, TimingInfo{Method: method, Portal: c.domain, Time: t})
	}
}
