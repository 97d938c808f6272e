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

// ExampleServer_Handle stubs tasks.task.add, a method the fake does not
// model, and runs it in a batch whose next command, the built-in
// crm.lead.add, takes the new task's id through a $result reference.
func ExampleServer_Handle() {
	s, err := bitrixtest.Start(bitrixtest.WithoutRateLimit())
	if err != nil {
		panic(err)
	}
	defer s.Close()

	// The answer's shape is that of api-reference/tasks/tasks-task-add.md:
	// {"task": {"id": "3711", "title": ...}}.
	s.Handle("tasks.task.add", func(r *bitrixtest.Request) (bitrixtest.Result, error) {
		fields, _ := r.Params()["fields"].(map[string]any)
		if fields["TITLE"] == "" {
			return bitrixtest.Result{}, &bitrixtest.APIError{Code: "ERROR_ARGUMENT", Description: "TITLE is empty", Argument: "TITLE"}
		}
		task := map[string]any{"id": "3711", "title": fields["TITLE"], "createdBy": fmt.Sprint(r.Caller().UserID)}
		return bitrixtest.Result{Value: map[string]any{"task": task}}, nil
	})

	// Commands run in the order they are sent (url.Values would sort them).
	form := "cmd[task]=" + url.QueryEscape("tasks.task.add?fields[TITLE]=Call%20the%20client") +
		"&cmd[lead]=" + url.QueryEscape("crm.lead.add?fields[TITLE]=Lead%20for%20task%20$result[task][task][id]")
	res, err := http.Post(s.WebhookURL()+"batch", "application/x-www-form-urlencoded", strings.NewReader(form))
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	var answer struct {
		Result struct {
			Result struct {
				Task struct {
					Task struct{ ID, Title, CreatedBy string }
				}
				Lead int
			} `json:"result"`
		} `json:"result"`
	}
	if err := json.NewDecoder(res.Body).Decode(&answer); err != nil {
		panic(err)
	}
	task := answer.Result.Result.Task.Task
	fmt.Println("task:", task.ID, task.Title, "by user", task.CreatedBy)
	fmt.Println("lead:", s.CRMItem(1, answer.Result.Result.Lead)["title"])
	for _, c := range s.Calls("tasks.task.add") {
		fmt.Println("logged:", c.Method, c.InBatch, c.Params["fields"])
	}
	// Output:
	// task: 3711 Call the client by user 1
	// lead: Lead for task 3711
	// logged: tasks.task.add true map[TITLE:Call the client]
}
