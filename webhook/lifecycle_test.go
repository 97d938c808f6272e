package webhook

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/events"
)

// installBody is the ONAPPINSTALL the portal would send for tok
// (api-reference/common/events/on-app-install.md).
func installBody(app bitrixtest.App, tok bitrixtest.Tokens) string {
	v := url.Values{}
	v.Set("event", "ONAPPINSTALL")
	v.Set("data[VERSION]", "1")
	v.Set("data[ACTIVE]", "Y")
	v.Set("data[INSTALLED]", "Y")
	v.Set("data[LANGUAGE_ID]", "en")
	v.Set("ts", strconv.FormatInt(tok.Expires.Unix()-3600, 10))
	v.Set("auth[access_token]", tok.AccessToken)
	v.Set("auth[refresh_token]", tok.RefreshToken)
	v.Set("auth[expires]", strconv.FormatInt(tok.Expires.Unix(), 10))
	v.Set("auth[expires_in]", "3600")
	v.Set("auth[scope]", tok.Scope)
	v.Set("auth[domain]", app.Domain)
	v.Set("auth[server_endpoint]", app.ServerEndpoint)
	v.Set("auth[status]", "L")
	v.Set("auth[client_endpoint]", app.ClientEndpoint)
	v.Set("auth[member_id]", app.MemberID)
	v.Set("auth[user_id]", strconv.Itoa(tok.UserID))
	v.Set("auth[application_token]", app.ApplicationToken)
	return v.Encode()
}

func portalEvent(app bitrixtest.App, name, appToken string, extra url.Values) string {
	v := url.Values{}
	v.Set("event", name)
	v.Set("ts", "1727018926")
	v.Set("auth[domain]", app.Domain)
	v.Set("auth[client_endpoint]", app.ClientEndpoint)
	v.Set("auth[member_id]", app.MemberID)
	v.Set("auth[application_token]", appToken)
	for k, vs := range extra {
		v[k] = vs
	}
	return v.Encode()
}

func TestAppLifecycle(t *testing.T) {
	t.Parallel()
	portal := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit())
	app := portal.App()
	reg := events.NewMemoryRegistry()
	store := bitrix.NewMemoryTokenStore(nil)
	h, err := New(
		WithApp(bitrix.App{ClientID: app.ClientID, ClientSecret: bitrix.Secret(app.ClientSecret), TokenURL: app.TokenURL}),
		WithOAuthServers(app.ServerEndpoint),
		WithRegistry(reg), WithTokenStore(store),
		WithClientOptions(bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit()),
	)
	if err != nil {
		t.Fatal(err)
	}
	var installs, deals, uninstalls atomic.Int32
	h.OnAppInstall(func(ctx context.Context, _ *events.Event, d *events.AppInstall) error {
		c, err := PortalClient(ctx)
		if err != nil {
			return err
		}
		var info struct {
			Code string `json:"CODE"`
		}
		if _, err := c.Call(ctx, "app.info", nil, &info); err != nil {
			return err
		}
		if info.Code != app.ClientID || !bool(d.Installed) {
			return errors.New("unexpected app.info")
		}
		installs.Add(1)
		return nil
	})
	h.OnDealUpdate(func(ctx context.Context, ev *events.Event, d *events.CRMEntity) error {
		c, err := PortalClient(ctx)
		if err != nil {
			return err
		}
		if _, err := c.Call(ctx, "app.info", nil, nil); err != nil {
			return err
		}
		deals.Add(1)
		return nil
	})
	h.OnAppUninstall(func(ctx context.Context, _ *events.Event, d *events.AppUninstall) error {
		if _, err := PortalClient(ctx); !errors.Is(err, ErrNoClient) {
			return errors.New("client still available after uninstall")
		}
		uninstalls.Add(1)
		return nil
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	tok := portal.IssueToken(1)
	deal := portalEvent(app, "ONCRMDEALUPDATE", app.ApplicationToken, url.Values{"data[FIELDS][ID]": {"5"}})

	// Before install nothing from this portal is trusted.
	if got := post(t, srv.URL, deal); got.status != 401 {
		t.Fatalf("event before install: %d", got.status)
	}
	// A forged install (tokens the OAuth server never issued) is refused
	// after asking the OAuth server.
	forged := tok
	forged.AccessToken, forged.RefreshToken = "forged-access-token", "forged-refresh-token"
	if got := post(t, srv.URL, installBody(app, forged)); got.status != 401 {
		t.Fatalf("forged install: %d %v", got.status, got.body)
	}
	if portal.CallCount("oauth.token") != 1 {
		t.Errorf("forged install was not checked at the OAuth server (%d token requests)", portal.CallCount("oauth.token"))
	}
	if _, err := reg.Lookup(t.Context(), app.MemberID); !errors.Is(err, events.ErrUnknownPortal) {
		t.Fatalf("forged install stored a token: %v", err)
	}
	if installs.Load() != 0 {
		t.Fatal("install hook ran for a forged install")
	}

	// A forged install that names the forger's own server as client and
	// OAuth endpoint, where any refresh would gladly succeed, is refused
	// without asking that server anything.
	var evilCalls atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		evilCalls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"result":{"ID":1,"CODE":"x","STATUS":"L","INSTALLED":true},"time":{}}`)
	}))
	t.Cleanup(evil.Close)
	evilApp := app
	evilApp.ClientEndpoint, evilApp.ServerEndpoint = evil.URL+"/rest/", evil.URL+"/rest/"
	if got := post(t, srv.URL, installBody(evilApp, forged)); got.status != 401 {
		t.Fatalf("install naming the forger's server: %d %v", got.status, got.body)
	}
	if n := evilCalls.Load(); n != 0 {
		t.Errorf("the forger's server was asked %d times", n)
	}
	if _, err := reg.Lookup(t.Context(), app.MemberID); !errors.Is(err, events.ErrUnknownPortal) {
		t.Fatalf("install naming the forger's server stored a token: %v", err)
	}

	// The real install: proven, stored, hook run with a working client.
	if got := post(t, srv.URL, installBody(app, tok)); got.status != 200 {
		t.Fatalf("install: %d %v", got.status, got.body)
	}
	if installs.Load() != 1 {
		t.Fatalf("install hook ran %d times", installs.Load())
	}
	if got, err := reg.Lookup(t.Context(), app.MemberID); err != nil || got.Reveal() != app.ApplicationToken {
		t.Fatalf("registry: %v", err)
	}
	// The proof spent the event's refresh token: the store holds the new
	// pair of the OAuth server's answer.
	saved, err := store.LoadToken(t.Context(), app.MemberID)
	if err != nil || saved.RefreshToken == "" || saved.RefreshToken.Reveal() == tok.RefreshToken ||
		saved.MemberID != app.MemberID || saved.Domain != app.Domain || saved.ClientEndpoint != app.ClientEndpoint {
		t.Fatalf("token store: %v %+v", err, saved)
	}
	if portal.RefreshCount() != 1 {
		t.Errorf("refreshes = %d, want 1 (the proof)", portal.RefreshCount())
	}

	// Later events: verified against the registry, with a portal client.
	if got := post(t, srv.URL, deal); got.status != 200 {
		t.Fatalf("deal after install: %d %v", got.status, got.body)
	}
	if deals.Load() != 1 {
		t.Fatalf("deal handler ran %d times", deals.Load())
	}
	if got := post(t, srv.URL, portalEvent(app, "ONCRMDEALUPDATE", "wrong", url.Values{"data[FIELDS][ID]": {"5"}})); got.status != 401 {
		t.Errorf("wrong token after install: %d", got.status)
	}

	// ONAPPUPDATE brings a new application token; it is verified like an
	// install and replaces the old one.
	fresh := portal.IssueToken(1)
	update := installBody(app, fresh)
	update = strings.Replace(update, "event=ONAPPINSTALL", "event=ONAPPUPDATE", 1)
	update = strings.Replace(update, "auth%5Bapplication_token%5D="+app.ApplicationToken, "auth%5Bapplication_token%5D=rotated-app-token", 1)
	if got := post(t, srv.URL, update); got.status != 200 {
		t.Fatalf("update: %d %v", got.status, got.body)
	}
	if got, _ := reg.Lookup(t.Context(), app.MemberID); got.Reveal() != "rotated-app-token" {
		t.Fatal("ONAPPUPDATE did not replace the application token")
	}
	if got := post(t, srv.URL, deal); got.status != 401 {
		t.Errorf("old token after update: %d", got.status)
	}
	app.ApplicationToken = "rotated-app-token"
	deal = portalEvent(app, "ONCRMDEALUPDATE", app.ApplicationToken, url.Values{"data[FIELDS][ID]": {"5"}})
	if got := post(t, srv.URL, deal); got.status != 200 {
		t.Errorf("new token after update: %d %v", got.status, got.body)
	}

	// An uninstall with a wrong token changes nothing.
	if got := post(t, srv.URL, portalEvent(app, "ONAPPUNINSTALL", "wrong", url.Values{"data[CLEAN]": {"0"}})); got.status != 401 {
		t.Errorf("forged uninstall: %d", got.status)
	}
	if _, err := reg.Lookup(t.Context(), app.MemberID); err != nil {
		t.Fatalf("forged uninstall removed the portal: %v", err)
	}
	// The real uninstall removes the portal.
	if got := post(t, srv.URL, portalEvent(app, "ONAPPUNINSTALL", app.ApplicationToken, url.Values{"data[CLEAN]": {"1"}})); got.status != 200 {
		t.Fatalf("uninstall: %d %v", got.status, got.body)
	}
	if uninstalls.Load() != 1 {
		t.Errorf("uninstall hook ran %d times", uninstalls.Load())
	}
	if got := post(t, srv.URL, deal); got.status != 401 {
		t.Errorf("event after uninstall: %d", got.status)
	}
}

// TestInstallVerifierOption: WithInstallVerifier adds a check before the
// proof; a refusal spends nothing at the OAuth server, and acceptance
// still needs the proof.
func TestInstallVerifierOption(t *testing.T) {
	t.Parallel()
	portal := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit())
	app := portal.App()
	var asked atomic.Int32
	var customer atomic.Value // string: the domain the verifier accepts
	customer.Store("")
	h, err := New(
		WithApp(bitrix.App{ClientID: app.ClientID, ClientSecret: bitrix.Secret(app.ClientSecret), TokenURL: app.TokenURL}),
		WithOAuthServers(app.ServerEndpoint),
		WithClientOptions(bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit()),
		WithInstallVerifier(func(_ context.Context, ev *events.Event) error {
			asked.Add(1)
			if ev.Auth.Domain != customer.Load().(string) {
				return errors.New("not a customer")
			}
			return nil
		}),
	)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	tok := portal.IssueToken(1)
	if got := post(t, srv.URL, installBody(app, tok)); got.status != 401 {
		t.Errorf("refused install: %d", got.status)
	}
	if portal.CallCount("oauth.token") != 0 {
		t.Error("a refused install spent the refresh token")
	}
	customer.Store(app.Domain)
	forged := tok
	forged.RefreshToken = "forged-refresh-token"
	if got := post(t, srv.URL, installBody(app, forged)); got.status != 401 {
		t.Errorf("accepted by the verifier but not proven: %d", got.status)
	}
	if got := post(t, srv.URL, installBody(app, tok)); got.status != 200 {
		t.Errorf("accepted install: %d %v", got.status, got.body)
	}
	if asked.Load() != 3 {
		t.Errorf("verifier asked %d times", asked.Load())
	}
	c, err := h.Client(t.Context(), app.MemberID)
	if err != nil || c == nil {
		t.Errorf("Client after install: %v", err)
	}
	if _, err := h.Client(t.Context(), "m2"); !errors.Is(err, ErrNoClient) {
		t.Errorf("Client of an unknown portal: %v", err)
	}
}

// TestForgedInstallCannotTakeOverAPortal: issue 12's attack. The attacker
// has our app installed on a portal of their own (same client id, a token
// pair the OAuth server accepts) or an app of their own, and posts an
// ONAPPINSTALL naming the victim's member id and domain. Each try is
// refused, the victim's registration (application token and token pair)
// stays as it was, and the victim's events still pass.
func TestForgedInstallCannotTakeOverAPortal(t *testing.T) {
	t.Parallel()
	victim := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit())
	app := victim.App()
	// The attacker's portal, with our app installed (same client id and
	// secret), behind an OAuth server we trust as much as the victim's.
	ours := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit(), bitrixtest.WithApp(app.ClientID, app.ClientSecret))
	// An app of the attacker's own, on their portal.
	theirs := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit())
	var logs syncBuffer
	reg := events.NewMemoryRegistry()
	store := bitrix.NewMemoryTokenStore(nil)
	h, err := New(
		WithApp(bitrix.App{ClientID: app.ClientID, ClientSecret: bitrix.Secret(app.ClientSecret), TokenURL: app.TokenURL}),
		WithOAuthServers(app.ServerEndpoint, ours.App().ServerEndpoint, theirs.App().ServerEndpoint),
		WithRegistry(reg), WithTokenStore(store),
		WithClientOptions(bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit()),
		WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
	)
	if err != nil {
		t.Fatal(err)
	}
	var installs atomic.Int32
	h.OnAppInstall(func(context.Context, *events.Event, *events.AppInstall) error { installs.Add(1); return nil })
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	// The victim installs the app.
	if got := post(t, srv.URL, installBody(app, victim.IssueToken(1))); got.status != 200 {
		t.Fatalf("genuine install: %d %v", got.status, got.body)
	}
	before, err := store.LoadToken(t.Context(), app.MemberID)
	if err != nil {
		t.Fatal(err)
	}

	// The forged event: the victim's member id, domain and endpoints, an
	// application token of the attacker's choosing, and a token pair the
	// attacker got from their own portal.
	forge := func(server string, tok bitrixtest.Tokens) string {
		a := app
		a.ApplicationToken = "attacker-application-token"
		a.ServerEndpoint = server
		return installBody(a, tok)
	}
	attacks := []struct {
		name string
		body func() string // a fresh pair per try: a refresh token is spent once
	}{
		{"our app's token from the attacker's portal", func() string { return forge(ours.App().ServerEndpoint, ours.IssueToken(1)) }},
		{"that token sent to the victim's OAuth server", func() string { return forge(app.ServerEndpoint, ours.IssueToken(1)) }},
		{"the attacker's own app's token", func() string { return forge(theirs.App().ServerEndpoint, theirs.IssueToken(1)) }},
		{"the attacker's own app's token at the victim's OAuth server", func() string { return forge(app.ServerEndpoint, theirs.IssueToken(1)) }},
	}
	for _, a := range attacks {
		for _, name := range []string{"ONAPPINSTALL", "ONAPPUPDATE"} {
			body := strings.Replace(a.body(), "event=ONAPPINSTALL", "event="+name, 1)
			if got := post(t, srv.URL, body); got.status != 401 {
				t.Errorf("%s as %s: %d %v", a.name, name, got.status, got.body)
			}
		}
	}
	// Our app's token from the attacker's portal did reach the proof and
	// fail there (the answer names the attacker's portal).
	if ours.RefreshCount() == 0 {
		t.Error("the attacker's genuine token was never tried at its OAuth server")
	}
	if installs.Load() != 1 {
		t.Errorf("install hook ran %d times, want 1", installs.Load())
	}
	if got, err := reg.Lookup(t.Context(), app.MemberID); err != nil || got.Reveal() != app.ApplicationToken {
		t.Errorf("registry changed: %v", err)
	}
	after, err := store.LoadToken(t.Context(), app.MemberID)
	if err != nil || after.AccessToken != before.AccessToken || after.RefreshToken != before.RefreshToken || after.Domain != app.Domain {
		t.Errorf("token store changed: %v", err)
	}
	if _, err := reg.Lookup(t.Context(), ours.App().MemberID); !errors.Is(err, events.ErrUnknownPortal) {
		t.Errorf("the attacker's portal got registered: %v", err)
	}
	deal := portalEvent(app, "ONCRMDEALUPDATE", app.ApplicationToken, url.Values{"data[FIELDS][ID]": {"5"}})
	if got := post(t, srv.URL, deal); got.status != 200 {
		t.Errorf("victim's event after the attack: %d", got.status)
	}
	forgedDeal := portalEvent(app, "ONCRMDEALUPDATE", "attacker-application-token", url.Values{"data[FIELDS][ID]": {"5"}})
	if got := post(t, srv.URL, forgedDeal); got.status != 401 {
		t.Errorf("attacker's event after the attack: %d", got.status)
	}

	// A proven reinstall with a new application token replaces the old
	// one, and says so in the log (without secrets).
	reinstall := app
	reinstall.ApplicationToken = "reinstalled-application-token"
	if got := post(t, srv.URL, installBody(reinstall, victim.IssueToken(1))); got.status != 200 {
		t.Fatalf("reinstall: %d %v", got.status, got.body)
	}
	if got, _ := reg.Lookup(t.Context(), app.MemberID); got.Reveal() != reinstall.ApplicationToken {
		t.Error("a proven reinstall did not replace the application token")
	}
	out := logs.String()
	if !strings.Contains(out, "replaces the portal's application token") || !strings.Contains(out, app.MemberID) {
		t.Errorf("replacement not logged:\n%s", out)
	}
	for _, sec := range []string{app.ApplicationToken, reinstall.ApplicationToken, app.ClientSecret, after.RefreshToken.Reveal()} {
		if strings.Contains(out, sec) {
			t.Errorf("log leaks a secret:\n%s", out)
		}
	}
}

// TestPortalClientRefreshesAtTheIssuingServer: with an App without
// TokenURL, a portal's client refreshes at the token endpoint of the
// allow-listed OAuth server that issued its pair (here bitrixtest's),
// derived from its server_endpoint, not at the default server.
func TestPortalClientRefreshesAtTheIssuingServer(t *testing.T) {
	t.Parallel()
	portal := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit())
	app := portal.App()
	h, err := New(
		WithApp(bitrix.App{ClientID: app.ClientID, ClientSecret: bitrix.Secret(app.ClientSecret)}),
		WithOAuthServers(app.ServerEndpoint),
		WithClientOptions(bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit()),
	)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	if got := post(t, srv.URL, installBody(app, portal.IssueToken(1))); got.status != 200 {
		t.Fatalf("install: %d %v", got.status, got.body)
	}
	c, err := h.Client(t.Context(), app.MemberID)
	if err != nil {
		t.Fatal(err)
	}
	portal.ExpireAccessTokens()
	if _, err := c.Call(t.Context(), "app.info", nil, nil); err != nil {
		t.Fatalf("call after expiry: %v", err)
	}
	if n := portal.RefreshCount(); n != 2 {
		t.Errorf("refreshes = %d, want 2 (the proof and the client's)", n)
	}
}
