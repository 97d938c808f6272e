package bitrixtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func fixture(t testing.TB, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

func newTestServer(t *testing.T, opts ...Option) *Server {
	return NewServer(t, append([]Option{WithoutRateLimit()}, opts...)...)
}

func TestRouting(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	sec := s.WebhookSecret()
	for _, path := range []string{
		"/rest/1/" + sec + "/user.current",
		"/rest/1/" + sec + "/user.current/",
		"/rest/1/" + sec + "/user.current.json",
		"/rest/1/" + sec + "/USER.Current.json/",
		"/rest//1//" + sec + "//user.current",
		"/rest/user.current?aplogin=1&ap=" + sec,
	} {
		r := do(t, "GET", s.URL()+path, "", "")
		if got := get(mustOK(t, r), "ID"); got != "1" {
			t.Errorf("%s: ID = %v", strings.ReplaceAll(path, sec, "SECRET"), got)
		}
	}
	// Only the secret, no user id: method not found.
	r := do(t, "GET", s.URL()+"/rest/"+sec+"/user.current", "", "")
	if r.Status != 404 || r.Body["error"] != "ERROR_METHOD_NOT_FOUND" {
		t.Errorf("secret-only path: %d %s", r.Status, r.Raw)
	}
	r = do(t, "GET", s.WebhookURL()+"no.such.method", "", "")
	if r.Status != 404 || r.Body["error"] != "ERROR_METHOD_NOT_FOUND" {
		t.Errorf("unknown method: %d %s", r.Status, r.Raw)
	}
	// Other suffixes stay part of the name.
	r = do(t, "GET", s.WebhookURL()+"user.current.php", "", "")
	if r.Status != 404 {
		t.Errorf("user.current.php: %d", r.Status)
	}
	// XML transport.
	r = do(t, "GET", s.WebhookURL()+"user.current.xml", "", "")
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/xml") || !strings.Contains(r.Raw, "<response><result><ID>1</ID>") {
		t.Errorf("xml: %d %s", r.Status, r.Raw)
	}
	// Headers.
	r = do(t, "GET", s.WebhookURL()+"server.time", "", "")
	for k, want := range map[string]string{"Access-Control-Allow-Origin": "*", "X-Content-Type-Options": "nosniff", "Content-Type": "application/json; charset=utf-8"} {
		if got := r.Header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
}

func TestRequestEncodings(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	form, _ := os.ReadFile("testdata/req_crm_lead_add_urlencoded.txt")
	multipart, _ := os.ReadFile("testdata/req_crm_lead_add_multipart.txt")
	mp := strings.ReplaceAll(strings.TrimSpace(string(multipart)), "\n", "\r\n") + "--\r\n"
	cases := []struct {
		name, method, query, ctype, body string
	}{
		{"form", "POST", "", "application/x-www-form-urlencoded", strings.TrimSpace(string(form))},
		{"get", "GET", strings.TrimSpace(string(form)), "", ""},
		{"multipart", "POST", "", "multipart/form-data; boundary=SomeBoundary", mp},
		{"json", "POST", "", "application/json", `{"fields":{"TITLE":"My company","PHONE":[{"VALUE":"112233","VALUE_TYPE":"WORK"},{"VALUE":"555888112","VALUE_TYPE":"OTHER"}]}}`},
		{"body overrides query", "POST", "fields[TITLE]=wrong", "application/json", `{"fields":{"TITLE":"My company","PHONE":[{"VALUE":"112233","VALUE_TYPE":"WORK"},{"VALUE":"555888112","VALUE_TYPE":"OTHER"}]}}`},
	}
	for _, tc := range cases {
		u := s.WebhookURL() + "crm.lead.add"
		if tc.query != "" {
			u += "?" + tc.query
		}
		r := do(t, tc.method, u, tc.ctype, tc.body)
		id := num(mustOK(t, r))
		got := mustOK(t, callHook(t, s, "crm.lead.get", map[string]any{"id": id}))
		if get(got, "TITLE") != "My company" {
			t.Errorf("%s: TITLE = %v", tc.name, get(got, "TITLE"))
		}
		phones, _ := get(got, "PHONE").([]any)
		if len(phones) != 2 || get(phones[1], "VALUE") != "555888112" || get(phones[0], "VALUE_TYPE") != "WORK" {
			t.Errorf("%s: PHONE = %v", tc.name, get(got, "PHONE"))
		}
	}
	// Invalid JSON is silently "no params".
	r := do(t, "POST", s.WebhookURL()+"crm.item.get", "application/json", `{"entityTypeId":`)
	if r.Status != 400 || r.Body["error"] != "INVALID_ARG_VALUE" {
		t.Errorf("invalid JSON: %d %s", r.Status, r.Raw)
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, WithAccessTokenTTL(time.Minute))
	tok := s.IssueToken(2)
	cases := []struct {
		name     string
		req      func() *http.Request
		status   int
		code     string
		wantUser string
	}{
		{"none", func() *http.Request { r, _ := http.NewRequest("GET", s.URL()+"/rest/user.current", nil); return r }, 401, "NO_AUTH_FOUND", ""},
		{"wrong secret", func() *http.Request {
			r, _ := http.NewRequest("GET", s.URL()+"/rest/1/nope/user.current", nil)
			return r
		}, 401, "INVALID_CREDENTIALS", ""},
		{"wrong user", func() *http.Request {
			r, _ := http.NewRequest("GET", s.URL()+"/rest/2/"+s.WebhookSecret()+"/user.current", nil)
			return r
		}, 401, "INVALID_CREDENTIALS", ""},
		{"auth param", func() *http.Request {
			r, _ := http.NewRequest("GET", s.URL()+"/rest/user.current?auth="+tok.AccessToken, nil)
			return r
		}, 200, "", "2"},
		{"access_token param", func() *http.Request {
			r, _ := http.NewRequest("POST", s.URL()+"/rest/user.current", strings.NewReader("access_token="+tok.AccessToken))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, 200, "", "2"},
		{"bearer", func() *http.Request {
			r, _ := http.NewRequest("GET", s.URL()+"/rest/user.current", nil)
			r.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			return r
		}, 200, "", "2"},
		{"unknown token", func() *http.Request {
			r, _ := http.NewRequest("GET", s.URL()+"/rest/user.current?auth=deadbeef", nil)
			return r
		}, 401, "invalid_token", ""},
	}
	for _, tc := range cases {
		res, err := http.DefaultClient.Do(tc.req())
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		_ = json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		if res.StatusCode != tc.status || (tc.code != "" && body["error"] != tc.code) {
			t.Errorf("%s: %d %v, want %d %s", tc.name, res.StatusCode, body, tc.status, tc.code)
		}
		if tc.wantUser != "" && get(body, "result", "ID") != tc.wantUser {
			t.Errorf("%s: user %v", tc.name, get(body, "result", "ID"))
		}
	}
	// The auth parameter is not passed on to the method (nor logged).
	for _, c := range s.Calls() {
		if _, ok := c.Params["auth"]; ok {
			t.Errorf("auth param logged for %s", c.Method)
		}
	}
	s.Advance(time.Minute)
	r := callToken(t, s, "user.current", tok.AccessToken, nil)
	if r.Status != 401 || r.Body["error"] != "expired_token" {
		t.Errorf("expired: %d %s", r.Status, r.Raw)
	}
}

func TestEnvelopeTime(t *testing.T) {
	t.Parallel()
	start := time.Date(2024, 1, 20, 15, 35, 32, 0, time.UTC)
	s := newTestServer(t, WithClock(func() time.Time { return start }), WithMethodCost("crm.item.add", 3*time.Second))
	r := callHook(t, s, "crm.item.add", map[string]any{"entityTypeId": 2, "fields": map[string]any{"title": "x"}})
	mustOK(t, r)
	want := fixture(t, "resp_single_with_operating.json")
	if diff := cmp.Diff(keysOf(want["time"]), keysOf(r.Body["time"])); diff != "" {
		t.Errorf("time keys (-want +got):\n%s", diff)
	}
	tm := r.Body["time"].(map[string]any)
	if tm["date_start"] != "2024-01-20T18:35:32+03:00" || tm["date_finish"] != "2024-01-20T18:35:35+03:00" {
		t.Errorf("dates: %v %v", tm["date_start"], tm["date_finish"])
	}
	if tm["processing"] != json.Number("3") || tm["operating"] != json.Number("3") || tm["operating_reset_at"] != json.Number(fmt.Sprint(start.Unix()+600)) {
		t.Errorf("time = %v", tm)
	}
	// Without a recorded cost there is no operating_reset_at.
	r = callHook(t, s, "server.time", nil)
	if _, ok := r.Body["time"].(map[string]any)["operating_reset_at"]; ok {
		t.Errorf("operating_reset_at without operating time: %s", r.Raw)
	}
	if got := mustOK(t, r); got != "2024-01-20T18:35:32+03:00" {
		t.Errorf("server.time = %v", got)
	}
}

func TestOAuthTokenEndpoint(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, WithAccessTokenTTL(10*time.Minute))
	app := s.App()
	tok := s.IssueToken(1)
	form := url.Values{"grant_type": {"refresh_token"}, "client_id": {app.ClientID}, "client_secret": {app.ClientSecret}, "refresh_token": {tok.RefreshToken}}
	r := do(t, "POST", app.TokenURL, "application/x-www-form-urlencoded", form.Encode())
	if r.Status != 200 {
		t.Fatalf("refresh: %d %s", r.Status, r.Raw)
	}
	want := fixture(t, "resp_oauth_refresh_thirdparty.json")
	if diff := cmp.Diff(keysOf(want), keysOf(r.Body)); diff != "" {
		t.Errorf("token response keys (-want +got):\n%s", diff)
	}
	if r.Body["expires_in"] != json.Number("600") || r.Body["domain"] != "oauth.bitrix.info" || r.Body["client_endpoint"] != app.ClientEndpoint || r.Body["member_id"] != app.MemberID {
		t.Errorf("token response: %s", r.Raw)
	}
	newRT := r.Body["refresh_token"].(string)
	newAT := r.Body["access_token"].(string)
	mustOK(t, callToken(t, s, "user.current", newAT, nil))
	// Rotation: the old refresh token is spent.
	r = do(t, "GET", app.TokenURL+"?"+form.Encode(), "", "")
	if r.Status != 400 || r.Body["error"] != "invalid_grant" {
		t.Errorf("reused refresh token: %d %s", r.Status, r.Raw)
	}
	// GET works with the new one.
	form.Set("refresh_token", newRT)
	r = do(t, "GET", app.TokenURL+"?"+form.Encode(), "", "")
	if r.Status != 200 {
		t.Errorf("GET refresh: %d %s", r.Status, r.Raw)
	}
	if s.RefreshCount() != 2 {
		t.Errorf("RefreshCount = %d", s.RefreshCount())
	}
	form.Set("client_secret", "wrong")
	r = do(t, "GET", app.TokenURL+"?"+form.Encode(), "", "")
	if r.Status != 401 || r.Body["error"] != "invalid_client" {
		t.Errorf("wrong secret: %d %s", r.Status, r.Raw)
	}
	r = do(t, "GET", app.TokenURL, "", "")
	if r.Status != 400 || r.Body["error"] != "invalid_request" {
		t.Errorf("no grant: %d %s", r.Status, r.Raw)
	}
	// Authorization code grant.
	code := s.IssueCode(3)
	r = do(t, "GET", app.TokenURL+"?"+url.Values{"grant_type": {"authorization_code"}, "client_id": {app.ClientID}, "client_secret": {app.ClientSecret}, "code": {code}}.Encode(), "", "")
	if r.Status != 200 || r.Body["user_id"] != json.Number("3") {
		t.Errorf("code grant: %d %s", r.Status, r.Raw)
	}
	// Secrets never reach the call log.
	for _, c := range s.Calls() {
		if strings.Contains(fmt.Sprint(c.Params), app.ClientSecret) || strings.Contains(fmt.Sprint(c.Params), newRT) {
			t.Errorf("secret in call log: %v", c)
		}
	}
}

func TestReusableRefreshTokens(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, WithReusableRefreshTokens())
	app := s.App()
	tok := s.IssueToken(1)
	form := url.Values{"grant_type": {"refresh_token"}, "client_id": {app.ClientID}, "client_secret": {app.ClientSecret}, "refresh_token": {tok.RefreshToken}}
	for i := 0; i < 2; i++ {
		if r := do(t, "GET", app.TokenURL+"?"+form.Encode(), "", ""); r.Status != 200 {
			t.Fatalf("refresh %d: %d %s", i, r.Status, r.Raw)
		}
	}
}

func TestSecretsRedacted(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	app, tok := s.App(), s.IssueToken(1)
	for _, v := range []string{fmt.Sprint(app), fmt.Sprintf("%+v", app), fmt.Sprintf("%#v", app), fmt.Sprint(tok), fmt.Sprintf("%#v", tok)} {
		for _, secret := range []string{app.ClientSecret, app.ApplicationToken, tok.AccessToken, tok.RefreshToken} {
			if strings.Contains(v, secret) {
				t.Errorf("secret leaked in %q", v)
			}
		}
	}
}
