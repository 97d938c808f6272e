package bitrixtest

import (
	"errors"
	"maps"
	"strings"
	"time"

	"github.com/b24go/sdk/internal/phpform"
)

// MethodFunc implements one REST method of the portal. Every built-in
// method is one (see the methods_*.go files, one per method family), and
// [Server.Handle] installs one as a stub.
//
// It runs with the portal locked: it must not call methods of the
// [Server]. It returns the answer's result, or an error:
//   - an [*APIError] answers that error envelope (inside a batch, the
//     command's result_error entry);
//   - a [Fault] of a connection kind ([FaultDropAfter], [FaultDropBefore],
//     [FaultHTML500], [FaultHTML502]) breaks the HTTP answer that carries
//     the call (the whole batch when the call is a batch command) as that
//     fault does; a Fault of kind [FaultError] answers its error envelope;
//   - any other error, or a panic, answers 500 INTERNAL_SERVER_ERROR with
//     the error's text as error_description.
type MethodFunc func(r *Request) (Result, error)

// Result is what a [MethodFunc] answers: the envelope's "result" and, for
// list methods, "total" and "next". Value is encoded as encoding/json does
// (maps with sorted keys); inside a batch, $result[key][...] references
// walk into it.
type Result struct {
	Value any
	Total *int // "total", when not nil
	Next  *int // "next", when not nil
}

// Caller is the identity a call was authenticated with.
type Caller struct {
	Auth     AuthKind // AuthWebhook or AuthOAuth; AuthNone for a portal user's action through the control API
	UserID   int      // the webhook's user, or the user the OAuth token was issued to
	ClientID string   // OAuth: the application's client id; "" for webhooks
}

// Request is one method call as a [MethodFunc] sees it: top level, or one
// command of a batch (with the batch's caller and $result references
// already resolved).
type Request struct {
	s         *Server
	method    string
	params    *phpform.Map
	auth      authInfo
	now       time.Time
	inBatch   bool
	connector string
	out       *[]delivery
	fault     **Fault // the connection fault a handler asked for (shared by a batch's commands)
}

// Method returns the lower-case method name.
func (r *Request) Method() string { return r.method }

// Params returns the decoded parameters without credentials, in the shape
// of [Call].Params: nested maps as map[string]any (lists as []any), leaves
// as the strings of a form or the values of a JSON body (json.Number for
// numbers). The map is a copy.
func (r *Request) Params() map[string]any {
	return plainParams(r.params)
}

// plainParams renders parameters in the shape of [Call].Params: a map even
// when the keys are 0..n-1 (phpform.Plain would make that a list).
func plainParams(m *phpform.Map) map[string]any {
	out := make(map[string]any, m.Len())
	for _, k := range m.Keys() {
		v, _ := m.Get(k)
		out[k] = phpform.Plain(v)
	}
	return out
}

// Caller returns who made the call.
func (r *Request) Caller() Caller {
	return Caller{Auth: r.auth.kind, UserID: r.auth.userID, ClientID: r.auth.clientID}
}

// InBatch reports whether the call is a command inside a batch.
func (r *Request) InBatch() bool { return r.inBatch }

// Time returns the portal's time of the call.
func (r *Request) Time() time.Time { return r.now }

func ok(v any) (Result, error) { return Result{Value: v}, nil }

// methodSpec is one entry of a server's method table.
type methodSpec struct {
	h       MethodFunc
	scope   string // the scope the method needs ("" or "basic": none)
	appOnly bool   // OAuth application auth only (event.*)
}

// method is one built-in method as its family file lists it.
type method struct {
	name  string
	scope string
	h     MethodFunc
}

// builtins is the built-in method table, keyed by lower-case name. A
// server copies it at start ([Server.Handle] edits the copy).
var builtins = buildTable(
	[][]method{basicMethods, crmMethods, productRowMethods, listsMethods, imMethods, imv2Methods},
	eventMethods, // OAuth application auth only
)

func buildTable(families [][]method, appOnly []method) map[string]methodSpec {
	t := map[string]methodSpec{}
	add := func(ms []method, app bool) {
		for _, m := range ms {
			name := strings.ToLower(m.name)
			if _, dup := t[name]; dup {
				panic("bitrixtest: method " + name + " listed twice")
			}
			t[name] = methodSpec{h: m.h, scope: m.scope, appOnly: app}
		}
	}
	for _, fam := range families {
		add(fam, false)
	}
	add(appOnly, true)
	return t
}

func newMethodTable() map[string]methodSpec { return maps.Clone(builtins) }

// toAPIError turns what a MethodFunc returned into the answer's error,
// recording a connection fault in r.fault.
func (r *Request) toAPIError(err error) *APIError {
	if err == nil {
		return nil
	}
	var ae *APIError
	if errors.As(err, &ae) {
		if ae == nil {
			return nil // a nil *APIError in an error interface
		}
		cp := *ae
		if cp.StatusCode == 0 {
			cp.StatusCode = 400
		}
		return &cp
	}
	var f Fault
	var fp *Fault
	switch {
	case errors.As(err, &f):
	case errors.As(err, &fp) && fp != nil:
		f = *fp
	default:
		return errf(500, "INTERNAL_SERVER_ERROR", "%s", err.Error())
	}
	if f.Kind == FaultError {
		return f.apiError()
	}
	if r.fault != nil && *r.fault == nil {
		*r.fault = &f
	}
	return nil
}
