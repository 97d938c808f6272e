package bitrix_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/google/go-cmp/cmp"
)

const (
	clientSecret = "clientSecretXYZ987"
	memberID     = "a223c6b3710f85df22e9377d6c4f7553"
)

// oauthPortal accepts one valid access token and rotates the pair on refresh.
type oauthPortal struct {
	*portal
	mu        sync.Mutex
	access    string
	refresh   string
	gen       int
	refreshes atomic.Int32
	grantErr  bool
	// raw, when set, is the token endpoint's whole answer (status, content
	// type, body), e.g. one cut mid-body.
	raw       *rawAnswer
	tokenReqs []recorded
	seen      []string // access tokens presented to REST methods
}

func newOAuthPortal(t *testing.T) *oauthPortal {
	o := &oauthPortal{portal: newPortal(t), access: "access-0-aaaaaaaa", refresh: "refresh-0-bbbbbbbb"}
	o.handle("token", o.serveToken)
	o.handle("crm.deal.get", func(w http.ResponseWriter, r recorded) {
		tok := ""
		if r.Form != nil {
			tok = r.Form.String("auth")
		}
		o.mu.Lock()
		o.seen = append(o.seen, tok)
		valid := tok == o.access
		o.mu.Unlock()
		if !valid {
			writeJSON(w, 401, map[string]any{"error": "expired_token", "error_description": "The access token provided has expired."})
			return
		}
		ok(map[string]any{"ID": "1"})(w, r)
	})
	return o
}

func (o *oauthPortal) serveToken(w http.ResponseWriter, r recorded) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.tokenReqs = append(o.tokenReqs, r)
	o.refreshes.Add(1)
	if a := o.raw; a != nil {
		w.Header().Set("Content-Type", a.ctype)
		w.WriteHeader(a.status)
		_, _ = w.Write([]byte(a.body))
		return
	}
	f := r.Form
	if o.grantErr || f.String("grant_type") != "refresh_token" || f.String("client_id") != "app.1" ||
		f.String("client_secret") != clientSecret || f.String("refresh_token") != o.refresh {
		writeJSON(w, 400, map[string]any{"error": "invalid_grant", "error_description": "Invalid refresh token " + f.String("refresh_token")})
		return
	}
	o.gen++
	o.access = fmt.Sprintf("access-%d-aaaaaaaa", o.gen)
	o.refresh = fmt.Sprintf("refresh-%d-bbbbbbbb", o.gen)
	writeJSON(w, 200, map[string]any{
		"access_token": o.access, "refresh_token": o.refresh, "expires": time.Now().Add(time.Hour).Unix(), "expires_in": 3600,
		"scope": "crm", "domain": "oauth.bitrix.info", "server_endpoint": "https://oauth.bitrix.info/rest/",
		"client_endpoint": o.base + "/rest/", "member_id": memberID, "user_id": 1, "status": "L",
	})
}

type rawAnswer struct {
	status      int
	ctype, body string
}

func (o *oauthPortal) token() bitrix.Token {
	return bitrix.Token{AccessToken: "access-0-aaaaaaaa", RefreshToken: "refresh-0-bbbbbbbb", MemberID: memberID,
		ClientEndpoint: o.base + "/rest/", Expires: time.Now().Add(time.Hour)}
}

func (o *oauthPortal) app() bitrix.App {
	return bitrix.App{ClientID: "app.1", ClientSecret: clientSecret, TokenURL: o.base + "/oauth/token/"}
}

func (o *oauthPortal) expire() {
	o.mu.Lock()
	o.access = "access-expired-on-server"
	o.mu.Unlock()
}

func newOAuthClient(t *testing.T, o *oauthPortal, tok bitrix.Token, store bitrix.TokenStore, opts ...bitrix.Option) *bitrix.Client {
	t.Helper()
	opts = append([]bitrix.Option{bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit()}, opts...)
	c, err := bitrix.New(bitrix.OAuth(tok, o.app(), store), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestOAuthRefreshOnExpiredToken(t *testing.T) {
	t.Parallel()
	o := newOAuthPortal(t)
	var changes []string
	store := bitrix.NewMemoryTokenStore(func(key string, tok bitrix.Token) {
		changes = append(changes, key+"="+tok.AccessToken.Reveal())
	})
	c := newOAuthClient(t, o, o.token(), store)
	if _, err := c.Call(t.Context(), "crm.deal.get", bitrix.Params{"id": 1}, nil); err != nil {
		t.Fatal(err)
	}
	o.expire()
	if _, err := c.Call(t.Context(), "crm.deal.get", bitrix.Params{"id": 1}, nil); err != nil {
		t.Fatal(err)
	}
	if n := o.refreshes.Load(); n != 1 {
		t.Fatalf("refreshes = %d, want 1", n)
	}
	// The refresh is a POST form; no secret in the URL.
	req := o.tokenReqs[0]
	if req.Query != "" || !strings.HasPrefix(req.CType, "application/x-www-form-urlencoded") || req.Path != "/oauth/token/" {
		t.Errorf("token request: path %q query %q ctype %q", req.Path, req.Query, req.CType)
	}
	// Old token, refused old token, then the new one.
	if diff := cmp.Diff([]string{"access-0-aaaaaaaa", "access-0-aaaaaaaa", "access-1-aaaaaaaa"}, o.seen); diff != "" {
		t.Errorf("tokens presented (-want +got):\n%s", diff)
	}
	// Persisted: the initial pair on first use, then the new pair.
	if diff := cmp.Diff([]string{memberID + "=access-0-aaaaaaaa", memberID + "=access-1-aaaaaaaa"}, changes); diff != "" {
		t.Errorf("store changes (-want +got):\n%s", diff)
	}
	saved, err := store.LoadToken(t.Context(), memberID)
	if err != nil {
		t.Fatal(err)
	}
	if saved.RefreshToken.Reveal() != "refresh-1-bbbbbbbb" || saved.UserID != 1 || saved.Scope != "crm" ||
		saved.Domain != strings.TrimPrefix(o.base, "http://") || saved.Expires.Before(time.Now()) {
		t.Errorf("saved token = %#v", saved)
	}
	for _, r := range o.recorded() {
		if strings.Contains(r.Path+"?"+r.Query, "access-") || strings.Contains(r.Query, "refresh-") {
			t.Errorf("token in URL: %s?%s", r.Path, r.Query)
		}
	}
}

// TestOAuthSingleFlight: callers whose calls all come back expired_token
// share one refresh; all of them wait while the only token request is held
// (TestOAuthSingleFlightShared does the same for a refresh before sending).
func TestOAuthSingleFlight(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		o, g, c := newGatedOAuthToken(t, nil)
		o.expire()
		const callers = 20
		n, errs := g.callTogether(t, c, callers) // every caller gets its 401 and waits for the one refresh
		if n != 1 {
			t.Errorf("token requests in flight = %d, want 1 shared by %d callers", n, callers)
		}
		for _, err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		if n := o.refreshes.Load(); n != 1 {
			t.Errorf("refreshes = %d, want exactly 1 for %d concurrent callers", n, callers)
		}
		if n := len(o.seen); n != 2*callers {
			t.Errorf("REST requests = %d, want %d (one refused, one with the new token per caller)", n, 2*callers)
		}
	})
}

func TestOAuthRefreshBeforeSendWhenExpired(t *testing.T) {
	t.Parallel()
	o := newOAuthPortal(t)
	o.expire()
	tok := o.token()
	tok.Expires = time.Now().Add(-time.Minute)
	c := newOAuthClient(t, o, tok, nil)
	if _, err := c.Call(t.Context(), "crm.deal.get", nil, nil); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"access-1-aaaaaaaa"}, o.seen); diff != "" {
		t.Errorf("no 401 round trip expected (-want +got):\n%s", diff)
	}
}

func TestOAuthInvalidGrantToAllWaiters(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		o, g, c := newGatedOAuthToken(t, nil)
		o.grantErr = true
		o.expire()
		_, errs := g.callTogether(t, c, 10) // all callers wait for the one token request
		for _, err := range errs {
			if !errors.Is(err, bitrix.ErrInvalidGrant) || !errors.Is(err, bitrix.ErrRefresh) {
				t.Errorf("err = %v, want ErrInvalidGrant and ErrRefresh", err)
				continue
			}
			var ae *bitrix.APIError
			if !errors.As(err, &ae) || ae.StatusCode != 400 {
				t.Errorf("want the token endpoint's *APIError, got %#v", ae)
			}
			if strings.Contains(err.Error(), "refresh-0") || strings.Contains(err.Error(), clientSecret) {
				t.Errorf("secret in error: %v", err)
			}
		}
		if n := o.refreshes.Load(); n != 1 {
			t.Errorf("token requests = %d, want 1: a refused refresh token is not sent again", n)
		}
		// A later call still fails the same way without another token request.
		if _, err := c.Call(t.Context(), "crm.deal.get", nil, nil); !errors.Is(err, bitrix.ErrInvalidGrant) {
			t.Errorf("later call: err = %v, want ErrInvalidGrant", err)
		}
		if n := o.refreshes.Load(); n != 1 {
			t.Errorf("token requests after a later call = %d, want 1", n)
		}
	})
}

// lockingStore is a shared store whose other "process" refreshed already.
type lockingStore struct {
	*bitrix.MemoryTokenStore
	locks, unlocks atomic.Int32
	onLock         func()
}

func (s *lockingStore) LockRefresh(ctx context.Context, key string) (func(), error) {
	s.locks.Add(1)
	if s.onLock != nil {
		s.onLock()
	}
	return func() { s.unlocks.Add(1) }, nil
}

func TestOAuthRefreshLockerReloadsFirst(t *testing.T) {
	t.Parallel()
	o := newOAuthPortal(t)
	store := &lockingStore{MemoryTokenStore: bitrix.NewMemoryTokenStore(nil)}
	c := newOAuthClient(t, o, o.token(), store)
	if _, err := c.Call(t.Context(), "crm.deal.get", nil, nil); err != nil {
		t.Fatal(err)
	}
	// Another process refreshes the pair and saves it while we hold the old one.
	store.onLock = func() {
		o.mu.Lock()
		o.gen++
		o.access, o.refresh = "access-other-process", "refresh-other-process"
		o.mu.Unlock()
		tok := o.token()
		tok.AccessToken, tok.RefreshToken = "access-other-process", "refresh-other-process"
		_ = store.SaveToken(context.Background(), memberID, tok)
	}
	if _, err := c.Call(t.Context(), "crm.deal.get", nil, nil); err != nil {
		t.Fatal(err)
	}
	if o.refreshes.Load() != 0 {
		t.Errorf("refreshed %d times; the store already had a newer token", o.refreshes.Load())
	}
	if store.locks.Load() != 0 {
		t.Errorf("locked %d times without a failure", store.locks.Load())
	}
	// Now make the call fail: the client locks, reloads, and uses the stored token.
	o.mu.Lock()
	o.access = "access-not-yet-known"
	o.mu.Unlock()
	store.onLock = func() {
		o.mu.Lock()
		o.access = "access-from-store"
		o.mu.Unlock()
		tok := o.token()
		tok.AccessToken, tok.RefreshToken = "access-from-store", "refresh-other-process"
		_ = store.SaveToken(context.Background(), memberID, tok)
	}
	if _, err := c.Call(t.Context(), "crm.deal.get", nil, nil); err != nil {
		t.Fatal(err)
	}
	if o.refreshes.Load() != 0 || store.locks.Load() != 1 || store.unlocks.Load() != 1 {
		t.Errorf("refreshes %d locks %d unlocks %d, want 0/1/1", o.refreshes.Load(), store.locks.Load(), store.unlocks.Load())
	}
	if got := o.seen[len(o.seen)-1]; got != "access-from-store" {
		t.Errorf("last token used %q", got)
	}
}

func TestOAuthAdoptsNewerStoredToken(t *testing.T) {
	t.Parallel()
	o := newOAuthPortal(t)
	store := bitrix.NewMemoryTokenStore(nil)
	stored := o.token()
	stored.AccessToken = "access-stored"
	stored.Expires = time.Now().Add(2 * time.Hour)
	_ = store.SaveToken(t.Context(), memberID, stored)
	o.mu.Lock()
	o.access = "access-stored"
	o.mu.Unlock()
	c := newOAuthClient(t, o, o.token(), store)
	if _, err := c.Call(t.Context(), "crm.deal.get", nil, nil); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"access-stored"}, o.seen); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestOAuthExpiryOnTheLocalClock: the expiry of a new access token counts
// expires_in on our clock, not the absolute expires of the server's clock
// (settings/oauth/auto-renewal.md documents both). With our clock an hour
// ahead of the portal's, the token must still be used for its hour instead
// of being refreshed before every call.
func TestOAuthExpiryOnTheLocalClock(t *testing.T) {
	t.Parallel()
	srv := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit(),
		bitrixtest.WithClock(func() time.Time { return time.Now().Add(-time.Hour) }))
	pa := srv.App()
	issued := srv.IssueToken(1)
	store := bitrix.NewMemoryTokenStore(nil)
	// Only the refresh token: the first call has to refresh.
	tok := bitrix.Token{RefreshToken: bitrix.Secret(issued.RefreshToken), MemberID: pa.MemberID, ClientEndpoint: pa.ClientEndpoint}
	app := bitrix.App{ClientID: pa.ClientID, ClientSecret: bitrix.Secret(pa.ClientSecret), TokenURL: pa.TokenURL}
	c, err := bitrix.New(bitrix.OAuth(tok, app, store), bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit())
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	for i := range 5 {
		if _, err := c.Call(t.Context(), "app.info", nil, nil); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if n := srv.RefreshCount(); n != 1 {
		t.Errorf("refreshes = %d, want 1 (the token was thought expired on arrival)", n)
	}
	saved, err := store.LoadToken(t.Context(), pa.MemberID)
	if err != nil {
		t.Fatal(err)
	}
	// expires_in is 3600: the expiry is about an hour from now on our clock.
	if saved.Expires.Before(before.Add(59*time.Minute)) || saved.Expires.After(time.Now().Add(61*time.Minute)) {
		t.Errorf("expires = %v, want about %v", saved.Expires, before.Add(time.Hour))
	}
}
