package webhook

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
			h, err := New(WithApplicationToken(token))
			if err != nil {
				b.Fatal(err)
			}
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
		full, err := New(WithApplicationToken(token))
		if err != nil {
			b.Fatal(err)
		}
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

// BenchmarkLoopbackInterleaved measures the same comparison as
// BenchmarkLoopback, but alternates between the two servers in batches of
// loopbackBatch requests within one benchmark, so that load from other
// processes on a shared machine hits both alike. Each batch is sent by
// "clients" concurrent keep-alive clients: GOMAXPROCS (as b.RunParallel),
// and 4×GOMAXPROCS, which keeps the server busy while clients wait. It
// reports bare-ns/req and webhook-ns/req (wall time per request of each
// batch, summed over the run) and ratio, the webhook handler's throughput
// relative to the bare one (the target is at least 0.7).
func BenchmarkLoopbackInterleaved(b *testing.B) {
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"result":"ok"}` + "\n"))
	})
	for _, file := range benchFiles {
		body, token := benchBody(b, file)
		full, err := New(WithApplicationToken(token))
		if err != nil {
			b.Fatal(err)
		}
		full.HandleDefault(func(context.Context, *events.Event) error { return nil })
		name := strings.TrimSuffix(strings.TrimPrefix(file, "event_"), ".json")
		for _, clients := range []int{runtime.GOMAXPROCS(0), 4 * runtime.GOMAXPROCS(0)} {
			b.Run(fmt.Sprintf("%s/clients=%d", name, clients), func(b *testing.B) {
				loopbackInterleaved(b, bare, full, body, clients)
			})
		}
	}
}

func loopbackInterleaved(b *testing.B, bare, full http.Handler, body string, clients int) {
	servers := []*httptest.Server{httptest.NewServer(bare), httptest.NewServer(full)}
	defer servers[0].Close()
	defer servers[1].Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	raw := []byte(body)
	batch := func(url string) time.Duration {
		start := time.Now()
		var wg sync.WaitGroup
		var next atomic.Int64
		for range clients {
			wg.Go(func() {
				for next.Add(1) <= loopbackBatch {
					resp, err := client.Post(url, "application/x-www-form-urlencoded", bytes.NewReader(raw))
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
		}
		wg.Wait()
		return time.Since(start)
	}
	batch(servers[0].URL) // warm up connections
	batch(servers[1].URL)
	var spent [2]time.Duration
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		first := i % 2 // alternate which server goes first
		spent[first] += batch(servers[first].URL)
		spent[1-first] += batch(servers[1-first].URL)
		i++
	}
	n := float64(i * loopbackBatch)
	b.ReportMetric(float64(spent[0].Nanoseconds())/n, "bare-ns/req")
	b.ReportMetric(float64(spent[1].Nanoseconds())/n, "webhook-ns/req")
	b.ReportMetric(float64(spent[0])/float64(spent[1]), "ratio")
}

const loopbackBatch = 200
