package redisstore_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/redisstore"
	"github.com/b24go/sdk/webhook"
)

// Every replica of a service builds its client and its event receiver on
// the same Redis. This example needs a Redis server, so it is compiled but
// not run by go test.
func Example() {
	rdb := redis.NewClient(&redis.Options{
		Addr: "127.0.0.1:6379",
		// Fail fast while Redis is down.
		DialTimeout: time.Second, ReadTimeout: 500 * time.Millisecond, WriteTimeout: 500 * time.Millisecond,
		MaxRetries: 1, DialerRetries: 1,
	})
	defer rdb.Close()

	tok := bitrix.Token{
		AccessToken:    bitrix.Secret(os.Getenv("B24_ACCESS_TOKEN")),
		RefreshToken:   bitrix.Secret(os.Getenv("B24_REFRESH_TOKEN")),
		MemberID:       os.Getenv("B24_MEMBER_ID"),
		ClientEndpoint: os.Getenv("B24_CLIENT_ENDPOINT"), // https://portal.bitrix24.com/rest/
	}
	app := bitrix.App{ClientID: os.Getenv("B24_CLIENT_ID"), ClientSecret: bitrix.Secret(os.Getenv("B24_CLIENT_SECRET"))}

	c, err := bitrix.New(
		bitrix.OAuth(tok, app, redisstore.NewTokenStore(rdb)),
		bitrix.WithLimiter(redisstore.NewLimiter(rdb, bitrix.DefaultRate, bitrix.DefaultBurst)),
		bitrix.WithOperatingGate(redisstore.NewOperatingGate(rdb)),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	var me map[string]any
	if _, err := c.Call(context.Background(), "user.current", nil, &me); err != nil {
		fmt.Println(err) // errors.Is(err, redisstore.ErrUnavailable) while Redis is down
		return
	}

	h := webhook.New(
		webhook.WithRegistry(redisstore.NewRegistry(rdb)),
		webhook.WithDedupe(redisstore.NewDedupe(rdb), 24*time.Hour),
	)
	http.Handle("/bitrix24/events", h)
}

// A limiter that keeps working, at a quarter of the portal's rate, while
// Redis is down (for a fleet of four replicas).
func ExampleWithLimiterFallback() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	lim := redisstore.NewLimiter(rdb, bitrix.DefaultRate, bitrix.DefaultBurst,
		redisstore.WithLimiterFallback(bitrix.NewLimiter(bitrix.DefaultRate/4, bitrix.DefaultBurst/4)))
	gate := redisstore.NewOperatingGate(rdb, redisstore.WithGateFallback(bitrix.NewOperatingGate()))
	_, _ = bitrix.New(bitrix.WebhookURL("https://portal.bitrix24.com/rest/1/secret/"),
		bitrix.WithLimiter(lim), bitrix.WithOperatingGate(gate))
}
