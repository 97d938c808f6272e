package events

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/b24go/sdk/bitrix"
)

// Verification errors. None of them quotes a token.
var (
	// ErrMissingToken means the event has no auth[application_token].
	ErrMissingToken = errors.New("events: auth[application_token] is missing")
	// ErrTokenMismatch means auth[application_token] matches no configured
	// or registered token.
	ErrTokenMismatch = errors.New("events: auth[application_token] does not match")
	// ErrUnknownPortal is returned by Registry.Lookup for a member id
	// without a stored token; Verify wraps it together with
	// ErrTokenMismatch.
	ErrUnknownPortal = errors.New("events: no application token stored for this portal")
	// ErrInstallUnverified means an ONAPPINSTALL/ONAPPUPDATE could not be
	// confirmed with the portal (see [VerifyInstall]).
	ErrInstallUnverified = errors.New("events: app install event could not be verified with the portal")
)

// Registry stores the application token of each portal, keyed by member
// id. The token arrives with ONAPPINSTALL (and changes with ONAPPUPDATE);
// every later event of that portal must carry it. Implementations must be
// safe for concurrent use.
type Registry interface {
	// Lookup returns the token stored for memberID, or an error wrapping
	// ErrUnknownPortal.
	Lookup(ctx context.Context, memberID string) (bitrix.Secret, error)
	// Store saves token for memberID, replacing any previous one.
	Store(ctx context.Context, memberID string, token bitrix.Secret) error
	// Delete forgets memberID (deleting an unknown id is not an error).
	Delete(ctx context.Context, memberID string) error
}

// MemoryRegistry is an in-process [Registry].
type MemoryRegistry struct {
	mu sync.RWMutex
	m  map[string]bitrix.Secret
}

// NewMemoryRegistry returns an empty registry.
func NewMemoryRegistry() *MemoryRegistry { return &MemoryRegistry{m: map[string]bitrix.Secret{}} }

// Lookup implements [Registry].
func (r *MemoryRegistry) Lookup(_ context.Context, memberID string) (bitrix.Secret, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	t, ok := r.m[memberID]
	if !ok {
		return "", ErrUnknownPortal
	}
	return t, nil
}

// Store implements [Registry].
func (r *MemoryRegistry) Store(_ context.Context, memberID string, token bitrix.Secret) error {
	if memberID == "" || token == "" {
		return errors.New("events: registry: member id and token must not be empty")
	}
	r.mu.Lock()
	r.m[memberID] = token
	r.mu.Unlock()
	return nil
}

// Delete implements [Registry].
func (r *MemoryRegistry) Delete(_ context.Context, memberID string) error {
	r.mu.Lock()
	delete(r.m, memberID)
	r.mu.Unlock()
	return nil
}

// Verifier authenticates deliveries by auth[application_token]: it
// accepts an event whose token equals one of the static tokens (outgoing
// webhooks, several apps, rotation) or the token the Registry holds for the
// event's member id. Comparisons take constant time. A Verifier is safe for
// concurrent use.
type Verifier struct {
	tokens   [][sha256.Size]byte
	registry Registry
}

// NewVerifier returns a Verifier over the static tokens and reg (either
// may be empty or nil; with neither, every event fails).
func NewVerifier(reg Registry, tokens ...string) *Verifier {
	v := &Verifier{registry: reg}
	for _, t := range tokens {
		if t != "" {
			v.tokens = append(v.tokens, sha256.Sum256([]byte(t)))
		}
	}
	return v
}

// Registry returns the registry the Verifier consults (may be nil).
func (v *Verifier) Registry() Registry { return v.registry }

// Verify checks ev.Auth.ApplicationToken. It returns nil, or an error
// wrapping ErrMissingToken or ErrTokenMismatch (and ErrUnknownPortal when
// the registry has no token for the portal).
func (v *Verifier) Verify(ctx context.Context, ev *Event) error {
	got := ev.Auth.ApplicationToken
	if got == "" {
		return ErrMissingToken
	}
	if MatchToken(got, v.tokens...) {
		return nil
	}
	if v.registry == nil {
		return ErrTokenMismatch
	}
	if ev.Auth.MemberID == "" {
		return fmt.Errorf("%w: the event has no auth[member_id] to look up", ErrTokenMismatch)
	}
	want, err := v.registry.Lookup(ctx, ev.Auth.MemberID)
	if err != nil {
		if errors.Is(err, ErrUnknownPortal) {
			return fmt.Errorf("%w: %w", ErrTokenMismatch, ErrUnknownPortal)
		}
		return fmt.Errorf("events: looking up the application token: %w", err)
	}
	if want != "" && MatchToken(got, sha256.Sum256([]byte(want.Reveal()))) {
		return nil
	}
	return ErrTokenMismatch
}

// MatchToken reports whether got equals one of the tokens, given as
// SHA-256 digests. It compares digests with crypto/subtle and always
// checks every candidate, so the time taken does not depend on which
// token (if any) matched or on how much of it did.
func MatchToken(got bitrix.Secret, digests ...[sha256.Size]byte) bool {
	if got == "" {
		return false
	}
	g := sha256.Sum256([]byte(got.Reveal()))
	ok := 0
	for i := range digests {
		ok |= subtle.ConstantTimeCompare(g[:], digests[i][:])
	}
	return ok == 1
}

// Caller is the part of *bitrix.Client that [VerifyInstall] and
// [Consumer] use.
type Caller interface {
	Call(ctx context.Context, method string, params any, out any) (*bitrix.Response, error)
}

// AppInfo is the result of app.info.
type AppInfo struct {
	ID             bitrix.Int  `json:"ID"`
	Code           string      `json:"CODE"`
	Version        bitrix.Int  `json:"VERSION"`
	Status         string      `json:"STATUS"`
	Installed      bitrix.Bool `json:"INSTALLED"`
	PaymentExpired bitrix.Bool `json:"PAYMENT_EXPIRED"`
	LanguageID     string      `json:"LANGUAGE_ID"`
	License        string      `json:"LICENSE"`
	// ClientID and MemberID are compared with ours and the event's when
	// the answering server includes them.
	ClientID string `json:"-"`
	MemberID string `json:"-"`
}

// VerifyInstall confirms an ONAPPINSTALL or ONAPPUPDATE before its
// application token is trusted: it calls app.info through c, a client
// authenticated with the event's own access token, and requires the call to
// succeed and the answer's client id and member id (when present) to equal
// clientID and the event's member_id. An attacker who forges the event
// without a valid token for our app on that portal fails here.
//
// The check is only as strong as the server c talks to: build c for
// Bitrix24's authorization server (https://oauth.bitrix.info/rest/, as the
// docs advise for a trusted answer), never for an address taken from the
// event alone, since a forged event can name a server of the forger's. The
// webhook package does this (see its WithOAuthServers).
//
// Errors wrap ErrInstallUnverified.
func VerifyInstall(ctx context.Context, c Caller, ev *Event, clientID string) (*AppInfo, error) {
	if ev.Name != OnAppInstall && ev.Name != OnAppUpdate {
		return nil, fmt.Errorf("%w: %s is not an install event", ErrInstallUnverified, ev.Name)
	}
	switch {
	case !ev.Auth.HasTokens():
		return nil, fmt.Errorf("%w: no auth[access_token]", ErrInstallUnverified)
	case ev.Auth.MemberID == "":
		return nil, fmt.Errorf("%w: no auth[member_id]", ErrInstallUnverified)
	case ev.Auth.ApplicationToken == "":
		return nil, fmt.Errorf("%w: %w", ErrInstallUnverified, ErrMissingToken)
	}
	var raw json.RawMessage
	if _, err := c.Call(ctx, "app.info", nil, &raw); err != nil {
		return nil, fmt.Errorf("%w: app.info: %w", ErrInstallUnverified, err)
	}
	var info AppInfo
	if err := json.Unmarshal(raw, &info); err != nil {
		return nil, fmt.Errorf("%w: app.info: unexpected result", ErrInstallUnverified)
	}
	var ids map[string]json.RawMessage
	_ = json.Unmarshal(raw, &ids)
	info.ClientID = pickString(ids, "client_id", "CLIENT_ID")
	info.MemberID = pickString(ids, "member_id", "MEMBER_ID")
	if info.ClientID != "" && clientID != "" && info.ClientID != clientID {
		return nil, fmt.Errorf("%w: the token belongs to another application", ErrInstallUnverified)
	}
	if info.MemberID != "" && !strings.EqualFold(info.MemberID, ev.Auth.MemberID) {
		return nil, fmt.Errorf("%w: the token belongs to another portal", ErrInstallUnverified)
	}
	return &info, nil
}

func pickString(m map[string]json.RawMessage, keys ...string) string {
	for _, k := range keys {
		var s string
		if json.Unmarshal(m[k], &s) == nil && s != "" {
			return s
		}
	}
	return ""
}
