package webhook

import (
	"context"
	"fmt"
	"testing"

	"github.com/b24go/sdk/events"
	"github.com/google/go-cmp/cmp"
)

// TestDynamicItemRoutes: typed routes for dynamic items serve all types or
// one type, and a delivery under the generic name (ENTITY_TYPE_ID in the
// payload) or the per-type name reaches the same route. Sources:
// api-reference/crm/universal/events/index.md (generic and per-type
// names), api-reference/crm/universal/invoice.md (invoices: type 31).
func TestDynamicItemRoutes(t *testing.T) {
	t.Parallel()
	var trace []string
	route := func(tag string) func(context.Context, *events.Event, *events.CRMEntity) error {
		return func(_ context.Context, ev *events.Event, d *events.CRMEntity) error {
			trace = append(trace, fmt.Sprintf("%s %s %d/%d", tag, ev.Name, d.Fields.EntityTypeID, d.EntityID()))
			return nil
		}
	}
	h, err := New(WithInsecureSkipVerify())
	if err != nil {
		t.Fatal(err)
	}
	h.OnDynamicItemUpdate(route("invoice"), 31)
	h.OnDynamicItemUpdate(route("any"))
	h.OnDynamicItemAdd(route("spa"), 128, 1038)
	h.OnDynamicItemDelete(route("all"))
	h.HandleDefault(func(_ context.Context, ev *events.Event) error {
		trace = append(trace, "default "+ev.Name)
		return nil
	})
	for _, body := range []string{
		"event=ONCRMDYNAMICITEMUPDATE&data[FIELDS][ID]=1&data[FIELDS][ENTITY_TYPE_ID]=31",
		"event=ONCRMDYNAMICITEMUPDATE_31&data[FIELDS][ID]=2&data[FIELDS][ENTITY_TYPE_ID]=31",
		"event=ONCRMDYNAMICITEMUPDATE_31&data[FIELDS][ID]=3",
		"event=ONCRMDYNAMICITEMUPDATE&data[FIELDS][ID]=4&data[FIELDS][ENTITY_TYPE_ID]=128",
		"event=ONCRMDYNAMICITEMUPDATE_128&data[FIELDS][ID]=5",
		"event=ONCRMDYNAMICITEMADD_1038&data[FIELDS][ID]=6",
		"event=ONCRMDYNAMICITEMADD&data[FIELDS][ID]=7&data[FIELDS][ENTITY_TYPE_ID]=128",
		"event=ONCRMDYNAMICITEMADD&data[FIELDS][ID]=8&data[FIELDS][ENTITY_TYPE_ID]=31",
		"event=ONCRMDYNAMICITEMDELETE_31&data[FIELDS][ID]=9",
		"event=ONCRMDYNAMICITEMDELETE&data[FIELDS][ID]=10&data[FIELDS][ENTITY_TYPE_ID]=1038",
		"event=ONCRMDYNAMICITEMADD_031&data[FIELDS][ID]=11",
	} {
		ev, err := events.ParseBody([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Dispatch(t.Context(), ev); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
	}
	want := []string{
		"invoice ONCRMDYNAMICITEMUPDATE 31/1",
		"invoice ONCRMDYNAMICITEMUPDATE_31 31/2",
		"invoice ONCRMDYNAMICITEMUPDATE_31 31/3",
		"any ONCRMDYNAMICITEMUPDATE 128/4",
		"any ONCRMDYNAMICITEMUPDATE_128 128/5",
		"spa ONCRMDYNAMICITEMADD_1038 1038/6",
		"spa ONCRMDYNAMICITEMADD 128/7",
		"default ONCRMDYNAMICITEMADD",
		"all ONCRMDYNAMICITEMDELETE_31 31/9",
		"all ONCRMDYNAMICITEMDELETE 1038/10",
		"default ONCRMDYNAMICITEMADD_031",
	}
	if d := cmp.Diff(want, trace); d != "" {
		t.Errorf("routes (-want +got)\n%s", d)
	}

	// Registration errors panic like the other routes.
	noop := func(context.Context, *events.Event, *events.CRMEntity) error { return nil }
	for name, fn := range map[string]func(h *Handler){
		"zero type":     func(h *Handler) { h.OnDynamicItemAdd(noop, 0) },
		"negative type": func(h *Handler) { h.OnDynamicItemAdd(noop, -31) },
		"nil":           func(h *Handler) { h.OnDynamicItemAdd(nil, 31) },
		"type twice": func(h *Handler) {
			h.OnDynamicItemAdd(noop, 31)
			h.Handle("ONCRMDYNAMICITEMADD_31", func(context.Context, *events.Event) error { return nil })
		},
		"all twice": func(h *Handler) { h.OnDynamicItemDelete(noop); h.OnDynamicItemDelete(noop) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			h, err := New(WithInsecureSkipVerify())
			if err != nil {
				t.Fatal(err)
			}
			fn(h)
		}()
	}
}
