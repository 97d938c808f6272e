package webhook

import (
	"strings"
	"testing"

	"github.com/b24go/sdk/bitrix"
)

// TestNewRefusesBadOptions: bad configuration is an error from New, never
// a panic and never a Handler that fails later (an app without client id
// or secret used to be accepted and answer the first install with 500).
func TestNewRefusesBadOptions(t *testing.T) {
	t.Parallel()
	const secret = "csValue5555"
	tests := []struct {
		name string
		opts []Option
		want string
	}{
		{"no verification", nil, "needs WithApplicationToken"},
		{"app without client id", []Option{WithApp(bitrix.App{ClientSecret: secret})}, "empty ClientID"},
		{"app with blank client id", []Option{WithApp(bitrix.App{ClientID: " ", ClientSecret: secret})}, "empty ClientID"},
		{"app without client secret", []Option{WithApp(bitrix.App{ClientID: "app.1"})}, "empty ClientSecret"},
		{"no application token", []Option{WithApplicationToken()}, "no token"},
		{"empty application token", []Option{WithApplicationToken("t", "")}, "token 1 is empty"},
		{"async without workers", []Option{WithApplicationToken("t"), WithAsync(0, 1)}, "at least 1 worker"},
		{"async negative queue", []Option{WithApplicationToken("t"), WithAsync(1, -1)}, "at least 1 worker"},
		{"nil queue", []Option{WithApplicationToken("t"), WithQueue(nil, 1, RetryPolicy{})}, "nil queue"},
		{"queue without workers", []Option{WithApplicationToken("t"), WithQueue(NewMemoryQueue(1), 0, RetryPolicy{})}, "at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, err := New(tt.opts...)
			if err == nil {
				_ = h.Shutdown(t.Context())
				t.Fatal("New accepted the options")
			}
			if h != nil {
				t.Errorf("New returned a handler with the error %v", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to mention %q", err, tt.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q quotes the client secret", err)
			}
		})
	}
}

func TestNewAcceptsGoodOptions(t *testing.T) {
	t.Parallel()
	for name, opts := range map[string][]Option{
		"token":              {WithApplicationToken("t")},
		"app":                {WithApp(bitrix.App{ClientID: "app.1", ClientSecret: "csValue5555"})},
		"insecure":           {WithInsecureSkipVerify()},
		"nil option skipped": {nil, WithApplicationToken("t")},
		"async":              {WithApplicationToken("t"), WithAsync(1, 0)},
	} {
		h, err := New(opts...)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if err := h.Shutdown(t.Context()); err != nil {
			t.Errorf("%s: shutdown: %v", name, err)
		}
	}
}
