package imbot_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/imbot"
)

const testClientID = "b24go-test-bot"

// newPortal starts a fake portal and an imbot client for a webhook bot.
func newPortal(t *testing.T, opts ...imbot.Option) (*bitrixtest.Server, *imbot.Client) {
	t.Helper()
	srv := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit())
	c, err := bitrix.New(bitrix.WebhookURL(srv.WebhookURL()), bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit())
	if err != nil {
		t.Fatal(err)
	}
	if opts == nil {
		opts = []imbot.Option{imbot.WithClientID(testClientID)}
	}
	ib, err := imbot.New(c, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return srv, ib
}

// registerBot registers a bot and returns its id.
func registerBot(t *testing.T, ib *imbot.Client, code string) int {
	t.Helper()
	id, err := ib.Bots.Register(t.Context(), imbot.BotRegistration{
		Code:       code,
		Handlers:   imbot.Handlers{All: "https://bot.example.com/handler"},
		Properties: imbot.Properties{Name: bitrix.Ptr("Bot " + code)},
	})
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	return id
}

// fixturePortal answers every request with the fixture file's body and status.
type fixturePortal struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies []string
}

func serveFixture(t *testing.T, name string, status int) (*fixturePortal, *imbot.Client) {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	fp := &fixturePortal{}
	fp.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		fp.mu.Lock()
		fp.bodies = append(fp.bodies, r.PostForm.Encode())
		fp.mu.Unlock()
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(fp.srv.Close)
	c, err := bitrix.New(bitrix.WebhookURL(fp.srv.URL+"/rest/1/fixturesecret/"), bitrix.WithAllowHTTP(),
		bitrix.WithoutRateLimit(), bitrix.WithRetryPolicy(bitrix.NoRetries()))
	if err != nil {
		t.Fatal(err)
	}
	ib, err := imbot.New(c, imbot.WithClientID(testClientID))
	if err != nil {
		t.Fatal(err)
	}
	return fp, ib
}
