package bitrix

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/b24go/sdk/internal/transport"
)

// expirySkew is how long before the recorded expiry a token counts as expired.
const expirySkew = 5 * time.Second

type oauthState struct {
	app      App
	tokenURL string
	store    TokenStore
	key      string

	mu     sync.Mutex
	tok    Token
	loaded bool
	old    []Secret // replaced tokens, still redacted from dumps and logs
	// refused is the refresh token the token endpoint answered invalid_grant
	// to, and refusedErr that answer: callers that still hold it fail with
	// the same error instead of asking again.
	refused    Secret
	refusedErr error

	sf singleflight.Group
}

func newOAuthState(a *oauthAuth, allowHTTP bool) (*oauthState, error) {
	tok := a.tok
	if tok.AccessToken == "" && tok.RefreshToken == "" {
		return nil, errors.New("bitrix: OAuth: the token needs an access token or a refresh token")
	}
	if tok.ClientEndpoint == "" {
		if tok.Domain == "" {
			return nil, errors.New("bitrix: OAuth: the token needs ClientEndpoint (https://portal/rest/) or Domain")
		}
		tok.ClientEndpoint = "https://" + tok.Domain + "/rest/"
	}
	ce, err := url.Parse(tok.ClientEndpoint)
	if err != nil || ce.Host == "" || ce.User != nil || ce.RawQuery != "" {
		return nil, errors.New("bitrix: OAuth: ClientEndpoint must look like https://portal.bitrix24.com/rest/")
	}
	if err := checkScheme("ClientEndpoint", ce.Scheme, allowHTTP); err != nil {
		return nil, err
	}
	if !strings.HasSuffix(tok.ClientEndpoint, "/") {
		tok.ClientEndpoint += "/"
	}
	if tok.Domain == "" {
		tok.Domain = ce.Host
	}
	tokenURL := a.app.TokenURL
	if tokenURL == "" {
		tokenURL = DefaultTokenURL
	}
	tu, err := url.Parse(tokenURL)
	if err != nil || tu.Host == "" || tu.RawQuery != "" || tu.User != nil {
		return nil, errors.New("bitrix: OAuth: App.TokenURL must look like https://oauth.bitrix.info/oauth/token/")
	}
	if err := checkScheme("App.TokenURL", tu.Scheme, allowHTTP); err != nil {
		return nil, err
	}
	if tok.RefreshToken != "" && (a.app.ClientID == "" || a.app.ClientSecret == "") {
		return nil, errors.New("bitrix: OAuth: App.ClientID and App.ClientSecret are needed to refresh tokens")
	}
	store := a.store
	if store == nil {
		store = NewMemoryTokenStore(nil)
	}
	return &oauthState{app: a.app, tokenURL: tokenURL, store: store, key: tok.portalKey(), tok: tok}, nil
}

func checkScheme(what, scheme string, allowHTTP bool) error {
	switch scheme {
	case "https":
		return nil
	case "http":
		if allowHTTP {
			return nil
		}
		return fmt.Errorf("bitrix: OAuth: %s uses plain http://; use https or bitrix.WithAllowHTTP for loopback test portals", what)
	}
	return fmt.Errorf("bitrix: OAuth: %s must be an https URL", what)
}

func (s *oauthState) secrets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []string{s.tok.AccessToken.Reveal(), s.tok.RefreshToken.Reveal(), s.app.ClientSecret.Reveal()}
	for _, o := range s.old {
		out = append(out, o.Reveal())
	}
	return out
}

// current returns the token to send: loaded from the store on first use,
// refreshed first when its expiry has passed.
func (s *oauthState) current(ctx context.Context, c *Client) (Token, error) {
	s.mu.Lock()
	loaded := s.loaded
	s.mu.Unlock()
	if !loaded {
		if err := s.load(ctx); err != nil {
			return Token{}, err
		}
	}
	s.mu.Lock()
	tok := s.tok
	s.mu.Unlock()
	if tok.AccessToken == "" || (!tok.Expires.IsZero() && !time.Now().Before(tok.Expires.Add(-expirySkew))) {
		return s.refresh(ctx, c, tok.AccessToken)
	}
	return tok, nil
}

// load adopts the stored token when it is newer than the one given to
// OAuth, or saves the given one when the store has none (through
// TokenInitializer when the store has it).
func (s *oauthState) load(ctx context.Context) error {
	stored, err := s.store.LoadToken(ctx, s.key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loaded {
		return nil
	}
	switch {
	case errors.Is(err, ErrTokenNotFound):
		tok := s.tok
		s.mu.Unlock()
		var serr error
		if ti, ok := s.store.(TokenInitializer); ok {
			// Another process may have saved (and refreshed) a pair since
			// our load: never overwrite it with the given one.
			var saved bool
			if stored, saved, serr = ti.SaveTokenIfAbsent(ctx, s.key, tok); serr == nil && !saved {
				err = nil
			}
		} else {
			serr = s.store.SaveToken(ctx, s.key, tok)
		}
		s.mu.Lock()
		if serr != nil {
			return fmt.Errorf("bitrix: saving the OAuth token: %w", serr)
		}
		if err == nil && s.newer(stored) {
			s.adopt(stored)
		}
	case err != nil:
		return fmt.Errorf("bitrix: loading the OAuth token: %w", err)
	default:
		if s.newer(stored) {
			s.adopt(stored)
		}
	}
	s.loaded = true
	return nil
}

// newer reports whether a stored token should replace the given one;
// s.mu must be held.
func (s *oauthState) newer(stored Token) bool {
	return stored.AccessToken != "" && (s.tok.Expires.IsZero() || !stored.Expires.Before(s.tok.Expires))
}

// adopt makes tok current; s.mu must be held.
func (s *oauthState) adopt(tok Token) {
	if tok.ClientEndpoint == "" {
		tok.ClientEndpoint = s.tok.ClientEndpoint
	}
	if tok.Domain == "" {
		tok.Domain = s.tok.Domain
	}
	if tok.MemberID == "" {
		tok.MemberID = s.tok.MemberID
	}
	if s.tok.AccessToken != "" && s.tok.AccessToken != tok.AccessToken {
		s.old = append(s.old, s.tok.AccessToken)
	}
	if s.tok.RefreshToken != "" && s.tok.RefreshToken != tok.RefreshToken {
		s.old = append(s.old, s.tok.RefreshToken)
	}
	if len(s.old) > 16 {
		s.old = s.old[len(s.old)-16:]
	}
	s.tok = tok
}

// refresh replaces the access token failed (the one a call was rejected
// with, or an expired one) exactly once for all concurrent callers.
func (s *oauthState) refresh(ctx context.Context, c *Client, failed Secret) (Token, error) {
	start := time.Now()
	defer func() { c.observeWait(ctx, "", ReasonRefresh, time.Since(start)) }()
	ch := s.sf.DoChan("refresh", func() (any, error) {
		// The flight is shared: one caller's cancellation must not fail the others.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.timeout+10*time.Second)
		defer cancel()
		return s.doRefresh(fctx, c, failed)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return Token{}, r.Err
		}
		return r.Val.(Token), nil
	case <-ctx.Done():
		return Token{}, ctx.Err()
	}
}

func (s *oauthState) usable(t Token, failed Secret) bool {
	return t.AccessToken != "" && t.AccessToken != failed &&
		(t.Expires.IsZero() || time.Now().Before(t.Expires.Add(-expirySkew)))
}

func (s *oauthState) doRefresh(ctx context.Context, c *Client, failed Secret) (Token, error) {
	s.mu.Lock()
	if s.usable(s.tok, failed) {
		tok := s.tok
		s.mu.Unlock()
		return tok, nil // refreshed by an earlier flight
	}
	s.mu.Unlock()
	if l, ok := s.store.(RefreshLocker); ok {
		unlock, err := l.LockRefresh(ctx, s.key)
		if err != nil {
			return Token{}, fmt.Errorf("%w: locking: %w", ErrRefresh, err)
		}
		defer unlock()
	}
	// Reload: another process may have refreshed already.
	start := time.Now()
	stored, err := s.store.LoadToken(ctx, s.key)
	switch {
	case err == nil:
		if s.usable(stored, failed) {
			s.mu.Lock()
			s.adopt(stored)
			tok := s.tok
			s.mu.Unlock()
			c.log.LogAttrs(ctx, slog.LevelInfo, "bitrix OAuth token reloaded from the store", slog.String("portal", s.key))
			c.observeRefresh(ctx, start, true, nil)
			return tok, nil
		}
		s.mu.Lock()
		if stored.RefreshToken != "" {
			// The stored refresh token is the newest known one.
			cur := s.tok
			cur.RefreshToken = stored.RefreshToken
			s.adopt(cur)
		}
		s.mu.Unlock()
	case errors.Is(err, ErrTokenNotFound):
	default:
		return Token{}, fmt.Errorf("%w: reloading the token: %w", ErrRefresh, err)
	}
	s.mu.Lock()
	old := s.tok
	refused, refusedErr := s.refused, s.refusedErr
	s.mu.Unlock()
	if old.RefreshToken == "" {
		return Token{}, fmt.Errorf("%w: no refresh token", ErrRefresh)
	}
	if refused != "" && old.RefreshToken == refused {
		// The endpoint already refused this refresh token; only a new one
		// (from the store, or a reinstall) can help.
		return Token{}, refusedErr
	}
	tok, err := s.exchange(ctx, c, old)
	c.observeRefresh(ctx, start, false, err)
	if err != nil {
		if errors.Is(err, ErrInvalidGrant) {
			s.mu.Lock()
			s.refused, s.refusedErr = old.RefreshToken, err
			s.mu.Unlock()
		}
		c.log.LogAttrs(ctx, slog.LevelError, "bitrix OAuth refresh failed", slog.String("portal", s.key), slog.String("error", c.red.text(err.Error())))
		return Token{}, err
	}
	s.mu.Lock()
	s.adopt(tok)
	tok = s.tok
	s.mu.Unlock()
	if err := s.store.SaveToken(ctx, s.key, tok); err != nil {
		return tok, fmt.Errorf("%w: saving the new token: %w", ErrRefresh, err)
	}
	c.log.LogAttrs(ctx, slog.LevelInfo, "bitrix OAuth token refreshed", slog.String("portal", s.key))
	return tok, nil
}

type tokenResponse struct {
	AccessToken      string          `json:"access_token"`
	RefreshToken     string          `json:"refresh_token"`
	Expires          Int             `json:"expires"`
	ExpiresIn        Int             `json:"expires_in"`
	MemberID         string          `json:"member_id"`
	ClientEndpoint   string          `json:"client_endpoint"`
	ServerEndpoint   string          `json:"server_endpoint"`
	Scope            string          `json:"scope"`
	Status           string          `json:"status"`
	UserID           Int             `json:"user_id"`
	Error            json.RawMessage `json:"error"`
	ErrorDescription json.RawMessage `json:"error_description"`
}

// exchange posts grant_type=refresh_token to the token endpoint. The
// secrets travel in the form body only.
func (s *oauthState) exchange(ctx context.Context, c *Client, old Token) (Token, error) {
	form := url.Values{}
	form.Set("grant_type", "refresh_token")
	form.Set("client_id", s.app.ClientID)
	form.Set("client_secret", s.app.ClientSecret.Reveal())
	form.Set("refresh_token", old.RefreshToken.Reveal())
	body := []byte(form.Encode())
	const what = "oauth/token"
	if err := c.limiterless(ctx); err != nil {
		return Token{}, err
	}
	// The lifetime counts from when the request left: the server started
	// its clock no earlier, so a token is never thought fresher than it is.
	sent := time.Now()
	res, err := c.http.Do(ctx, transport.Request{URL: s.tokenURL, ContentType: ctypeForm, Body: body})
	c.dumpExchange(what, s.tokenURL, ctypeForm, body, res, err)
	if err != nil {
		var te *transport.Error
		if errors.As(err, &te) {
			return Token{}, fmt.Errorf("%w: %w", ErrRefresh, &TransportError{Method: what, Sent: te.Sent, Timeout: te.Timeout, Err: te.Err})
		}
		return Token{}, fmt.Errorf("%w: %w", ErrRefresh, err)
	}
	var tr tokenResponse
	if jerr := json.Unmarshal(res.Body, &tr); jerr != nil {
		return Token{}, fmt.Errorf("%w: %w", ErrRefresh, &ResponseError{StatusCode: res.Status, Method: what,
			ContentType: res.Header.Get("Content-Type"), Snippet: c.red.snippet(res.Body, 200), Err: errors.New("invalid JSON")})
	}
	if tr.Error != nil && string(tr.Error) != "null" && string(tr.Error) != `""` {
		return Token{}, fmt.Errorf("%w: %w", ErrRefresh, c.redactAPI(apiErrorFrom(what, res.Status, tr.Error, tr.ErrorDescription, nil)))
	}
	if res.Status >= 300 || tr.AccessToken == "" {
		return Token{}, fmt.Errorf("%w: %w", ErrRefresh, &ResponseError{StatusCode: res.Status, Method: what,
			ContentType: res.Header.Get("Content-Type"), Snippet: c.red.snippet(res.Body, 200), Err: errors.New("no access token in the answer")})
	}
	tok := Token{
		AccessToken:    Secret(tr.AccessToken),
		RefreshToken:   Secret(tr.RefreshToken),
		MemberID:       tr.MemberID,
		ClientEndpoint: tr.ClientEndpoint,
		ServerEndpoint: tr.ServerEndpoint,
		Scope:          tr.Scope,
		Status:         tr.Status,
		UserID:         int(tr.UserID),
		Domain:         old.Domain,
	}
	if tok.RefreshToken == "" {
		tok.RefreshToken = old.RefreshToken
	}
	// expires_in counts on our clock (from sent); expires is a moment on the
	// OAuth server's clock, which may be off from ours by any amount (an
	// hour ahead here would make every token look expired on arrival). So
	// expires counts only when the answer has no expires_in.
	// (settings/oauth/auto-renewal.md: "expires_in: the lifetime of
	// access_token in seconds"; "expires: the expiration moment".)
	switch {
	case tr.ExpiresIn > 0:
		tok.Expires = sent.Add(time.Duration(tr.ExpiresIn) * time.Second)
	case tr.Expires > 0:
		tok.Expires = time.Unix(int64(tr.Expires), 0)
	}
	if tok.ClientEndpoint != "" {
		if u, err := url.Parse(tok.ClientEndpoint); err == nil && u.Host != "" && (u.Scheme == "https" || c.cfg.allowHTTP) {
			tok.Domain = u.Host
		} else {
			tok.ClientEndpoint = old.ClientEndpoint
		}
	} else {
		tok.ClientEndpoint = old.ClientEndpoint
	}
	if tok.MemberID == "" {
		tok.MemberID = old.MemberID
	}
	if tok.UserID == 0 {
		tok.UserID = old.UserID
	}
	if tok.Scope == "" {
		tok.Scope = old.Scope
	}
	return tok, nil
}

// limiterless is the hook for the token endpoint: it is not the portal, so
// the portal's limiter does not apply; only the context is checked.
func (c *Client) limiterless(ctx context.Context) error { return ctx.Err() }

// RefreshToken exchanges refreshToken for a new pair at app.TokenURL
// (grant_type=refresh_token with app's client id and secret) and returns
// the pair as the OAuth server describes it: MemberID from its member_id,
// ClientEndpoint and Domain from its client_endpoint (empty when the
// answer lacks them). It stores nothing. opts are the client options that
// apply to one request (transport, timeout, logger, dump dir,
// [WithAllowHTTP]).
//
// Only a refresh token the server issued to this app succeeds, which makes
// the answer a proof of what the token belongs to: the webhook package
// verifies app install events with it (see events.VerifyInstall).
// Refresh tokens rotate: after success the given one is spent.
func RefreshToken(ctx context.Context, app App, refreshToken Secret, opts ...Option) (Token, error) {
	if refreshToken == "" {
		return Token{}, fmt.Errorf("%w: no refresh token", ErrRefresh)
	}
	tokenURL := app.TokenURL
	if tokenURL == "" {
		tokenURL = DefaultTokenURL
	}
	// A client whose only job is this exchange: its "portal" is the token
	// endpoint, which New validates like a portal address, and its token
	// holds the refresh token and client secret so that dumps and logs
	// redact them.
	c, err := New(OAuth(Token{RefreshToken: refreshToken, ClientEndpoint: tokenURL}, app, nil), opts...)
	if err != nil {
		return Token{}, err
	}
	return c.oauth.exchange(ctx, c, Token{RefreshToken: refreshToken})
}
