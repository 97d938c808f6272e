package bitrix_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/b24go/sdk/bitrix"
)

// redirectChain is a transport where host h0.test redirects to h1.test
// and so on up to h<n>.test, which answers; it records the hosts asked.
func redirectChain(n, status int, hosts *[]string) http.RoundTripper {
	return rtFunc(func(r *http.Request) (*http.Response, error) {
		*hosts = append(*hosts, r.URL.Host)
		var i int
		if _, err := fmt.Sscanf(r.URL.Host, "h%d.test", &i); err != nil {
			return nil, err
		}
		h := http.Header{}
		if i < n {
			h.Set("Location", fmt.Sprintf("http://h%d.test%s", i+1, r.URL.Path))
			return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
		}
		h.Set("Content-Type", "application/json")
		return &http.Response{StatusCode: 200, Header: h, Body: io.NopCloser(strings.NewReader(`{"result":7}`)), Request: r}, nil
	})
}

// TestRedirectBudget: a moved portal's redirects (301, 302, 303, 307, 308)
// are followed with the same POST up to 3 hops; a fourth redirect is
// returned as the answer (an unexpected response), other 3xx are not
// followed.
func TestRedirectBudget(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		hops, status int
		wantReqs     int
		ok           bool
	}{
		{1, http.StatusMovedPermanently, 2, true},
		{1, http.StatusSeeOther, 2, true},
		{1, http.StatusTemporaryRedirect, 2, true},
		{1, http.StatusPermanentRedirect, 2, true},
		{3, http.StatusFound, 4, true},
		{4, http.StatusFound, 4, false},
		{1, http.StatusNotModified, 1, false},
		{1, http.StatusMultipleChoices, 1, false},
	} {
		t.Run(fmt.Sprint(tt.hops, "x", tt.status), func(t *testing.T) {
			t.Parallel()
			var hosts []string
			c, err := bitrix.New(bitrix.WebhookURL("http://h0.test/rest/1/"+testSecret+"/"), bitrix.WithAllowHTTP(),
				bitrix.WithoutRateLimit(), bitrix.WithRetryPolicy(bitrix.NoRetries()),
				bitrix.WithTransport(redirectChain(tt.hops, tt.status, &hosts)))
			if err != nil {
				t.Fatal(err)
			}
			var n int
			_, err = c.Call(t.Context(), "crm.deal.add", bitrix.Params{"fields": bitrix.Params{"TITLE": "x"}}, &n)
			if len(hosts) != tt.wantReqs {
				t.Errorf("requests to %v, want %d", hosts, tt.wantReqs)
			}
			if tt.ok != (err == nil && n == 7) {
				t.Errorf("result %d, err %v; want success %v", n, err, tt.ok)
			}
			if !tt.ok && !errors.Is(err, bitrix.ErrBadResponse) {
				t.Errorf("err = %v, want ErrBadResponse", err)
			}
		})
	}
}

// TestRedirectWithoutLocation: a redirect without Location is the answer.
func TestRedirectWithoutLocation(t *testing.T) {
	t.Parallel()
	var n int
	rt := rtFunc(func(r *http.Request) (*http.Response, error) {
		n++
		return &http.Response{StatusCode: http.StatusFound, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
	})
	c, err := bitrix.New(bitrix.WebhookURL("http://h0.test/rest/1/"+testSecret+"/"), bitrix.WithAllowHTTP(),
		bitrix.WithoutRateLimit(), bitrix.WithRetryPolicy(bitrix.NoRetries()), bitrix.WithTransport(rt))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Call(t.Context(), "crm.deal.get", nil, nil); !errors.Is(err, bitrix.ErrBadResponse) || n != 1 {
		t.Errorf("err %v after %d requests, want ErrBadResponse after 1", err, n)
	}
}

// TestInsecureNeedsKnownTransport: WithInsecureSkipVerify refuses a
// custom RoundTripper, also inside a caller's *http.Client.
func TestInsecureNeedsKnownTransport(t *testing.T) {
	t.Parallel()
	auth := bitrix.WebhookURL("https://portal.bitrix24.com/rest/1/" + testSecret + "/")
	custom := rtFunc(func(*http.Request) (*http.Response, error) { return nil, errors.New("unused") })
	if _, err := bitrix.New(auth, bitrix.WithHTTPClient(&http.Client{Transport: custom}), bitrix.WithInsecureSkipVerify()); err == nil {
		t.Error("a custom RoundTripper in WithHTTPClient with WithInsecureSkipVerify: want an error")
	}
	if _, err := bitrix.New(auth, bitrix.WithHTTPClient(&http.Client{Transport: &http.Transport{}}), bitrix.WithInsecureSkipVerify()); err != nil {
		t.Errorf("an *http.Transport in WithHTTPClient: %v", err)
	}
}

// TestClientPrintsKind: %v of a client names the portal and the kind of
// auth, nothing else.
func TestClientPrintsKind(t *testing.T) {
	t.Parallel()
	c, err := bitrix.New(bitrix.WebhookURL("https://portal.bitrix24.com/rest/1/" + testSecret + "/"))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(c); got != `bitrix.Client{portal: "portal.bitrix24.com", auth: webhook}` {
		t.Errorf("webhook client prints %s", got)
	}
	o, err := bitrix.New(bitrix.OAuth(bitrix.Token{AccessToken: "a", Domain: "p.bitrix24.com"}, bitrix.App{}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := o.String(); got != `bitrix.Client{portal: "p.bitrix24.com", auth: oauth}` {
		t.Errorf("OAuth client prints %s", got)
	}
}
