package imbot_test

import (
	"context"
	"fmt"
	"log"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/imbot"
)

// A webhook bot: register it, then send a message with a keyboard to user 1.
func Example() {
	portal, err := bitrixtest.Start() // a fake portal; use your real webhook URL instead
	if err != nil {
		log.Fatal(err)
	}
	defer portal.Close()
	ctx := context.Background()

	c, err := bitrix.New(bitrix.WebhookURL(portal.WebhookURL()), bitrix.WithAllowHTTP())
	if err != nil {
		log.Fatal(err)
	}
	bots, err := imbot.New(c, imbot.WithClientID("my-integration"))
	if err != nil {
		log.Fatal(err)
	}
	botID, err := bots.Bots.Register(ctx, imbot.BotRegistration{
		Code:       "helpdesk",
		Handlers:   imbot.Handlers{All: "https://bot.example.com/bitrix24/events"},
		Properties: imbot.Properties{Name: bitrix.Ptr("Helpdesk"), Color: imbot.ColorAqua},
	})
	if err != nil {
		log.Fatal(err)
	}
	kb := imbot.NewKeyboard(
		imbot.Button{Text: "Open a ticket", Command: "ticket", BgColorToken: imbot.ColorTokenPrimary},
		imbot.Button{Text: "Docs", Link: "https://example.com/docs"},
	)
	_, err = bots.Messages.Send(ctx, imbot.Message{
		BotID:    botID,
		DialogID: imbot.User(1),
		Text:     "Hello! How can I help?",
		Keyboard: kb,
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range portal.BotMessages() {
		fmt.Printf("%s -> %s (%d buttons)\n", m.Text, m.DialogID, kb.Len())
	}
	// Output: Hello! How can I help? -> 1 (2 buttons)
}

// Attachments are built block by block and checked before sending.
func ExampleAttach() {
	a := imbot.NewAttach().
		Message("[B]Deal #42[/B] was won").
		Grid(
			imbot.GridItem{Display: imbot.GridRow, Name: "Amount", Value: "1,200 EUR"},
			imbot.GridItem{Display: imbot.GridRow, Name: "Owner", Value: "John Smith"},
		).
		Link(imbot.AttachLink{Name: "Open the deal", Link: "/crm/deal/details/42/"})
	a.ColorToken = imbot.ColorTokenPrimary
	js, err := a.MarshalJSON()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(js))

	err = imbot.NewAttach().Link(imbot.AttachLink{Name: "no target"}).Validate()
	fmt.Println(err)
	// Output:
	// {"COLOR_TOKEN":"primary","BLOCKS":[{"MESSAGE":"[B]Deal #42[/B] was won"},{"GRID":[{"DISPLAY":"ROW","NAME":"Amount","VALUE":"1,200 EUR"},{"DISPLAY":"ROW","NAME":"Owner","VALUE":"John Smith"}]},{"LINK":{"NAME":"Open the deal","LINK":"/crm/deal/details/42/"}}]}
	// bitrix: ATTACH.BLOCKS[0].LINK.LINK: required (or USER_ID / CHAT_ID) (not sent)
}
