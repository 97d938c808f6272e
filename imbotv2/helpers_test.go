package imbotv2

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/events"
	"github.com/b24go/sdk/webhook"
)

const testToken = "echo-bot-token-1"

// fastRetries lets a few transport faults through to the Poller quickly.
var fastRetries = bitrix.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}

// newFetchBot starts a fake portal and registers a fetch-mode bot through
// its inbound webhook.
func newFetchBot(t *testing.T, opts ...bitrix.Option) (*bitrixtest.Server, *Client, int) {
	t.Helper()
	s := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit())
	o := append([]bitrix.Option{bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit(), bitrix.WithRetryPolicy(fastRetries)}, opts...)
	bc, err := bitrix.New(bitrix.WebhookURL(s.WebhookURL()), o...)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(bc, WithBotToken(testToken))
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Bots.Register(t.Context(), Registration{Code: "echo", Properties: Properties{Name: "Echo"}, EventMode: ModeFetch})
	if err != nil {
		t.Fatal(err)
	}
	return s, c, int(res.Bot.ID)
}

// inProcess serves requests with the fake's handler without a network, so
// that a client can run inside a testing/synctest bubble.
type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// texts records the message texts a handler saw.
type texts struct {
	ch chan string
}

func newTexts() *texts { return &texts{ch: make(chan string, 1000)} }

func (x *texts) handler(fail func(text string) error) func(context.Context, *events.Event, *events.BotV2Message) error {
	return func(_ context.Context, _ *events.Event, d *events.BotV2Message) error {
		x.ch <- d.Message.Text
		if fail != nil {
			return fail(d.Message.Text)
		}
		return nil
	}
}

func (x *texts) drain() []string {
	var out []string
	for {
		select {
		case s := <-x.ch:
			out = append(out, s)
		default:
			return out
		}
	}
}

// webhookProxy serves *h once it is set (the bot's URL must exist before
// the handler knows the bot's application token).
func webhookProxy(h *atomic.Pointer[webhook.Handler]) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.Load().ServeHTTP(w, r) })
}
