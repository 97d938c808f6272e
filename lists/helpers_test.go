package lists_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/lists"
)

// Property ids of the test list.
const (
	propColor = 501 // S
	propTags  = 502 // L, multiple
	propDue   = 503 // S:DateTime
	propFile  = 504 // F
	propQty   = 505 // N
)

// newPortal starts a fake portal with one list "deals" and returns its id.
func newPortal(t *testing.T, opts ...lists.Option) (*bitrixtest.Server, *lists.Client, int) {
	t.Helper()
	srv := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit())
	id := srv.AddList("lists", "deals", "Deals",
		&bitrixtest.ListField{ID: propColor, Name: "Colour", Type: "S"},
		&bitrixtest.ListField{ID: propTags, Name: "Tags", Type: "L", Multiple: true, Enum: map[string]string{"1269": "red", "1271": "blue"}},
		&bitrixtest.ListField{ID: propDue, Name: "Due", Type: "S:DateTime"},
		&bitrixtest.ListField{ID: propFile, Name: "File", Type: "F"},
		&bitrixtest.ListField{ID: propQty, Name: "Qty", Type: "N"},
	)
	c, err := bitrix.New(bitrix.WebhookURL(srv.WebhookURL()), bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit())
	if err != nil {
		t.Fatal(err)
	}
	lc, err := lists.New(c, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return srv, lc, id
}

// serveFixture returns a client whose portal answers every call with the
// fixture file.
func serveFixture(t *testing.T, name string, status int) *lists.Client {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(hs.Close)
	c, err := bitrix.New(bitrix.WebhookURL(hs.URL+"/rest/1/fixturesecret/"), bitrix.WithAllowHTTP(),
		bitrix.WithoutRateLimit(), bitrix.WithRetryPolicy(bitrix.NoRetries()))
	if err != nil {
		t.Fatal(err)
	}
	lc, err := lists.New(c)
	if err != nil {
		t.Fatal(err)
	}
	return lc
}
