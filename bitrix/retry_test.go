package bitrix_test

import (
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/b24go/sdk/bitrix"
)

func TestIsReadOnly(t *testing.T) {
	t.Parallel()
	tests := map[string]bool{
		"crm.deal.get": true, "crm.item.list": true, "crm.item.fields": true, "lists.element.get": true,
		"user.current": true, "app.info": true, "profile": true, "server.time": true, "CRM.DEAL.LIST": true,
		"crm.deal.productrows.get": true, "imbot.bot.list": true, "crm.item.productrow.getAvailableForPayment": false,
		"crm.deal.add": false, "crm.item.update": false, "crm.item.delete": false, "imbot.message.add": false,
		"event.offline.get": false, "event.bind": false, "batch": false, "lists.element.get.file.url": false,
		"crm.deal.productrows.set": false, "": false,
		// A name with nothing before its last dot is no REST method: not
		// read-only, so never repeated (retry.go `i < 0`, a boundary mutant
		// that lived, issue 19).
		".list": false, ".get": false, " .get": false,
	}
	for m, want := range tests {
		if got := bitrix.IsReadOnly(m); got != want {
			t.Errorf("IsReadOnly(%q) = %v, want %v", m, got, want)
		}
	}
}

// failing answers n times with the given handler, then succeeds.
func failing(n int, status int, body string, ctype string) (func(http.ResponseWriter, recorded), *atomic.Int32) {
	var count atomic.Int32
	return func(w http.ResponseWriter, r recorded) {
		if int(count.Add(1)) <= n {
			w.Header().Set("Content-Type", ctype)
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
			return
		}
		ok(map[string]any{"done": true})(w, r)
	}, &count
}

const (
	queryLimitBody = `{"error":"QUERY_LIMIT_EXCEEDED","error_description":"Too many requests"}`
	html502        = "<html><body><h1>502 Bad Gateway</h1></body></html>"
)

// TestRetryClasses checks, per failure class, whether reads and writes are
// retried, how many requests go out, and which error comes back.
func TestRetryClasses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		method       string
		fails        int
		status       int
		body, ctype  string
		wantRequests int32
		wantErr      error // nil = success
		maybeApplied bool
	}{
		{"query limit read", "crm.deal.get", 2, 503, queryLimitBody, "application/json", 3, nil, false},
		{"query limit write", "crm.deal.add", 2, 503, queryLimitBody, "application/json", 3, nil, false},
		{"query limit exhausted", "crm.deal.add", 10, 503, queryLimitBody, "application/json", 4, bitrix.ErrQueryLimitExceeded, false},
		{"5xx json read", "crm.deal.get", 1, 500, `{"error":"INTERNAL_SERVER_ERROR","error_description":"x"}`, "application/json", 2, nil, false},
		{"5xx json write", "crm.deal.add", 1, 500, `{"error":"ERROR_CORE","error_description":"SQL query error!"}`, "application/json", 1, bitrix.ErrInternal, false},
		{"html 502 read", "crm.deal.list", 2, 502, html502, "text/html", 3, nil, false},
		{"html 502 write", "crm.deal.update", 1, 502, html502, "text/html", 1, bitrix.ErrBadResponse, true},
		{"truncated write", "crm.deal.update", 1, 200, `{"result":tr`, "application/json", 1, bitrix.ErrBadResponse, true},
		{"overload never", "crm.deal.get", 1, 503, `{"error":"OVERLOAD_LIMIT","error_description":"REST API is blocked due to overload."}`, "application/json", 1, bitrix.ErrOverloadLimit, false},
		{"auth never", "crm.deal.get", 1, 401, `{"error":"NO_AUTH_FOUND","error_description":"Wrong authorization data"}`, "application/json", 1, bitrix.ErrNoAuthFound, false},
		{"expired token on webhook never", "crm.deal.get", 1, 401, `{"error":"expired_token","error_description":"x"}`, "application/json", 1, bitrix.ErrExpiredToken, false},
		{"4xx not retried", "crm.deal.get", 1, 400, `{"error":"NOT_FOUND","error_description":"Not found"}`, "application/json", 1, bitrix.ErrNotFound, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				p := newMemPortal(t)
				h, count := failing(tt.fails, tt.status, tt.body, tt.ctype)
				p.handle(tt.method, h)
				var waits []time.Duration
				c := newMemClient(t, p, bitrix.WithProgress(func(pr bitrix.Progress) {
					if pr.Reason == bitrix.ReasonRetry {
						waits = append(waits, pr.Waited)
					}
				}))
				start := time.Now()
				_, err := c.Call(t.Context(), tt.method, bitrix.Params{"id": 1}, nil)
				if got := count.Load(); got != tt.wantRequests {
					t.Errorf("requests = %d, want %d", got, tt.wantRequests)
				}
				if tt.wantErr == nil {
					if err != nil {
						t.Fatalf("err = %v", err)
					}
				} else if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if got := errors.Is(err, bitrix.ErrMaybeApplied); got != tt.maybeApplied {
					t.Errorf("ErrMaybeApplied = %v, want %v (err %v)", got, tt.maybeApplied, err)
				}
				// Backoff: jittered exponential from 1s: retry n waits in [2^(n-1)/2, 2^(n-1)] s.
				if len(waits) != int(tt.wantRequests)-1 {
					t.Fatalf("retry waits = %v, want %d", waits, tt.wantRequests-1)
				}
				var sum time.Duration
				for i, w := range waits {
					hi := time.Second << i
					if w < hi/2 || w > hi {
						t.Errorf("wait %d = %v, want in [%v, %v]", i+1, w, hi/2, hi)
					}
					sum += w
				}
				if el := time.Since(start); el != sum {
					t.Errorf("elapsed %v, want the sum of waits %v", el, sum)
				}
			})
		})
	}
}

func TestRetryDialErrorForWrites(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := newMemPortal(t)
		p.handle("crm.deal.add", ok(7))
		var n atomic.Int32
		mem := memTransport{http.HandlerFunc(p.serve)}
		rt := rtFunc(func(r *http.Request) (*http.Response, error) {
			if n.Add(1) <= 2 {
				return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
			}
			return mem.RoundTrip(r)
		})
		c := newWebhookClient(t, p, bitrix.WithTransport(rt))
		var id int
		if _, err := c.Call(t.Context(), "crm.deal.add", bitrix.Params{"fields": bitrix.Params{"TITLE": "x"}}, &id); err != nil {
			t.Fatal(err)
		}
		if id != 7 || n.Load() != 3 {
			t.Errorf("id %d after %d attempts", id, n.Load())
		}
	})
}

// TestWriteSentNoAnswer: the server reads the request and drops the
// connection; the write is not replayed and the error says so.
func TestWriteSentNoAnswer(t *testing.T) {
	t.Parallel()
	for _, method := range []string{"crm.deal.add", "crm.deal.get"} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			p := newPortal(t)
			var n atomic.Int32
			p.handle(method, func(w http.ResponseWriter, r recorded) {
				if n.Add(1) == 1 {
					conn, _, err := w.(http.Hijacker).Hijack()
					if err == nil {
						_ = conn.Close()
					}
					return
				}
				ok(1)(w, r)
			})
			c := newWebhookClient(t, p, bitrix.WithRetryPolicy(bitrix.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Nanosecond, MaxDelay: time.Nanosecond}))
			_, err := c.Call(t.Context(), method, bitrix.Params{"fields": bitrix.Params{"TITLE": "x"}}, nil)
			if bitrix.IsReadOnly(method) {
				if err != nil || n.Load() != 2 {
					t.Fatalf("read: err %v after %d requests, want success after 2", err, n.Load())
				}
				return
			}
			if !errors.Is(err, bitrix.ErrMaybeApplied) {
				t.Fatalf("err = %v, want ErrMaybeApplied", err)
			}
			var te *bitrix.TransportError
			if !errors.As(err, &te) || !te.Sent {
				t.Errorf("want a sent *TransportError, got %#v", te)
			}
			if n.Load() != 1 {
				t.Errorf("requests = %d, want 1 (writes are not replayed)", n.Load())
			}
		})
	}
}

func TestRetryRespectsContext(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := newMemPortal(t)
		h, _ := failing(100, 503, queryLimitBody, "application/json")
		p.handle("crm.deal.get", h)
		c := newMemClient(t, p, bitrix.WithRetryPolicy(bitrix.RetryPolicy{MaxAttempts: 100, BaseDelay: time.Minute, MaxDelay: time.Hour}))
		ctx, cancel := contextWithTimeout(t, 90*time.Second)
		defer cancel()
		start := time.Now()
		_, err := c.Call(ctx, "crm.deal.get", nil, nil)
		if !errors.Is(err, errDeadline) {
			t.Fatalf("err = %v", err)
		}
		if el := time.Since(start); el != 90*time.Second {
			t.Errorf("returned after %v, want at the deadline", el)
		}
	})
}
