package bitrix

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultTokenURL is the OAuth server's token endpoint (west region).
const DefaultTokenURL = "https://oauth.bitrix.info/oauth/token/"

// Auth is how a Client authenticates: an inbound webhook URL ([WebhookURL])
// or an OAuth application's token pair ([OAuth]). Only this package builds
// Auth values.
type Auth interface {
	isAuth()
}

// webhookAuth is an inbound webhook: https://portal/rest/{user}/{secret}/.
type webhookAuth struct {
	raw    string // kept only to validate; never printed
	scheme string
	host   string
	user   string
	secret Secret
}

func (*webhookAuth) isAuth() {}

// Format prints the webhook without its secret.
func (w *webhookAuth) Format(f fmt.State, _ rune) {
	_, _ = io.WriteString(f, "bitrix.WebhookURL("+w.scheme+"://"+w.host+"/rest/"+w.user+"/"+redacted+"/)")
}

// WebhookURL authenticates with an inbound webhook URL of the form
// https://portal.bitrix24.com/rest/{user}/{secret}/ (the trailing slash is
// optional). The URL is validated by [New]; plain http:// needs
// [WithAllowHTTP].
func WebhookURL(rawURL string) Auth {
	return &webhookAuth{raw: rawURL}
}

var errWebhookShape = errors.New("bitrix: webhook URL must look like https://portal.bitrix24.com/rest/{user}/{secret}/")

func (w *webhookAuth) parse(allowHTTP bool) error {
	raw := strings.TrimSpace(w.raw)
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return errWebhookShape
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%w (no user info, query or fragment)", errWebhookShape)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !allowHTTP {
			return fmt.Errorf("%w: plain http:// is refused (the portal requires HTTPS); use bitrix.WithAllowHTTP for loopback test portals", errWebhookShape)
		}
	default:
		return errWebhookShape
	}
	parts := strings.Split(strings.TrimSuffix(u.Path, "/"), "/")
	// "", "rest", user, secret
	if len(parts) != 4 || parts[0] != "" || parts[1] != "rest" || parts[2] == "" || parts[3] == "" {
		return errWebhookShape
	}
	if _, err := strconv.Atoi(parts[2]); err != nil {
		return fmt.Errorf("%w: the user part must be a numeric user id", errWebhookShape)
	}
	for _, r := range parts[3] {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_' || r == '-') {
			return fmt.Errorf("%w: the secret has unexpected characters", errWebhookShape)
		}
	}
	w.scheme, w.host, w.user, w.secret = u.Scheme, strings.ToLower(u.Host), parts[2], Secret(parts[3])
	return nil
}

// base returns scheme://host/rest/user/secret/ (secret revealed: for the wire only).
func (w *webhookAuth) base() string {
	return w.scheme + "://" + w.host + "/rest/" + w.user + "/" + w.secret.Reveal() + "/"
}

// Token is an OAuth token pair with what the token endpoint says about it.
type Token struct {
	AccessToken  Secret `json:"access_token"`
	RefreshToken Secret `json:"refresh_token"`
	// Expires is when AccessToken expires (zero = unknown).
	Expires time.Time `json:"expires"`
	// MemberID is the 32-hex portal id, stable across domain changes: the
	// key for token stores.
	MemberID string `json:"member_id"`
	// Domain is the portal host, e.g. "portal.bitrix24.com" (not the OAuth
	// server's "domain" field of the token response).
	Domain string `json:"domain"`
	// ClientEndpoint is the portal's REST root, "https://portal/rest/".
	ClientEndpoint string `json:"client_endpoint"`
	// ServerEndpoint is the OAuth server's REST root.
	ServerEndpoint string `json:"server_endpoint,omitempty"`
	Scope          string `json:"scope,omitempty"`
	Status         string `json:"status,omitempty"`
	UserID         int    `json:"user_id,omitempty"`
}

// tokenWire is the stored form of a Token: the same JSON layout, with the
// secrets as plain strings. Only MarshalBinary and UnmarshalBinary use it.
type tokenWire struct {
	AccessToken    string    `json:"access_token"`
	RefreshToken   string    `json:"refresh_token"`
	Expires        time.Time `json:"expires"`
	MemberID       string    `json:"member_id"`
	Domain         string    `json:"domain"`
	ClientEndpoint string    `json:"client_endpoint"`
	ServerEndpoint string    `json:"server_endpoint,omitempty"`
	Scope          string    `json:"scope,omitempty"`
	Status         string    `json:"status,omitempty"`
	UserID         int       `json:"user_id,omitempty"`
}

// MarshalBinary returns the stored form of the token for a [TokenStore]:
// JSON with the access and refresh tokens in clear. It is the only encoding
// of a Token that carries them (fmt, log/slog and encoding/json redact
// them); keep its output out of logs.
func (t Token) MarshalBinary() ([]byte, error) {
	return json.Marshal(tokenWire{
		AccessToken: t.AccessToken.Reveal(), RefreshToken: t.RefreshToken.Reveal(), Expires: t.Expires,
		MemberID: t.MemberID, Domain: t.Domain, ClientEndpoint: t.ClientEndpoint, ServerEndpoint: t.ServerEndpoint,
		Scope: t.Scope, Status: t.Status, UserID: t.UserID,
	})
}

// UnmarshalBinary reads what [Token.MarshalBinary] wrote. It refuses a
// redacted token ("[REDACTED]" in place of a secret).
func (t *Token) UnmarshalBinary(b []byte) error {
	var w tokenWire
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("bitrix: decoding a stored token: %w", err)
	}
	if w.AccessToken == redacted || w.RefreshToken == redacted {
		return errRedactedSecret
	}
	*t = Token{
		AccessToken: Secret(w.AccessToken), RefreshToken: Secret(w.RefreshToken), Expires: w.Expires,
		MemberID: w.MemberID, Domain: w.Domain, ClientEndpoint: w.ClientEndpoint, ServerEndpoint: w.ServerEndpoint,
		Scope: w.Scope, Status: w.Status, UserID: w.UserID,
	}
	return nil
}

// LogValue implements slog.LogValuer: the token without its secrets.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("member_id", t.MemberID),
		slog.String("domain", t.Domain),
		slog.Time("expires", t.Expires),
		slog.String("scope", t.Scope),
		slog.Int("user_id", t.UserID),
		slog.String("access_token", t.AccessToken.String()),
		slog.String("refresh_token", t.RefreshToken.String()),
	)
}

// App identifies an OAuth application.
type App struct {
	ClientID     string
	ClientSecret Secret
	// TokenURL is the token endpoint; "" means DefaultTokenURL.
	TokenURL string
}

// Format prints the app without its secret.
func (a App) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "bitrix.App{ClientID:%q, ClientSecret:%s, TokenURL:%q}", a.ClientID, a.ClientSecret.String(), a.TokenURL)
}

// String is Format's %v.
func (a App) String() string { return fmt.Sprintf("%v", a) }

// LogValue implements slog.LogValuer: the app without its secret.
func (a App) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("client_id", a.ClientID),
		slog.String("client_secret", a.ClientSecret.String()),
		slog.String("token_url", a.TokenURL),
	)
}

type oauthAuth struct {
	tok   Token
	app   App
	store TokenStore
}

func (*oauthAuth) isAuth() {}

// Format prints the auth without secrets.
func (o *oauthAuth) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "bitrix.OAuth(member %q, domain %q, client %q)", o.tok.MemberID, o.tok.Domain, o.app.ClientID)
}

// OAuth authenticates as an OAuth application with tok. The pair is
// refreshed at app.TokenURL when the portal reports expired_token or
// invalid_token (or before sending, when tok.Expires has passed), and every
// new pair is saved to store; a nil store means a [MemoryTokenStore].
//
// tok needs AccessToken and RefreshToken, and ClientEndpoint or Domain.
// If the store already holds a token for the portal key (MemberID, or the
// portal host when the member id is unknown), the stored one is used.
func OAuth(tok Token, app App, store TokenStore) Auth {
	return &oauthAuth{tok: tok, app: app, store: store}
}

// portalKey returns the token-store key: member id, else the portal host.
func (t Token) portalKey() string {
	if t.MemberID != "" {
		return t.MemberID
	}
	if t.Domain != "" {
		return strings.ToLower(t.Domain)
	}
	if u, err := url.Parse(t.ClientEndpoint); err == nil {
		return strings.ToLower(u.Host)
	}
	return ""
}

// TokenStore persists the OAuth pair of each portal under a key (the
// member id, or the portal host when the member id is unknown).
type TokenStore interface {
	// LoadToken returns the stored token, or ErrTokenNotFound.
	LoadToken(ctx context.Context, key string) (Token, error)
	// SaveToken stores tok under key.
	SaveToken(ctx context.Context, key string, tok Token) error
}

// ErrTokenNotFound is returned by TokenStore.LoadToken when nothing is stored.
var ErrTokenNotFound = errors.New("bitrix: token not found")

// RefreshLocker is implemented by token stores shared between processes.
// The client holds the lock around "reload the token; if the store already
// has an access token other than the one that failed, use it; else refresh
// at the token endpoint and save", so that a fleet refreshes once.
type RefreshLocker interface {
	LockRefresh(ctx context.Context, key string) (unlock func(), err error)
}

// TokenDeleter is implemented by token stores that can forget a portal's
// pair, as the webhook receiver does when an app is uninstalled, so that no
// credentials of a portal that removed the app linger in the store.
type TokenDeleter interface {
	// DeleteToken removes the token stored under key; a missing key is not
	// an error.
	DeleteToken(ctx context.Context, key string) error
}

// TokenInitializer is implemented by token stores shared between processes
// that can save a token only when none is stored yet, atomically. The
// client saves the token given to [OAuth] through it when the store is
// empty, so that a replica starting up never overwrites a pair that
// another replica has meanwhile refreshed (the refresh token in the given
// pair may already be rotated away).
type TokenInitializer interface {
	// SaveTokenIfAbsent stores tok under key if nothing is stored there and
	// reports saved = true; otherwise it returns the stored token and
	// saved = false.
	SaveTokenIfAbsent(ctx context.Context, key string, tok Token) (stored Token, saved bool, err error)
}
