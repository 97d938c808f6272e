package crm_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/crm"
)

// newPortal starts a fake portal without rate limits and returns it with a
// CRM client on its webhook.
func newPortal(t testing.TB, opts ...crm.Option) (*bitrixtest.Server, *crm.Client) {
	t.Helper()
	srv := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit(), bitrixtest.WithoutOperatingLimit())
	return srv, newClient(t, srv, opts...)
}

func newClient(t testing.TB, srv *bitrixtest.Server, opts ...crm.Option) *crm.Client {
	t.Helper()
	c, err := bitrix.New(bitrix.WebhookURL(srv.WebhookURL()), bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit(),
		bitrix.WithRetryPolicy(bitrix.RetryPolicy{MaxAttempts: 8, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	cc, err := crm.New(c, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return cc
}

// noCalls fails the test if the portal logged any call (bad input must be
// rejected before a request is sent).
func noCalls(t *testing.T, srv *bitrixtest.Server) {
	t.Helper()
	if calls := srv.Calls(); len(calls) != 0 {
		t.Errorf("requests were sent: %+v", calls)
	}
	if n := srv.Requests(); n != 0 {
		t.Errorf("%d HTTP requests were sent", n)
	}
}

// fixtureResult returns the "result" of a testdata fixture.
func fixtureResult(t *testing.T, name string) json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatal(err)
	}
	return env.Result
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fixtureClient returns a client whose portal answers every request with
// the testdata file name and HTTP status, recording the methods called.
func fixtureClient(t *testing.T, status int, name string, opts ...crm.Option) (*crm.Client, *[]string) {
	t.Helper()
	return rawClient(t, status, fixture(t, name), opts...)
}

// rawClient is fixtureClient with the answer body given inline.
func rawClient(t *testing.T, status int, body []byte, opts ...crm.Option) (*crm.Client, *[]string) {
	t.Helper()
	var mu sync.Mutex
	var methods []string
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		methods = append(methods, path.Base(r.URL.Path))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(hs.Close)
	c, err := bitrix.New(bitrix.WebhookURL(hs.URL+"/rest/1/fixturesecret/"), bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit(),
		bitrix.WithRetryPolicy(bitrix.NoRetries()))
	if err != nil {
		t.Fatal(err)
	}
	cc, err := crm.New(c, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return cc, &methods
}

func fixtureResultB(b *testing.B, name string) json.RawMessage {
	b.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		b.Fatal(err)
	}
	var env struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		b.Fatal(err)
	}
	return env.Result
}
