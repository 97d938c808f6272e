package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/internal/phpform"
)

// Raw is a delivery whose envelope (event name and the credentials in
// its auth block) is read and whose data is not decoded yet: a receiver
// checks the application token on it before paying for the data
// ([Limits.ReadAny]), and a queue keeps its body ([Raw.Body]) to decode
// the event later ([Limits.Decode]).
type Raw struct {
	// Name is the event name, upper-cased, as [Event.Name].
	Name string

	token  bitrix.Secret
	member string
	body   string
	json   bool
	lim    phpform.Limits // those it was read with, for Auth
}

// ApplicationToken returns auth[application_token], as [Event.Auth] has
// it.
func (r *Raw) ApplicationToken() bitrix.Secret { return r.token }

// MemberID returns auth[member_id], as [Event.Auth] has it.
func (r *Raw) MemberID() string { return r.member }

// Auth reads the whole auth block, as [Limits.Decode] gives it in
// [Event.Auth]. [Limits.ReadAny] reads only what a receiver checks, so
// that a delivery it refuses costs little; Auth reads the body again.
func (r *Raw) Auth() Auth {
	var w wireAuth
	if r.json {
		var err error
		if w, err = jsonAuth(r.body); err != nil {
			return Auth{} // ReadAny read it: not reached
		}
	} else {
		env, _ := formEnvelope(r.lim, r.body, true) // ReadAny read it
		w = env.wireAuth()
	}
	a, _ := w.auth() // ReadAny checked its numbers
	return a
}

// Body returns the delivery's body as received (tokens included: do not
// log it).
func (r *Raw) Body() string { return r.body }

// IsJSON reports whether the body is a JSON delivery (else a form).
func (r *Raw) IsJSON() bool { return r.json }

// ReadAny reads a delivery as [Limits.ParseAny] does, but decodes only its
// envelope: the form's event and auth[...] keys (the other pairs are
// scanned, not decoded; of the auth block only the application token, the
// member id and the numbers are unescaped and checked), or the JSON body's
// "event" and "auth". Decode the event with [Limits.Decode]; an envelope it
// accepts is the one Decode gives. Errors wrap [ErrBodyTooLarge] or
// [ErrMalformed].
func (l Limits) ReadAny(r *http.Request) (*Raw, error) {
	l = l.withDefaults()
	var ct string
	if v := r.Header["Content-Type"]; len(v) > 0 { // the key as net/http and Header.Set store it
		ct = v[0]
	}
	if ct != formType && IsJSON(ct) { // the form's own type, as Bitrix24 sends it, needs no parsing
		body, err := io.ReadAll(io.LimitReader(r.Body, l.MaxBodySize+1))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, fmt.Errorf("%w: more than %d bytes", ErrBodyTooLarge, l.MaxBodySize)
			}
			return nil, fmt.Errorf("%w: reading body: %v", ErrMalformed, err)
		}
		return l.ReadBody(body, true)
	}
	if ct != "" && !isFormType(ct) {
		return nil, fmt.Errorf("%w: content type must be application/x-www-form-urlencoded", ErrMalformed)
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
	return l.readBody(body, false)
}

// ReadBody is [Limits.ReadAny] for a body already read: a JSON delivery
// when isJSON, else a form.
func (l Limits) ReadBody(body []byte, isJSON bool) (*Raw, error) {
	return l.withDefaults().readBody(string(body), isJSON)
}

// envelopeName reports the top-level form names Raw is read from.
func envelopeName(name string) bool { return name == "event" || name == "auth" }

// scanEnvelope reads the envelope of a form body without building a tree
// (phpform.Limits.ScanFlat): the common case, where event and every
// auth[...] key come in their plain form. ok is false when the body needs
// the tree (readEnvelope of ParseNames), whose result it otherwise equals
// (FuzzEnvelopeReaders). With all false, only the fields ReadAny checks
// are unescaped (event, the application token, the member id and the
// numbers); the others are left as the body has them.
func scanEnvelope(pl phpform.Limits, body string, all bool) (env envelope, ok bool) {
	plain := true
	ok = pl.ScanFlat(body, envelopeName, func(name, sub, v string) {
		if name == "event" {
			if sub != "" {
				plain = false
			}
			env.Event = v
			return
		}
		switch sub {
		case "":
			plain = false
		case "access_token":
			env.AccessToken = v
		case "refresh_token":
			env.RefreshToken = v
		case "application_token":
			env.ApplicationToken = v
		case "expires":
			env.Expires = v
		case "expires_in":
			env.ExpiresIn = v
		case "scope":
			env.Scope = v
		case "domain":
			env.Domain = v
		case "server_endpoint":
			env.ServerEndpoint = v
		case "client_endpoint":
			env.ClientEndpoint = v
		case "status":
			env.Status = v
		case "member_id":
			env.MemberID = v
		case "user_id":
			env.UserID = v
		case "client_id":
			env.ClientID = v
		}
	})
	if !ok || !plain {
		return env, false
	}
	// The last value of each key won: unescape only those, and of those
	// only the ones asked for.
	un := phpform.Unescape
	env.Event, env.ApplicationToken, env.MemberID = un(env.Event), un(env.ApplicationToken), un(env.MemberID)
	env.Expires, env.ExpiresIn, env.UserID = un(env.Expires), un(env.ExpiresIn), un(env.UserID)
	if all {
		env.AccessToken, env.RefreshToken, env.Scope = un(env.AccessToken), un(env.RefreshToken), un(env.Scope)
		env.Domain, env.ServerEndpoint, env.ClientEndpoint = un(env.Domain), un(env.ServerEndpoint), un(env.ClientEndpoint)
		env.Status, env.ClientID = un(env.Status), un(env.ClientID)
	}
	return env, true
}

// formEnvelope reads the envelope of a form body: by scanEnvelope, or
// from the tree of its envelope names when the scan cannot tell (then
// every field is unescaped, whatever all says).
func formEnvelope(pl phpform.Limits, body string, all bool) (envelope, error) {
	if env, ok := scanEnvelope(pl, body, all); ok {
		return env, nil
	}
	tree, err := pl.ParseNames(body, envelopeName)
	if err != nil {
		return envelope{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	env := readEnvelope(tree)
	tree.ReleaseNames()
	return env, nil
}

// jsonAuth reads the auth block of a JSON body.
func jsonAuth(body string) (wireAuth, error) {
	var env struct {
		Auth map[string]any `json:"auth"`
	}
	if err := json.Unmarshal([]byte(body), &env); err != nil {
		return wireAuth{}, fmt.Errorf("%w: JSON body: %v", ErrMalformed, redactJSONError(err))
	}
	return wireAuthOf(env.Auth)
}

func (l Limits) readBody(body string, isJSON bool) (*Raw, error) {
	if int64(len(body)) > l.MaxBodySize {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrBodyTooLarge, l.MaxBodySize)
	}
	pl := phpform.Limits{MaxDepth: l.MaxDepth, MaxPairs: l.MaxPairs}
	raw := &Raw{body: body, json: isJSON, lim: pl}
	var w wireAuth
	if isJSON {
		if depth := jsonDepth([]byte(body)); depth > l.MaxDepth+1 {
			return nil, fmt.Errorf("%w: nesting deeper than %d", ErrMalformed, l.MaxDepth)
		}
		var env struct {
			Event string         `json:"event"`
			Auth  map[string]any `json:"auth"`
		}
		if err := json.Unmarshal([]byte(body), &env); err != nil {
			return nil, fmt.Errorf("%w: JSON body: %v", ErrMalformed, redactJSONError(err))
		}
		raw.Name = env.Event
		var err error
		if w, err = wireAuthOf(env.Auth); err != nil {
			return nil, err
		}
	} else {
		env, err := formEnvelope(pl, body, false)
		if err != nil {
			return nil, err
		}
		raw.Name = env.Event
		w = wireAuth{ApplicationToken: env.ApplicationToken, MemberID: env.MemberID,
			Expires: env.Expires, ExpiresIn: env.ExpiresIn, UserID: env.UserID}
	}
	raw.Name = strings.ToUpper(strings.TrimSpace(raw.Name))
	if raw.Name == "" {
		return nil, fmt.Errorf("%w: no event name", ErrMalformed)
	}
	for _, n := range [...]struct{ field, v string }{
		{"auth[expires]", w.Expires}, {"auth[expires_in]", w.ExpiresIn}, {"auth[user_id]", w.UserID},
	} {
		if _, err := atoi(n.field, n.v); err != nil { // as wireAuth.auth, which Decode and Auth use
			return nil, err
		}
	}
	raw.token, raw.member = bitrix.Secret(w.ApplicationToken), w.MemberID
	return raw, nil
}

// Decode decodes the whole delivery r was read from, as [Limits.ParseBody]
// or [Limits.ParseJSON] does.
func (l Limits) Decode(r *Raw) (*Event, error) {
	l = l.withDefaults()
	if r.json {
		return l.ParseJSON([]byte(r.body))
	}
	return l.parse(r.body)
}

// formType is the content type of a form delivery.
const formType = "application/x-www-form-urlencoded"

// isFormType reports whether ct is application/x-www-form-urlencoded.
func isFormType(ct string) bool {
	if ct == formType {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/x-www-form-urlencoded"
}
