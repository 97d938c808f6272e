package bitrix_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/b24go/sdk/bitrix"
)

// TestRetryLoggedAtDebug: every retry is one debug line "bitrix retrying"
// with its reason and the (redacted) error that caused it.
func TestRetryLoggedAtDebug(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := newMemPortal(t)
		var n atomic.Int32
		p.handle("crm.deal.get", func(w http.ResponseWriter, r recorded) {
			switch n.Add(1) {
			case 1: // the portal echoes the webhook secret: the log must not
				writeJSON(w, 503, map[string]any{"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests for " + testSecret})
			case 2:
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(502)
				_, _ = w.Write([]byte(html502))
			case 3:
				writeJSON(w, 429, map[string]any{"error": "OPERATION_TIME_LIMIT", "error_description": "Method is blocked due to operation time limit."})
			default:
				ok(1)(w, r)
			}
		})
		var logs bytes.Buffer
		c := newMemClient(t, p, bitrix.WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
		if _, err := c.Call(t.Context(), "crm.deal.get", bitrix.Params{"id": 1}, nil); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(logs.String(), testSecret) {
			t.Fatalf("the webhook secret reached the log:\n%s", logs.String())
		}
		type line struct {
			Level, Msg, Method, Reason, Error string
			Status, Attempt                   int
		}
		var got []line
		for _, raw := range bytes.Split(bytes.TrimSpace(logs.Bytes()), []byte("\n")) {
			var l line
			if err := json.Unmarshal(raw, &l); err != nil {
				t.Fatalf("log line %q: %v", raw, err)
			}
			if l.Msg == "bitrix retrying" {
				got = append(got, l)
			}
		}
		want := []struct {
			reason          string
			status, attempt int
			errSub          string
		}{
			{bitrix.RetryQueryLimit, 503, 1, "Too many requests for [REDACTED]"},
			{bitrix.RetryBadResponse, 502, 2, "502 Bad Gateway"},
			{bitrix.RetryOperatingLimit, 429, 3, "operation time limit"},
		}
		if len(got) != len(want) {
			t.Fatalf("retry lines = %+v, want %d", got, len(want))
		}
		for i, w := range want {
			g := got[i]
			if g.Level != "DEBUG" || g.Method != "crm.deal.get" || g.Reason != w.reason || g.Status != w.status ||
				g.Attempt != w.attempt || !strings.Contains(g.Error, w.errSub) {
				t.Errorf("retry %d = %+v, want DEBUG %s status %d attempt %d error with %q", i+1, g, w.reason, w.status, w.attempt, w.errSub)
			}
		}
	})
}

// TestDeadPortalBudget: with the default policy a portal that cannot be
// reached is tried 4 times with 3 backoffs of 1, 2 and 4 s, each jittered
// to between half and all of it: 3.5 to 7 s before the error (the figure
// RetryPolicy's documentation gives).
func TestDeadPortalBudget(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := newMemPortal(t)
		var n atomic.Int32
		rt := rtFunc(func(*http.Request) (*http.Response, error) {
			n.Add(1)
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
		})
		c := newWebhookClient(t, p, bitrix.WithTransport(rt))
		start := time.Now()
		_, err := c.Call(t.Context(), "crm.deal.add", nil, nil)
		el := time.Since(start)
		var te *bitrix.TransportError
		if !errors.As(err, &te) {
			t.Fatalf("err = %v, want a *TransportError", err)
		}
		if n.Load() != 4 {
			t.Errorf("attempts = %d, want 4", n.Load())
		}
		if el < 3500*time.Millisecond || el > 7*time.Second {
			t.Errorf("gave up after %v, want 3.5s to 7s", el)
		}
	})
}

// TestRefreshSpendsNoAttempt: the repeat after a token refresh is free; with
// MaxAttempts 2 the call still has its retry for a QUERY_LIMIT_EXCEEDED
// that follows the refresh.
func TestRefreshSpendsNoAttempt(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		o := newMemOAuthPortal(t)
		var limited atomic.Bool
		o.handle("crm.deal.get", func(w http.ResponseWriter, r recorded) {
			o.mu.Lock()
			o.seen = append(o.seen, r.Form.String("auth"))
			valid := r.Form.String("auth") == o.access
			o.mu.Unlock()
			switch {
			case !valid:
				writeJSON(w, 401, map[string]any{"error": "expired_token", "error_description": "The access token provided has expired."})
			case limited.CompareAndSwap(false, true):
				writeJSON(w, 503, map[string]any{"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"})
			default:
				ok(1)(w, r)
			}
		})
		o.expire()
		c := newOAuthClient(t, o, o.token(), nil, bitrix.WithTransport(memTransport{http.HandlerFunc(o.serve)}),
			bitrix.WithRetryPolicy(bitrix.RetryPolicy{MaxAttempts: 2}))
		if _, err := c.Call(t.Context(), "crm.deal.get", nil, nil); err != nil {
			t.Fatalf("err = %v, want success (refresh, then one retry of the rate limit)", err)
		}
		if n := o.refreshes.Load(); n != 1 || len(o.seen) != 3 {
			t.Errorf("refreshes %d, requests %d; want 1 and 3", n, len(o.seen))
		}
	})
}

// TestOperatingWaitSpendsNoAttempt: a wait for the operating gate is not
// an attempt; with MaxAttempts 2 the call still has its retry for a
// QUERY_LIMIT_EXCEEDED that follows the wait.
func TestOperatingWaitSpendsNoAttempt(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := newMemPortal(t)
		var n atomic.Int32
		p.handle("crm.deal.list", func(w http.ResponseWriter, r recorded) {
			switch n.Add(1) {
			case 1:
				writeJSON(w, 429, map[string]any{"error": "OPERATION_TIME_LIMIT", "error_description": "Method is blocked due to operation time limit."})
			case 2:
				writeJSON(w, 503, map[string]any{"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"})
			default:
				ok([]any{})(w, r)
			}
		})
		c := newMemClient(t, p, bitrix.WithRetryPolicy(bitrix.RetryPolicy{MaxAttempts: 2, MaxOperatingWaits: 1}))
		if _, err := c.Call(t.Context(), "crm.deal.list", nil, nil); err != nil {
			t.Fatalf("err = %v, want success (a gate wait, then one retry of the rate limit)", err)
		}
		if n.Load() != 3 {
			t.Errorf("requests = %d, want 3", n.Load())
		}
	})
}
