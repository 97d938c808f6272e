package perf_test

import (
	"flag"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/internal/perf"
)

var full = flag.Bool("perf.full", false, "run the big sizes (100,000-row export, 10,000 event deliveries)")

// size returns small in the default run and big with -perf.full.
func size(small, big int) int {
	if *full {
		return big
	}
	return small
}

// skipShort skips a slow proof (several seconds of CPU on 2 cores: big
// seeded portals, many virtual-time rounds) under go test -short, which
// keeps the everyday run fast; the full run (go test ./..., and .ci/run)
// includes it.
func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: a slow proof; the full run (go test ./..., .ci/run) includes it")
	}
}

// inBubble runs fn inside a synctest bubble, with the fake portal (started
// outside the bubble, so its listener does not pin the clock) served over an
// in-memory network created inside it. The portal's default clock is
// time.Now, which inside the bubble is the bubble's virtual clock.
func inBubble(t *testing.T, opts []bitrixtest.Option, fn func(t *testing.T, srv *bitrixtest.Server, n *perf.Network)) {
	t.Helper()
	inBubbleWith(t, opts, nil, fn)
}

// inBubbleWith is inBubble with the portal's handler wrapped by wrap.
func inBubbleWith(t *testing.T, opts []bitrixtest.Option, wrap func(http.Handler) http.Handler, fn func(t *testing.T, srv *bitrixtest.Server, n *perf.Network)) {
	t.Helper()
	srv := bitrixtest.NewServer(t, opts...)
	synctest.Test(t, func(t *testing.T) {
		h := srv.Handler()
		if wrap != nil {
			h = wrap(h)
		}
		n := perf.Serve(h)
		defer n.Close()
		fn(t, srv, n)
	})
}

// inFlight counts the requests a handler is serving and their peak.
type inFlight struct {
	mu        sync.Mutex
	cur, peak int
}

func (f *inFlight) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.cur++
		f.peak = max(f.peak, f.cur)
		f.mu.Unlock()
		defer func() {
			f.mu.Lock()
			f.cur--
			f.mu.Unlock()
		}()
		h.ServeHTTP(w, r)
	})
}

func (f *inFlight) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.peak = f.cur
}

func (f *inFlight) Current() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cur
}

func (f *inFlight) Peak() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.peak
}

// webhookClient returns a client of the portal's inbound webhook over n.
func webhookClient(t testing.TB, srv *bitrixtest.Server, n *perf.Network, opts ...bitrix.Option) *bitrix.Client {
	t.Helper()
	base := []bitrix.Option{bitrix.WithAllowHTTP()}
	if n != nil {
		base = append(base, bitrix.WithTransport(n.Transport()))
	}
	c, err := bitrix.New(bitrix.WebhookURL(srv.WebhookURL()), append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// oauthClient returns an OAuth client of the portal's app for user 1 over n.
func oauthClient(t testing.TB, srv *bitrixtest.Server, n *perf.Network, opts ...bitrix.Option) *bitrix.Client {
	t.Helper()
	tok := srv.IssueToken(1)
	app := srv.App()
	base := []bitrix.Option{bitrix.WithAllowHTTP(), bitrix.WithTransport(n.Transport())}
	c, err := bitrix.New(bitrix.OAuth(bitrix.Token{
		AccessToken:    bitrix.Secret(tok.AccessToken),
		RefreshToken:   bitrix.Secret(tok.RefreshToken),
		Expires:        tok.Expires,
		MemberID:       tok.MemberID,
		Domain:         tok.Domain,
		ClientEndpoint: tok.ClientEndpoint,
		UserID:         tok.UserID,
	}, bitrix.App{ClientID: app.ClientID, ClientSecret: bitrix.Secret(app.ClientSecret), TokenURL: app.TokenURL}, nil),
		append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// codeCount counts the portal's answers (top level and batch commands) with code.
func codeCount(srv *bitrixtest.Server, code string) int {
	n := 0
	for _, c := range srv.Calls() {
		if strings.EqualFold(c.Code, code) {
			n++
		}
	}
	return n
}

// topLevel counts the HTTP-level calls of method (not commands inside a batch).
func topLevel(srv *bitrixtest.Server, method string) int {
	n := 0
	for _, c := range srv.Calls() {
		if !c.InBatch && strings.EqualFold(c.Method, method) {
			n++
		}
	}
	return n
}

// bubbleGoroutines returns the goroutines of the calling goroutine's
// synctest bubble, one stack each (the caller's own included).
// runtime.NumGoroutine counts the whole process: a finalizer or cleanup
// goroutine running user code counts as a user goroutine there, so a
// leak check built on it fails now and then when the garbage collector
// happens to run one (seen in .ci/run as 'LeakedGoroutines:1'). The
// runtime marks each goroutine of a bubble in its traceback header
// ("goroutine 7 [select, synctest bubble 3]:"), so the bubble's own
// goroutines can be told apart.
func bubbleGoroutines(t testing.TB) []string {
	t.Helper()
	self := stacks(false)
	id := bubbleID(self[0])
	if id == "" {
		t.Fatal("bubbleGoroutines called outside a synctest bubble")
	}
	var in []string
	for _, s := range stacks(true) {
		if bubbleID(s) == id {
			in = append(in, s)
		}
	}
	return in
}

// stacks returns the goroutine dump of runtime.Stack, one entry per
// goroutine.
func stacks(all bool) []string {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, all)
		if n < len(buf) {
			return strings.Split(strings.TrimSpace(string(buf[:n])), "\n\n")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// bubbleID returns the bubble number in a goroutine's header line, or "".
func bubbleID(stack string) string {
	header, _, _ := strings.Cut(stack, "\n")
	_, after, ok := strings.Cut(header, ", synctest bubble ")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(after, "]")
	id, _, _ = strings.Cut(id, ",")
	id, _, _ = strings.Cut(id, " ")
	return id
}
