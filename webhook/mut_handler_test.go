package webhook

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/events"
)

// Tests written for mutants of handler.go that the other tests let live
// (scripts/mutants.py; docs/TESTING.md, "Mutation testing").

// TestHandlingAsync: the observer's Handling.Async is false for a handler
// run within its delivery, true for one run by WithAsync's or WithQueue's
// workers.
func TestHandlingAsync(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opt   Option
		async bool
	}{
		{"synchronous", nil, false},
		{"WithAsync", WithAsync(1, 1), true},
		{"WithQueue", WithQueue(NewMemoryQueue(0), 1, RetryPolicy{MaxAttempts: 1, Backoff: time.Second, Visibility: time.Minute}), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var mu sync.Mutex
				var got []bool
				h, err := New(WithApplicationToken(testToken), tc.opt, WithObserver(Observer{
					HandlerStart: func(ctx context.Context, hd events.Handling) context.Context {
						mu.Lock()
						got = append(got, hd.Async)
						mu.Unlock()
						return ctx
					},
				}))
				if err != nil {
					t.Fatal(err)
				}
				h.OnDealAdd(func(context.Context, *events.Event, *events.CRMEntity) error { return nil })
				if st := serve(h, dealBody(1, testToken)); st != 200 {
					t.Fatalf("status %d", st)
				}
				synctest.Wait()
				if err := h.Shutdown(t.Context()); err != nil {
					t.Fatal(err)
				}
				mu.Lock()
				defer mu.Unlock()
				if len(got) != 1 || got[0] != tc.async {
					t.Errorf("Handling.Async of the runs: %v, want [%v]", got, tc.async)
				}
			})
		})
	}
}

// TestOAuthServerNormalized: allow-listed OAuth servers and the server an
// event names are compared with scheme and host lower-cased and the path
// ending in "/"; a value that is not an absolute URL is kept as it is.
func TestOAuthServerNormalized(t *testing.T) {
	h, err := New(WithApp(bitrix.App{ClientID: "app", ClientSecret: "secret"}),
		WithOAuthServers("HTTPS://OAuth.Example.COM/rest", "relative/rest/"))
	if err != nil {
		t.Fatal(err)
	}
	for _, named := range []string{"https://oauth.example.com/rest/", "https://OAUTH.example.com/rest", " https://oauth.example.com/rest/ "} {
		if got, err := h.oauthServer(named); err != nil || got != "https://oauth.example.com/rest/" {
			t.Errorf("oauthServer(%q) = %q, %v; want the allow-listed https://oauth.example.com/rest/", named, got, err)
		}
	}
	if got, err := h.oauthServer("relative/rest/"); err != nil || got != "relative/rest/" {
		t.Errorf("oauthServer(relative) = %q, %v; want it kept as given", got, err)
	}
	if _, err := h.oauthServer("https://oauth.example.com/other/"); !errors.Is(err, errUnknownOAuthServer) {
		t.Errorf("another path: %v, want errUnknownOAuthServer", err)
	}
}

// TestUninstallNotVerifiedIsVerified: authenticate verifies an
// ONAPPUNINSTALL it is handed unverified before it removes the portal (in
// ServeHTTP the envelope was verified already; this is the check behind
// it): a wrong token removes nothing, the right one removes the portal.
func TestUninstallNotVerifiedIsVerified(t *testing.T) {
	ctx := t.Context()
	h, err := New(WithApp(bitrix.App{ClientID: "app", ClientSecret: "secret"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.cfg.registry.Store(ctx, testMember, testToken); err != nil {
		t.Fatal(err)
	}
	ev := &events.Event{Name: events.OnAppUninstall, Auth: events.Auth{ApplicationToken: "forged", MemberID: testMember}}
	if err := h.authenticate(ctx, ev, false); !errors.Is(err, events.ErrTokenMismatch) {
		t.Errorf("forged uninstall: %v, want ErrTokenMismatch", err)
	}
	if tok, err := h.cfg.registry.Lookup(ctx, testMember); err != nil || tok != testToken {
		t.Fatalf("after a forged uninstall the registry holds %q, %v", tok, err)
	}
	ev.Auth.ApplicationToken = testToken
	if err := h.authenticate(ctx, ev, false); err != nil {
		t.Fatalf("uninstall: %v", err)
	}
	if _, err := h.cfg.registry.Lookup(ctx, testMember); !errors.Is(err, events.ErrUnknownPortal) {
		t.Errorf("after the uninstall: %v, want ErrUnknownPortal", err)
	}
}
