package bitrix_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/b24go/sdk/bitrix"
)

// Tests for mutants of oauth.go that lived (issue 19, docs/TESTING.md
// "Mutation testing").

// TestOAuthDomainFromClientEndpoint: a token given without Domain takes
// the client endpoint's host as its domain: the portal that observers are
// told and the domain saved with the token.
func TestOAuthDomainFromClientEndpoint(t *testing.T) {
	t.Parallel()
	p := newMemPortal(t)
	p.handle("crm.deal.get", ok(1))
	store := bitrix.NewMemoryTokenStore(nil)
	var portals []string
	tok := bitrix.Token{AccessToken: "access-0-aaaaaaaa", ClientEndpoint: "https://p7.example.com/rest/"}
	c, err := bitrix.New(bitrix.OAuth(tok, bitrix.App{}, store), bitrix.WithTransport(memTransport{http.HandlerFunc(p.serve)}),
		bitrix.WithoutRateLimit(), bitrix.WithObserver(bitrix.Observer{Request: func(_ context.Context, r bitrix.RequestInfo) {
			portals = append(portals, r.Portal)
		}}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Call(t.Context(), "crm.deal.get", nil, nil); err != nil {
		t.Fatal(err)
	}
	if len(portals) != 1 || portals[0] != "p7.example.com" {
		t.Errorf("observed portals %q, want [p7.example.com]", portals)
	}
	saved, err := store.LoadToken(t.Context(), "p7.example.com")
	if err != nil || saved.Domain != "p7.example.com" {
		t.Errorf("saved token: domain %q, err %v; want p7.example.com", saved.Domain, err)
	}
}

// TestOAuthRefreshMovesEndpoint: a refresh answer's client_endpoint,
// member_id, user_id and scope replace the token's (the portal moved, or
// the token was given without them); the call is repeated at the new
// endpoint and the new pair is saved with them.
func TestOAuthRefreshMovesEndpoint(t *testing.T) {
	t.Parallel()
	o := newMemOAuthPortal(t) // its token endpoint answers client_endpoint http://portal.test/rest/
	var hosts []string
	rt := rtFunc(func(r *http.Request) (*http.Response, error) {
		if strings.HasSuffix(r.URL.Path, "/crm.deal.get") {
			hosts = append(hosts, r.URL.Host)
		}
		return memTransport{http.HandlerFunc(o.serve)}.RoundTrip(r)
	})
	store := bitrix.NewMemoryTokenStore(nil)
	tok := o.token()
	tok.MemberID, tok.Domain, tok.ClientEndpoint = "", "old.test", "http://old.test/rest/"
	c := newOAuthClient(t, o, tok, store, bitrix.WithTransport(rt))
	o.expire()
	if _, err := c.Call(t.Context(), "crm.deal.get", nil, nil); err != nil {
		t.Fatal(err)
	}
	if want := []string{"old.test", "portal.test"}; !slices.Equal(hosts, want) {
		t.Errorf("crm.deal.get sent to %q, want %q", hosts, want)
	}
	saved, err := store.LoadToken(t.Context(), "old.test")
	if err != nil {
		t.Fatal(err)
	}
	if saved.ClientEndpoint != "http://portal.test/rest/" || saved.Domain != "portal.test" || saved.MemberID != memberID ||
		saved.UserID != 1 || saved.Scope != "crm" {
		t.Errorf("saved endpoint %q, domain %q, member %q, user %d, scope %q; want the refresh answer's",
			saved.ClientEndpoint, saved.Domain, saved.MemberID, saved.UserID, saved.Scope)
	}
}

// TestOAuthStartupAdoptsConcurrentSave: the store is empty when the client
// loads, and another replica saves a fresh pair before this one saves its
// configured pair: SaveTokenIfAbsent returns the other pair, which is used
// at once (no expired_token round trip, no refresh).
func TestOAuthStartupAdoptsConcurrentSave(t *testing.T) {
	t.Parallel()
	o := newMemOAuthPortal(t)
	tok := o.token()
	o.expire() // the configured access token is no longer valid
	fresh := tok
	fresh.AccessToken, fresh.Expires = "access-fresh-aaaaaaaa", tok.Expires.Add(time.Minute)
	o.access = fresh.AccessToken.Reveal()
	store := &initStore{MemoryTokenStore: bitrix.NewMemoryTokenStore(nil)}
	store.hook = func() {
		if err := store.MemoryTokenStore.SaveToken(context.Background(), memberID, fresh); err != nil {
			t.Error(err)
		}
	}
	c := newOAuthClient(t, o, tok, store, bitrix.WithTransport(memTransport{http.HandlerFunc(o.serve)}))
	if _, err := c.Call(t.Context(), "crm.deal.get", nil, nil); err != nil {
		t.Fatal(err)
	}
	if want := []string{fresh.AccessToken.Reveal()}; !slices.Equal(o.seen, want) {
		t.Errorf("access tokens sent %q, want %q", o.seen, want)
	}
	if n := o.refreshes.Load(); n != 0 {
		t.Errorf("refreshes = %d, want 0", n)
	}
}

// TestOAuthRefreshOutlastsTimeout: the shared refresh may take the request
// timeout plus 10 s in all (a shared store's lock can be slow to get); only
// its HTTP request is bounded by the timeout.
func TestOAuthRefreshOutlastsTimeout(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		o := newMemOAuthPortal(t)
		store := &lockingStore{MemoryTokenStore: bitrix.NewMemoryTokenStore(nil),
			onLock: func() { time.Sleep(25 * time.Second) }} // virtual time
		c := newOAuthClient(t, o, o.token(), store, bitrix.WithTransport(memTransport{http.HandlerFunc(o.serve)}),
			bitrix.WithTimeout(20*time.Second))
		o.expire()
		start := time.Now()
		if _, err := c.Call(t.Context(), "crm.deal.get", nil, nil); err != nil {
			t.Fatalf("a refresh of 25 s with a 20 s timeout: %v", err)
		}
		if el := time.Since(start); el != 25*time.Second {
			t.Errorf("call took %v, want 25s (the lock)", el)
		}
		if n := o.refreshes.Load(); n != 1 {
			t.Errorf("refreshes = %d, want 1", n)
		}
	})
}

// TestOAuthReloadSkipsTokenInsideMargin: at a refresh, a pair another
// process stored is used only when its access token is outside the expiry
// safety margin (5 s); otherwise only its refresh token (the newest known)
// is taken, for the one token request.
func TestOAuthReloadSkipsTokenInsideMargin(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		o := newMemOAuthPortal(t)
		store := bitrix.NewMemoryTokenStore(nil)
		tok := o.token()
		tok.RefreshToken = "refresh-stale-bbbbbbbb" // rotated away by the other process
		var reloaded []bool                         // per refresh: whether the stored pair was taken
		c := newOAuthClient(t, o, tok, store, bitrix.WithTransport(memTransport{http.HandlerFunc(o.serve)}),
			bitrix.WithObserver(bitrix.Observer{Refresh: func(_ context.Context, r bitrix.RefreshInfo) {
				reloaded = append(reloaded, r.Reloaded)
			}}))
		if _, err := c.Call(t.Context(), "crm.deal.get", nil, nil); err != nil {
			t.Fatal(err)
		}
		other := o.token() // the portal's refresh token
		other.AccessToken, other.Expires = "access-other-aaaaaaaa", time.Now().Add(4*time.Second)
		if err := store.SaveToken(t.Context(), memberID, other); err != nil {
			t.Fatal(err)
		}
		o.expire()
		if _, err := c.Call(t.Context(), "crm.deal.get", nil, nil); err != nil {
			t.Fatal(err)
		}
		if want := []string{"access-0-aaaaaaaa", "access-0-aaaaaaaa", "access-1-aaaaaaaa"}; !slices.Equal(o.seen, want) {
			t.Errorf("access tokens sent %q, want %q", o.seen, want)
		}
		if n := o.refreshes.Load(); n != 1 || !slices.Equal(reloaded, []bool{false}) {
			t.Errorf("token requests = %d, refreshes (reloaded) %v; want one token request and [false]", n, reloaded)
		}
	})
}

// TestRefreshTokenRefusesNon2xx: a token answer is taken only from a 2xx
// status; a 300 carrying a pair is an error, not a token.
func TestRefreshTokenRefusesNon2xx(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		status int
		ok     bool
	}{{200, true}, {299, true}, {300, false}} {
		o := newMemOAuthPortal(t)
		o.raw = &rawAnswer{status: tt.status, ctype: "application/json", body: `{"access_token":"access-9-aaaaaaaa","refresh_token":"refresh-9-bbbbbbbb","expires_in":3600}`}
		tok, err := bitrix.RefreshToken(t.Context(), o.app(), "refresh-0-bbbbbbbb", bitrix.WithAllowHTTP(),
			bitrix.WithTransport(memTransport{http.HandlerFunc(o.serve)}))
		var re *bitrix.ResponseError
		switch {
		case tt.ok && (err != nil || tok.AccessToken != "access-9-aaaaaaaa"):
			t.Errorf("status %d: token %q, err %v; want the pair", tt.status, tok.AccessToken, err)
		case !tt.ok && (!errors.Is(err, bitrix.ErrRefresh) || !errors.As(err, &re) || re.StatusCode != tt.status || tok.AccessToken != ""):
			t.Errorf("status %d: token %q, err %v; want ErrRefresh with a ResponseError", tt.status, tok.AccessToken, err)
		}
	}
}

// TestRefreshTokenDefaultURL: RefreshToken with an App without TokenURL
// posts to DefaultTokenURL.
func TestRefreshTokenDefaultURL(t *testing.T) {
	t.Parallel()
	o := newMemOAuthPortal(t)
	var urls []string
	rt := rtFunc(func(r *http.Request) (*http.Response, error) {
		urls = append(urls, r.URL.String())
		return memTransport{http.HandlerFunc(o.serve)}.RoundTrip(r)
	})
	app := o.app()
	app.TokenURL = ""
	tok, err := bitrix.RefreshToken(t.Context(), app, "refresh-0-bbbbbbbb", bitrix.WithTransport(rt))
	if err != nil || tok.AccessToken != "access-1-aaaaaaaa" {
		t.Fatalf("token %q, err %v", tok.AccessToken.Reveal(), err)
	}
	if !slices.Equal(urls, []string{bitrix.DefaultTokenURL}) {
		t.Errorf("requests to %q, want [%s]", urls, bitrix.DefaultTokenURL)
	}
}

// TestOAuthRefreshEndpointNeedsHTTPS: without WithAllowHTTP a refresh
// answer's client_endpoint is taken only when it is https; a plain http://
// one is ignored and calls stay at the known endpoint.
func TestOAuthRefreshEndpointNeedsHTTPS(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		endpoint string
		want     []string
	}{
		{"https://moved.test/rest/", []string{"old.test", "moved.test"}},
		{"http://plain.test/rest/", []string{"old.test", "old.test"}},
	} {
		o := newMemOAuthPortal(t)
		o.raw = &rawAnswer{status: 200, ctype: "application/json",
			body: `{"access_token":"access-9-aaaaaaaa","refresh_token":"refresh-9-bbbbbbbb","expires_in":3600,"client_endpoint":"` + tt.endpoint + `"}`}
		o.access = "access-9-aaaaaaaa"
		var hosts []string
		rt := rtFunc(func(r *http.Request) (*http.Response, error) {
			if strings.HasSuffix(r.URL.Path, "/crm.deal.get") {
				hosts = append(hosts, r.URL.Host)
			}
			return memTransport{http.HandlerFunc(o.serve)}.RoundTrip(r)
		})
		tok := o.token()
		tok.ClientEndpoint = "https://old.test/rest/"
		app := o.app()
		app.TokenURL = "https://oauth.test/oauth/token/"
		c, err := bitrix.New(bitrix.OAuth(tok, app, nil), bitrix.WithTransport(rt), bitrix.WithoutRateLimit())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Call(t.Context(), "crm.deal.get", nil, nil); err != nil {
			t.Fatalf("%s: %v", tt.endpoint, err)
		}
		if !slices.Equal(hosts, tt.want) {
			t.Errorf("client_endpoint %s: crm.deal.get sent to %q, want %q", tt.endpoint, hosts, tt.want)
		}
	}
}
