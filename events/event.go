package events

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/internal/phpform"
	"github.com/gorilla/schema"
)

// Errors returned by [Parse] and [ParseForm]. Wrapped errors say what was
// wrong without quoting values from the body.
var (
	// ErrMalformed is returned for a body that is not a Bitrix24 event:
	// not a form, no event name, a non-numeric ts, or a data tree that does
	// not fit the event's type.
	ErrMalformed = errors.New("events: malformed event")
	// ErrBodyTooLarge is returned when the body exceeds Limits.MaxBodySize.
	ErrBodyTooLarge = errors.New("events: event body too large")
)

// DefaultMaxBodySize is the body limit [Parse] applies: 1 MiB, far above
// the largest documented event (a chat-bot message of a few KiB plus its
// text).
const DefaultMaxBodySize = 1 << 20

// Limits bound the work done on one event body. The zero value of a field
// means its default.
type Limits struct {
	// MaxBodySize is the largest body Parse reads (DefaultMaxBodySize).
	MaxBodySize int64
	// MaxDepth is the deepest bracket nesting of a data key (16; the
	// deepest documented key, data[BOT][id][AUTH][access_token], has 4).
	MaxDepth int
	// MaxPairs is the largest number of form fields (10,000; a bot event
	// has about 120).
	MaxPairs int
}

// DefaultLimits are the limits of the package-level [Parse] and [ParseForm].
var DefaultLimits = Limits{MaxBodySize: DefaultMaxBodySize, MaxDepth: 16, MaxPairs: 10_000}

func (l Limits) withDefaults() Limits {
	if l.MaxBodySize <= 0 {
		l.MaxBodySize = DefaultLimits.MaxBodySize
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultLimits.MaxDepth
	}
	if l.MaxPairs <= 0 {
		l.MaxPairs = DefaultLimits.MaxPairs
	}
	return l
}

// Event is one delivery from Bitrix24: the envelope (event name, handler id,
// time, auth) and the event's data decoded into a typed struct.
//
// Event prints (through fmt and log/slog) without its tokens and data.
type Event struct {
	// Name is the event name, upper-cased ("ONCRMDEALADD").
	Name string
	// HandlerID is event_handler_id, the id of the handler binding (0 when
	// the sender omitted it, as ONAPPINSTALL does).
	HandlerID int
	// TS is ts, when the portal queued the event (zero when absent).
	TS time.Time
	// Auth is the auth[...] block.
	Auth Auth
	// Data is the typed data[...] tree: a pointer to the type registered
	// for Name (see [NewData]), or *[Unknown] for other events. Events
	// without data get the zero value of their type.
	Data any

	form url.Values // ParseForm's input
	body string     // ParseBody's input
	raw  *rawData   // the data tree, its JSON made on first use
}

// rawData makes the JSON of an event's data[...] once, when
// [Event.RawData] or [Event.DedupeKey] first asks: the typed Data is
// decoded from the tree directly, so most deliveries never need it. It
// holds the data tree (ParseForm) or the body to parse it from again
// (ParseBody, whose tree is released for reuse once Data is decoded).
type rawData struct {
	once sync.Once
	tree any // *phpform.Map or a non-empty leaf; nil: see body
	body string
	lim  phpform.Limits
	json json.RawMessage
}

func newRawData(tree any) *rawData { return &rawData{tree: tree} }

// get returns the data's JSON (nil for no data).
func (r *rawData) get() json.RawMessage {
	if r == nil {
		return nil
	}
	r.once.Do(func() {
		tree := r.tree
		if tree == nil && r.body != "" {
			root, err := r.lim.Parse(r.body) // parsed before: cannot fail
			if err != nil {
				return
			}
			defer root.Release()
			tree = dataOf(root)
		}
		switch t := tree.(type) {
		case nil:
		case *phpform.Map:
			r.json, _ = t.MarshalJSON() // string leaves only: cannot fail
		default:
			r.json, _ = json.Marshal(t)
		}
		r.tree, r.body = nil, ""
	})
	return r.json
}

// fromBody makes r parse body again when asked for the JSON, instead of
// keeping the tree (unless the JSON was made already).
func (r *rawData) fromBody(body string, lim phpform.Limits) {
	if r.tree == nil || r.json != nil {
		r.tree = nil
		return
	}
	r.tree, r.body, r.lim = nil, body, lim
}

// Equal reports whether r and o hold the same JSON value (key order
// aside). go-cmp uses it when comparing events with unexported fields.
func (r *rawData) Equal(o *rawData) bool {
	a, b := r.get(), o.get()
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}

// Auth is the auth[...] block of an event, and the per-bot auth blocks of
// chat-bot events. Which keys are present depends on the delivery: outgoing
// webhooks and ONAPPUNINSTALL carry no tokens, ONAPPINSTALL carries a
// refresh token, automation-triggered events carry no tokens.
type Auth struct {
	AccessToken  bitrix.Secret
	RefreshToken bitrix.Secret
	// ApplicationToken is the per-app-per-portal secret that authenticates
	// the delivery (see [Verifier]).
	ApplicationToken bitrix.Secret
	// Expires is when AccessToken expires (auth[expires]; zero when absent).
	Expires time.Time
	// ExpiresIn is the access token's lifetime in seconds.
	ExpiresIn      int
	Scope          string
	Domain         string
	ServerEndpoint string
	ClientEndpoint string
	// Status is the app's licence status (F, D, T, P, L).
	Status   string
	MemberID string
	// UserID is the user the tokens were issued for (the bot itself in a
	// bot's own auth block).
	UserID int
	// ClientID is the app's client id (bot auth blocks only).
	ClientID string
}

// HasTokens reports whether the block carries an access token.
func (a Auth) HasTokens() bool { return a.AccessToken != "" }

// Token converts the block to a [bitrix.Token] for [bitrix.OAuth].
// Expires is ExpiresIn counted from issued: pass the time the event was
// received on your clock (time.Now()), not the event's TS, which is the
// portal's clock. Only without ExpiresIn or issued does the absolute
// auth[expires] (the portal's clock too) count; else it stays unknown.
func (a Auth) Token(issued time.Time) bitrix.Token {
	exp := a.Expires
	if a.ExpiresIn > 0 && !issued.IsZero() {
		exp = issued.Add(time.Duration(a.ExpiresIn) * time.Second)
	}
	domain := a.Domain
	if u, err := url.Parse(a.ClientEndpoint); err == nil && u.Host != "" {
		domain = u.Host
	}
	return bitrix.Token{
		AccessToken:    a.AccessToken,
		RefreshToken:   a.RefreshToken,
		Expires:        exp,
		MemberID:       a.MemberID,
		Domain:         domain,
		ClientEndpoint: a.ClientEndpoint,
		ServerEndpoint: a.ServerEndpoint,
		Scope:          a.Scope,
		Status:         a.Status,
		UserID:         a.UserID,
	}
}

// wireAuth is an auth block as strings, the shape both the envelope
// (through gorilla/schema) and bot blocks (through encoding/json) have.
type wireAuth struct {
	AccessToken      string `json:"access_token"`
	RefreshToken     string `json:"refresh_token"`
	ApplicationToken string `json:"application_token"`
	Expires          string `json:"expires"`
	ExpiresIn        string `json:"expires_in"`
	Scope            string `json:"scope"`
	Domain           string `json:"domain"`
	ServerEndpoint   string `json:"server_endpoint"`
	ClientEndpoint   string `json:"client_endpoint"`
	Status           string `json:"status"`
	MemberID         string `json:"member_id"`
	UserID           string `json:"user_id"`
	ClientID         string `json:"client_id"`
}

func (w wireAuth) auth() (Auth, error) {
	a := Auth{
		AccessToken:      bitrix.Secret(w.AccessToken),
		RefreshToken:     bitrix.Secret(w.RefreshToken),
		ApplicationToken: bitrix.Secret(w.ApplicationToken),
		Scope:            w.Scope,
		Domain:           w.Domain,
		ServerEndpoint:   w.ServerEndpoint,
		ClientEndpoint:   w.ClientEndpoint,
		Status:           w.Status,
		MemberID:         w.MemberID,
		ClientID:         w.ClientID,
	}
	exp, err := atoi("auth[expires]", w.Expires)
	if err != nil {
		return a, err
	}
	if exp > 0 {
		a.Expires = time.Unix(exp, 0)
	}
	n, err := atoi("auth[expires_in]", w.ExpiresIn)
	if err != nil {
		return a, err
	}
	a.ExpiresIn = int(n)
	if n, err = atoi("auth[user_id]", w.UserID); err != nil {
		return a, err
	}
	a.UserID = int(n)
	return a, nil
}

// atoi parses an optional decimal field ("" is 0) without quoting the
// value in the error.
func atoi(field, s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 || n > 1<<53 {
		return 0, fmt.Errorf("%w: %s is not a non-negative integer", ErrMalformed, field)
	}
	return n, nil
}

// envelope is the flat part of the form, decoded by gorilla/schema. Its
// fields are declared flat (no embedded struct): schema's per-field
// reflection is much cheaper on a flat struct.
type envelope struct {
	Event            string `schema:"event"`
	HandlerID        string `schema:"event_handler_id"`
	TS               string `schema:"ts"`
	AccessToken      string `schema:"auth[access_token]"`
	RefreshToken     string `schema:"auth[refresh_token]"`
	ApplicationToken string `schema:"auth[application_token]"`
	Expires          string `schema:"auth[expires]"`
	ExpiresIn        string `schema:"auth[expires_in]"`
	Scope            string `schema:"auth[scope]"`
	Domain           string `schema:"auth[domain]"`
	ServerEndpoint   string `schema:"auth[server_endpoint]"`
	ClientEndpoint   string `schema:"auth[client_endpoint]"`
	Status           string `schema:"auth[status]"`
	MemberID         string `schema:"auth[member_id]"`
	UserID           string `schema:"auth[user_id]"`
	ClientID         string `schema:"auth[client_id]"`
}

func (e *envelope) wireAuth() wireAuth {
	return wireAuth{
		AccessToken: e.AccessToken, RefreshToken: e.RefreshToken, ApplicationToken: e.ApplicationToken,
		Expires: e.Expires, ExpiresIn: e.ExpiresIn, Scope: e.Scope, Domain: e.Domain,
		ServerEndpoint: e.ServerEndpoint, ClientEndpoint: e.ClientEndpoint, Status: e.Status,
		MemberID: e.MemberID, UserID: e.UserID, ClientID: e.ClientID,
	}
}

// Decoding and performance (a maintainers' note; users read the package
// doc). [Parse] and [ParseBody] read the body with the PHP bracket decoder
// (internal/phpform) into a tree, then decode Data from the tree directly,
// with the results encoding/json would give on the tree's JSON; types it
// does not model fall back to encoding/json, and a fuzz test checks the two
// agree. The tree's maps are then recycled for the next delivery, which is
// why RawData and Form parse the body again.
//
// The envelope (event, event_handler_id, ts, auth[...]) is flat, which is
// what gorilla/schema decodes; [ParseForm] uses it. On the hot path it
// costs about as much as decoding a whole CRM event, which would take the
// webhook handler below the throughput target (0.7x a bare net/http
// handler, see docs/BENCHMARKS.md), so Parse and ParseBody read the same
// sixteen keys (envelopeKeys) straight from the tree instead.
// FuzzEnvelopeReaders checks that both readers agree with schema on every
// input.

// envelopeKeys are the exact form keys of the envelope.
var envelopeKeys = []string{
	"event", "event_handler_id", "ts",
	"auth[access_token]", "auth[refresh_token]", "auth[application_token]",
	"auth[expires]", "auth[expires_in]", "auth[scope]", "auth[domain]",
	"auth[server_endpoint]", "auth[client_endpoint]", "auth[status]",
	"auth[member_id]", "auth[user_id]", "auth[client_id]",
}

var decoder = func() *schema.Decoder {
	d := schema.NewDecoder()
	d.IgnoreUnknownKeys(true)
	d.MaxSize(0)
	return d
}()

// Parse reads an event delivery from r with [DefaultLimits]. See
// [Limits.Parse].
func Parse(r *http.Request) (*Event, error) { return DefaultLimits.Parse(r) }

// bodyBufs recycles the buffers Parse reads bodies into: the parsed event
// keeps only a string copy of the body.
var bodyBufs = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledBody is the largest buffer kept in bodyBufs.
const maxPooledBody = 64 << 10

// readBody reads at most limit+1 bytes of the body, as io.ReadAll does,
// and returns them as a string: a body of its Content-Length is read into
// a buffer of that size that becomes the string, any other one by
// readRest.
func readBody(r *http.Request, limit int64) (string, error) {
	if n := r.ContentLength; n > 0 && n <= limit {
		// The usual case: read into a buffer of exactly that size, which
		// becomes the string (never written again): no copy.
		buf := make([]byte, n, n+1)
		k := 0
		for k < len(buf) {
			m, err := r.Body.Read(buf[k:])
			k += m
			if err == io.EOF { // shorter than its length
				return string(buf[:k]), nil
			}
			if err != nil {
				return "", err
			}
		}
		for {
			m, err := r.Body.Read(buf[n : n+1]) // the spare byte: EOF expected
			switch {
			case m > 0: // longer than its length
				return readRest(r, limit, buf[:n+1])
			case err == io.EOF:
				return unsafe.String(&buf[0], len(buf)), nil
			case err != nil:
				return "", err
			}
		}
	}
	return readRest(r, limit, nil)
}

// readRest reads the rest of the body after read (at most limit+1 bytes
// in all), as io.ReadAll does, into a recycled buffer, grown once to
// Content-Length when that is set and within the limit, and returns all
// of it as a string.
func readRest(r *http.Request, limit int64, read []byte) (string, error) {
	bp := bodyBufs.Get().(*[]byte)
	buf := (*bp)[:0]
	if n := r.ContentLength; n > 0 && n <= limit && int64(cap(buf)) < n+1 {
		buf = make([]byte, 0, n+1) // +1: room to see EOF without growing
	}
	if cap(buf) == 0 {
		buf = make([]byte, 0, 512)
	}
	buf = append(buf, read...)
	lr := io.LimitReader(r.Body, limit+1-int64(len(read)))
	var err error
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		var n int
		n, err = lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			break
		}
	}
	body := string(buf)
	if cap(buf) <= maxPooledBody {
		*bp = buf[:0]
		bodyBufs.Put(bp)
	}
	if err == io.EOF {
		err = nil
	}
	return body, err
}

// ParseBody decodes a raw form body with [DefaultLimits]. See
// [Limits.ParseBody].
func ParseBody(body []byte) (*Event, error) { return DefaultLimits.ParseBody(body) }

// ParseForm decodes already-parsed form values with [DefaultLimits]. See
// [Limits.ParseForm].
func ParseForm(form url.Values) (*Event, error) { return DefaultLimits.ParseForm(form) }

// Parse reads an event delivery: an application/x-www-form-urlencoded POST
// body (a missing Content-Type is accepted) of at most MaxBodySize bytes.
// It does not verify the event; see [Verifier].
//
// Errors wrap [ErrBodyTooLarge] or [ErrMalformed].
func (l Limits) Parse(r *http.Request) (*Event, error) {
	l = l.withDefaults()
	if ct := r.Header.Get("Content-Type"); ct != "" && ct != "application/x-www-form-urlencoded" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/x-www-form-urlencoded" {
			return nil, fmt.Errorf("%w: content type must be application/x-www-form-urlencoded", ErrMalformed)
		}
	}
	if r.Body == nil {
		return nil, fmt.Errorf("%w: empty body", ErrMalformed)
	}
	body, err := readBody(r, l.MaxBodySize)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, fmt.Errorf("%w: more than %d bytes", ErrBodyTooLarge, mbe.Limit)
		}
		return nil, fmt.Errorf("%w: reading body: %v", ErrMalformed, err)
	}
	if int64(len(body)) > l.MaxBodySize {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrBodyTooLarge, l.MaxBodySize)
	}
	return l.parse(body)
}

// ParseBody decodes a raw form body (the bytes of a delivery) with PHP's
// parse_str rules in one pass: later keys overwrite earlier ones and
// invalid %-escapes stay as they are. The envelope is read directly (see
// the package doc for why not through gorilla/schema).
func (l Limits) ParseBody(body []byte) (*Event, error) {
	l = l.withDefaults()
	if int64(len(body)) > l.MaxBodySize {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrBodyTooLarge, l.MaxBodySize)
	}
	return l.parse(string(body))
}

// parse decodes a body within the limits.
func (l Limits) parse(raw string) (*Event, error) {
	lim := phpform.Limits{MaxDepth: l.MaxDepth, MaxPairs: l.MaxPairs}
	tree, err := lim.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	ev, err := fromTree(tree, false)
	if err != nil {
		tree.Release()
		return nil, err
	}
	ev.body = raw
	// Nothing decoded points into the tree's maps (strings are cut from
	// raw), so they can serve the next delivery; RawData parses raw again.
	ev.raw.fromBody(raw, lim)
	tree.Release()
	return ev, nil
}

// ParseForm decodes an event from form values, for example
// http.Request.PostForm. The envelope goes through gorilla/schema; the
// data[...] tree through the PHP bracket decoder into the type registered
// for the event name, as encoding/json would decode the tree's JSON.
// Unknown events are not an error: their Data is *[Unknown].
//
// Errors wrap [ErrMalformed] (also for phpform's depth and size limits).
func (l Limits) ParseForm(form url.Values) (*Event, error) {
	l = l.withDefaults()
	tree, err := phpform.Limits{MaxDepth: l.MaxDepth, MaxPairs: l.MaxPairs}.FromValues(form)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	ev, err := fromTree(tree, true)
	if err != nil {
		return nil, err
	}
	ev.form = form
	return ev, nil
}

// fromTree builds an Event from a parsed form: the flat envelope through
// gorilla/schema (viaSchema) or the equivalent direct reader, data[...]
// decoded from the tree into the event's type (see decodeTree).
func fromTree(tree *phpform.Map, viaSchema bool) (*Event, error) {
	var env envelope
	if viaSchema {
		var err error
		if env, err = decodeEnvelope(flatEnvelope(tree)); err != nil {
			return nil, err
		}
	} else {
		env = readEnvelope(tree)
	}
	name := strings.ToUpper(strings.TrimSpace(env.Event))
	if name == "" {
		return nil, fmt.Errorf("%w: no event name", ErrMalformed)
	}
	ev := &Event{Name: name}
	hid, err := atoi("event_handler_id", env.HandlerID)
	if err != nil {
		return nil, err
	}
	ev.HandlerID = int(hid)
	ts, err := atoi("ts", env.TS)
	if err != nil {
		return nil, err
	}
	if ts > 0 {
		ev.TS = time.Unix(ts, 0)
	}
	if ev.Auth, err = env.wireAuth().auth(); err != nil {
		return nil, err
	}
	data := dataOf(tree)
	ev.raw = newRawData(data)
	if ev.Data, err = decodeTreeData(name, data, ev.raw); err != nil {
		return nil, err
	}
	return ev, nil
}

// dataOf returns the data[...] value of a form: nil when absent or an
// empty leaf.
func dataOf(tree *phpform.Map) any {
	v, ok := tree.Get("data")
	if s, leaf := v.(string); !ok || leaf && s == "" {
		return nil
	}
	return v
}

// readEnvelope reads the sixteen envelope keys straight from the tree: the
// same values gorilla/schema gets in decodeEnvelope (FuzzEnvelopeReaders
// checks that they agree).
func readEnvelope(tree *phpform.Map) envelope {
	leaf := (*phpform.Map).String // form trees have string leaves only
	a := tree.Map("auth")
	return envelope{
		Event: leaf(tree, "event"), HandlerID: leaf(tree, "event_handler_id"), TS: leaf(tree, "ts"),
		AccessToken: leaf(a, "access_token"), RefreshToken: leaf(a, "refresh_token"),
		ApplicationToken: leaf(a, "application_token"), Expires: leaf(a, "expires"),
		ExpiresIn: leaf(a, "expires_in"), Scope: leaf(a, "scope"), Domain: leaf(a, "domain"),
		ServerEndpoint: leaf(a, "server_endpoint"), ClientEndpoint: leaf(a, "client_endpoint"),
		Status: leaf(a, "status"), MemberID: leaf(a, "member_id"), UserID: leaf(a, "user_id"),
		ClientID: leaf(a, "client_id"),
	}
}

// flatEnvelope picks the envelope keys out of a parsed form, as the flat
// key → values map gorilla/schema takes. Only these exact keys are passed,
// which sidesteps schema's case-insensitive field matching and keeps
// data[...] out of it.
func flatEnvelope(tree *phpform.Map) map[string][]string {
	flat := make(map[string][]string, len(envelopeKeys))
	auth := tree.Map("auth")
	for _, k := range envelopeKeys {
		var v any
		var ok bool
		if inner, isAuth := strings.CutPrefix(k, "auth["); isAuth {
			v, ok = auth.Get(strings.TrimSuffix(inner, "]"))
		} else {
			v, ok = tree.Get(k)
		}
		if s, leaf := v.(string); ok && leaf {
			flat[k] = []string{s}
		}
	}
	return flat
}

// decodeEnvelope decodes the flat envelope with gorilla/schema (the path
// of ParseForm); FuzzEnvelopeReaders checks that it agrees with
// readEnvelope, the hot path's reader.
func decodeEnvelope(flat map[string][]string) (envelope, error) {
	var env envelope
	if err := decoder.Decode(&env, flat); err != nil {
		return env, fmt.Errorf("%w: envelope: %v", ErrMalformed, err)
	}
	return env, nil
}

// Form returns the raw form values of the delivery (tokens included: do
// not log them). For events read by Parse or ParseBody it decodes the body
// on each call (invalid escapes, which PHP tolerates, are dropped).
func (e *Event) Form() url.Values {
	if e.form == nil && e.body != "" {
		f, _ := url.ParseQuery(e.body)
		return f
	}
	return e.form
}

// RawData returns the data[...] tree as JSON in PHP's json_encode shape
// (lists as arrays, every leaf a string), or nil when the event had no data.
// It may contain tokens (bot events do): do not log it.
func (e *Event) RawData() json.RawMessage { return e.raw.get() }

// DecodeData decodes the data tree into out (a pointer) with encoding/json,
// for fields the typed structs do not model. Leaves are strings, so use
// bitrix.Int, bitrix.Bool and similar for non-string fields.
func (e *Event) DecodeData(out any) error {
	raw := e.raw.get()
	if raw == nil {
		return nil
	}
	return json.Unmarshal(raw, out)
}

// MemberID returns auth[member_id], the portal's stable id.
func (e *Event) MemberID() string { return e.Auth.MemberID }

// DedupeKey returns a key that is equal for two deliveries of the same
// event to the same handler: a hash of the member id, name, handler id, ts
// and data, without tokens (the auth block, and the bots' access_token,
// refresh_token, expires and expires_in inside data), since a resent event
// may carry fresh ones.
// Bitrix24 events have no id of their own, so two genuinely different
// events with identical data in the same second (say, two updates of one
// deal) share a key. Deduplicate effects that must not repeat (a
// notification); code that brings something in step with the portal's
// current state should be idempotent and not deduplicate, or it would miss
// the second change.
func (e *Event) DedupeKey() string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%d\x00%d\x00", e.Auth.MemberID, e.Name, e.HandlerID, e.TS.Unix())
	if raw := e.raw.get(); raw != nil {
		tree, err := phpform.ParseJSON(raw) // made by MarshalJSON: cannot fail
		if err != nil {
			h.Write(raw)
		} else {
			hashData(h, tree)
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// volatileKeys are the token fields that change each time a token is
// issued; bot events carry them inside data[BOT][id] and data[COMMAND][id].
var volatileKeys = map[string]bool{"access_token": true, "refresh_token": true, "expires": true, "expires_in": true}

// hashData writes the data tree to w in order, without volatileKeys.
func hashData(w io.Writer, v any) {
	m, ok := v.(*phpform.Map)
	if !ok {
		s, _ := phpform.LeafString(v)
		fmt.Fprintf(w, "%q", s)
		return
	}
	_, _ = io.WriteString(w, "{")
	for _, k := range m.Keys() {
		if volatileKeys[strings.ToLower(k)] {
			continue
		}
		fmt.Fprintf(w, "%q:", k)
		c, _ := m.Get(k)
		hashData(w, c)
	}
	_, _ = io.WriteString(w, "}")
}

// String describes the event without secrets or data.
func (e Event) String() string {
	return fmt.Sprintf("events.Event{Name:%s HandlerID:%d TS:%d MemberID:%q Domain:%q}",
		e.Name, e.HandlerID, e.TS.Unix(), e.Auth.MemberID, e.Auth.Domain)
}

// Format implements fmt.Formatter: every verb prints [Event.String], so
// neither tokens nor data reach a log line by accident.
func (e Event) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, e.String()) }

// LogValue implements slog.LogValuer without secrets or data.
func (e Event) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("name", e.Name),
		slog.Int("handler_id", e.HandlerID),
		slog.Int64("ts", e.TS.Unix()),
		slog.String("member_id", e.Auth.MemberID),
		slog.String("domain", e.Auth.Domain),
	)
}

// LogValue implements slog.LogValuer: the block without its tokens.
func (a Auth) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("member_id", a.MemberID),
		slog.String("domain", a.Domain),
		slog.Int("user_id", a.UserID),
		slog.Bool("has_tokens", a.HasTokens()),
	)
}

// MarshalJSON writes the block with every token as "[REDACTED]", so that
// JSON logging of an event's Data cannot leak the bots' tokens. Use
// [Auth.Token] to persist tokens.
func (a Auth) MarshalJSON() ([]byte, error) {
	type plain struct {
		AccessToken      string    `json:"access_token,omitempty"`
		RefreshToken     string    `json:"refresh_token,omitempty"`
		ApplicationToken string    `json:"application_token,omitempty"`
		Expires          time.Time `json:"expires,omitzero"`
		ExpiresIn        int       `json:"expires_in,omitempty"`
		Scope            string    `json:"scope,omitempty"`
		Domain           string    `json:"domain,omitempty"`
		ServerEndpoint   string    `json:"server_endpoint,omitempty"`
		ClientEndpoint   string    `json:"client_endpoint,omitempty"`
		Status           string    `json:"status,omitempty"`
		MemberID         string    `json:"member_id,omitempty"`
		UserID           int       `json:"user_id,omitempty"`
		ClientID         string    `json:"client_id,omitempty"`
	}
	return json.Marshal(plain{
		AccessToken: a.AccessToken.String(), RefreshToken: a.RefreshToken.String(),
		ApplicationToken: a.ApplicationToken.String(), Expires: a.Expires, ExpiresIn: a.ExpiresIn,
		Scope: a.Scope, Domain: a.Domain, ServerEndpoint: a.ServerEndpoint, ClientEndpoint: a.ClientEndpoint,
		Status: a.Status, MemberID: a.MemberID, UserID: a.UserID, ClientID: a.ClientID,
	})
}
