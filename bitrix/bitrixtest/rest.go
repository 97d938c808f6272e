package bitrixtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/b24go/sdk/internal/phpform"
)

// AuthKind says how a call was authenticated.
type AuthKind string

// Authentication kinds recorded in [Call.AuthKind].
const (
	AuthNone    AuthKind = "none"    // no credentials
	AuthWebhook AuthKind = "webhook" // inbound webhook /rest/{user}/{secret}/
	AuthOAuth   AuthKind = "oauth"   // OAuth access token of the app (or of one of its bots)
)

type authInfo struct {
	kind     AuthKind
	userID   int
	secret   string // webhook secret (identity for the operating limiter)
	clientID string // oauth app
}

func (a authInfo) identity() string {
	switch a.kind {
	case AuthWebhook:
		return "hook:" + a.secret
	case AuthOAuth:
		return "app:" + a.clientID
	}
	return ""
}

func intp(n int) *int { return &n }

// parseRESTPath splits "/rest/" paths: {method} or {user}/{secret}/{method},
// tolerating empty segments and a trailing slash.
func parseRESTPath(p string) (user, secret, method, transport string, okPath bool) {
	var segs []string
	for _, s := range strings.Split(p, "/") {
		if s != "" {
			segs = append(segs, s)
		}
	}
	switch len(segs) {
	case 1:
		method = segs[0]
	case 3:
		user, secret, method = segs[0], segs[1], segs[2]
	default:
		if len(segs) > 0 {
			method = segs[len(segs)-1]
		}
		return user, secret, method, "json", false
	}
	method = strings.ToLower(method)
	transport = "json"
	if i := strings.LastIndexByte(method, '.'); i >= 0 {
		switch method[i+1:] {
		case "json", "xml":
			transport = method[i+1:]
			method = method[:i]
		}
	}
	return user, secret, method, transport, true
}

func (s *Server) serveREST(w http.ResponseWriter, r *http.Request, rest string) {
	// Network latency: half of it before the request reaches the portal (its
	// rate limit and clock see it then), half after it answers.
	lat := s.faults.getLatency()
	if !s.delay(r, lat/2) {
		return
	}
	if back := lat - lat/2; back > 0 {
		w = &latencyWriter{ResponseWriter: w, wait: func() { s.delay(r, back) }}
	}
	start := s.Now()
	user, secret, method, transport, okPath := parseRESTPath(rest)

	f := s.faults.pick(method)
	if f != nil && f.Latency > 0 && !s.delay(r, f.Latency) {
		return
	}
	if f != nil && (f.Kind == FaultDropBefore || f.Kind == FaultHTML502) {
		entry := Call{Method: method, AuthKind: AuthNone, Code: "DROPPED_BEFORE", Time: start}
		if f.Kind == FaultHTML502 {
			entry.Status, entry.Code = 502, "HTML_502"
		}
		s.logCall(entry)
		breakAnswer(w, f.Kind)
		return
	}

	params, perr := readParams(r)
	if perr != nil {
		s.writeError(w, r, transport, method, nil, start, &APIError{StatusCode: 400, Code: "INVALID_REQUEST", Description: "Request could not be parsed"})
		return
	}

	s.mu.Lock()
	// The rate limit is checked at the front end, before anything else.
	// The bucket reads the clock under the lock, so concurrent requests
	// reach it in time order and only a clock set back steps backwards
	// (bucketTake counts that as no elapsed time).
	if s.cfg.rateLimit && !s.bucketTake(s.now()) {
		s.mu.Unlock()
		s.writeError(w, r, transport, method, params, start, errf(503, "QUERY_LIMIT_EXCEEDED", "Too many requests"))
		return
	}
	if f != nil && f.Kind == FaultError {
		s.mu.Unlock()
		s.writeError(w, r, transport, method, params, start, f.apiError())
		return
	}
	if !okPath {
		s.mu.Unlock()
		s.writeError(w, r, transport, method, params, start, errf(404, "ERROR_METHOD_NOT_FOUND", "Method not found!"))
		return
	}
	auth, aerr := s.authenticate(r, user, secret, params)
	if aerr != nil {
		s.mu.Unlock()
		s.writeError(w, r, transport, method, params, start, aerr)
		return
	}
	var out []delivery
	var hf *Fault // a connection fault a MethodFunc returned
	c := &Request{s: s, method: method, params: params, auth: auth, now: start, out: &out, fault: &hf}
	if v, ok := params.Get("auth_connector"); ok {
		c.connector, _ = phpform.LeafString(v)
		params.Delete("auth_connector")
	}
	rep, tb, aerr := s.invoke(c)
	s.mu.Unlock()

	if s.cfg.syncDelivery {
		s.deliverAll(out)
	} else if len(out) > 0 {
		s.deliverAsync(out)
	}
	if f = afterFault(f, hf); f != nil {
		// The call ran; the answer is lost or replaced by an error page.
		breakAnswer(w, f.Kind)
		return
	}
	if aerr != nil {
		s.writeErrorLogged(w, r, transport, aerr, auth)
	} else {
		s.writeOK(w, r, transport, rep, tb, auth)
	}
}

// delay waits d on the Go runtime's clock (a testing/synctest bubble's
// virtual clock when the portal is served inside one); false means the
// client went away first.
func (s *Server) delay(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// latencyWriter holds the answer back (the way back of the latency) until
// the first byte of it is written or the connection is hijacked.
type latencyWriter struct {
	http.ResponseWriter
	wait   func()
	waited bool
}

func (lw *latencyWriter) hold() {
	if !lw.waited {
		lw.waited = true
		lw.wait()
	}
}

func (lw *latencyWriter) WriteHeader(code int) {
	lw.hold()
	lw.ResponseWriter.WriteHeader(code)
}

func (lw *latencyWriter) Write(b []byte) (int, error) {
	lw.hold()
	return lw.ResponseWriter.Write(b)
}

func (lw *latencyWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	lw.hold()
	h, ok := lw.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, http.ErrNotSupported
	}
	return h.Hijack()
}

// afterFault picks the connection fault that breaks the answer of a call
// that ran: an injected FaultDropAfter or FaultHTML500, else the one the
// MethodFunc returned (hf), if any.
func afterFault(injected, hf *Fault) *Fault {
	if injected != nil && (injected.Kind == FaultDropAfter || injected.Kind == FaultHTML500) {
		return injected
	}
	return hf
}

// breakAnswer answers as a connection fault of kind k does: the
// connection closes without an answer (drop kinds) or the front end answers
// an HTML error page.
func breakAnswer(w http.ResponseWriter, k FaultKind) {
	switch k {
	case FaultHTML502:
		writeHTMLPage(w, http.StatusBadGateway)
	case FaultHTML500:
		writeHTMLPage(w, http.StatusInternalServerError)
	default:
		hijackClose(w)
	}
}

func hijackClose(w http.ResponseWriter) {
	if h, ok := w.(http.Hijacker); ok {
		if conn, _, err := h.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// authenticate resolves the caller. It runs under s.mu and strips the auth
// parameters from params.
func (s *Server) authenticate(r *http.Request, user, secret string, params *phpform.Map) (authInfo, *APIError) {
	if user == "" && secret == "" {
		if ap := params.String("ap"); ap != "" {
			user, secret = params.String("aplogin"), ap
		}
	}
	params.Delete("aplogin")
	params.Delete("ap")
	token := ""
	if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		token = strings.TrimSpace(h[7:])
	}
	if token == "" {
		token = params.String("auth")
	}
	if token == "" {
		token = params.String("access_token")
	}
	params.Delete("auth")
	params.Delete("access_token")
	params.Delete("state")

	if secret != "" {
		if s.cfg.httpsWebhooks && r.TLS == nil {
			return authInfo{}, errf(400, "INVALID_REQUEST", "Https required.")
		}
		hook := s.webhooks[secret]
		uid, err := strconv.Atoi(user)
		if hook == nil || err != nil || uid != hook.userID {
			return authInfo{}, errf(401, "INVALID_CREDENTIALS", "Invalid request credentials")
		}
		return authInfo{kind: AuthWebhook, userID: uid, secret: secret}, nil
	}
	if token == "" {
		return authInfo{}, errf(401, "NO_AUTH_FOUND", "Wrong authorization data")
	}
	at := s.tokens[token]
	if at == nil {
		return authInfo{}, errf(401, "invalid_token", "Unable to authorize user")
	}
	if !s.now().Before(at.expires) {
		return authInfo{}, errf(401, "expired_token", "The access token provided has expired.")
	}
	return authInfo{kind: AuthOAuth, userID: at.userID, clientID: s.app.ClientID}, nil
}

func (s *Server) hasScope(scope string) bool {
	if scope == "" || scope == "basic" {
		return true
	}
	for _, sc := range s.cfg.scope {
		if sc == scope || (scope == "im" && sc == "imbot") || (scope == "user" && sc == "user_brief") {
			return true
		}
	}
	return false
}

// invoke runs one method call (top level or inside a batch) under s.mu.
func (s *Server) invoke(c *Request) (Result, timeBlock, *APIError) {
	spec, found := s.methods[c.method]
	logAt := len(s.calls)
	var rep Result
	var aerr *APIError
	var cost time.Duration
	switch {
	case !found:
		aerr = errf(404, "ERROR_METHOD_NOT_FOUND", "Method not found!")
	case spec.appOnly && c.auth.kind != AuthOAuth:
		aerr = errf(403, "WRONG_AUTH_TYPE", "Current authorization type is denied for this method")
	case !s.hasScope(spec.scope):
		aerr = errf(403, "insufficient_scope", "The request requires higher privileges than provided by the access token")
	default:
		if f := s.faults.pickMethodError(c.method, c.inBatch); f != nil {
			aerr = f.apiError()
			break
		}
		if aerr = s.operatingCheck(c); aerr != nil {
			break
		}
		var err error
		rep, err = runMethod(spec.h, c)
		aerr = c.toAPIError(err)
		cost = s.cfg.methodCost[c.method]
		s.operatingCharge(c, cost)
	}
	op, resetAt := s.operatingState(c)
	tb := s.makeTime(c.now, cost, op, resetAt)
	// imbot.v2's botToken (top level or in fields) stays out of the call
	// log, as auth does.
	c.params.Delete("botToken")
	if f := ciMap(c.params, "fields"); f != nil {
		f.Delete("botToken")
	}
	call := Call{Method: c.method, Params: plainParams(c.params), AuthKind: c.auth.kind, UserID: c.auth.userID, InBatch: c.inBatch, Status: 200, Time: c.now}
	if aerr != nil {
		call.Status, call.Code = aerr.StatusCode, aerr.Code
		if c.inBatch {
			call.Status = 200
		}
	}
	// A batch entry goes before the entries of its sub-calls.
	s.calls = append(s.calls, Call{})
	copy(s.calls[logAt+1:], s.calls[logAt:])
	s.calls[logAt] = call
	return rep, tb, aerr
}

// runMethod runs h, turning a panic into an error (an answer of 500
// INTERNAL_SERVER_ERROR, as a PHP fatal error gives) so that a panicking
// stub fails its test instead of leaving the portal locked.
func runMethod(h MethodFunc, c *Request) (rep Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in %s: %v", c.method, p)
		}
	}()
	return h(c)
}

func (s *Server) logCall(c Call) {
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.mu.Unlock()
}

func commonHeaders(w http.ResponseWriter, transport string) {
	h := w.Header()
	if transport == "xml" {
		h.Set("Content-Type", "text/xml; charset=utf-8")
	} else {
		h.Set("Content-Type", "application/json; charset=utf-8")
	}
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Headers", "origin, content-type, accept")
	h.Set("X-Content-Type-Options", "nosniff")
}

func (s *Server) writeOK(w http.ResponseWriter, r *http.Request, transport string, rep Result, tb timeBlock, auth authInfo) {
	commonHeaders(w, transport)
	if auth.kind == AuthOAuth {
		w.Header().Set("X-Bitrix-Rest-Application", s.app.ClientID)
	}
	w.Header().Set("X-Bitrix-Rest-Time", strconv.FormatFloat(tb.Duration, 'f', 10, 64))
	body := make([]byte, 0, 512)
	body = append(body, `{"result":`...)
	body = appendJSON(body, rep.Value)
	if rep.Next != nil {
		body = append(body, `,"next":`...)
		body = strconv.AppendInt(body, int64(*rep.Next), 10)
	}
	if rep.Total != nil {
		body = append(body, `,"total":`...)
		body = strconv.AppendInt(body, int64(*rep.Total), 10)
	}
	body = append(body, `,"time":`...)
	body = appendJSON(body, tb)
	body = append(body, '}')
	if transport == "xml" {
		body = toXML(body)
	}
	writeBody(w, 200, body)
}

func writeBody(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (s *Server) writeErrorLogged(w http.ResponseWriter, r *http.Request, transport string, e *APIError, auth authInfo) {
	commonHeaders(w, transport)
	body, _ := json.Marshal(e.body())
	if transport == "xml" {
		body = toXML(body)
	}
	writeBody(w, e.StatusCode, body)
}

// writeError answers an error that happened before invoke (and logs it).
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, transport, method string, params *phpform.Map, start time.Time, e *APIError) {
	var p map[string]any
	if params != nil {
		cp := params.Clone()
		for _, k := range []string{"auth", "access_token", "ap", "aplogin", "botToken"} {
			cp.Delete(k)
		}
		p = plainParams(cp)
	}
	s.logCall(Call{Method: method, Params: p, AuthKind: AuthNone, Status: e.StatusCode, Code: e.Code, Time: start})
	s.writeErrorLogged(w, r, transport, e, authInfo{})
}

// toXML renders a JSON answer as the portal's XML transport does: root
// <response>, integer keys as <item>.
func toXML(js []byte) []byte {
	tree, err := phpform.ParseJSON(js)
	if err != nil {
		return []byte(`<?xml version="1.0" encoding="utf-8"?><response><error>WRONG_ENCODING</error></response>`)
	}
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><response>`)
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case *phpform.Map:
			for _, k := range x.Keys() {
				name := k
				if _, err := strconv.Atoi(k); err == nil || name == "" {
					name = "item"
				}
				b.WriteString("<" + name + ">")
				cv, _ := x.Get(k)
				walk(cv)
				b.WriteString("</" + name + ">")
			}
		default:
			sv, _ := phpform.LeafString(x)
			if bv, ok := x.(bool); ok && !bv {
				sv = "false"
			} else if ok {
				sv = "true"
			}
			xmlEscape(&b, sv)
		}
	}
	walk(tree)
	b.WriteString("</response>")
	return b.Bytes()
}

func xmlEscape(b *bytes.Buffer, s string) {
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		default:
			b.WriteRune(r)
		}
	}
}
