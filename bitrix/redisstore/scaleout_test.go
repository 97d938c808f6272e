package redisstore

// The "done when" scenarios of running several replicas against one
// portal: separate bitrix.Clients (replicas) on separate Redis connections
// against the fake portal.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/events"
	"github.com/b24go/sdk/webhook"
)

// 4 replicas send 400 calls through one Redis limiter: the portal never
// answers QUERY_LIMIT_EXCEEDED, and after the burst the fleet runs at no
// less than 90% of the allowed rate.
//
// The portal and the limiters run at 10 req/s with a burst of 50 instead of
// the cloud's 2/50: the same leaky bucket on a faster clock, so that the
// 350 requests after the burst take about 35 s instead of about 3 min. The
// client's two-request margin then absorbs about 200 ms of scheduling delay
// between the limiter and the portal (at 40 req/s it was 50 ms, too little
// for a loaded CI machine running other packages' tests in parallel).
func TestReplicasShareRateLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: a real-time proof (about 40 s against a real Redis); the full run and .ci/run include it")
	}
	t.Parallel()
	const (
		rate     = 10.0
		burst    = 50
		replicas = 4
		workers  = 8 // concurrent callers per replica
		calls    = 400
	)
	rs := startRedis(t)
	portal := bitrixtest.NewServer(t, bitrixtest.WithRateLimit(rate, burst), bitrixtest.WithoutOperatingLimit())
	ctx := t.Context()

	jobs := make(chan int, calls)
	for i := range calls {
		jobs <- i
	}
	close(jobs)
	var wg sync.WaitGroup
	var failed atomic.Int64
	errc := make(chan error, 1)
	for r := range replicas {
		rdb := rs.client(t) // each replica its own connection pool
		c, err := bitrix.New(bitrix.WebhookURL(portal.WebhookURL()), bitrix.WithAllowHTTP(),
			bitrix.WithLimiter(newLimiter(t, rdb, rate, burst)),
			bitrix.WithOperatingGate(newGate(t, rdb)))
		if err != nil {
			t.Fatal(err)
		}
		for range workers {
			wg.Go(func() {
				for range jobs {
					if _, err := c.Call(ctx, "server.time", nil, nil); err != nil {
						failed.Add(1)
						select {
						case errc <- fmt.Errorf("replica %d: %w", r, err):
						default:
						}
					}
				}
			})
		}
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		t.Fatalf("%d calls failed, first: %v", n, <-errc)
	}

	var times []time.Time
	limited := 0
	for _, c := range portal.Calls() {
		if c.Method != "server.time" {
			continue
		}
		if c.Code == "QUERY_LIMIT_EXCEEDED" {
			limited++
			continue
		}
		times = append(times, c.Time)
	}
	if limited != 0 {
		t.Errorf("the portal answered QUERY_LIMIT_EXCEEDED %d times, want 0", limited)
	}
	if len(times) != calls {
		t.Fatalf("the portal served %d calls, want %d", len(times), calls)
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	// After the burst: from the request that filled the portal's bucket
	// to the last one, measured with the portal's own timestamps.
	after := times[burst:]
	span := after[len(after)-1].Sub(after[0]).Seconds()
	got := float64(len(after)-1) / span
	ratio := got / rate
	t.Logf("after the burst: %d requests in %.3f s = %.2f req/s, %.1f%% of the allowed %.0f req/s",
		len(after), span, got, ratio*100, rate)
	if ratio < 0.90 {
		t.Errorf("aggregate rate after the burst = %.2f req/s (%.1f%% of %.0f), want >= 90%%", got, ratio*100, rate)
	}
	if ratio > 1 {
		t.Errorf("aggregate rate after the burst = %.2f req/s, above the portal's %.0f", got, rate)
	}
}

// replicaToken converts the fake portal's pair into a bitrix.Token.
func replicaToken(tk bitrixtest.Tokens) bitrix.Token {
	return bitrix.Token{
		AccessToken:    bitrix.Secret(tk.AccessToken),
		RefreshToken:   bitrix.Secret(tk.RefreshToken),
		Expires:        tk.Expires,
		MemberID:       tk.MemberID,
		Domain:         tk.Domain,
		ClientEndpoint: tk.ClientEndpoint,
		UserID:         tk.UserID,
	}
}

func replicaApp(a bitrixtest.App) bitrix.App {
	return bitrix.App{ClientID: a.ClientID, ClientSecret: bitrix.Secret(a.ClientSecret), TokenURL: a.TokenURL}
}

// 4 replicas hit an expired token at once: the portal sees exactly one
// refresh, and no call fails. The refresh tokens are single-use at the
// fake portal, so a replica that sent a rotated one would fail the call.
func TestReplicasRefreshOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// knownExpiry: the replicas start with a token whose Expires has
		// passed (refresh before sending); otherwise the portal answers
		// expired_token to a token the replicas believe valid.
		knownExpiry bool
	}{
		{"portal answers expired_token", false},
		{"expiry known before sending", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			const (
				replicas = 4
				perRep   = 5 // concurrent calls per replica
			)
			rs := startRedis(t)
			portal := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit(), bitrixtest.WithoutOperatingLimit())
			tok := replicaToken(portal.IssueToken(1))
			if tt.knownExpiry {
				tok.Expires = time.Now().Add(-time.Minute)
			}
			app := replicaApp(portal.App())
			ctx := t.Context()
			clients := make([]*bitrix.Client, replicas)
			for r := range clients {
				rdb := rs.client(t)
				c, err := bitrix.New(bitrix.OAuth(tok, app, newTokenStore(t, rdb, WithPollInterval(5*time.Millisecond))),
					bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit(), bitrix.WithOperatingGate(newGate(t, rdb)))
				if err != nil {
					t.Fatal(err)
				}
				clients[r] = c
				if !tt.knownExpiry {
					// Warm up: every replica has loaded the (valid) token.
					if _, err := c.Call(ctx, "user.current", nil, nil); err != nil {
						t.Fatal(err)
					}
				}
			}
			portal.ExpireAccessTokens()

			for round := 1; round <= 2; round++ {
				start := make(chan struct{})
				var wg sync.WaitGroup
				errs := make(chan error, replicas*perRep)
				for r, c := range clients {
					for range perRep {
						wg.Go(func() {
							<-start
							if _, err := c.Call(ctx, "user.current", nil, nil); err != nil {
								errs <- fmt.Errorf("round %d, replica %d: %w", round, r, err)
							}
						})
					}
				}
				close(start)
				wg.Wait()
				close(errs)
				for err := range errs {
					t.Error(err)
				}
				if got := portal.RefreshCount(); got != round {
					t.Errorf("round %d: the portal saw %d refreshes in all, want %d", round, got, round)
				}
				// The next round starts from a token the portal expired;
				// its refresh must use the rotated refresh token.
				portal.ExpireAccessTokens()
			}
			for _, c := range portal.Calls() {
				if c.Method == "oauth.token" && c.Code != "" {
					t.Errorf("token endpoint answered %s", c.Code)
				}
			}
		})
	}
}

// The same deliveries reaching 2 receivers that share the Redis dedupe
// store run each handler once.
func TestReplicasDedupeDeliveries(t *testing.T) {
	t.Parallel()
	rs := startRedis(t)
	const token = "outbound-app-token"
	var mu sync.Mutex
	handled := map[string]int{} // deal id → handler runs, both receivers together
	var receivers []http.Handler
	for range 2 {
		h, err := webhook.New(webhook.WithApplicationToken(token),
			webhook.WithDedupe(newDedupe(t, rs.client(t)), time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		h.OnDealAdd(func(_ context.Context, _ *events.Event, d *events.CRMEntity) error {
			mu.Lock()
			handled[fmt.Sprint(int(d.Fields.ID))]++
			mu.Unlock()
			return nil
		})
		receivers = append(receivers, h)
	}
	// A front end that hands every delivery to both receivers at once, as
	// when a delivery is repeated and lands on two replicas.
	var answers sync.Map // body → []int statuses
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		codes := make([]int, len(receivers))
		var wg sync.WaitGroup
		for i, h := range receivers {
			wg.Go(func() {
				req := httptest.NewRequestWithContext(r.Context(), http.MethodPost, "/bitrix24/events", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				codes[i] = rec.Code
			})
		}
		wg.Wait()
		answers.Store(string(body), codes)
		w.WriteHeader(codes[0])
	}))
	t.Cleanup(front.Close)

	portal := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit(), bitrixtest.WithSyncDelivery())
	portal.AddOutboundWebhook([]string{"ONCRMDEALADD"}, front.URL+"/bitrix24/events", token)
	c, err := bitrix.New(bitrix.WebhookURL(portal.WebhookURL()), bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit())
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	const deals = 10
	var ids []string
	for i := range deals {
		var id bitrix.Int
		if _, err := c.Call(ctx, "crm.deal.add", bitrix.Params{"fields": bitrix.Params{"TITLE": fmt.Sprint("deal ", i)}}, &id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, fmt.Sprint(int(id)))
	}
	dels, err := portal.WaitDeliveries(ctx, deals)
	if err != nil {
		t.Fatal(err)
	}
	// Deliver everything a second time: a full repeat of the stream.
	for _, d := range dels {
		resp, err := http.Post(d.URL, "application/x-www-form-urlencoded", bytes.NewBufferString(d.Body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	mu.Lock()
	defer mu.Unlock()
	for _, id := range ids {
		if handled[id] != 1 {
			t.Errorf("deal %s: handler ran %d times across both receivers, want 1", id, handled[id])
		}
	}
	if len(handled) != deals {
		t.Errorf("handled %d distinct deals, want %d: %v", len(handled), deals, handled)
	}
	answers.Range(func(_, v any) bool {
		for _, code := range v.([]int) {
			if code != http.StatusOK {
				t.Errorf("a receiver answered HTTP %d, want 200 (processed or duplicate)", code)
			}
		}
		return true
	})
}

func TestDedupeClaimRelease(t *testing.T) {
	t.Parallel()
	rs := startRedis(t)
	rdb := rs.client(t)
	a, b := newDedupe(t, rdb), newDedupe(t, rs.client(t))
	var _ webhook.DedupeStore = a
	ctx := t.Context()
	steps := []struct {
		store *Dedupe
		op    string
		want  bool
	}{
		{a, "claim", true},
		{b, "claim", false},
		{a, "claim", false},
		{b, "release", false},
		{b, "claim", true},
	}
	for i, s := range steps {
		switch s.op {
		case "claim":
			got, err := s.store.Claim(ctx, "k", time.Hour)
			if err != nil || got != s.want {
				t.Errorf("step %d: Claim = %v, %v; want %v, nil", i, got, err, s.want)
			}
		case "release":
			if err := s.store.Release(ctx, "k"); err != nil {
				t.Errorf("step %d: Release = %v", i, err)
			}
		}
	}
	if _, err := a.Claim(ctx, "short", 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	ttl, err := rdb.PTTL(ctx, a.key("short")).Result()
	if err != nil || ttl <= 0 || ttl > 200*time.Millisecond {
		t.Errorf("claimed key TTL = %v (%v), want in (0, 200ms]", ttl, err)
	}
	down := newDedupe(t, deadClient(t))
	if _, err := down.Claim(ctx, "k", time.Hour); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Claim with Redis down = %v, want ErrUnavailable", err)
	}
	if err := down.Release(ctx, "k"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Release with Redis down = %v, want ErrUnavailable", err)
	}
}

// When one replica gets OPERATION_TIME_LIMIT for a method, the other
// replicas hold that method too (without sending it), and other methods
// go on.
func TestReplicasShareOperatingBlock(t *testing.T) {
	t.Parallel()
	rs := startRedis(t)
	portal := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit(),
		bitrixtest.WithOperatingLimit(480*time.Second), bitrixtest.WithMethodCost("user.get", 500*time.Second))
	ctx := t.Context()
	var clients []*bitrix.Client
	for range 2 {
		rdb := rs.client(t)
		c, err := bitrix.New(bitrix.WebhookURL(portal.WebhookURL()), bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit(),
			bitrix.WithOperatingGate(newGate(t, rdb)))
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	a, b := clients[0], clients[1]
	// The first call spends the method's budget; the second is refused
	// with OPERATION_TIME_LIMIT and blocks the method until the portal's
	// operating_reset_at, ten minutes away.
	if _, err := a.Call(ctx, "user.get", nil, nil); err != nil {
		t.Fatal(err)
	}
	actx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, err := a.Call(actx, "user.get", nil, nil)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("replica A's blocked call = %v, want to wait until its deadline", err)
	}
	before := portal.CallCount("user.get")
	bctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	_, err = b.Call(bctx, "user.get", nil, nil)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("replica B's call of the blocked method = %v, want to wait until its deadline", err)
	}
	if got := portal.CallCount("user.get"); got != before {
		t.Errorf("replica B sent the blocked method to the portal (%d calls, want %d)", got, before)
	}
	if _, err := b.Call(ctx, "user.current", nil, nil); err != nil {
		t.Errorf("replica B's call of another method = %v, want nil", err)
	}
}

// With Redis down and no fallback, calls fail fast with ErrUnavailable
// and nothing reaches the portal: the limits are never bypassed silently.
// With fallbacks configured, calls go on under the in-process limits.
func TestReplicaRedisDown(t *testing.T) {
	t.Parallel()
	portal := bitrixtest.NewServer(t, bitrixtest.WithoutOperatingLimit())
	ctx := t.Context()
	rdb := deadClient(t)
	strict, err := bitrix.New(bitrix.WebhookURL(portal.WebhookURL()), bitrix.WithAllowHTTP(),
		bitrix.WithLimiter(newLimiter(t, rdb, bitrix.DefaultRate, bitrix.DefaultBurst)),
		bitrix.WithOperatingGate(newGate(t, rdb)))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = strict.Call(ctx, "server.time", nil, nil)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("call with Redis down = %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("failing took %v; want fast (well under the op timeout plus dial retries)", d)
	}
	if n := portal.Requests(); n != 0 {
		t.Errorf("the portal got %d requests while Redis was down, want 0", n)
	}

	fallback, err := bitrix.NewLimiter(bitrix.DefaultRate/2, bitrix.DefaultBurst/2)
	if err != nil {
		t.Fatal(err)
	}
	lenient, err := bitrix.New(bitrix.WebhookURL(portal.WebhookURL()), bitrix.WithAllowHTTP(),
		bitrix.WithLimiter(newLimiter(t, rdb, bitrix.DefaultRate, bitrix.DefaultBurst,
			WithLimiterFallback(fallback))),
		bitrix.WithOperatingGate(newGate(t, rdb, WithGateFallback(bitrix.NewOperatingGate()))))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lenient.Call(ctx, "server.time", nil, nil); err != nil {
		t.Errorf("call with Redis down and fallbacks = %v, want nil", err)
	}
}
