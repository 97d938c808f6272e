package transport

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-resty/resty/v2"
)

func TestDoNeverLeaksURLAndClassifies(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	c := New(Config{})
	_, err = c.Do(t.Context(), Request{URL: "http://" + addr + "/rest/1/topsecret/x", Body: []byte("a=1")})
	var e *Error
	if !errors.As(err, &e) || e.Sent || !e.Dial {
		t.Fatalf("dial error = %#v", err)
	}
	if strings.Contains(err.Error(), "topsecret") {
		t.Errorf("URL in error: %v", err)
	}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/drop":
			conn, _, _ := w.(http.Hijacker).Hijack()
			_ = conn.Close()
		case "/slow":
			time.Sleep(200 * time.Millisecond)
		case "/redirect":
			http.SetCookie(w, &http.Cookie{Name: "s", Value: "1"})
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		case "/big":
			_, _ = w.Write([]byte(strings.Repeat("x", 5000)))
		default:
			if _, err := r.Cookie("s"); err == nil {
				w.WriteHeader(418)
			}
		}
	}))
	defer srv.Close()
	_, err = c.Do(t.Context(), Request{URL: srv.URL + "/drop?auth=topsecret", Body: []byte("a=1")})
	if !errors.As(err, &e) || !e.Sent || strings.Contains(err.Error(), "topsecret") {
		t.Fatalf("dropped connection = %#v (%v)", err, err)
	}
	slow := New(Config{Timeout: 50 * time.Millisecond})
	_, err = slow.Do(t.Context(), Request{URL: srv.URL + "/slow", Body: []byte("a=1")})
	if !errors.As(err, &e) || !e.Timeout || !e.Sent {
		t.Fatalf("timeout = %#v", err)
	}
	// Redirects are returned, not followed; cookies are not kept.
	res, err := c.Do(t.Context(), Request{URL: srv.URL + "/redirect", Body: []byte("a=1")})
	if err != nil || res.Status != http.StatusFound {
		t.Fatalf("redirect: %v %v", res, err)
	}
	res, err = c.Do(t.Context(), Request{URL: srv.URL + "/plain", Body: []byte("a=1")})
	if err != nil || res.Status != 200 {
		t.Fatalf("cookie jar in use: %v %v", res, err)
	}
	// Body limit.
	small := New(Config{MaxBody: 1000})
	_, err = small.Do(t.Context(), Request{URL: srv.URL + "/big", Body: []byte("a=1")})
	if !errors.Is(err, resty.ErrResponseBodyTooLarge) {
		t.Errorf("body limit: %v", err)
	}
}

func TestNewCopiesHTTPClient(t *testing.T) {
	t.Parallel()
	hc := &http.Client{Timeout: time.Minute}
	_ = New(Config{HTTPClient: hc, Timeout: time.Second, InsecureSkipVerify: true})
	if hc.Timeout != time.Minute || hc.CheckRedirect != nil || hc.Transport != nil {
		t.Errorf("caller's client modified: %+v", hc)
	}
	if http.DefaultTransport.(*http.Transport).TLSClientConfig != nil && http.DefaultTransport.(*http.Transport).TLSClientConfig.InsecureSkipVerify {
		t.Error("default transport modified")
	}
}
