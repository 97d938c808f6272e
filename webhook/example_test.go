package webhook_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/b24go/sdk/events"
	"github.com/b24go/sdk/webhook"
)

func ExampleNew() {
	h, err := webhook.New(webhook.WithApplicationToken("3c6c9248ec54af6bea1159b43ee0ab32"))
	if err != nil {
		panic(err)
	}
	h.OnDealAdd(func(ctx context.Context, ev *events.Event, d *events.CRMEntity) error {
		fmt.Println("new deal", d.EntityID(), "on", ev.Auth.Domain)
		return nil
	})
	srv := httptest.NewServer(h) // in production: http.Handle("/bitrix24/events", h)
	defer srv.Close()

	deliver := func(token string) {
		form := url.Values{
			"event": {"ONCRMDEALADD"}, "data[FIELDS][ID]": {"7405"}, "ts": {"1766047124"},
			"auth[domain]": {"portal.bitrix24.com"}, "auth[application_token]": {token},
		}
		resp, err := http.Post(srv.URL, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Print(resp.StatusCode, " ", string(body))
	}
	deliver("3c6c9248ec54af6bea1159b43ee0ab32")
	deliver("forged")
	// Output:
	// new deal 7405 on portal.bitrix24.com
	// 200 {"result":"ok"}
	// 401 {"error":"invalid_token","reason":"token_mismatch","error_description":"auth[application_token] matches no token of this receiver"}
}

func ExampleHandler_Dispatch() {
	h, err := webhook.New(webhook.WithApplicationToken("t"))
	if err != nil {
		panic(err)
	}
	h.OnCommand(func(ctx context.Context, ev *events.Event, c *events.CommandAdd) error {
		cmd, _ := c.First()
		target, _ := c.ReplyTarget()
		fmt.Printf("/%s %s → answer message %d in dialog %s as bot %d\n", cmd.Command, cmd.Params, cmd.MessageID, target.DialogID, target.BotID)
		return nil
	})
	// Handlers can be tested without HTTP.
	ev, err := events.ParseBody([]byte("event=ONIMCOMMANDADD&data[COMMAND][103][BOT_ID]=1291&data[COMMAND][103][COMMAND]=echo" +
		"&data[COMMAND][103][COMMAND_PARAMS]=test&data[COMMAND][103][MESSAGE_ID]=33899&data[PARAMS][DIALOG_ID]=1269"))
	if err != nil {
		panic(err)
	}
	fmt.Println(h.Dispatch(context.Background(), ev))
	// Output:
	// /echo test → answer message 33899 in dialog 1269 as bot 1291
	// <nil>
}
