package webhook

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/b24go/sdk/events"
)

// TestRefusalLogReadsTheWholeEnvelope: a refused delivery is checked on
// its name and credentials only, but its log line and the observer still
// get the portal it claims (auth[domain], read from the body again for
// them), and no token.
func TestRefusalLogReadsTheWholeEnvelope(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	var seen []events.Delivery
	h, err := New(WithApplicationToken(testToken), WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))),
		WithObserver(Observer{Delivery: func(_ context.Context, d events.Delivery) { seen = append(seen, d) }}))
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Replace(dealBody(1, "forged-token"), "portal.bitrix24.com", "portal%2Ebitrix24.com", 1)
	if !strings.Contains(body, "%2E") {
		t.Fatal("domain not escaped in the body")
	}
	if st, _, reason := refuse(t, h, body); st != http.StatusUnauthorized || reason != events.RefusedTokenMismatch {
		t.Fatalf("%d %s", st, reason)
	}
	out := logs.String()
	for _, want := range []string{`"name":"ONCRMDEALADD"`, `"member_id":"` + testMember + `"`, `"domain":"portal.bitrix24.com"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s: %s", want, out)
		}
	}
	for _, s := range []string{"forged-token", accessTok, testToken} {
		if strings.Contains(out, s) {
			t.Errorf("log quotes a token: %s", out)
		}
	}
	if len(seen) != 1 || seen[0].Portal != "portal.bitrix24.com" || seen[0].Event != events.OnCRMDealAdd || seen[0].Outcome != events.DeliveryRefused {
		t.Errorf("observed %+v", seen)
	}
}

// TestAnswerHeadersNotShared: the header values of an answer are its own:
// changing one answer's after the fact changes no other answer.
func TestAnswerHeadersNotShared(t *testing.T) {
	t.Parallel()
	h, err := New(WithApplicationToken(testToken), WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	h.HandleDefault(func(context.Context, *events.Event) error { return nil })
	for _, body := range []string{dealBody(1, "forged"), dealBody(1, testToken), "event="} {
		first := httptest.NewRecorder()
		h.ServeHTTP(first, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body)))
		first.Header()["Content-Type"][0] = "text/html"
		first.Header()["X-Content-Type-Options"][0] = ""
		second := httptest.NewRecorder()
		h.ServeHTTP(second, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body)))
		if ct, opt := second.Header().Get("Content-Type"), second.Header().Get("X-Content-Type-Options"); ct != "application/json" || opt != "nosniff" {
			t.Errorf("%d answer after changing an earlier one's headers: Content-Type %q, X-Content-Type-Options %q", second.Code, ct, opt)
		}
	}
}

// TestBodyLimitOverHTTP: a body over the limit gets 413 whether its length
// is declared or not, and the connection is closed after it (net/http
// reads no further); a delivery within the limit keeps its connection.
func TestBodyLimitOverHTTP(t *testing.T) {
	t.Parallel()
	h, err := New(WithApplicationToken(testToken), WithMaxBodySize(2000), WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	h.HandleDefault(func(context.Context, *events.Event) error { return nil })
	srv := httptest.NewServer(h)
	defer srv.Close()
	big := dealBody(1, testToken) + "&pad=" + strings.Repeat("x", 5000)
	for _, c := range []struct {
		name      string
		body      io.Reader
		length    int64
		status    int
		closeConn bool
	}{
		{"within the limit", strings.NewReader(dealBody(1, testToken)), int64(len(dealBody(1, testToken))), 200, false},
		{"declared over", strings.NewReader(big), int64(len(big)), 413, true},
		{"chunked over", io.MultiReader(strings.NewReader(big)), -1, 413, true}, // no Len: sent chunked
		{"refused within the limit", strings.NewReader(dealBody(1, "forged")), int64(len(dealBody(1, "forged"))), 401, false},
	} {
		req, err := http.NewRequest(http.MethodPost, srv.URL, c.body)
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = c.length
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || resp.Close != c.closeConn {
			t.Errorf("%s: %d, connection closed %v; want %d, %v", c.name, resp.StatusCode, resp.Close, c.status, c.closeConn)
		}
	}
}

// TestBodyLongerThanItsLength: a caller of ServeHTTP whose body runs past
// its Content-Length (no net/http server to cut it) is still held to the
// limit.
func TestBodyLongerThanItsLength(t *testing.T) {
	t.Parallel()
	h, err := New(WithApplicationToken(testToken), WithMaxBodySize(2000), WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	h.HandleDefault(func(context.Context, *events.Event) error { t.Error("a handler ran"); return nil })
	body := dealBody(1, testToken) + "&pad=" + strings.Repeat("x", 5000)
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.ContentLength = 100
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", rec.Code)
	}
}
