package webhook

import (
	"context"
	"errors"
	"io"
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

// installBody is the ONAPPINSTALL the portal would send for tok.
func installBody(app bitrixtest.App, tok bitrixtest.Tokens, accessToken string) string {
	v := url.Values{}
	v.Set("event", "ONAPPINSTALL")
	v.Set("data[VERSION]", "1")
	v.Set("data[ACTIVE]", "Y")
	v.Set("data[INSTALLED]", "Y")
	v.Set("data[LANGUAGE_ID]", "en")
	v.Set("ts", strconv.FormatInt(tok.Expires.Unix()-3600, 10))
	v.Set("auth[access_token]", accessToken)
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
	h := New(
		WithApp(bitrix.App{ClientID: app.ClientID, ClientSecret: bitrix.Secret(app.ClientSecret), TokenURL: app.TokenURL}),
		WithOAuthServers(app.ServerEndpoint),
		WithRegistry(reg), WithTokenStore(store),
		WithClientOptions(bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit()),
	)
	var installs, deals, uninstalls atomic.Int32
	h.OnAppInstall(func(ctx context.Context, _ *events.Event, d *events.AppInstall) error {
		c, err := PortalClient(ctx)
		if err != nil {
			return err
		}
		var info events.AppInfo
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
	// A forged install (token the portal never issued) is refused.
	before := portal.CallCount("app.info")
	if got := post(t, srv.URL, installBody(app, tok, "forged-access-token")); got.status != 401 {
		t.Fatalf("forged install: %d %v", got.status, got.body)
	}
	if portal.CallCount("app.info") == before {
		t.Error("forged install was not checked with app.info")
	}
	if _, err := reg.Lookup(t.Context(), app.MemberID); !errors.Is(err, events.ErrUnknownPortal) {
		t.Fatalf("forged install stored a token: %v", err)
	}
	if installs.Load() != 0 {
		t.Fatal("install hook ran for a forged install")
	}

	// A forged install that names the forger's own server as client and
	// OAuth endpoint, where app.info gladly succeeds, is refused without
	// asking that server anything.
	var evilCalls atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		evilCalls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"result":{"ID":1,"CODE":"x","STATUS":"L","INSTALLED":true},"time":{}}`)
	}))
	t.Cleanup(evil.Close)
	evilApp := app
	evilApp.ClientEndpoint, evilApp.ServerEndpoint = evil.URL+"/rest/", evil.URL+"/rest/"
	if got := post(t, srv.URL, installBody(evilApp, tok, "forged-access-token")); got.status != 401 {
		t.Fatalf("install naming the forger's server: %d %v", got.status, got.body)
	}
	if n := evilCalls.Load(); n != 0 {
		t.Errorf("the forger's server was asked %d times", n)
	}
	if _, err := reg.Lookup(t.Context(), app.MemberID); !errors.Is(err, events.ErrUnknownPortal) {
		t.Fatalf("install naming the forger's server stored a token: %v", err)
	}

	// The real install: verified, stored, hook run with a working client.
	if got := post(t, srv.URL, installBody(app, tok, tok.AccessToken)); got.status != 200 {
		t.Fatalf("install: %d %v", got.status, got.body)
	}
	if installs.Load() != 1 {
		t.Fatalf("install hook ran %d times", installs.Load())
	}
	if got, err := reg.Lookup(t.Context(), app.MemberID); err != nil || got.Reveal() != app.ApplicationToken {
		t.Fatalf("registry: %v", err)
	}
	if saved, err := store.LoadToken(t.Context(), app.MemberID); err != nil || saved.RefreshToken.Reveal() != tok.RefreshToken {
		t.Fatalf("token store: %v", err)
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
	update := installBody(app, fresh, fresh.AccessToken)
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

func TestInstallVerifierOption(t *testing.T) {
	t.Parallel()
	var asked atomic.Int32
	h := New(
		WithApp(bitrix.App{ClientID: "app.1", ClientSecret: "s"}),
		WithInstallVerifier(func(_ context.Context, ev *events.Event) error {
			asked.Add(1)
			if ev.Auth.Domain != "good.bitrix24.com" {
				return errors.New("not a customer")
			}
			return nil
		}),
	)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	body := func(domain string) string {
		v := url.Values{}
		v.Set("event", "ONAPPINSTALL")
		v.Set("auth[domain]", domain)
		v.Set("auth[member_id]", "m1")
		v.Set("auth[access_token]", "a")
		v.Set("auth[refresh_token]", "r")
		v.Set("auth[client_endpoint]", "https://"+domain+"/rest/")
		v.Set("auth[application_token]", "apptok")
		return v.Encode()
	}
	if got := post(t, srv.URL, body("evil.example.com")); got.status != 401 {
		t.Errorf("refused install: %d", got.status)
	}
	if got := post(t, srv.URL, body("good.bitrix24.com")); got.status != 200 {
		t.Errorf("accepted install: %d %v", got.status, got.body)
	}
	if asked.Load() != 2 {
		t.Errorf("verifier asked %d times", asked.Load())
	}
	c, err := h.Client(t.Context(), "m1")
	if err != nil || c == nil {
		t.Errorf("Client after install: %v", err)
	}
	if _, err := h.Client(t.Context(), "m2"); !errors.Is(err, ErrNoClient) {
		t.Errorf("Client of an unknown portal: %v", err)
	}
}
