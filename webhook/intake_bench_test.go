package webhook

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/b24go/sdk/events"
)

// nopWriter is a ResponseWriter that keeps nothing.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(int)             {}

// BenchmarkServeHTTPRefused compares the CPU cost of an accepted delivery
// (verified, decoded, handled by a no-op typed handler) with one refused
// for a wrong application token, through Handler.ServeHTTP without a
// network, for the three benchmark events. docs/BENCHMARKS.md, "Refused
// deliveries".
func BenchmarkServeHTTPRefused(b *testing.B) {
	for _, file := range benchFiles {
		body, token := benchBody(b, file)
		name := strings.TrimSuffix(strings.TrimPrefix(file, "event_"), ".json")
		forged := strings.Replace(body, "application_token%5D="+token, "application_token%5D=forged", 1)
		if forged == body {
			b.Fatal("token not found in the body")
		}
		for _, c := range []struct {
			name, body string
			want       int
		}{{"accepted", body, http.StatusOK}, {"refused", forged, http.StatusUnauthorized}} {
			b.Run(name+"/"+c.name, func(b *testing.B) {
				h, err := New(WithApplicationToken(token), WithLogger(slog.New(slog.DiscardHandler))) // refusals still pass the log limiter
				if err != nil {
					b.Fatal(err)
				}
				h.HandleDefault(func(context.Context, *events.Event) error { return nil })
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(c.body)))
				if rec.Code != c.want {
					b.Fatalf("status %d, want %d", rec.Code, c.want)
				}
				w := &nopWriter{h: http.Header{}}
				rd := strings.NewReader(c.body)
				req := httptest.NewRequest(http.MethodPost, "/", rd)
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				b.ReportAllocs()
				b.SetBytes(int64(len(c.body)))
				cpu0 := cpuTime(b)
				for b.Loop() {
					rd.Reset(c.body)
					req.Body = readCloser{rd}
					req.ContentLength = int64(len(c.body))
					clear(w.h)
					h.ServeHTTP(w, req)
				}
				b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

// cpuTime is the CPU time (user and system) the process used so far: on a
// shared machine it measures the work better than the wall time.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type readCloser struct{ *strings.Reader }

func (readCloser) Close() error { return nil }
