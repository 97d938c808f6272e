package webhook_test

import (
	"context"
	"fmt"

	"github.com/b24go/sdk/events"
	"github.com/b24go/sdk/webhook"
)

// On routes any event to a handler of its typed data; the Handler.OnX
// methods are On with the event's name filled in.
func ExampleOn() {
	h, err := webhook.New(webhook.WithApplicationToken("t"))
	if err != nil {
		panic(err)
	}
	webhook.On(h, events.OnCRMLeadAdd, func(ctx context.Context, ev *events.Event, d *events.CRMEntity) error {
		fmt.Println("new lead", d.EntityID())
		return nil
	})
	webhook.On(h, events.OnBotV2JoinChat, func(ctx context.Context, ev *events.Event, d *events.BotV2JoinChat) error {
		fmt.Println("bot", d.Bot.ID, "joined", d.DialogID)
		return nil
	})
	for _, body := range []string{
		"event=ONCRMLEADADD&data[FIELDS][ID]=41",
		"event=ONIMBOTV2JOINCHAT&data[bot][id]=7&data[dialogId]=chat5",
	} {
		ev, err := events.ParseBody([]byte(body))
		if err != nil {
			panic(err)
		}
		if err := h.Dispatch(context.Background(), ev); err != nil {
			panic(err)
		}
	}
	// Output:
	// new lead 41
	// bot 7 joined chat5
}
