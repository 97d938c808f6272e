package bitrixtest

import (
	"net/url"
	"strings"
	"testing"
)

// TestTokenURLDerivedFromServerEndpoint plays a third-party OAuth client
// that, like the official JS SDK, finds the token endpoint from the
// server_endpoint it was given: server_endpoint minus "rest/" plus
// "oauth/token/", which maps the documented pair
// https://oauth.bitrix.info/rest/ → https://oauth.bitrix.info/oauth/token/
// (settings/oauth/auto-renewal.md). Against the fake it must refresh, and
// the answer must name the portal the way the docs show.
func TestTokenURLDerivedFromServerEndpoint(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	app := s.App()
	tok := s.IssueToken(1)
	if !strings.HasSuffix(tok.ServerEndpoint, "/rest/") {
		t.Fatalf("server_endpoint %q does not end in /rest/", tok.ServerEndpoint)
	}
	derived := strings.TrimSuffix(tok.ServerEndpoint, "rest/") + "oauth/token/"
	if derived != app.TokenURL {
		t.Errorf("derived token URL %q, App.TokenURL %q", derived, app.TokenURL)
	}
	form := url.Values{"grant_type": {"refresh_token"}, "client_id": {app.ClientID}, "client_secret": {app.ClientSecret}, "refresh_token": {tok.RefreshToken}}
	r := do(t, "POST", derived, "application/x-www-form-urlencoded", form.Encode())
	if r.Status != 200 {
		t.Fatalf("refresh at the derived URL: %d %s", r.Status, r.Raw)
	}
	// settings/oauth/auto-renewal.md: member_id names the portal,
	// client_endpoint its REST root, domain the OAuth server.
	if r.Body["member_id"] != app.MemberID || r.Body["client_endpoint"] != app.ClientEndpoint ||
		r.Body["domain"] != "oauth.bitrix.info" || r.Body["server_endpoint"] != tok.ServerEndpoint {
		t.Errorf("token answer: %s", r.Raw)
	}
	mustOK(t, callToken(t, s, "user.current", r.Body["access_token"].(string), nil))
	// The server_endpoint of the answer derives to the same token URL, so
	// the next refresh works too.
	next := strings.TrimSuffix(r.Body["server_endpoint"].(string), "rest/") + "oauth/token/"
	form.Set("refresh_token", r.Body["refresh_token"].(string))
	if r := do(t, "POST", next, "application/x-www-form-urlencoded", form.Encode()); r.Status != 200 {
		t.Errorf("second refresh: %d %s", r.Status, r.Raw)
	}
	// The fake's OAuth server answers REST at its server_endpoint too.
	mustOK(t, do(t, "POST", tok.ServerEndpoint+"app.info", "application/x-www-form-urlencoded", "auth="+url.QueryEscape(s.IssueToken(1).AccessToken)))
	if s.RefreshCount() != 2 {
		t.Errorf("RefreshCount = %d", s.RefreshCount())
	}
}
