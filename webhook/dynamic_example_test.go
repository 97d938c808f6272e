package webhook_test

import (
	"context"
	"fmt"

	"github.com/b24go/sdk/events"
	"github.com/b24go/sdk/webhook"
)

// Smart invoices (entity type 31) raise the dynamic-item events. A route
// for type 31 gets them under the generic name (by ENTITY_TYPE_ID) and
// under the per-type name; other types go to the all-types route.
func ExampleHandler_OnDynamicItemUpdate() {
	h, err := webhook.New(webhook.WithApplicationToken("3c6c9248ec54af6bea1159b43ee0ab32"))
	if err != nil {
		panic(err)
	}
	h.OnDynamicItemUpdate(func(ctx context.Context, ev *events.Event, d *events.CRMEntity) error {
		fmt.Println("invoice", d.EntityID(), "changed, via", ev.Name)
		return nil
	}, 31) // crm.SmartInvoice
	h.OnDynamicItemUpdate(func(ctx context.Context, ev *events.Event, d *events.CRMEntity) error {
		fmt.Println("item", d.EntityID(), "of type", d.Fields.EntityTypeID, "changed")
		return nil
	})
	for _, body := range []string{
		"event=ONCRMDYNAMICITEMUPDATE&data[FIELDS][ID]=24&data[FIELDS][ENTITY_TYPE_ID]=31",
		"event=ONCRMDYNAMICITEMUPDATE_31&data[FIELDS][ID]=25",
		"event=ONCRMDYNAMICITEMUPDATE&data[FIELDS][ID]=7&data[FIELDS][ENTITY_TYPE_ID]=1038",
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
	// invoice 24 changed, via ONCRMDYNAMICITEMUPDATE
	// invoice 25 changed, via ONCRMDYNAMICITEMUPDATE_31
	// item 7 of type 1038 changed
}
