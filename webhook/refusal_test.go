package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/events"
)

// refuse serves body to h and returns the status, the raw answer and its
// "reason".
func refuse(t *testing.T, h http.Handler, body string) (int, string, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	h.ServeHTTP(rec, req)
	var m map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
	if rec.Code == http.StatusUnauthorized && (m["error"] != "invalid_token" || m["error_description"] == "") {
		t.Errorf("401 body %q", rec.Body)
	}
	return rec.Code, rec.Body.String(), m["reason"]
}

// TestRefusalReasons: every refusal path answers 401 with its own reason
// code in the body, reports it to the observer, and logs it at Warn with
// the code; no token, refresh token or client secret appears in the body
// or the log.
func TestRefusalReasons(t *testing.T) {
	t.Parallel()
	portal := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit())
	app := portal.App()
	tok := portal.IssueToken(1)
	forged := tok
	forged.RefreshToken = "forged-refresh-token-value"
	noToken := app
	noToken.ApplicationToken = ""
	withApp := func(extra ...Option) []Option {
		return append([]Option{
			WithApp(bitrix.App{ClientID: app.ClientID, ClientSecret: bitrix.Secret(app.ClientSecret), TokenURL: app.TokenURL}),
			WithOAuthServers(app.ServerEndpoint),
			WithClientOptions(bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit()),
		}, extra...)
	}
	const forgedToken = "forged-application-token"
	cases := []struct {
		name, body, want string
		opts             []Option
	}{
		{"no token", dealBody(1, ""), events.RefusedMissingToken, []Option{WithApplicationToken(testToken)}},
		{"wrong token", dealBody(1, forgedToken), events.RefusedTokenMismatch, []Option{WithApplicationToken(testToken)}},
		{"registry, unknown portal", dealBody(1, forgedToken), events.RefusedUnknownPortal, []Option{WithRegistry(events.NewMemoryRegistry())}},
		{"registry, no member id", strings.Replace(dealBody(1, forgedToken), "auth%5Bmember_id%5D="+testMember, "", 1), events.RefusedNoMemberID,
			[]Option{WithRegistry(events.NewMemoryRegistry())}},
		{"install, refresh refused", installBody(app, forged), events.RefusedInstallProof, withApp()},
		{"install, no application token", installBody(noToken, tok), events.RefusedMissingToken, withApp()},
		{"install, unknown OAuth server", installBody(app, tok), events.RefusedUnknownServer, []Option{
			WithApp(bitrix.App{ClientID: app.ClientID, ClientSecret: bitrix.Secret(app.ClientSecret)}),
			WithOAuthServers("https://oauth.example.test/rest/"),
		}},
		{"install, install check", installBody(app, tok), events.RefusedInstallRefused, withApp(
			WithInstallVerifier(func(context.Context, *events.Event) error { return errors.New("not a customer") }))},
		// An install check's own authentication error keeps its reason (it is
		// not wrapped as install_refused), also when it wraps the sentinel.
		{"install, install check says no token", installBody(app, tok), events.RefusedMissingToken, withApp(
			WithInstallVerifier(func(context.Context, *events.Event) error {
				return fmt.Errorf("our check: %w", events.ErrMissingToken)
			}))},
	}
	secrets := []string{testToken, forgedToken, accessTok, tok.AccessToken, tok.RefreshToken, forged.RefreshToken, app.ClientSecret, app.ApplicationToken}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var logs syncBuffer
			var reasons []string
			h, err := New(append(c.opts, WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))),
				WithObserver(Observer{Delivery: func(_ context.Context, d events.Delivery) { reasons = append(reasons, d.Reason) }}))...)
			if err != nil {
				t.Fatal(err)
			}
			h.HandleDefault(func(context.Context, *events.Event) error { t.Error("a handler ran"); return nil })
			status, body, reason := refuse(t, h, c.body)
			if status != http.StatusUnauthorized || reason != c.want {
				t.Fatalf("%d %s, want 401 with reason %q", status, body, c.want)
			}
			if len(reasons) != 1 || reasons[0] != c.want {
				t.Errorf("observed reasons %q", reasons)
			}
			out := logs.String()
			if !strings.Contains(out, `"level":"WARN"`) || !strings.Contains(out, `"reason":"`+c.want+`"`) {
				t.Errorf("log %s", out)
			}
			for _, s := range secrets {
				if s != "" && (strings.Contains(out, s) || strings.Contains(body, s)) {
					t.Errorf("secret %q in the log or body:\n%s\n%s", s, out, body)
				}
			}
		})
	}
	if portal.CallCount("oauth.token") != 1 {
		t.Errorf("%d token requests, want 1 (only the refused refresh)", portal.CallCount("oauth.token"))
	}
}

// TestRefusalsLoggedToDefault: without WithLogger a refusal is logged to
// slog.Default() (other logs stay off), at most once a second, the next
// line counting the ones left out. Not parallel: it sets slog's default.
func TestRefusalsLoggedToDefault(t *testing.T) {
	var logs syncBuffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	synctest.Test(t, func(t *testing.T) {
		h, err := New(WithApplicationToken(testToken))
		if err != nil {
			t.Fatal(err)
		}
		h.OnDealAdd(func(context.Context, *events.Event, *events.CRMEntity) error { return errors.New("handler failed") })
		lines := func() []string { return strings.Split(strings.TrimSpace(logs.String()), "\n") }
		for range 3 {
			if st, _, _ := refuse(t, h, dealBody(1, "forged")); st != 401 {
				t.Fatalf("status %d", st)
			}
		}
		if got := lines(); len(got) != 1 || !strings.Contains(got[0], `"msg":"webhook: delivery refused"`) || !strings.Contains(got[0], `"not_logged_since":0`) {
			t.Fatalf("log after three refusals in one second: %q", got)
		}
		time.Sleep(time.Second)
		refuse(t, h, dealBody(1, ""))
		if got := lines(); len(got) != 2 || !strings.Contains(got[1], `"reason":"missing_token"`) || !strings.Contains(got[1], `"not_logged_since":2`) {
			t.Fatalf("log a second later: %q", got)
		}
		refuse(t, h, dealBody(1, testToken)) // a handler error: not logged without WithLogger
		if got := lines(); len(got) != 2 {
			t.Errorf("other logs reached slog.Default(): %q", got[2:])
		}
	})
}
