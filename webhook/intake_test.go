package webhook

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/b24go/sdk/events"
)

// TestTokenCheckedBeforeData proves that a delivery with a wrong token is
// refused before its data is decoded: its data does not fit the event's
// type, which the decoder reports (400 with the right token), yet the
// forged delivery gets 401. Before the envelope check it got 400.
func TestTokenCheckedBeforeData(t *testing.T) {
	t.Parallel()
	var calls int
	h, err := New(WithApplicationToken(testToken))
	if err != nil {
		t.Fatal(err)
	}
	h.OnDealAdd(func(context.Context, *events.Event, *events.CRMEntity) error { calls++; return nil })
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	// data[FIELDS] is a leaf where the deal's FIELDS object belongs.
	bad := func(token string) string {
		return strings.Replace(dealBody(1, token), "data%5BFIELDS%5D%5BID%5D=1", "data%5BFIELDS%5D=1", 1)
	}
	if _, err := events.ParseBody([]byte(bad(testToken))); err == nil {
		t.Fatal("the test body decodes: it proves nothing")
	}
	for _, tt := range []struct {
		name, body string
		want       int
	}{
		{"wrong token", bad("forged-token-value"), http.StatusUnauthorized},
		{"no token", bad(""), http.StatusUnauthorized},
		{"right token", bad(testToken), http.StatusBadRequest},
		{"right token, good data", dealBody(1, testToken), http.StatusOK},
		// PHP's parse_str: the later key wins, also for the token.
		{"token overwritten", dealBody(1, testToken) + "&auth%5Bapplication_token%5D=forged", http.StatusUnauthorized},
		{"token overwritten back", dealBody(1, "forged") + "&auth[application_token]=" + testToken, http.StatusOK},
	} {
		if got := post(t, srv.URL, tt.body); got.status != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, got.status, tt.want)
		}
	}
	if calls != 2 {
		t.Errorf("handler ran %d times, want 2", calls)
	}
}
