package webhook

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/b24go/sdk/events"
	"github.com/b24go/sdk/internal/phpform"
)

func benchBody(b *testing.B, file string) (string, string) {
	b.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		b.Fatal(err)
	}
	tree, err := phpform.ParseJSON(raw)
	if err != nil {
		b.Fatal(err)
	}
	body, err := phpform.Encode(tree)
	if err != nil {
		b.Fatal(err)
	}
	form, _ := url.ParseQuery(body)
	return body, form.Get("auth[application_token]")
}

var benchFiles = []string{"event_ONCRMDEALADD_app.json", "event_ONTASKADD.json", "event_ONIMBOTMESSAGEADD_private.json"}

// BenchmarkParseVerifyDispatch measures one event through events.ParseBody,
// Verifier.Verify and Handler.Dispatch to a no-op typed handler.
func BenchmarkParseVerifyDispatch(b *testing.B) {
	for _, file := range benchFiles {
		body, token := benchBody(b, file)
		name := strings.TrimSuffix(strings.TrimPrefix(file, "event_"), ".json")
		b.Run(name, func(b *testing.B) {
			h := New(WithApplicationToken(token))
			h.HandleDefault(func(context.Context, *events.Event) error { return nil })
			v := events.NewVerifier(nil, token)
			ctx := context.Background()
			raw := []byte(body)
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				ev, err := events.ParseBody(raw)
				if err != nil {
					b.Fatal(err)
				}
				if err := v.Verify(ctx, ev); err != nil {
					b.Fatal(err)
				}
				if err := h.Dispatch(ctx, ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLoopback compares the full Handler with a bare net/http handler
// that only reads the body and answers 200, both over loopback HTTP with
// keep-alive, in the same run, for a small (CRM) and the largest documented
// (chat-bot message) event. Compare ns/op of bare/X and webhook/X.
func BenchmarkLoopback(b *testing.B) {
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"result":"ok"}` + "\n"))
	})
	for _, file := range []string{"event_ONCRMDEALADD_app.json", "event_ONIMBOTMESSAGEADD_private.json"} {
		body, token := benchBody(b, file)
		full := New(WithApplicationToken(token))
		full.HandleDefault(func(context.Context, *events.Event) error { return nil })
		name := strings.TrimSuffix(strings.TrimPrefix(file, "event_"), ".json")
		for _, tc := range []struct {
			name string
			h    http.Handler
		}{{"bare/" + name, bare}, {"webhook/" + name, full}} {
			b.Run(tc.name, func(b *testing.B) {
				srv := httptest.NewServer(tc.h)
				defer srv.Close()
				client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
				defer client.CloseIdleConnections()
				raw := []byte(body)
				b.ReportAllocs()
				b.SetBytes(int64(len(raw)))
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						resp, err := client.Post(srv.URL, "application/x-www-form-urlencoded", bytes.NewReader(raw))
						if err != nil {
							b.Error(err)
							return
						}
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != http.StatusOK {
							b.Errorf("status %d", resp.StatusCode)
							return
						}
					}
				})
			})
		}
	}
}
