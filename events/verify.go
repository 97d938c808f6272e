package events

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"unsafe"

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

// Refusal reasons ([RefusalReason]): short codes that say why a delivery
// was refused without quoting anything secret. webhook.Handler puts them
// in the "reason" field of its 401 answer, in its log, and in
// [Delivery.Reason].
const (
	RefusedMissingToken   = "missing_token"        // no auth[application_token]
	RefusedTokenMismatch  = "token_mismatch"       // the token matches none configured or registered
	RefusedUnknownPortal  = "unknown_portal"       // the registry holds no token for auth[member_id] (no install seen)
	RefusedNoMemberID     = "missing_member_id"    // no auth[member_id] to look the portal's token up
	RefusedInstallProof   = "install_unverified"   // an install could not be proven (see [VerifyInstall])
	RefusedUnknownServer  = "unknown_oauth_server" // an install names an OAuth server not allowed (webhook.WithOAuthServers)
	RefusedInstallRefused = "install_rejected"     // the receiver's own install check refused it (webhook.WithInstallVerifier)
)

// errNoMemberID is wrapped with ErrTokenMismatch when the registry cannot
// be asked.
var errNoMemberID = errors.New("the event has no auth[member_id] to look up")

// RefusalReason returns the refusal code (a Refused constant) of an error
// of [Verifier.Verify] or [VerifyInstall], or "" for an error that is no
// refusal (a registry that failed, say).
func RefusalReason(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrUnknownPortal):
		return RefusedUnknownPortal
	case errors.Is(err, errNoMemberID):
		return RefusedNoMemberID
	case errors.Is(err, ErrMissingToken):
		return RefusedMissingToken
	case errors.Is(err, ErrTokenMismatch):
		return RefusedTokenMismatch
	case errors.Is(err, ErrInstallUnverified):
		return RefusedInstallProof
	}
	return ""
}

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

// Format prints the registry without its tokens: how many portals it
// holds. (fmt does not call the tokens' redacting methods inside
// unexported fields.)
func (r *MemoryRegistry) Format(f fmt.State, _ rune) {
	r.mu.RLock()
	n := len(r.m)
	r.mu.RUnlock()
	fmt.Fprintf(f, "events.MemoryRegistry{portals: %d}", n)
}

// Verifier authenticates deliveries by auth[application_token]: it
// accepts an event whose token equals one of the static tokens (outgoing
// webhooks, several apps, rotation) or the token the Registry holds for the
// event's member id. Comparisons take constant time ([MatchToken]). A
// Verifier is safe for concurrent use.
type Verifier struct {
	tokens   []bitrix.Secret
	registry Registry
}

// NewVerifier returns a Verifier over the static tokens and reg (either
// may be empty or nil; with neither, every event fails).
func NewVerifier(reg Registry, tokens ...string) *Verifier {
	v := &Verifier{registry: reg}
	for _, t := range tokens {
		if t != "" {
			v.tokens = append(v.tokens, bitrix.Secret(t))
		}
	}
	return v
}

// Format prints the verifier without its tokens.
func (v *Verifier) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "events.Verifier{tokens: %d, registry: %v}", len(v.tokens), v.registry != nil)
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
		return fmt.Errorf("%w: %w", ErrTokenMismatch, errNoMemberID)
	}
	want, err := v.registry.Lookup(ctx, ev.Auth.MemberID)
	if err != nil {
		if errors.Is(err, ErrUnknownPortal) {
			return fmt.Errorf("%w: %w", ErrTokenMismatch, ErrUnknownPortal)
		}
		return fmt.Errorf("events: looking up the application token: %w", err)
	}
	if want != "" && MatchToken(got, want) {
		return nil
	}
	return ErrTokenMismatch
}

// MatchToken reports whether got equals one of tokens. It compares with
// crypto/subtle.ConstantTimeCompare and always checks every candidate, so
// the time taken does not depend on which token (if any) matched or on how
// much of it did. It does depend on the lengths: a candidate of another
// length than got is passed over at once. The length of a token is not
// treated as a secret: every application token in the Bitrix24 docs has
// 32 characters.
func MatchToken(got bitrix.Secret, tokens ...bitrix.Secret) bool {
	// Token lengths: api-reference/events/index.md (docs repo). Hashing
	// both sides first, to hide the length, cost a refused delivery about
	// a tenth of its CPU (docs/BENCHMARKS.md, "Refused deliveries").
	if got == "" {
		return false
	}
	g := bytesOf(got.Reveal())
	ok := 0
	for _, t := range tokens {
		ok |= subtle.ConstantTimeCompare(g, bytesOf(t.Reveal()))
	}
	return ok == 1
}

// bytesOf returns the bytes of s without a copy, for reading only.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// Caller is the part of *bitrix.Client that [Consumer] uses.
type Caller interface {
	Call(ctx context.Context, method string, params any, out any) (*bitrix.Response, error)
}

// RefreshFunc exchanges a refresh token for a new pair at the OAuth server
// with the app's own client id and secret and returns the pair as the
// server describes it; [bitrix.RefreshToken] is one.
type RefreshFunc func(ctx context.Context, refreshToken bitrix.Secret) (bitrix.Token, error)

// VerifyInstall proves an ONAPPINSTALL or ONAPPUPDATE before its
// application token is trusted, and fails closed. It refreshes the event's
// auth[refresh_token] through refresh, which must talk to Bitrix24's
// authorization server with our app's client id and secret: only a refresh
// token issued to our app succeeds there. It then requires the answer to
// name the portal of the event: its member_id must equal auth[member_id]
// and the host of its client_endpoint must equal auth[domain] (and the host
// of auth[client_endpoint]). An answer without them is refused. On success
// it returns the new token pair, which replaces the event's (refresh
// tokens rotate: the event's one is spent).
//
// app.info with the event's access token is no proof: its documented
// answer ([app.info]) names neither the app's client id nor the portal, so
// a token of any app on any portal passes. The refresh answer does name the
// portal ([token renewal]).
// The cost is one token request per install.
//
// The proof is only as strong as the server refresh talks to: never one
// taken from the event alone, since a forged event can name a server of the
// forger's. The webhook package picks it from an allow list (see its
// WithOAuthServers).
//
// Errors wrap ErrInstallUnverified and quote no token.
//
// [app.info]: https://apidocs.bitrix24.com/api-reference/common/system/app-info.html
// [token renewal]: https://apidocs.bitrix24.com/settings/oauth/auto-renewal.html
func VerifyInstall(ctx context.Context, ev *Event, refresh RefreshFunc) (bitrix.Token, error) {
	if ev.Name != OnAppInstall && ev.Name != OnAppUpdate {
		return bitrix.Token{}, fmt.Errorf("%w: %s is not an install event", ErrInstallUnverified, ev.Name)
	}
	a := ev.Auth
	switch {
	case a.RefreshToken == "":
		return bitrix.Token{}, fmt.Errorf("%w: no auth[refresh_token]", ErrInstallUnverified)
	case a.MemberID == "":
		return bitrix.Token{}, fmt.Errorf("%w: no auth[member_id]", ErrInstallUnverified)
	case a.Domain == "":
		return bitrix.Token{}, fmt.Errorf("%w: no auth[domain]", ErrInstallUnverified)
	case a.ApplicationToken == "":
		return bitrix.Token{}, fmt.Errorf("%w: %w", ErrInstallUnverified, ErrMissingToken)
	}
	if a.ClientEndpoint != "" && !strings.EqualFold(hostOf(a.ClientEndpoint), a.Domain) {
		return bitrix.Token{}, fmt.Errorf("%w: auth[client_endpoint] is not on auth[domain]", ErrInstallUnverified)
	}
	tok, err := refresh(ctx, a.RefreshToken)
	if err != nil {
		return bitrix.Token{}, fmt.Errorf("%w: refreshing the event's token: %w", ErrInstallUnverified, err)
	}
	switch {
	case tok.MemberID == "" || hostOf(tok.ClientEndpoint) == "":
		return bitrix.Token{}, fmt.Errorf("%w: the OAuth server's answer does not name the portal", ErrInstallUnverified)
	case !strings.EqualFold(tok.MemberID, a.MemberID):
		return bitrix.Token{}, fmt.Errorf("%w: the token belongs to another portal (member id %.40q, not %.40q)", ErrInstallUnverified, tok.MemberID, a.MemberID)
	case !strings.EqualFold(hostOf(tok.ClientEndpoint), a.Domain):
		return bitrix.Token{}, fmt.Errorf("%w: the token belongs to another portal (%.80q, not %.80q)", ErrInstallUnverified, hostOf(tok.ClientEndpoint), a.Domain)
	case tok.AccessToken == "":
		return bitrix.Token{}, fmt.Errorf("%w: the OAuth server's answer has no access token", ErrInstallUnverified)
	}
	tok.Domain = hostOf(tok.ClientEndpoint)
	return tok, nil
}

// hostOf returns the host (with port) of an absolute URL, or "".
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return ""
	}
	return u.Host
}
