package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// BotAuth is the auth block of a v2 bot in webhook mode (data.bot.auth,
// [bot format]): OAuth tokens for callbacks. It decodes from strings (form
// deliveries) and JSON scalars alike, and prints and marshals without its
// tokens, as [Auth] does.
//
// [bot format]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/events/events.html#bot-format
type BotAuth struct{ Auth }

// UnmarshalJSON reads the auth block; numbers and strings are both accepted.
func (a *BotAuth) UnmarshalJSON(b []byte) error {
	if isEmptyScalar(b) {
		*a = BotAuth{}
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("events: bot auth: %w", err)
	}
	w, err := wireAuthOf(m)
	if err != nil {
		return err
	}
	au, err := w.auth()
	if err != nil {
		return err
	}
	a.Auth = au
	return nil
}

// wireAuthOf reads an auth object whose scalars may be JSON numbers.
func wireAuthOf(m map[string]any) (wireAuth, error) {
	s := func(k string) (string, error) {
		switch v := m[k].(type) {
		case nil:
			return "", nil
		case string:
			return v, nil
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64), nil
		case bool:
			if v {
				return "1", nil
			}
			return "0", nil
		default:
			return "", fmt.Errorf("%w: auth[%s] is not a scalar", ErrMalformed, k)
		}
	}
	var w wireAuth
	for _, f := range []struct {
		k string
		p *string
	}{
		{"access_token", &w.AccessToken}, {"refresh_token", &w.RefreshToken},
		{"application_token", &w.ApplicationToken}, {"expires", &w.Expires},
		{"expires_in", &w.ExpiresIn}, {"scope", &w.Scope}, {"domain", &w.Domain},
		{"server_endpoint", &w.ServerEndpoint}, {"client_endpoint", &w.ClientEndpoint},
		{"status", &w.Status}, {"member_id", &w.MemberID}, {"user_id", &w.UserID},
		{"client_id", &w.ClientID},
	} {
		v, err := s(f.k)
		if err != nil {
			return w, err
		}
		*f.p = v
	}
	return w, nil
}

// IsJSON reports whether a delivery's Content-Type is JSON.
func IsJSON(contentType string) bool {
	ct := strings.ToLower(strings.TrimSpace(contentType))
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = strings.TrimSpace(ct[:i])
	}
	return ct == "application/json" || strings.HasSuffix(ct, "+json")
}

// ParseAny reads a delivery from r in either encoding: a JSON body
// (Content-Type application/json) with [Limits.ParseJSON], anything else
// with [Limits.Parse]. Chatbots 2.0 docs disagree on the body of
// webhook-mode deliveries: the [webhook payload] is
// application/x-www-form-urlencoded via http_build_query, the handler
// sample of [webhook mode] reads php://input with json_decode.
//
// [webhook payload]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/events/events.html#webhook-payload
// [webhook mode]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/index.html#webhook
func (l Limits) ParseAny(r *http.Request) (*Event, error) {
	// The disagreement: docs/CONFORMANCE.md, "Chatbots 2.0".
	if !IsJSON(r.Header.Get("Content-Type")) {
		return l.Parse(r)
	}
	l = l.withDefaults()
	body, err := io.ReadAll(io.LimitReader(r.Body, l.MaxBodySize+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, fmt.Errorf("%w: more than %d bytes", ErrBodyTooLarge, l.MaxBodySize)
		}
		return nil, fmt.Errorf("%w: reading body: %v", ErrMalformed, err)
	}
	return l.ParseJSON(body)
}

// jsonEnvelope is a JSON-encoded delivery.
type jsonEnvelope struct {
	Event     string          `json:"event"`
	HandlerID json.RawMessage `json:"event_handler_id"`
	TS        json.RawMessage `json:"ts"`
	Data      json.RawMessage `json:"data"`
	Auth      map[string]any  `json:"auth"`
}

// ParseJSON decodes a JSON-encoded delivery ({"event":..., "data":{...},
// "ts":..., "auth":{...}}) within the limits. Data is typed as [Parse]
// types it; errors wrap [ErrMalformed] or [ErrBodyTooLarge].
func (l Limits) ParseJSON(body []byte) (*Event, error) {
	l = l.withDefaults()
	if int64(len(body)) > l.MaxBodySize {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrBodyTooLarge, l.MaxBodySize)
	}
	if depth := jsonDepth(body); depth > l.MaxDepth+1 {
		return nil, fmt.Errorf("%w: nesting deeper than %d", ErrMalformed, l.MaxDepth)
	}
	var env jsonEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("%w: JSON body: %v", ErrMalformed, redactJSONError(err))
	}
	name := strings.ToUpper(strings.TrimSpace(env.Event))
	if name == "" {
		return nil, fmt.Errorf("%w: no event name", ErrMalformed)
	}
	ev := &Event{Name: name}
	hid, err := jsonInt("event_handler_id", env.HandlerID)
	if err != nil {
		return nil, err
	}
	ev.HandlerID = int(hid)
	ts, err := jsonInt("ts", env.TS)
	if err != nil {
		return nil, err
	}
	if ts > 0 {
		ev.TS = time.Unix(ts, 0)
	}
	w, err := wireAuthOf(env.Auth)
	if err != nil {
		return nil, err
	}
	if ev.Auth, err = w.auth(); err != nil {
		return nil, err
	}
	data := env.Data
	if isEmptyScalar(data) {
		data = nil
	}
	ev.raw = &rawData{json: data}
	if ev.Data, err = decodeData(name, data); err != nil {
		return nil, err
	}
	return ev, nil
}

// FromJSON builds an Event from an event fetched as JSON rather than
// delivered, for example an item of imbot.v2.Event.get: name is its type,
// ts its date, data its data object. The event has no Auth.
func FromJSON(name string, ts time.Time, data json.RawMessage) (*Event, error) {
	name = strings.ToUpper(strings.TrimSpace(name))
	if name == "" {
		return nil, fmt.Errorf("%w: no event name", ErrMalformed)
	}
	if isEmptyScalar(data) {
		data = nil
	}
	ev := &Event{Name: name, TS: ts, raw: &rawData{json: data}}
	var err error
	if ev.Data, err = decodeData(name, data); err != nil {
		return nil, err
	}
	return ev, nil
}

// jsonInt reads an optional non-negative integer sent as a number or string.
func jsonInt(field string, raw json.RawMessage) (int64, error) {
	if isEmptyScalar(raw) {
		return 0, nil
	}
	s := string(bytes.TrimSpace(raw))
	if uq, err := strconv.Unquote(s); err == nil {
		s = uq
	}
	return atoi(field, s)
}

// jsonDepth returns the deepest nesting of objects and arrays in b.
func jsonDepth(b []byte) int {
	depth, maxDepth := 0, 0
	inStr, esc := false, false
	for _, c := range b {
		switch {
		case inStr && esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case inStr && c == '"':
			inStr = false
		case inStr:
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			depth++
			if depth > maxDepth {
				maxDepth = depth
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return maxDepth
}

// ParseJSON decodes a JSON-encoded delivery with [DefaultLimits]. See
// [Limits.ParseJSON].
func ParseJSON(body []byte) (*Event, error) { return DefaultLimits.ParseJSON(body) }

// ParseAny reads a delivery in either encoding with [DefaultLimits]. See
// [Limits.ParseAny].
func ParseAny(r *http.Request) (*Event, error) { return DefaultLimits.ParseAny(r) }
