package bitrixtest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/b24go/sdk/bitrix/bitrixtest"
)

// Example starts a fake portal, calls it through the inbound webhook with a
// PHP-bracket form, and inspects what the portal stored.
func Example() {
	s, err := bitrixtest.Start(bitrixtest.WithoutRateLimit())
	if err != nil {
		panic(err)
	}
	defer s.Close()

	form := url.Values{"entityTypeId": {"2"}, "fields[title]": {"First deal"}, "fields[opportunity]": {"99.5"}}
	res, err := http.PostForm(s.WebhookURL()+"crm.item.add", form)
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	var answer struct {
		Result struct {
			Item struct {
				ID          int     `json:"id"`
				Title       string  `json:"title"`
				Opportunity float64 `json:"opportunity"`
			} `json:"item"`
		} `json:"result"`
	}
	if err := json.NewDecoder(res.Body).Decode(&answer); err != nil {
		panic(err)
	}
	fmt.Println(res.StatusCode, answer.Result.Item.Title, answer.Result.Item.Opportunity)
	fmt.Println("stored:", s.CRMItem(bitrixtest.EntityDeal, answer.Result.Item.ID)["title"])
	fmt.Println("calls:", s.CallCount("crm.item.add"))
	// Output:
	// 200 First deal 99.5
	// stored: First deal
	// calls: 1
}

// ExampleServer_FailNext shows fault injection: the next call answers the
// portal's rate-limit error.
func ExampleServer_FailNext() {
	s, _ := bitrixtest.Start(bitrixtest.WithoutRateLimit())
	defer s.Close()
	s.FailNext(1, http.StatusServiceUnavailable, "QUERY_LIMIT_EXCEEDED")
	for i := 0; i < 2; i++ {
		res, err := http.Get(s.WebhookURL() + "server.time")
		if err != nil {
			panic(err)
		}
		var body map[string]any
		_ = json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		fmt.Println(res.StatusCode, body["error"])
	}
	// Output:
	// 503 QUERY_LIMIT_EXCEEDED
	// 200 <nil>
}

// ExampleServer_SendBotMessage registers a bot as the OAuth app, then plays
// a user writing to it: the bot's handler receives ONIMBOTMESSAGEADD as a
// PHP-bracket form.
func ExampleServer_SendBotMessage() {
	var got string
	handler := http.NewServeMux()
	handler.HandleFunc("/bot", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		got = r.PostForm.Get("event") + " " + r.PostForm.Get("data[PARAMS][MESSAGE]")
	})
	bot := newLoopback(handler)
	defer bot.Close()

	s, _ := bitrixtest.Start(bitrixtest.WithoutRateLimit())
	defer s.Close()
	tok := s.IssueToken(1)
	body := `{"CODE":"echo","EVENT_HANDLER":"` + bot.URL + `/bot","PROPERTIES":{"NAME":"Echo"},"auth":"` + tok.AccessToken + `"}`
	res, err := http.Post(s.App().ClientEndpoint+"imbot.register", "application/json", strings.NewReader(body))
	if err != nil {
		panic(err)
	}
	var reg struct{ Result int }
	_ = json.NewDecoder(res.Body).Decode(&reg)
	res.Body.Close()

	if _, err := s.SendBotMessage(reg.Result, 2, "Hello"); err != nil {
		panic(err)
	}
	fmt.Println(got)
	// Output:
	// ONIMBOTMESSAGEADD Hello
}
