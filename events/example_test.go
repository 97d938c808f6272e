package events_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/events"
)

// A real delivery body (protocol notes §A.3, shortened tokens).
const contactAdd = "event=ONCRMCONTACTADD&event_handler_id=58&data%5BFIELDS%5D%5BID%5D=134806&ts=1727018926" +
	"&auth%5Baccess_token%5D=be45f066&auth%5Bdomain%5D=portal.bitrix24.com" +
	"&auth%5Bmember_id%5D=010b6886ebc205e43ae65000ee00addb&auth%5Bapplication_token%5D=3c6c9248ec54af6bea1159b43ee0ab32"

func ExampleParse() {
	r := httptest.NewRequest("POST", "/bitrix24/events", strings.NewReader(contactAdd))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	ev, err := events.Parse(r)
	if err != nil {
		panic(err)
	}
	id, _ := ev.EntityID()
	typeID, _ := ev.EntityTypeID()
	fmt.Println(ev.Name, ev.HandlerID, id, typeID)
	fmt.Println(ev) // tokens never print
	// Output:
	// ONCRMCONTACTADD 58 134806 3
	// events.Event{Name:ONCRMCONTACTADD HandlerID:58 TS:1727018926 MemberID:"010b6886ebc205e43ae65000ee00addb" Domain:"portal.bitrix24.com"}
}

func ExampleVerifier() {
	ev, _ := events.ParseBody([]byte(contactAdd))
	ctx := context.Background()

	// An outgoing webhook: compare with the token shown in its settings
	// (two during a rotation).
	v := events.NewVerifier(nil, "old-token", "3c6c9248ec54af6bea1159b43ee0ab32")
	fmt.Println(v.Verify(ctx, ev))

	// An app on many portals: tokens stored per member id from ONAPPINSTALL.
	reg := events.NewMemoryRegistry()
	fmt.Println(events.NewVerifier(reg).Verify(ctx, ev))
	_ = reg.Store(ctx, ev.MemberID(), "3c6c9248ec54af6bea1159b43ee0ab32")
	fmt.Println(events.NewVerifier(reg).Verify(ctx, ev))
	// Output:
	// <nil>
	// events: auth[application_token] does not match: events: no application token stored for this portal
	// <nil>
}

func ExampleBotMessage_ReplyTarget() {
	body := "event=ONIMBOTMESSAGEADD&data[BOT][567][BOT_ID]=567&data[BOT][567][BOT_CODE]=echo" +
		"&data[BOT][567][access_token]=bot-token&data[PARAMS][MESSAGE]=Hello&data[PARAMS][DIALOG_ID]=27" +
		"&data[PARAMS][TO_USER_ID]=567&data[USER][NAME]=Svetlana&auth[access_token]=author-token"
	ev, err := events.ParseBody([]byte(body))
	if err != nil {
		panic(err)
	}
	msg := ev.Data.(*events.BotMessage)
	target, _ := msg.ReplyTarget()
	fmt.Printf("%s says %q; answer in dialog %s as bot %d (%s)\n",
		msg.User.Name, msg.Params.Message, target.DialogID, target.BotID, target.BotCode)
	fmt.Println("bot token:", target.Auth.AccessToken, "- reveal it only to call the API:", target.Auth.AccessToken.Reveal() == "bot-token")
	// Output:
	// Svetlana says "Hello"; answer in dialog 27 as bot 567 (echo)
	// bot token: [REDACTED] - reveal it only to call the API: true
}

func ExampleTask() {
	ev, _ := events.ParseBody([]byte("event=ONTASKADD&data[FIELDS_BEFORE]=undefined&data[FIELDS_AFTER][ID]=123" +
		"&data[IS_ACCESSIBLE_BEFORE]=N&data[IS_ACCESSIBLE_AFTER]=undefined"))
	task := ev.Data.(*events.Task)
	fmt.Println(task.TaskID(), task.FieldsBefore.Undefined, task.IsAccessibleBefore, task.IsAccessibleAfter)
	// Output: 123 true N undefined
}

func ExampleConsumer() {
	portal, err := bitrixtest.Start(bitrixtest.WithoutRateLimit())
	if err != nil {
		panic(err)
	}
	defer portal.Close()
	app, tok := portal.App(), portal.IssueToken(1)
	c, err := bitrix.New(bitrix.OAuth(bitrix.Token{
		AccessToken: bitrix.Secret(tok.AccessToken), RefreshToken: bitrix.Secret(tok.RefreshToken),
		MemberID: tok.MemberID, ClientEndpoint: tok.ClientEndpoint,
	}, bitrix.App{ClientID: app.ClientID, ClientSecret: bitrix.Secret(app.ClientSecret), TokenURL: app.TokenURL}, nil),
		bitrix.WithAllowHTTP()) // the fake portal is plain HTTP on loopback
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	_, _ = c.Call(ctx, "event.bind", bitrix.Params{"event": "ONCRMLEADADD", "event_type": "offline"}, nil)
	_, _ = c.Call(ctx, "crm.lead.add", bitrix.Params{"fields": bitrix.Params{"TITLE": "From the website"}}, nil)

	cons := &events.Consumer{Client: c, Handler: func(ctx context.Context, rec *events.OfflineRecord) error {
		data, err := rec.DecodeData()
		if err != nil {
			return err
		}
		fmt.Println(rec.Name, "lead", data.(*events.CRMEntity).EntityID())
		return nil // cleared from the queue; an error would mark it failed
	}}
	n, err := cons.Once(ctx) // Run(ctx) loops until ctx ends
	fmt.Println(n, err, portal.OfflineEventCount())
	// Output:
	// ONCRMLEADADD lead 1
	// 1 <nil> 0
}
