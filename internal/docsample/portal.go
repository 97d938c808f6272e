package docsample

import (
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/b24go/sdk/bitrix"
)

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Client is a bitrix client whose portal answers every call with the
// response sample in file (a path, usually under testdata/rest at the
// module root, whose index.tsv names each sample's docs page).
func Client(t testing.TB, file string) *bitrix.Client {
	t.Helper()
	body, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return Answering(t, string(body))
}

// Answering is a bitrix client whose portal answers every call with body
// (status 200, JSON): no rate limit, no retries.
func Answering(t testing.TB, body string) *bitrix.Client {
	t.Helper()
	c, err := bitrix.New(bitrix.WebhookURL("https://portal.example.com/rest/1/hookSecret42/"), bitrix.WithoutRateLimit(),
		bitrix.WithRetryPolicy(bitrix.NoRetries()),
		bitrix.WithTransport(roundTripFunc(func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
				Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
		})))
	if err != nil {
		t.Fatal(err)
	}
	return c
}
