// Package transport is the HTTP layer of the bitrix package: it wires resty
// so that none of its defaults can hurt a Bitrix24 client. resty never
// retries (retries are decided per method by the caller), never logs, never
// keeps cookies, never follows redirects on its own, always carries the
// caller's context, reads bodies up to a limit, and never parses a body.
//
// Errors returned from [Client.Do] never contain the request URL (it may
// carry a webhook secret); they say whether the request was written to the
// connection, so the caller can tell a safe-to-retry failure from an
// ambiguous one.
package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-resty/resty/v2"
)

// DefaultMaxBody is the response body limit used when Config.MaxBody is 0.
const DefaultMaxBody = 64 << 20

// Config configures a Client.
type Config struct {
	// HTTPClient is copied; nil means a fresh client with a cloned default transport.
	HTTPClient *http.Client
	// Transport replaces the client's transport when non-nil.
	Transport http.RoundTripper
	// Timeout bounds one HTTP exchange (0 = none beyond the context).
	Timeout time.Duration
	// UserAgent is sent on every request.
	UserAgent string
	// MaxBody limits the response body size in bytes.
	MaxBody int
	// InsecureSkipVerify disables TLS verification (self-signed test portals).
	InsecureSkipVerify bool
}

// Client sends prepared requests.
type Client struct {
	r  *resty.Client
	ua string
	// traced reports that the transport is an *http.Transport, whose trace
	// hooks tell whether a request reached a connection.
	traced bool
}

// Request is one prepared HTTP request. Body is always bytes so that it can
// be sent again.
type Request struct {
	Method      string // "" = POST
	URL         string
	ContentType string
	Body        []byte
	Header      http.Header
}

// Result is a received HTTP response.
type Result struct {
	Status int
	Header http.Header
	Body   []byte
}

// Error is a failed exchange without a usable response.
type Error struct {
	// Sent reports that the request may have reached the server: it was
	// (at least partly) written to a connection before the failure.
	Sent bool
	// Timeout reports a timeout (of the client, not of the caller's context).
	Timeout bool
	// Dial reports a failure to connect (the request never left).
	Dial bool
	// Err is the cause with any URL removed.
	Err error
}

func (e *Error) Error() string {
	state := "not sent"
	if e.Sent {
		state = "sent, no answer"
	}
	return fmt.Sprintf("http exchange failed (%s): %v", state, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// New builds a Client. It does no I/O.
func New(cfg Config) *Client {
	var hc http.Client
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient // copy: never change the caller's client
	}
	hc.Jar = nil
	if cfg.Transport != nil {
		hc.Transport = cfg.Transport
	}
	if cfg.InsecureSkipVerify {
		base := hc.Transport
		if base == nil {
			base = http.DefaultTransport
		}
		if t, ok := base.(*http.Transport); ok {
			t = t.Clone()
			if t.TLSClientConfig == nil {
				t.TLSClientConfig = &tls.Config{}
			}
			t.TLSClientConfig.InsecureSkipVerify = true //nolint:gosec // explicit opt-in for self-signed test portals
			hc.Transport = t
		}
	}
	if hc.Transport == nil {
		hc.Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	if cfg.Timeout > 0 {
		hc.Timeout = cfg.Timeout
	}
	// Redirects are handled by the caller (a moved portal must get the POST again).
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	r := resty.NewWithClient(&hc)
	r.SetLogger(silent{})
	r.SetDebug(false)
	r.SetRetryCount(0)
	r.SetRedirectPolicy(resty.NoRedirectPolicy())
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	max := cfg.MaxBody
	if max <= 0 {
		max = DefaultMaxBody
	}
	r.SetResponseBodyLimit(max)
	_, traced := hc.Transport.(*http.Transport)
	return &Client{r: r, ua: cfg.UserAgent, traced: traced}
}

// InsecureSupported reports whether InsecureSkipVerify can be applied to rt.
func InsecureSupported(rt http.RoundTripper) bool {
	if rt == nil {
		return true
	}
	_, ok := rt.(*http.Transport)
	return ok
}

// Do sends req. ctx always governs the request.
func (c *Client) Do(ctx context.Context, req Request) (*Result, error) {
	var wrote, conn atomic.Bool
	trace := &httptrace.ClientTrace{
		GotConn:      func(httptrace.GotConnInfo) { conn.Store(true) },
		WroteHeaders: func() { wrote.Store(true) },
	}
	r := c.r.R().SetContext(httptrace.WithClientTrace(ctx, trace))
	if req.ContentType != "" {
		r.SetHeader("Content-Type", req.ContentType)
	}
	r.SetHeader("Accept", "application/json")
	if c.ua != "" {
		r.SetHeader("User-Agent", c.ua)
	}
	for k, vs := range req.Header {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	if req.Body != nil {
		r.SetBody(req.Body)
	}
	method := req.Method
	if method == "" {
		method = http.MethodPost
	}
	resp, err := r.Execute(method, req.URL)
	if err != nil {
		return nil, classify(err, c.traced, wrote.Load(), conn.Load())
	}
	return &Result{Status: resp.StatusCode(), Header: resp.Header(), Body: resp.Body()}, nil
}

// classify decides whether a failed request may have reached the server.
// With an *http.Transport the trace hooks tell; with any other
// RoundTripper only dial errors prove that nothing was sent.
func classify(err error, traced, wrote, conn bool) error {
	e := &Error{Err: stripURL(err)}
	switch {
	case traced && !conn:
		e.Sent = false
	case traced:
		e.Sent = wrote
	default:
		e.Sent = true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		e.Dial = true
		e.Sent = false
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		e.Dial = true
		e.Sent = false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		e.Timeout = true
	}
	if errors.Is(err, resty.ErrResponseBodyTooLarge) {
		e.Sent = true
	}
	return e
}

// stripURL removes *url.Error wrappers (whose text holds the full URL).
func stripURL(err error) error {
	for {
		var ue *url.Error
		if !errors.As(err, &ue) {
			return err
		}
		inner := ue.Err
		if inner == nil {
			return errors.New(strings.ToLower(ue.Op) + " failed")
		}
		if err == ue {
			err = inner
			continue
		}
		// A wrapper around the url.Error: keep the inner cause only.
		err = inner
	}
}

type silent struct{}

func (silent) Errorf(string, ...any) {}
func (silent) Warnf(string, ...any)  {}
func (silent) Debugf(string, ...any) {}
