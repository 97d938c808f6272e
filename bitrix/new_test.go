package bitrix_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/b24go/sdk/bitrix"
)

func TestWebhookURLValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url       string
		allowHTTP bool
		wantErr   string // "" = valid
		wantKey   string
	}{
		{url: "https://portal.bitrix24.com/rest/1/abc123/", wantKey: "portal.bitrix24.com"},
		{url: "https://portal.bitrix24.com/rest/1/abc123", wantKey: "portal.bitrix24.com"},
		{url: "https://Portal.Bitrix24.com:8443/rest/17/abc_1-2/", wantKey: "portal.bitrix24.com:8443"},
		{url: "http://127.0.0.1:8080/rest/1/abc/", allowHTTP: true, wantKey: "127.0.0.1:8080"},
		{url: "http://portal.bitrix24.com/rest/1/abc123/", wantErr: "WithAllowHTTP"},
		{url: "ftp://portal.bitrix24.com/rest/1/abc123/", wantErr: "must look like https://portal.bitrix24.com/rest/{user}/{secret}/"},
		{url: "https://portal.bitrix24.com/rest/abc123/", wantErr: "must look like"},
		{url: "https://portal.bitrix24.com/rest/1/abc123/crm.deal.get", wantErr: "must look like"},
		{url: "https://portal.bitrix24.com/api/1/abc123/", wantErr: "must look like"},
		{url: "https://portal.bitrix24.com/rest/x/abc123/", wantErr: "numeric user id"},
		{url: "https://portal.bitrix24.com/rest/1/abc123/?x=1", wantErr: "query"},
		{url: "https://u:p@portal.bitrix24.com/rest/1/abc123/", wantErr: "user info"},
		{url: "https://portal.bitrix24.com/rest/1/ab%20c/", wantErr: "unexpected characters"},
		{url: "portal.bitrix24.com/rest/1/abc123/", wantErr: "must look like"},
		{url: "", wantErr: "must look like"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			var opts []bitrix.Option
			if tt.allowHTTP {
				opts = append(opts, bitrix.WithAllowHTTP())
			}
			c, err := bitrix.New(bitrix.WebhookURL(tt.url), opts...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("New(%q) error = %v, want one containing %q", tt.url, err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "abc123") {
					t.Errorf("error leaks the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("New(%q): %v", tt.url, err)
			}
			if got := c.PortalKey(); got != tt.wantKey {
				t.Errorf("PortalKey = %q, want %q", got, tt.wantKey)
			}
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	auth := bitrix.WebhookURL("https://p.bitrix24.com/rest/1/abc/")
	tests := []struct {
		name    string
		opt     bitrix.Option
		wantErr string
	}{
		{"nil http client", bitrix.WithHTTPClient(nil), "nil *http.Client"},
		{"nil transport", bitrix.WithTransport(nil), "nil RoundTripper"},
		{"zero timeout", bitrix.WithTimeout(0), "positive"},
		{"empty UA", bitrix.WithUserAgent(" "), "non-empty"},
		{"UA newline", bitrix.WithUserAgent("a\nb"), "single line"},
		{"nil logger", bitrix.WithLogger(nil), "nil logger"},
		{"nil limiter", bitrix.WithLimiter(nil), "WithoutRateLimit"},
		{"bad rate", bitrix.WithRateLimit(0, 50), "positive"},
		{"bad burst", bitrix.WithRateLimit(2, 0), "at least 1"},
		{"nil gate", bitrix.WithOperatingGate(nil), "nil OperatingGate"},
		{"negative retry", bitrix.WithRetryPolicy(bitrix.RetryPolicy{MaxAttempts: -1}), "negative"},
		{"nil progress", bitrix.WithProgress(nil), "nil function"},
		{"missing dump dir", bitrix.WithDumpDir(filepath.Join(t.TempDir(), "nope")), "WithDumpDir"},
		{"dump dir is a file", bitrix.WithDumpDir(file), "not a directory"},
		{"small body limit", bitrix.WithMaxResponseBytes(10), "too small"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := bitrix.New(auth, tt.opt)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
	// Valid options together.
	if _, err := bitrix.New(auth, bitrix.WithHTTPClient(&http.Client{}), bitrix.WithTimeout(time.Second),
		bitrix.WithUserAgent("x/1"), bitrix.WithRateLimit(bitrix.EnterpriseRate, bitrix.EnterpriseBurst),
		bitrix.WithDumpDir(t.TempDir()), bitrix.WithInsecureSkipVerify(), bitrix.WithRetryPolicy(bitrix.NoRetries())); err != nil {
		t.Fatal(err)
	}
	// Insecure needs an *http.Transport.
	if _, err := bitrix.New(auth, bitrix.WithTransport(rtFunc(nil)), bitrix.WithInsecureSkipVerify()); err == nil {
		t.Error("WithInsecureSkipVerify with a custom RoundTripper: want an error")
	}
	if _, err := bitrix.New(nil); err == nil {
		t.Error("New(nil): want an error")
	}
}

func TestOAuthValidation(t *testing.T) {
	t.Parallel()
	app := bitrix.App{ClientID: "app.1", ClientSecret: "cs"}
	tests := []struct {
		name    string
		tok     bitrix.Token
		app     bitrix.App
		opts    []bitrix.Option
		wantErr string
		wantKey string
	}{
		{name: "member id key", tok: bitrix.Token{AccessToken: "a", RefreshToken: "r", MemberID: "abc", Domain: "p.bitrix24.com"}, app: app, wantKey: "abc"},
		{name: "domain key", tok: bitrix.Token{AccessToken: "a", RefreshToken: "r", ClientEndpoint: "https://P.bitrix24.com/rest/"}, app: app, wantKey: "p.bitrix24.com"},
		{name: "no tokens", tok: bitrix.Token{Domain: "p"}, app: app, wantErr: "access token or a refresh token"},
		{name: "no endpoint", tok: bitrix.Token{AccessToken: "a"}, app: app, wantErr: "ClientEndpoint"},
		{name: "http endpoint", tok: bitrix.Token{AccessToken: "a", ClientEndpoint: "http://p/rest/"}, app: app, wantErr: "WithAllowHTTP"},
		{name: "http token url", tok: bitrix.Token{AccessToken: "a", Domain: "p"}, app: bitrix.App{ClientID: "x", ClientSecret: "y", TokenURL: "http://o/oauth/token/"}, wantErr: "TokenURL"},
		{name: "no client secret", tok: bitrix.Token{AccessToken: "a", RefreshToken: "r", Domain: "p"}, app: bitrix.App{ClientID: "x"}, wantErr: "ClientSecret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := bitrix.New(bitrix.OAuth(tt.tok, tt.app, nil), tt.opts...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.PortalKey() != tt.wantKey {
				t.Errorf("PortalKey = %q, want %q", c.PortalKey(), tt.wantKey)
			}
		})
	}
}

func TestNewDoesNoIO(t *testing.T) {
	t.Parallel()
	called := false
	rt := rtFunc(func(*http.Request) (*http.Response, error) { called = true; return nil, http.ErrHandlerTimeout })
	store := &countingStore{MemoryTokenStore: bitrix.NewMemoryTokenStore(nil)}
	_, err := bitrix.New(bitrix.OAuth(bitrix.Token{AccessToken: "a", RefreshToken: "r", Domain: "p.bitrix24.com"},
		bitrix.App{ClientID: "c", ClientSecret: "s"}, store), bitrix.WithTransport(rt))
	if err != nil {
		t.Fatal(err)
	}
	if called || store.loads.Load() != 0 || store.saves.Load() != 0 {
		t.Errorf("New did I/O: http=%v loads=%d saves=%d", called, store.loads.Load(), store.saves.Load())
	}
}
