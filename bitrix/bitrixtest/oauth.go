package bitrixtest

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/b24go/sdk/internal/phpform"
)

// oauthServerRoot is where the fake's OAuth server is mounted. It has the
// layout of https://oauth.bitrix.info/: REST root "rest/", token endpoint
// "oauth/token/" (settings/oauth/auto-renewal.md: server_endpoint
// "https://oauth.bitrix.info/rest/", tokens from
// "https://oauth.bitrix.info/oauth/token/"). Clients derive the token URL
// from server_endpoint that way, so the fake must answer there.
const oauthServerRoot = "/oauth/"

type accessToken struct {
	userID  int
	expires time.Time
}

type refreshToken struct {
	userID  int
	expires time.Time
}

type authCode struct {
	userID  int
	expires time.Time
}

// IssueToken issues a fresh OAuth pair of the app for userID, as if the
// user had just authorized the app.
func (s *Server) IssueToken(userID int) Tokens {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueLocked(userID)
}

func (s *Server) issueLocked(userID int) Tokens {
	s.ensureUser(userID)
	now := s.now()
	at, rt := randHex(35), randHex(35)
	exp := now.Add(s.cfg.accessTTL)
	s.tokens[at] = &accessToken{userID: userID, expires: exp}
	s.refreshes[rt] = &refreshToken{userID: userID, expires: now.Add(s.cfg.refreshTTL)}
	return Tokens{
		AccessToken:    at,
		RefreshToken:   rt,
		Expires:        exp,
		MemberID:       s.app.MemberID,
		Domain:         s.app.Domain,
		ClientEndpoint: s.app.ClientEndpoint,
		ServerEndpoint: s.app.ServerEndpoint,
		Scope:          strings.Join(s.cfg.scope, ","),
		UserID:         userID,
	}
}

// IssueCode returns an authorization code for userID (lifetime 30 s), to
// exchange at the token endpoint with grant_type=authorization_code.
func (s *Server) IssueCode(userID int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	code := randHex(16)
	s.codes[code] = &authCode{userID: userID, expires: s.now().Add(30 * time.Second)}
	return code
}

// ExpireAccessTokens makes every access token issued so far expired, so the
// next call with one of them answers 401 expired_token.
func (s *Server) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	past := s.now().Add(-time.Second)
	for _, t := range s.tokens {
		t.expires = past
	}
}

// RevokeTokens forgets all access and refresh tokens: later calls answer
// invalid_token and refreshes answer invalid_grant.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = map[string]*accessToken{}
	s.refreshes = map[string]*refreshToken{}
}

// RefreshCount reports how many successful token refreshes the token
// endpoint has answered.
func (s *Server) RefreshCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nRefresh
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	body, _ := json.Marshal(v)
	writeBody(w, status, body)
}

func oauthErr(w http.ResponseWriter, status int, code, desc string) {
	m := map[string]string{"error": code}
	if desc != "" {
		m["error_description"] = desc
	}
	writeJSON(w, status, m)
}

// serveToken is the OAuth server's token endpoint (GET query or POST form).
// Injected faults (method "oauth.token", or any method) apply as on the
// REST endpoint: FaultDropAfter and FaultHTML500 run the grant first, so a
// refresh token is spent although the client never sees the new pair.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	params, err := readParams(r)
	if err != nil {
		oauthErr(w, 400, "invalid_request", "Malformed request")
		return
	}
	f := s.faults.pick("oauth.token")
	if f != nil && f.Latency > 0 && !s.delay(r, f.Latency) {
		return
	}
	if f != nil {
		switch f.Kind {
		case FaultDropBefore:
			hijackClose(w)
			return
		case FaultHTML502:
			writeHTMLPage(w, http.StatusBadGateway)
			return
		case FaultError:
			e := f.apiError()
			oauthErr(w, e.StatusCode, e.Code, e.Description)
			return
		}
	}
	status, body := s.grantToken(params)
	if f != nil {
		switch f.Kind {
		case FaultDropAfter:
			hijackClose(w)
			return
		case FaultHTML500:
			writeHTMLPage(w, http.StatusInternalServerError)
			return
		}
	}
	writeJSON(w, status, body)
}

// grantToken runs a token request and returns the answer to send.
func (s *Server) grantToken(params *phpform.Map) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, Call{Method: "oauth.token", Params: map[string]any{"grant_type": params.String("grant_type")}, AuthKind: AuthNone, Time: s.now()})
	logIdx := len(s.calls) - 1
	fail := func(status int, code, desc string) (int, any) {
		s.calls[logIdx].Status, s.calls[logIdx].Code = status, code
		return status, map[string]string{"error": code, "error_description": desc}
	}
	grant := params.String("grant_type")
	if grant == "" {
		return fail(400, "invalid_request", "grant_type is required")
	}
	if params.String("client_id") != s.app.ClientID || params.String("client_secret") != s.app.ClientSecret {
		return fail(401, "invalid_client", "Invalid client credentials")
	}
	if !s.installed {
		return fail(401, "invalid_client", "Application is not installed")
	}
	now := s.now()
	var userID int
	switch grant {
	case "refresh_token":
		rt := params.String("refresh_token")
		info := s.refreshes[rt]
		if info == nil || !now.Before(info.expires) {
			return fail(400, "invalid_grant", "Invalid refresh token")
		}
		if !s.cfg.reusableRefresh {
			delete(s.refreshes, rt)
		}
		userID = info.userID
		s.nRefresh++
	case "authorization_code":
		code := params.String("code")
		info := s.codes[code]
		if info == nil || !now.Before(info.expires) {
			return fail(400, "invalid_grant", "Invalid authorization code")
		}
		delete(s.codes, code)
		userID = info.userID
	default:
		return fail(400, "invalid_request", "Unsupported grant_type")
	}
	s.calls[logIdx].Status = 200
	t := s.issueLocked(userID)
	return 200, tokenResponse(t, s.app, now)
}

func tokenResponse(t Tokens, app App, now time.Time) *phpform.Map {
	m := phpform.NewMap()
	m.Set("access_token", t.AccessToken)
	m.Set("expires", t.Expires.Unix())
	m.Set("expires_in", int64(t.Expires.Sub(now).Round(time.Second)/time.Second))
	m.Set("scope", t.Scope)
	m.Set("domain", "oauth.bitrix.info")
	m.Set("server_endpoint", app.ServerEndpoint)
	m.Set("status", "L")
	m.Set("client_endpoint", app.ClientEndpoint)
	m.Set("member_id", app.MemberID)
	m.Set("user_id", t.UserID)
	m.Set("refresh_token", t.RefreshToken)
	return m
}

// serveAuthorize emulates the portal's /oauth/authorize/ page for user 1:
// it redirects to redirect_uri (query) with a code, like the real flow.
func (s *Server) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != s.app.ClientID {
		http.Error(w, "application not found", http.StatusNotFound)
		return
	}
	redirect := q.Get("redirect_uri")
	if redirect == "" {
		http.Error(w, "redirect_uri is not configured", http.StatusBadRequest)
		return
	}
	code := s.IssueCode(1)
	v := url.Values{}
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	v.Set("domain", s.app.Domain)
	v.Set("member_id", s.app.MemberID)
	s.mu.Lock()
	v.Set("scope", strings.Join(s.cfg.scope, ","))
	s.mu.Unlock()
	v.Set("server_domain", "oauth.bitrix.info")
	sep := "?"
	if strings.Contains(redirect, "?") {
		sep = "&"
	}
	http.Redirect(w, r, redirect+sep+v.Encode(), http.StatusFound)
}

func itoa(n int) string { return strconv.Itoa(n) }

// Format prints the server without the credentials it holds (its
// webhook secret, client secret, application token and issued tokens).
func (s *Server) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "bitrixtest.Server{url: %q, member_id: %q}", s.base, s.app.MemberID)
}

// LogValue implements slog.LogValuer: the app without its secrets.
func (a App) LogValue() slog.Value {
	return slog.GroupValue(slog.String("client_id", a.ClientID), slog.String("domain", a.Domain),
		slog.String("member_id", a.MemberID), slog.String("client_secret", "[REDACTED]"), slog.String("application_token", "[REDACTED]"))
}

// LogValue implements slog.LogValuer: the pair without its tokens.
func (t Tokens) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("user_id", t.UserID), slog.String("domain", t.Domain), slog.Time("expires", t.Expires),
		slog.String("access_token", "[REDACTED]"), slog.String("refresh_token", "[REDACTED]"))
}
