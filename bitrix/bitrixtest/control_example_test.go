package bitrixtest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/b24go/sdk/bitrix/bitrixtest"
)

// ExampleServer_ControlURL drives the portal through its control API, as
// a test in any language would: a deal added as user 2, the deals read
// back, and a refused call with its error code.
func ExampleServer_ControlURL() {
	s, err := bitrixtest.Start()
	if err != nil {
		panic(err)
	}
	defer s.Close()
	call := func(method, path, body string) string {
		req, err := http.NewRequest(method, s.ControlURL()+path, strings.NewReader(body))
		if err != nil {
			panic(err)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return fmt.Sprintf("%d %s", res.StatusCode, b)
	}

	call("POST", "crm/items/add", `{"entity_type_id":2,"user_id":2,"fields":{"title":"Big deal"}}`)
	var page struct {
		Items []struct {
			ID        int    `json:"id"`
			Title     string `json:"title"`
			CreatedBy int    `json:"createdBy"`
		} `json:"items"`
	}
	_, body, _ := strings.Cut(call("GET", "crm/items?entity_type_id=2", ""), " ")
	if err := json.Unmarshal([]byte(body), &page); err != nil {
		panic(err)
	}
	fmt.Printf("%+v\n", page.Items)
	fmt.Println(call("POST", "messages/send", `{"bot_code":"nobody","text":"hi"}`))
	// Output:
	// [{ID:1 Title:Big deal CreatedBy:2}]
	// 404 {"error":"BOT_NOT_FOUND","error_description":"no bot \"nobody\""}
}
