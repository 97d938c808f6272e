package webhook

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/b24go/sdk/events"
)

// Chatbots 2.0 webhook-mode deliveries: events.md documents a form body,
// the handler sample of index.md#webhook a JSON body; the Handler takes
// both, verifies the top-level auth.application_token either way, and
// refuses broken JSON with 400.
func TestV2DeliveryEncodings(t *testing.T) {
	t.Parallel()
	var got []string
	h, err := New(WithApplicationToken(testToken))
	if err != nil {
		t.Fatal(err)
	}
	h.Handle(events.OnBotV2MessageAdd, func(_ context.Context, ev *events.Event) error {
		d := ev.Data.(*events.BotV2Message)
		got = append(got, d.Message.Text+"@"+d.Chat.DialogID)
		return nil
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	send := func(ctype, body string) int {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL, strings.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	form := "event=ONIMBOTV2MESSAGEADD&data[bot][id]=456&data[message][id]=789&data[message][text]=form&data[chat][dialogId]=chat5&ts=1772093963&auth[application_token]=" + testToken
	js := `{"event":"ONIMBOTV2MESSAGEADD","data":{"bot":{"id":456},"message":{"id":789,"text":"json"},"chat":{"dialogId":"chat5"}},"ts":1772093963,"auth":{"application_token":"` + testToken + `"}}`
	if st := send("application/x-www-form-urlencoded", form); st != 200 {
		t.Fatalf("form: %d", st)
	}
	if st := send("application/json; charset=utf-8", js); st != 200 {
		t.Fatalf("json: %d", st)
	}
	if st := send("application/json", strings.Replace(js, testToken, "wrong", 1)); st != http.StatusUnauthorized {
		t.Fatalf("json with a wrong token: %d", st)
	}
	if st := send("application/json", `{"event":`); st != http.StatusBadRequest {
		t.Fatalf("broken json: %d", st)
	}
	if strings.Join(got, ",") != "form@chat5,json@chat5" {
		t.Fatalf("handled %q", got)
	}
}
