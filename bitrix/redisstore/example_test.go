package redisstore_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/bitrix/redisstore"
	"github.com/b24go/sdk/webhook"
)

// TestMain starts a private redis-server for the examples and passes its
// address in REDIS_ADDR. Without the binary the examples are left out
// (the tests skip themselves), except under CI (CI=true), where Redis is
// required. Under -short there is no server and no example.
func TestMain(m *testing.M) {
	if os.Getenv(receiverEnv) != "" { // a receiver of TestQueueSurvivesKill
		os.Exit(queueReceiverMain())
	}
	flag.Parse()
	if testing.Short() {
		// -short runs no real Redis (see startRedis): no server, and the
		// examples, which need one, are left out.
		fmt.Fprintln(os.Stderr, "-short: no redis-server; the Redis examples and tests are left to the full run")
		if f := flag.Lookup("test.run"); f != nil && f.Value.String() == "" {
			_ = flag.Set("test.run", "^(Test|Fuzz)")
		}
		os.Exit(m.Run())
	}
	addr, stop, found, err := redisstore.StartRedisForExamples()
	switch {
	case err != nil:
		fmt.Fprintln(os.Stderr, "starting redis-server for the examples:", err)
		os.Exit(1)
	case found:
		_ = os.Setenv("REDIS_ADDR", addr)
	case os.Getenv("CI") == "true":
		fmt.Fprintln(os.Stderr, "redis-server not found in PATH, but CI=true, where the Redis tests must run")
		os.Exit(1)
	default:
		fmt.Fprintln(os.Stderr, "redis-server not found in PATH: skipping the Redis examples")
		if f := flag.Lookup("test.run"); f != nil && f.Value.String() == "" {
			_ = flag.Set("test.run", "^(Test|Fuzz)")
		}
	}
	code := m.Run()
	if stop != nil {
		stop()
	}
	os.Exit(code)
}

// Every replica of a service builds its client and its event receiver on
// the same Redis: tokens, the rate limit, operating-time blocks, the
// registry of installed portals and event dedupe are shared. Here the
// portal is the fake one and Redis the server at $REDIS_ADDR.
func Example() {
	portal, err := bitrixtest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer portal.Close()
	rdb := redis.NewClient(&redis.Options{
		Addr: os.Getenv("REDIS_ADDR"),
		// Fail fast while Redis is down.
		DialTimeout: time.Second, ReadTimeout: 500 * time.Millisecond, WriteTimeout: 500 * time.Millisecond,
		MaxRetries: 1, DialerRetries: 1,
	})
	defer rdb.Close()

	// On a real portal these come from the installation (ONAPPINSTALL).
	app, issued := portal.App(), portal.IssueToken(1)
	tok := bitrix.Token{
		AccessToken:    bitrix.Secret(issued.AccessToken),
		RefreshToken:   bitrix.Secret(issued.RefreshToken),
		Expires:        issued.Expires,
		MemberID:       issued.MemberID,
		ClientEndpoint: issued.ClientEndpoint,
	}
	tokens, err1 := redisstore.NewTokenStore(rdb)
	limiter, err2 := redisstore.NewLimiter(rdb, bitrix.DefaultRate, bitrix.DefaultBurst)
	gate, err3 := redisstore.NewOperatingGate(rdb)
	registry, err4 := redisstore.NewRegistry(rdb)
	dedupe, err5 := redisstore.NewDedupe(rdb)
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		log.Fatal(err)
	}
	c, err := bitrix.New(
		bitrix.OAuth(tok, bitrix.App{ClientID: app.ClientID, ClientSecret: bitrix.Secret(app.ClientSecret), TokenURL: app.TokenURL},
			tokens),
		bitrix.WithLimiter(limiter),
		bitrix.WithOperatingGate(gate),
		bitrix.WithAllowHTTP(), // the fake portal is plain http
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	var me struct {
		ID bitrix.Int `json:"ID"`
	}
	if _, err := c.Call(context.Background(), "user.current", nil, &me); err != nil {
		fmt.Println(err) // errors.Is(err, redisstore.ErrUnavailable) while Redis is down
		return
	}
	fmt.Println("user", me.ID)

	h, err := webhook.New(
		webhook.WithRegistry(registry),
		webhook.WithDedupe(dedupe, 24*time.Hour),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("/bitrix24/events", h)
	// Output: user 1
}

// A limiter and a gate that keep working while Redis is down: the limiter
// at a quarter of the portal's rate (for a fleet of four replicas).
func ExampleWithLimiterFallback() {
	portal, err := bitrixtest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer portal.Close()
	// Nothing listens on port 1: Redis is down for this example.
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	defer rdb.Close()
	fallback, err := bitrix.NewLimiter(bitrix.DefaultRate/4, bitrix.DefaultBurst/4)
	if err != nil {
		log.Fatal(err)
	}
	lim, err1 := redisstore.NewLimiter(rdb, bitrix.DefaultRate, bitrix.DefaultBurst, redisstore.WithLimiterFallback(fallback))
	gate, err2 := redisstore.NewOperatingGate(rdb, redisstore.WithGateFallback(bitrix.NewOperatingGate()))
	if err := errors.Join(err1, err2); err != nil {
		log.Fatal(err)
	}
	c, err := bitrix.New(bitrix.WebhookURL(portal.WebhookURL()), // https://portal.bitrix24.com/rest/1/secret/
		bitrix.WithLimiter(lim), bitrix.WithOperatingGate(gate), bitrix.WithAllowHTTP())
	if err != nil {
		log.Fatal(err)
	}
	var now string
	_, err = c.Call(context.Background(), "server.time", nil, &now)
	fmt.Println("call without Redis:", err)
	// Output: call without Redis: <nil>
}
