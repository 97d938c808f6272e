package bitrixtest

import (
	"fmt"
	"slices"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDynamicItemEvents: items of smart invoices (31) and smart processes
// raise the generic dynamic-item events and the type's own ones, both with
// data[FIELDS][ENTITY_TYPE_ID]; event.bind and outgoing webhooks take the
// per-type names of existing types and refuse invented names. Sources:
// api-reference/crm/universal/invoice.md (Events tab),
// api-reference/crm/universal/events/index.md, api-reference/events/events.md,
// api-reference/events/event-bind.md (ERROR_EVENT_NOT_FOUND).
func TestDynamicItemEvents(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, WithSyncDelivery())
	if err := s.AddSmartProcess(1038, "Helper"); err != nil {
		t.Fatal(err)
	}
	k := newSink(t)
	tok := s.IssueToken(1)
	bind := func(event string) resp {
		return callToken(t, s, "event.bind", tok.AccessToken, map[string]any{"event": event, "handler": k.url("/" + event)})
	}
	for _, ev := range []string{"ONCRMDYNAMICITEMADD", "ONCRMDYNAMICITEMUPDATE", "ONCRMDYNAMICITEMDELETE"} {
		mustOK(t, bind(ev))
		for _, typ := range []int{31, 128, 1038} {
			mustOK(t, bind(fmt.Sprintf("%s_%d", ev, typ)))
		}
	}
	// Invented names: no smart-invoice events of their own, no per-type
	// names for missing or non-dynamic types, no other spellings.
	for _, ev := range []string{"ONCRMSMARTINVOICEADD", "ONCRMSMARTINVOICEUPDATE", "ONCRMDYNAMICITEMADD_130",
		"ONCRMDYNAMICITEMADD_2", "ONCRMDYNAMICITEMADD_031", "ONCRMDYNAMICITEMADD_", "ONCRMDYNAMICITEMADD31", "ONCRMDEALADD_2"} {
		r := bind(ev)
		if r.Status != 400 || r.Body["error"] != "ERROR_EVENT_NOT_FOUND" {
			t.Errorf("event.bind %s: %d %s", ev, r.Status, r.Raw)
		}
	}
	listed := mustOK(t, callToken(t, s, "events", tok.AccessToken, nil)).([]any)
	for _, want := range []string{"ONCRMDYNAMICITEMADD", "ONCRMDYNAMICITEMADD_31", "ONCRMDYNAMICITEMUPDATE_128", "ONCRMDYNAMICITEMDELETE_1038"} {
		if !slices.Contains(listed, any(want)) {
			t.Errorf("events does not list %s", want)
		}
	}

	for _, typ := range []int{31, 128, 1038} {
		before := len(s.Deliveries())
		id := num(get(mustOK(t, callHook(t, s, "crm.item.add", map[string]any{"entityTypeId": typ, "fields": map[string]any{"title": "x"}})), "item", "id"))
		mustOK(t, callHook(t, s, "crm.item.update", map[string]any{"entityTypeId": typ, "id": id, "fields": map[string]any{"title": "y"}}))
		mustOK(t, callHook(t, s, "crm.item.delete", map[string]any{"entityTypeId": typ, "id": id}))
		var got []string
		for _, d := range s.Deliveries()[before:] {
			body := tree(t, d.Body)
			got = append(got, fmt.Sprintf("%s %v %v/%v", d.Event, get(body, "event"), get(body, "data", "FIELDS", "ENTITY_TYPE_ID"), get(body, "data", "FIELDS", "ID")))
		}
		var want []string
		for _, a := range []string{"ADD", "UPDATE", "DELETE"} {
			for _, name := range []string{"ONCRMDYNAMICITEM" + a, fmt.Sprintf("ONCRMDYNAMICITEM%s_%d", a, typ)} {
				want = append(want, fmt.Sprintf("%s %s %d/%d", name, name, typ, id))
			}
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("type %d deliveries (-want +got)\n%s", typ, d)
		}
		// Generic and per-type deliveries have the docs sample's shape
		// (on-crm-dynamic-item-add.md), plus the auth keys the fake always
		// sends, without refresh_token (api-reference/events/index.md: it
		// "does not come with every event", only with those that need
		// long-term access such as OnAppInstall; see docs/CONFORMANCE.md).
		wantPaths := append(filterPaths(keyPaths(fixtureTree(t, "event_ONCRMDYNAMICITEMADD.json"), ""), "auth[refresh_token]"), "auth[expires]", "auth[user_id]")
		sort.Strings(wantPaths)
		for _, d := range s.Deliveries()[before : before+2] {
			if diff := cmp.Diff(wantPaths, keyPaths(tree(t, d.Body), "")); diff != "" {
				t.Errorf("%s paths (-want +got)\n%s", d.Event, diff)
			}
		}
	}
	// A deal raises its own event only.
	before := len(s.Deliveries())
	mustOK(t, callHook(t, s, "crm.item.add", map[string]any{"entityTypeId": 2, "fields": map[string]any{"title": "d"}}))
	if n := len(s.Deliveries()) - before; n != 0 {
		t.Errorf("a deal raised %d dynamic-item deliveries", n)
	}
	// Every name events lists can be bound.
	for _, ev := range listed {
		if r := bind(ev.(string)); r.Status != 200 && r.Body["error"] != "ERROR_HANDLER_ALREADY_EXIST" {
			t.Errorf("events lists %s, event.bind answers %s", ev, r.Raw)
		}
	}
}

// TestOutboundWebhookNames: an outgoing webhook takes the names the portal
// offers (per-type ones included) and delivers them; a name it does not
// offer is a test mistake and panics.
func TestOutboundWebhookNames(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, WithSyncDelivery())
	k := newSink(t)
	token := s.AddOutboundWebhook([]string{"ONCRMDYNAMICITEMUPDATE_31"}, k.url("/hook"), "")
	id := num(get(mustOK(t, callHook(t, s, "crm.item.add", map[string]any{"entityTypeId": 31, "fields": map[string]any{"title": "x"}})), "item", "id"))
	mustOK(t, callHook(t, s, "crm.item.update", map[string]any{"entityTypeId": 31, "id": id, "fields": map[string]any{"title": "y"}}))
	ds := s.Deliveries()
	if len(ds) != 1 || ds[0].Event != "ONCRMDYNAMICITEMUPDATE_31" || get(tree(t, ds[0].Body), "auth", "application_token") != token {
		t.Errorf("deliveries: %+v", ds)
	}
	for _, names := range [][]string{{"ONCRMDYNAMICITEMUPDATE_031"}, {"ONCRMDYNAMICITEMUPDATE_130"}, {"ONCRMDEALADD", "ONNOTHING"}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("AddOutboundWebhook(%v) did not panic", names)
				}
			}()
			s.AddOutboundWebhook(names, k.url("/x"), "")
		}()
	}
	// Nothing of a refused list was configured.
	mustOK(t, callHook(t, s, "crm.item.add", map[string]any{"entityTypeId": 2, "fields": map[string]any{"title": "d"}}))
	if n := len(s.Deliveries()); n != 1 {
		t.Errorf("%d deliveries after a refused webhook", n)
	}
}

// TestSeedFiresEvents: SeedCRMItems raises the events crm.item.add raises
// (issue 15, "Events from seeding"): the same names and payload shape, to
// bound handlers, outbound webhooks and offline bindings, delivered before
// it returns; WithoutEvents seeds silently.
func TestSeedFiresEvents(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, WithSyncDelivery())
	k := newSink(t)
	tok := s.IssueToken(1)
	for _, ev := range []string{"ONCRMDYNAMICITEMADD", "ONCRMDYNAMICITEMADD_31"} {
		mustOK(t, callToken(t, s, "event.bind", tok.AccessToken, map[string]any{"event": ev, "handler": k.url("/" + ev)}))
	}
	mustOK(t, callToken(t, s, "event.bind", tok.AccessToken, map[string]any{"event": "ONCRMLEADADD", "event_type": "offline"}))
	s.AddOutboundWebhook([]string{"ONCRMDEALADD"}, k.url("/deal"), "apptok")

	// summary: each delivery's name, type and key paths; ids: its item ids.
	summary := func(ds []Delivery) (out []string, ids []int) {
		for _, d := range ds {
			body := tree(t, d.Body)
			out = append(out, fmt.Sprintf("%s %v %v", d.Event, get(body, "data", "FIELDS", "ENTITY_TYPE_ID"), keyPaths(body, "")))
			ids = append(ids, num(get(body, "data", "FIELDS", "ID")))
		}
		sort.Strings(out)
		return out, ids
	}
	for _, typ := range []int{EntityDeal, EntitySmartInvoice} {
		// What crm.item.add raises (WithSyncDelivery: delivered before it answers).
		before := len(s.Deliveries())
		mustOK(t, callHook(t, s, "crm.item.add", map[string]any{"entityTypeId": typ, "fields": map[string]any{"title": "x"}}))
		one, _ := summary(s.Deliveries()[before:])
		before = len(s.Deliveries())
		ids, err := s.SeedCRMItems(typ, 2, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, gotIDs := summary(s.Deliveries()[before:]) // delivered before SeedCRMItems returned
		want := append(append([]string(nil), one...), one...)
		sort.Strings(want)
		if d := cmp.Diff(want, got); d != "" || len(one) == 0 {
			t.Errorf("type %d: seed deliveries (-as crm.item.add +seed):\n%s", typ, d)
		}
		for _, id := range gotIDs {
			if id != ids[0] && id != ids[1] {
				t.Errorf("type %d: delivery for item %d, seeded %v", typ, id, ids)
			}
		}
	}
	if _, err := s.SeedCRMItems(EntityLead, 3, nil); err != nil {
		t.Fatal(err)
	}
	if n := s.OfflineEventCount(); n != 3 {
		t.Errorf("offline queue has %d records, want 3", n)
	}

	// WithoutEvents: nothing delivered, nothing queued.
	before := len(s.Deliveries())
	for _, typ := range []int{EntityDeal, EntitySmartInvoice, EntityLead} {
		if ids, err := s.SeedCRMItems(typ, 2, nil, WithoutEvents()); err != nil || len(ids) != 2 {
			t.Fatalf("silent seed: %v %v", ids, err)
		}
	}
	if n := len(s.Deliveries()) - before; n != 0 || s.OfflineEventCount() != 3 {
		t.Errorf("silent seed: %d deliveries, %d offline records", n, s.OfflineEventCount())
	}

	// A failed delivery is reported; the items exist all the same.
	k.mu.Lock()
	k.status = 500
	k.mu.Unlock()
	ids, err := s.SeedCRMItems(EntityDeal, 1, nil)
	if err == nil || len(ids) != 1 || s.CRMItem(EntityDeal, ids[0]) == nil {
		t.Errorf("seed with a failing handler: %v %v", ids, err)
	}
}
