package lists_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/lists"
)

// Add an element, change one property with Patch, and read the values back.
func Example() {
	portal, err := bitrixtest.Start() // a fake portal; use your real webhook URL instead
	if err != nil {
		log.Fatal(err)
	}
	defer portal.Close()
	portal.AddList("lists", "orders", "Orders",
		&bitrixtest.ListField{ID: 61, Name: "Status", Type: "S"},
		&bitrixtest.ListField{ID: 62, Name: "Due", Type: "S:DateTime"},
		&bitrixtest.ListField{ID: 63, Name: "Tags", Type: "S", Multiple: true})
	ctx := context.Background()

	c, err := bitrix.New(bitrix.WebhookURL(portal.WebhookURL()), bitrix.WithAllowHTTP())
	if err != nil {
		log.Fatal(err)
	}
	lc, err := lists.New(c)
	if err != nil {
		log.Fatal(err)
	}
	orders := lc.Elements(lists.TypeLists, lists.ByCode("orders"))

	_, err = orders.Add(ctx, lists.NewElement{
		Code: "order-1001",
		Fields: lists.Fields{Name: "Order 1001", Properties: map[int]lists.FieldValue{
			61: lists.Value("new"),
			62: lists.DateTime(time.Date(2025, 3, 1, 17, 0, 0, 0, time.UTC)),
			63: lists.Values("urgent", "b2b"),
		}},
	})
	if err != nil {
		log.Fatal(err)
	}
	// Patch changes the status and keeps the other fields (Update would clear them).
	err = orders.Patch(ctx, lists.ByCode("order-1001"), lists.Fields{
		Properties: map[int]lists.FieldValue{61: lists.Value("paid")},
	})
	if err != nil {
		log.Fatal(err)
	}
	el, err := orders.Get(ctx, lists.ByCode("order-1001"))
	if err != nil {
		log.Fatal(err)
	}
	due, _ := el.Property(62).Time()
	fmt.Println(el.Name, el.Property(61), due.Format(time.RFC3339), el.Property(63).Strings())
	// Output: Order 1001 paid 2025-03-01T17:00:00Z [urgent b2b]
}
