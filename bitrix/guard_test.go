package bitrix_test

// Guards for behaviour a mutation audit (issue 19) found unprotected:
// redirects, budgets that must end, OAuth timing, batch halting and the
// redactor's patterns.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/google/go-cmp/cmp"
)

// TestRedirectToHTTPNeedsAllowHTTP: an https portal answering 302 to an
// http:// URL is not followed (the plain server sees nothing) unless the
// client allows http; with WithAllowHTTP it is followed.
func TestRedirectToHTTPNeedsAllowHTTP(t *testing.T) {
	t.Parallel()
	plain := newPortal(t)
	plain.handle("crm.deal.add", ok(5))
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.base+r.URL.Path, http.StatusFound)
	}))
	defer tlsSrv.Close()
	u := tlsSrv.URL + "/rest/1/" + testSecret + "/"
	params := bitrix.Params{"fields": bitrix.Params{"TITLE": "x"}}

	strict, err := bitrix.New(bitrix.WebhookURL(u), bitrix.WithInsecureSkipVerify(), bitrix.WithoutRateLimit(),
		bitrix.WithRetryPolicy(bitrix.NoRetries()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := strict.Call(t.Context(), "crm.deal.add", params, nil); err == nil {
		t.Error("a redirect from https to http succeeded without WithAllowHTTP")
	}
	if n := len(plain.recorded()); n != 0 {
		t.Fatalf("the http server received %d requests; a downgrade must not be followed", n)
	}

	lax, err := bitrix.New(bitrix.WebhookURL(u), bitrix.WithInsecureSkipVerify(), bitrix.WithoutRateLimit(),
		bitrix.WithAllowHTTP())
	if err != nil {
		t.Fatal(err)
	}
	var id int
	if _, err := lax.Call(t.Context(), "crm.deal.add", params, &id); err != nil || id != 5 {
		t.Fatalf("with WithAllowHTTP: id %d err %v", id, err)
	}
	if n := len(plain.recorded()); n != 1 {
		t.Errorf("the http server received %d requests, want 1", n)
	}
}

// TestRedactorPatternsWithoutKnownSecrets: credentials the client does not
// know (another webhook, another app's tokens) echoed by the portal are
// removed by the pattern layer alone, from API errors and from bad-answer
// snippets.
func TestRedactorPatternsWithoutKnownSecrets(t *testing.T) {
	t.Parallel()
	leaks := []struct {
		name, text, secret string
	}{
		{"webhook path one-digit user", "see https://x.bitrix24.com/rest/1/abcDEF123xyz/profile", "abcDEF123xyz"},
		{"webhook path multi-digit user", "see /rest/1234/zzTopSecret987/crm.deal.add", "zzTopSecret987"},
		{"bearer", "header Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig ok", "eyJhbGciOiJIUzI1NiJ9"},
		{"bearer lower case", "got bearer tok_live_4242abcd then", "tok_live_4242abcd"},
		{"form auth", "request was id=5&auth=formAuthValue77&x=1", "formAuthValue77"},
		{"form refresh_token", "grant_type=refresh_token&refresh_token=rtValue9876", "rtValue9876"},
		{"form client_secret", "client_id=app.1&client_secret=csValue5555", "csValue5555"},
		{"form password first", "password=pwValue1234&login=admin", "pwValue1234"},
		{"json access_token", `{"access_token":"jsonAccess123","x":1}`, "jsonAccess123"},
		{"json refresh_id", `{"REFRESH_ID": "refreshIdValue42"}`, "refreshIdValue42"},
		{"json escaped", `{"application_token":"esc\"aped\"Value99"}`, `aped\"Value99`},
	}
	p := newPortal(t)
	var mu sync.Mutex
	current := ""
	p.handle("crm.deal.get", func(w http.ResponseWriter, _ recorded) {
		mu.Lock()
		defer mu.Unlock()
		writeJSON(w, 400, map[string]any{"error": "ERROR_CORE", "error_description": current, "argument": current})
	})
	p.handle("crm.deal.list", func(w http.ResponseWriter, _ recorded) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(400)
		_, _ = w.Write([]byte("<html>" + current + "</html>"))
	})
	c := newWebhookClient(t, p, bitrix.WithRetryPolicy(bitrix.NoRetries()))
	for _, l := range leaks {
		mu.Lock()
		current = l.text
		mu.Unlock()
		_, err := c.Call(t.Context(), "crm.deal.get", nil, nil)
		var ae *bitrix.APIError
		if !errors.As(err, &ae) {
			t.Fatalf("%s: err = %v", l.name, err)
		}
		for what, s := range map[string]string{"Description": ae.Description, "Argument": ae.Argument, "Error()": err.Error(), "%+v": fmt.Sprintf("%+v", err)} {
			if strings.Contains(s, l.secret) {
				t.Errorf("%s: %s leaks %q: %s", l.name, what, l.secret, s)
			}
		}
		if ae.Description == "" || !strings.Contains(ae.Description, "REDACTED") && !strings.Contains(ae.Description, "***") {
			t.Errorf("%s: description %q has no redaction mark", l.name, ae.Description)
		}
		_, err = c.Call(t.Context(), "crm.deal.list", nil, nil)
		var re *bitrix.ResponseError
		if !errors.As(err, &re) {
			t.Fatalf("%s: bad answer err = %v", l.name, err)
		}
		if strings.Contains(re.Snippet, l.secret) || strings.Contains(err.Error(), l.secret) {
			t.Errorf("%s: snippet leaks %q: %s", l.name, l.secret, re.Snippet)
		}
	}
	// Text without credentials passes unchanged.
	mu.Lock()
	current = "Deal 12 not found in /rest/api/ (token bucket empty)"
	mu.Unlock()
	_, err := c.Call(t.Context(), "crm.deal.get", nil, nil)
	var ae *bitrix.APIError
	if !errors.As(err, &ae) || ae.Description != "Deal 12 not found in /rest/api/ (token bucket empty)" {
		t.Errorf("harmless text changed: %#v", err)
	}
}

// TestKnownSecretLengthBoundary: a known secret of 4 characters is removed
// from echoed text; empty credentials (an OAuth pair without a refresh
// token) do not shred the text.
func TestKnownSecretLengthBoundary(t *testing.T) {
	t.Parallel()
	p := newPortal(t)
	const desc = "token wxyz is not valid here"
	p.handle("crm.deal.get", func(w http.ResponseWriter, _ recorded) {
		writeJSON(w, 400, map[string]any{"error": "ERROR_CORE", "error_description": desc})
	})
	tok := bitrix.Token{AccessToken: "wxyz", ClientEndpoint: p.base + "/rest/", Expires: time.Now().Add(time.Hour)}
	c, err := bitrix.New(bitrix.OAuth(tok, bitrix.App{}, nil), bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit())
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Call(t.Context(), "crm.deal.get", nil, nil)
	var ae *bitrix.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(ae.Description, "wxyz") {
		t.Errorf("4-character token not redacted: %q", ae.Description)
	}
	if !strings.HasPrefix(ae.Description, "token ") || !strings.HasSuffix(ae.Description, " is not valid here") {
		t.Errorf("the rest of the text was changed: %q", ae.Description)
	}
}

// TestDialErrorBudget: a dial error that never ends is tried exactly
// MaxAttempts times, for reads and writes.
func TestDialErrorBudget(t *testing.T) {
	t.Parallel()
	for _, method := range []string{"crm.deal.add", "crm.deal.get"} {
		t.Run(method, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newMemPortal(t)
				var n atomic.Int32
				rt := rtFunc(func(r *http.Request) (*http.Response, error) {
					n.Add(1)
					return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
				})
				c := newWebhookClient(t, p, bitrix.WithTransport(rt),
					bitrix.WithRetryPolicy(bitrix.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Second, MaxDelay: time.Second}))
				_, err := c.Call(t.Context(), method, nil, nil)
				var te *bitrix.TransportError
				if !errors.As(err, &te) || te.Sent {
					t.Fatalf("err = %#v, want an unsent *TransportError", err)
				}
				if errors.Is(err, bitrix.ErrMaybeApplied) {
					t.Errorf("a request that never left matches ErrMaybeApplied: %v", err)
				}
				if got := n.Load(); got != 3 {
					t.Errorf("attempts = %d, want exactly 3", got)
				}
			})
		})
	}
}

// TestOperatingWaitBudget: a method the portal keeps blocking gets exactly
// MaxOperatingWaits gate waits, then the error.
func TestOperatingWaitBudget(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := newMemPortal(t)
		var n atomic.Int32
		p.handle("crm.deal.list", func(w http.ResponseWriter, _ recorded) {
			n.Add(1)
			writeJSON(w, 429, map[string]any{"error": "OPERATION_TIME_LIMIT", "error_description": "Method is blocked due to operation time limit."})
		})
		var gateWaits atomic.Int32
		c := newMemClient(t, p,
			bitrix.WithRetryPolicy(bitrix.RetryPolicy{MaxAttempts: 5, MaxOperatingWaits: 2}),
			bitrix.WithProgress(func(pr bitrix.Progress) {
				if pr.Reason == bitrix.ReasonOperatingLimit {
					gateWaits.Add(1)
				}
			}))
		start := time.Now()
		_, err := c.Call(t.Context(), "crm.deal.list", nil, nil)
		if !errors.Is(err, bitrix.ErrOperationTimeLimit) {
			t.Fatalf("err = %v", err)
		}
		if got := n.Load(); got != 3 {
			t.Errorf("requests = %d, want 3 (the first and one after each of 2 waits)", got)
		}
		if got := gateWaits.Load(); got != 2 {
			t.Errorf("gate waits = %d, want 2", got)
		}
		// Each wait lasts the default block of a minute (no operating_reset_at known).
		if el := time.Since(start); el != 2*time.Minute {
			t.Errorf("elapsed %v, want 2m", el)
		}
	})
}

// newMemOAuthPortal is newOAuthPortal without a listener (for synctest).
func newMemOAuthPortal(t *testing.T) *oauthPortal {
	o := &oauthPortal{portal: newMemPortal(t), access: "access-0-aaaaaaaa", refresh: "refresh-0-bbbbbbbb"}
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

// gatedTokenTransport serves o in memory; token requests wait until
// release is closed (or their context ends), and each one that arrives is
// counted and announced on entered. Requests are served one at a time
// (sem), so the portal's mutex is never contended: a goroutine waiting on
// a mutex would stall the synctest bubble's clock.
type gatedTokenTransport struct {
	o       *oauthPortal
	release chan struct{}
	entered chan struct{}
	sem     chan struct{}
	tokens  atomic.Int32
}

func (g *gatedTokenTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.Contains(r.URL.Path, "/oauth/token") {
		g.tokens.Add(1)
		select {
		case g.entered <- struct{}{}:
		default:
		}
		select {
		case <-g.release:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	select {
	case g.sem <- struct{}{}:
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	defer func() { <-g.sem }()
	return memTransport{http.HandlerFunc(g.o.serve)}.RoundTrip(r)
}

// callTogether starts callers calls of crm.deal.get on c, waits until every
// one is blocked (synctest.Wait: in the token request or waiting for it),
// notes how many token requests are in flight then, releases the token
// endpoint and returns each caller's error.
func (g *gatedTokenTransport) callTogether(t *testing.T, c *bitrix.Client, callers int) (tokensInFlight int32, errs []error) {
	ch := make(chan error, callers)
	for range callers {
		go func() {
			_, err := c.Call(t.Context(), "crm.deal.get", nil, nil)
			ch <- err
		}()
	}
	synctest.Wait()
	tokensInFlight = g.tokens.Load()
	close(g.release)
	for range callers {
		errs = append(errs, <-ch)
	}
	return tokensInFlight, errs
}

func newGatedOAuth(t *testing.T) (*oauthPortal, *gatedTokenTransport, *bitrix.Client) {
	expired := time.Now().Add(-time.Minute) // refreshed before the first call
	return newGatedOAuthToken(t, &expired)
}

// newGatedOAuthToken is newGatedOAuth with the token's expiry (nil: the
// portal's default, an hour ahead).
func newGatedOAuthToken(t *testing.T, expires *time.Time) (*oauthPortal, *gatedTokenTransport, *bitrix.Client) {
	o := newMemOAuthPortal(t)
	g := &gatedTokenTransport{o: o, release: make(chan struct{}), entered: make(chan struct{}, 1), sem: make(chan struct{}, 1)}
	tok := o.token()
	if expires != nil {
		tok.Expires = *expires
	}
	c := newOAuthClient(t, o, tok, nil, bitrix.WithTransport(g))
	return o, g, c
}

// TestOAuthSingleFlightShared proves that concurrent callers share one
// refresh: all of them wait while the only token request is held.
func TestOAuthSingleFlightShared(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		o, g, c := newGatedOAuth(t)
		const callers = 10
		n, errs := g.callTogether(t, c, callers)
		if n != 1 {
			t.Errorf("token requests in flight = %d, want 1 shared by %d callers", n, callers)
		}
		for _, err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		if n := o.refreshes.Load(); n != 1 {
			t.Errorf("refreshes = %d, want 1", n)
		}
		for _, tok := range o.seen {
			if tok != "access-1-aaaaaaaa" {
				t.Errorf("a call was sent with %q", tok)
			}
		}
	})
}

// TestOAuthRefreshStarterCancels: the caller whose call started the shared
// refresh gives up; the refresh still completes for the other waiters.
func TestOAuthRefreshStarterCancels(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		o, g, c := newGatedOAuth(t)
		ctxA, cancelA := context.WithCancel(t.Context())
		errA := make(chan error, 1)
		go func() {
			_, err := c.Call(ctxA, "crm.deal.get", nil, nil)
			errA <- err
		}()
		<-g.entered // A started the refresh
		errB := make(chan error, 1)
		go func() {
			_, err := c.Call(t.Context(), "crm.deal.get", nil, nil)
			errB <- err
		}()
		synctest.Wait() // B waits for A's refresh
		cancelA()
		if err := <-errA; !errors.Is(err, context.Canceled) {
			t.Errorf("starter: err = %v, want context.Canceled", err)
		}
		close(g.release)
		if err := <-errB; err != nil {
			t.Errorf("waiter failed with the starter's cancellation: %v", err)
		}
		if n, m := g.tokens.Load(), o.refreshes.Load(); n != 1 || m != 1 {
			t.Errorf("token requests %d, refreshes %d, want 1 and 1", n, m)
		}
	})
}

// TestOAuthRefreshInsideSafetyMargin: a token that expires within the
// safety margin is refreshed before the call is sent.
func TestOAuthRefreshInsideSafetyMargin(t *testing.T) {
	t.Parallel()
	o := newOAuthPortal(t)
	tok := o.token()
	tok.Expires = time.Now().Add(2 * time.Second)
	c := newOAuthClient(t, o, tok, nil)
	if _, err := c.Call(t.Context(), "crm.deal.get", nil, nil); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"access-1-aaaaaaaa"}, o.seen); diff != "" {
		t.Errorf("tokens presented (-want +got):\n%s", diff)
	}
}

// TestOAuthExpiredAfterRefreshEnds: a portal that answers expired_token
// even to the fresh token gets one refresh, then the caller gets the error.
func TestOAuthExpiredAfterRefreshEnds(t *testing.T) {
	t.Parallel()
	o := newOAuthPortal(t)
	var calls atomic.Int32
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	o.handle("crm.deal.get", func(w http.ResponseWriter, _ recorded) {
		if calls.Add(1) > 5 {
			cancel() // an endless refresh loop: stop it
		}
		writeJSON(w, 401, map[string]any{"error": "expired_token", "error_description": "The access token provided has expired."})
	})
	c := newOAuthClient(t, o, o.token(), nil)
	_, err := c.Call(ctx, "crm.deal.get", nil, nil)
	if !errors.Is(err, bitrix.ErrExpiredToken) {
		t.Fatalf("err = %v, want ErrExpiredToken", err)
	}
	if n := o.refreshes.Load(); n != 1 {
		t.Errorf("refreshes = %d, want 1", n)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("calls = %d, want 2 (before and after the refresh)", n)
	}
}

// TestBatchHaltAcrossChunks: with Halt, a failure stops the batch in
// whichever 50-command request it happens; later requests are not sent.
// Without Halt every request is sent.
func TestBatchHaltAcrossChunks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		halt     bool
		failAt   int // -1: no failure
		requests int
	}{
		{"halt no failure", true, -1, 2},
		{"halt failure in first request", true, 10, 1},
		{"halt failure in second request", true, 55, 2},
		{"no halt failure in first request", false, 10, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c := fakePortalClient(t, 1)
			b := c.NewBatch()
			if tt.halt {
				b.Halt()
			}
			cmds := make([]*bitrix.BatchCmd, 60)
			for i := range cmds {
				id := 1
				if i == tt.failAt {
					id = 999
				}
				cmds[i] = b.Add("", "crm.deal.get", bitrix.Params{"id": id})
			}
			if err := b.Run(t.Context()); err != nil {
				t.Fatal(err)
			}
			if n := srv.Requests(); n != tt.requests {
				t.Errorf("requests = %d, want %d", n, tt.requests)
			}
			for i, cmd := range cmds {
				switch {
				case i == tt.failAt:
					if !errors.Is(cmd.Err(), bitrix.ErrNotFound) {
						t.Errorf("cmd %d: %v, want ErrNotFound", i, cmd.Err())
					}
				case tt.halt && tt.failAt >= 0 && i > tt.failAt:
					if !errors.Is(cmd.Err(), bitrix.ErrNotRun) {
						t.Errorf("cmd %d after the halt: %v, want ErrNotRun", i, cmd.Err())
					}
				default:
					if cmd.Err() != nil {
						t.Errorf("cmd %d: %v", i, cmd.Err())
					}
				}
			}
		})
	}
}

// TestBatchSelfReferenceRefused: a command cannot reference its own result.
func TestBatchSelfReferenceRefused(t *testing.T) {
	t.Parallel()
	bp := newBatchPortal(t)
	c := newWebhookClient(t, bp.portal)
	b := c.NewBatch()
	b.Add("a", "crm.deal.get", bitrix.Params{"id": "$result[a][ID]"})
	err := b.Run(t.Context())
	if err == nil || !strings.Contains(err.Error(), "not an earlier command") {
		t.Fatalf("err = %v, want a refused self-reference", err)
	}
	if len(bp.sent()) != 0 {
		t.Errorf("%d requests sent", len(bp.sent()))
	}
}

// TestDescriptionFallbackOnlyForEmptyCodes: "not found" in the description
// matches ErrNotFound only when the code is empty.
func TestDescriptionFallbackOnlyForEmptyCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err      *bitrix.APIError
		sentinel error
		want     bool
	}{
		{&bitrix.APIError{Description: "Deal is not found"}, bitrix.ErrNotFound, true},
		{&bitrix.APIError{Code: "ERROR_CORE", Description: "Deal is not found"}, bitrix.ErrNotFound, false},
		{&bitrix.APIError{Code: "ACCESS_DENIED", Description: "Not found or access denied"}, bitrix.ErrNotFound, false},
		{&bitrix.APIError{Description: "The parameter id is invalid or not defined."}, bitrix.ErrInvalidArgument, true},
		{&bitrix.APIError{Code: "ERROR_CORE", Description: "The parameter id is invalid or not defined."}, bitrix.ErrInvalidArgument, false},
		{&bitrix.APIError{Description: "Internal error"}, bitrix.ErrNotFound, false},
	}
	for _, tt := range tests {
		if got := errors.Is(tt.err, tt.sentinel); got != tt.want {
			t.Errorf("errors.Is(%q/%q, %v) = %v, want %v", tt.err.Code, tt.err.Description, tt.sentinel, got, tt.want)
		}
	}
}
