package imbotv2_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/events"
	"github.com/b24go/sdk/imbotv2"
	"github.com/b24go/sdk/webhook"
)

// A fetch-mode bot: registered through an inbound webhook with its own
// botToken, it pulls its events with a Poller and answers them. The fake
// portal stands in for Bitrix24 and plays the user.
func Example_fetchMode() {
	portal, _ := bitrixtest.Start(bitrixtest.WithoutRateLimit())
	defer portal.Close()
	ctx := context.Background()

	bc, _ := bitrix.New(bitrix.WebhookURL(portal.WebhookURL()), bitrix.WithAllowHTTP())
	client, _ := imbotv2.New(bc, imbotv2.WithBotToken("my_secret_token_123"))
	reg, err := client.Bots.Register(ctx, imbotv2.Registration{
		Code: "support_bot", Properties: imbotv2.Properties{Name: "Support Bot"}, EventMode: imbotv2.ModeFetch,
	})
	if err != nil {
		panic(err)
	}
	botID := int(reg.Bot.ID)

	poller := &imbotv2.Poller{Client: client, BotID: botID}
	imbotv2.OnMessage(poller, func(ctx context.Context, ev *events.Event, d *events.BotV2Message) error {
		_, err := client.Messages.Send(ctx, botID, imbotv2.DialogID(d.ReplyDialog()), imbotv2.MessageFields{Text: "You said: " + d.Message.Text})
		return err
	})

	_, _ = portal.V2SendMessage(botID, 2, "Hello bot!") // user 2 writes to the bot
	batch, err := poller.Once(ctx)                      // Run(ctx) loops until ctx ends
	if err != nil {
		panic(err)
	}
	fmt.Println("handled:", batch.Handled)
	for _, m := range portal.V2Messages() {
		fmt.Printf("bot -> %s: %s\n", m.DialogID, m.Text)
	}
	// Output:
	// handled: 1
	// bot -> 2: You said: Hello bot!
}

// A webhook-mode bot: the portal POSTs each event to the bot's URL, served
// by a webhook.Handler with the same typed handlers as the Poller.
func Example_webhookMode() {
	portal, _ := bitrixtest.Start(bitrixtest.WithoutRateLimit())
	defer portal.Close()
	ctx := context.Background()

	bc, _ := bitrix.New(bitrix.WebhookURL(portal.WebhookURL()), bitrix.WithAllowHTTP())
	client, _ := imbotv2.New(bc, imbotv2.WithBotToken("my_secret_token_123"))

	// The handler needs the application token the deliveries carry; the
	// fake tells it per bot, a real app gets it from its installation.
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	reg, err := client.Bots.Register(ctx, imbotv2.Registration{
		Code: "hook_bot", Properties: imbotv2.Properties{Name: "Hook Bot"},
		EventMode: imbotv2.ModeWebhook, WebhookURL: srv.URL + "/bot",
	})
	if err != nil {
		panic(err)
	}
	botID := int(reg.Bot.ID)
	handler, err := webhook.New(webhook.WithApplicationToken(portal.V2ApplicationToken(botID)))
	if err != nil {
		panic(err)
	}
	mux.Handle("POST /bot", handler)
	imbotv2.OnJoinChat(handler, func(ctx context.Context, ev *events.Event, d *events.BotV2JoinChat) error {
		_, err := client.Messages.Send(ctx, botID, imbotv2.DialogID(d.DialogID), imbotv2.MessageFields{Text: "Hi, I am here to help"})
		return err
	})

	chatID := portal.CreateChat("Support", 1, 2)
	if err := portal.V2AddBotToChat(botID, chatID, 1); err != nil { // delivered before it returns
		panic(err)
	}
	for _, m := range portal.V2Messages() {
		fmt.Printf("bot -> chat: %s\n", m.Text)
	}
	// Output:
	// bot -> chat: Hi, I am here to help
}
