package bitrix_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/b24go/sdk/bitrix"
)

func TestMovedPortalGetsThePOSTAgain(t *testing.T) {
	t.Parallel()
	newP := newPortal(t)
	newP.handle("crm.deal.add", ok(5))
	old := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, newP.base+r.URL.Path, http.StatusFound)
	}))
	defer old.Close()
	c, err := bitrix.New(bitrix.WebhookURL(old.URL+"/rest/1/"+testSecret+"/"), bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit())
	if err != nil {
		t.Fatal(err)
	}
	var id int
	if _, err := c.Call(t.Context(), "crm.deal.add", bitrix.Params{"fields": bitrix.Params{"TITLE": "x"}}, &id); err != nil || id != 5 {
		t.Fatalf("id %d err %v", id, err)
	}
	got := newP.recorded()
	if len(got) != 1 || got[0].Body != "fields%5BTITLE%5D=x" {
		t.Errorf("redirected request = %+v", got)
	}
}

func TestInsecureSkipVerify(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"result": "pong"})
	}))
	defer srv.Close()
	u := srv.URL + "/rest/1/" + testSecret + "/"
	strict, _ := bitrix.New(bitrix.WebhookURL(u), bitrix.WithRetryPolicy(bitrix.NoRetries()))
	if _, err := strict.Call(t.Context(), "server.time", nil, nil); err == nil {
		t.Fatal("self-signed certificate accepted without WithInsecureSkipVerify")
	} else if strings.Contains(err.Error(), testSecret) {
		t.Errorf("secret in TLS error: %v", err)
	}
	lax, _ := bitrix.New(bitrix.WebhookURL(u), bitrix.WithInsecureSkipVerify())
	var s string
	if _, err := lax.Call(t.Context(), "server.time", nil, &s); err != nil || s != "pong" {
		t.Fatalf("%q %v", s, err)
	}
}

func TestHeadersAndJSONBody(t *testing.T) {
	t.Parallel()
	var ua, accept, ctype string
	var body map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ua, accept, ctype = r.UserAgent(), r.Header.Get("Accept"), r.Header.Get("Content-Type")
		_ = json.NewDecoder(r.Body).Decode(&body)
		if r.URL.RawQuery != "" {
			t.Errorf("query string %q", r.URL.RawQuery)
		}
		writeJSON(w, 200, map[string]any{"result": true})
	}))
	defer srv.Close()
	tok := bitrix.Token{AccessToken: "tok123", ClientEndpoint: srv.URL + "/rest/"}
	c, err := bitrix.New(bitrix.OAuth(tok, bitrix.App{}, nil), bitrix.WithAllowHTTP(), bitrix.WithUserAgent("my-app/2.0"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Call(t.Context(), "crm.item.update", json.RawMessage(`{"id":5,"fields":{"ufCrm1":[]}}`), nil); err != nil {
		t.Fatal(err)
	}
	if ua != "my-app/2.0" || accept != "application/json" || ctype != "application/json" {
		t.Errorf("headers %q %q %q", ua, accept, ctype)
	}
	want := map[string]any{"auth": "tok123", "id": float64(5), "fields": map[string]any{"ufCrm1": []any{}}}
	if b1, b2 := mustJSON(want), mustJSON(body); b1 != b2 {
		t.Errorf("body %s, want %s", b2, b1)
	}
	// Invalid JSON params are refused before sending.
	if _, err := c.Call(t.Context(), "x.add", json.RawMessage(`[1]`), nil); err == nil {
		t.Error("want an error for a non-object JSON body")
	}
	if _, err := c.Call(t.Context(), "bad method?x=1", nil, nil); err == nil {
		t.Error("want an error for a bad method name")
	}
}

func TestDecodeResultError(t *testing.T) {
	t.Parallel()
	p := newPortal(t)
	p.handle("crm.deal.get", ok(map[string]any{"ID": "abc"}))
	c := newWebhookClient(t, p)
	var out struct {
		ID bitrix.Int `json:"ID"`
	}
	resp, err := c.Call(t.Context(), "crm.deal.get", nil, &out)
	if err == nil || resp == nil || !strings.Contains(err.Error(), "decoding result") {
		t.Errorf("err = %v resp = %v", err, resp)
	}
	var ae *bitrix.APIError
	if errors.As(err, &ae) {
		t.Error("a decoding error is not an APIError")
	}
}

func TestFastScanProgress(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: seeds 5,100 rows (seconds of CPU); the full run (go test ./..., .ci/run) includes it")
	}
	t.Parallel()
	var pages []bitrix.Progress
	_, c := fakePortalClient(t, 5100, bitrix.WithProgress(func(p bitrix.Progress) {
		if p.Reason == bitrix.ReasonPage {
			pages = append(pages, p)
		}
	}))
	n := 0
	for _, err := range bitrix.All[dealRow](t.Context(), c, bitrix.Query{Method: "crm.deal.list"}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 5100 || len(pages) != 3 {
		t.Fatalf("rows %d, progress %+v", n, pages)
	}
	last := pages[len(pages)-1]
	// The first request brings 2,450 rows (and the last page); the 2,600
	// rows between go in two shards of 1,300.
	if last.Requests != 3 || last.Rows != 5100 || last.Method != "crm.deal.list" || pages[0].Rows != 2450 || pages[1].Rows != 3750 {
		t.Errorf("progress = %+v", pages)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
