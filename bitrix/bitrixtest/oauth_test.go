package bitrixtest

import (
	"io"
	"net/http"
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

// TestTokenEndpointFaults: injected faults apply to the OAuth token
// endpoint as to REST calls. FaultHTML500 and FaultDropAfter run the grant
// first: the refresh token is spent though the client never got the new
// pair, which a client must survive.
func TestTokenEndpointFaults(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	app := s.App()
	refresh := func(rt string) (resp, error) {
		form := url.Values{"grant_type": {"refresh_token"}, "client_id": {app.ClientID}, "client_secret": {app.ClientSecret}, "refresh_token": {rt}}
		res, err := http.Post(app.TokenURL, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		if err != nil {
			return resp{}, err
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		return resp{Status: res.StatusCode, Raw: string(raw), Header: res.Header}, nil
	}
	spent := func(name, rt string) {
		t.Helper()
		if r, err := refresh(rt); err != nil || r.Status != 400 || !strings.Contains(r.Raw, "invalid_grant") {
			t.Errorf("%s: refresh token not spent: %v %d %s", name, err, r.Status, r.Raw)
		}
	}

	tok := s.IssueToken(1)
	s.HTML500(1)
	r, err := refresh(tok.RefreshToken)
	if err != nil || r.Status != 500 || r.Header.Get("Content-Type") != "text/html" || !strings.Contains(r.Raw, "500 Internal Server Error") {
		t.Errorf("HTML500: %v %d %q %s", err, r.Status, r.Header.Get("Content-Type"), r.Raw)
	}
	spent("HTML500", tok.RefreshToken)

	tok = s.IssueToken(1)
	s.InjectFault(Fault{Kind: FaultDropAfter, Method: "oauth.token", Times: 1})
	if _, err := refresh(tok.RefreshToken); err == nil {
		t.Error("DropAfter: the token request got an answer")
	}
	spent("DropAfter", tok.RefreshToken)

	for _, f := range []Fault{{Kind: FaultDropBefore, Method: "oauth.token", Times: 1}, {Kind: FaultHTML502, Times: 1}, {Kind: FaultError, Method: "OAUTH.TOKEN", Times: 1}} {
		tok = s.IssueToken(1)
		s.InjectFault(f)
		r, err := refresh(tok.RefreshToken)
		switch f.Kind {
		case FaultDropBefore:
			if err == nil {
				t.Error("DropBefore: the token request got an answer")
			}
		case FaultHTML502:
			if err != nil || r.Status != 502 || r.Header.Get("Content-Type") != "text/html" {
				t.Errorf("HTML502: %v %d %s", err, r.Status, r.Raw)
			}
		case FaultError: // the defaults of a REST FaultError
			if err != nil || r.Status != 500 || !strings.Contains(r.Raw, `"error":"INTERNAL_SERVER_ERROR"`) {
				t.Errorf("FaultError: %v %d %s", err, r.Status, r.Raw)
			}
		}
		// Nothing ran: the refresh token still works.
		if r, err := refresh(tok.RefreshToken); err != nil || r.Status != 200 {
			t.Errorf("%v: refresh token lost by a fault that runs nothing: %v %d %s", f.Kind, err, r.Status, r.Raw)
		}
	}
}
