package crm_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/crm"
	"github.com/google/go-cmp/cmp"
)

func TestItemsCRUD(t *testing.T) {
	t.Parallel()
	srv, c := newPortal(t)
	ctx := t.Context()
	deals := c.Items(crm.Deal)

	added, err := deals.Add(ctx, crm.Fields{
		"title":               "Shop order",
		"opportunity":         crm.MustDecimal("1234.56"),
		"currencyId":          "EUR",
		"stageId":             "NEW",
		"categoryId":          0,
		"observers":           []int{2, 3},
		"ufCrm_1721244707107": "custom value",
	})
	if err != nil {
		t.Fatal(err)
	}
	if added.ID <= 0 || added.Title != "Shop order" || added.Opportunity.String() != "1234.56" || added.CurrencyID != "EUR" {
		t.Errorf("added = %+v", added)
	}
	if diff := cmp.Diff([]int{2, 3}, added.Observers); diff != "" {
		t.Errorf("observers (-want +got):\n%s", diff)
	}
	var uf string
	if err := added.DecodeField("ufCrm_1721244707107", &uf); err != nil || uf != "custom value" {
		t.Errorf("user field = %q, %v", uf, err)
	}
	if got := srv.CRMItem(crm.Deal, added.ID); got == nil || got["title"] != "Shop order" {
		t.Errorf("stored item = %v", got)
	}

	got, err := deals.Get(ctx, added.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != added.ID || got.EntityTypeID != crm.Deal || got.CreatedTime.IsZero() {
		t.Errorf("got = %+v", got)
	}

	upd, err := deals.Update(ctx, added.ID, crm.Fields{"title": "Renamed", "ufCrm_1721244707107": "changed"})
	if err != nil {
		t.Fatal(err)
	}
	if upd.Title != "Renamed" || upd.Opportunity.String() != "1234.56" {
		t.Errorf("updated = %+v", upd)
	}
	if err := upd.DecodeField("ufCrm_1721244707107", &uf); err != nil || uf != "changed" {
		t.Errorf("user field after update = %q, %v", uf, err)
	}

	if err := deals.Delete(ctx, added.ID); err != nil {
		t.Fatal(err)
	}
	if srv.CRMItem(crm.Deal, added.ID) != nil {
		t.Error("item still stored after Delete")
	}
	_, err = deals.Get(ctx, added.ID)
	if !errors.Is(err, bitrix.ErrNotFound) {
		t.Errorf("Get after delete: %v, want ErrNotFound", err)
	}
	if err := deals.Delete(ctx, added.ID); !errors.Is(err, bitrix.ErrNotFound) {
		t.Errorf("Delete twice: %v, want ErrNotFound", err)
	}
	if _, err := deals.Update(ctx, added.ID, crm.Fields{"title": "x"}); !errors.Is(err, bitrix.ErrNotFound) {
		t.Errorf("Update missing: %v, want ErrNotFound", err)
	}
}

func TestItemsOriginalUfNames(t *testing.T) {
	t.Parallel()
	srv, c := newPortal(t, crm.WithOriginalUfNames())
	ctx := t.Context()
	it, err := c.Items(crm.Deal).Add(ctx, crm.Fields{"title": "UF", "UF_CRM_5_1721244707107": "v"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := it.Extra["UF_CRM_5_1721244707107"]; !ok {
		t.Errorf("extra = %v, want the original UF name", it.Extra)
	}
	// Either spelling finds the field.
	for _, name := range []string{"UF_CRM_5_1721244707107", "ufCrm5_1721244707107"} {
		var v string
		if err := it.DecodeField(name, &v); err != nil || v != "v" {
			t.Errorf("DecodeField(%q) = %q, %v", name, v, err)
		}
	}
	calls := srv.Calls()
	if len(calls) != 1 || calls[0].Params["useOriginalUfNames"] != "Y" {
		t.Errorf("calls = %+v, want useOriginalUfNames=Y", calls)
	}
}

func TestItemsBadInputSendsNothing(t *testing.T) {
	t.Parallel()
	srv, c := newPortal(t)
	ctx := t.Context()
	deals := c.Items(crm.Deal)
	bad := c.Items(5) // old invoices: not supported by crm.item.*
	spa := c.Items(1031)
	cases := []struct {
		name string
		run  func() error
		want error
	}{
		{"get id 0", func() error { _, err := deals.Get(ctx, 0); return err }, bitrix.ErrInvalidArgument},
		{"get negative id", func() error { _, err := deals.Get(ctx, -4); return err }, bitrix.ErrInvalidArgument},
		{"update id 0", func() error { _, err := deals.Update(ctx, 0, crm.Fields{"title": "x"}); return err }, bitrix.ErrInvalidArgument},
		{"update no fields", func() error { _, err := deals.Update(ctx, 1, nil); return err }, bitrix.ErrInvalidArgument},
		{"add no fields", func() error { _, err := deals.Add(ctx, crm.Fields{}); return err }, bitrix.ErrInvalidArgument},
		{"add empty key", func() error { _, err := deals.Add(ctx, crm.Fields{"": 1}); return err }, bitrix.ErrInvalidArgument},
		{"delete id 0", func() error { return deals.Delete(ctx, 0) }, bitrix.ErrInvalidArgument},
		{"old invoice type", func() error { _, err := bad.Get(ctx, 1); return err }, crm.ErrUnknownEntityType},
		{"odd high SPA id", func() error { _, err := spa.Fields(ctx); return err }, crm.ErrUnknownEntityType},
		{"list negative start", func() error { _, _, err := deals.List(ctx, crm.Query{}, -1); return err }, bitrix.ErrInvalidArgument},
		{"list empty select", func() error { _, _, err := deals.List(ctx, crm.Query{Select: []string{""}}, 0); return err }, bitrix.ErrInvalidArgument},
		{"all repeated order", func() error {
			for _, err := range deals.All(ctx, crm.Query{Order: []crm.Order{{Field: "title"}, {Field: "title"}}}) {
				return err
			}
			return nil
		}, bitrix.ErrInvalidArgument},
		{"all bad type", func() error {
			for _, err := range bad.All(ctx, crm.Query{}) {
				return err
			}
			return nil
		}, crm.ErrUnknownEntityType},
	}
	for _, tc := range cases {
		err := tc.run()
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	var ve *bitrix.ValidationError
	if _, err := deals.Get(ctx, 0); !errors.As(err, &ve) || ve.Field != "id" || ve.Method != "crm.item.get" {
		t.Errorf("ValidationError = %+v", ve)
	}
	noCalls(t, srv)
}

func TestItemsListAndAll(t *testing.T) {
	t.Parallel()
	srv, c := newPortal(t)
	ctx := t.Context()
	ids, err := srv.SeedCRMItems(crm.Lead, 130, map[string]any{"stageId": "NEW", "opportunity": 10})
	if err != nil {
		t.Fatal(err)
	}
	leads := c.Items(crm.Lead)

	page, resp, err := leads.List(ctx, crm.Query{Select: []string{"id", "title"}, Filter: map[string]any{"=stageId": "NEW"}}, 50)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 50 || page[0].ID != ids[50] || resp.Total != 130 || resp.Next != 100 {
		t.Errorf("page: %d items, first %d, total %d, next %d", len(page), page[0].ID, resp.Total, resp.Next)
	}

	srv.ResetCalls()
	var got []int
	for it, err := range leads.All(ctx, crm.Query{Filter: map[string]any{">=opportunity": 10}}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, it.ID)
	}
	if diff := cmp.Diff(ids, got); diff != "" {
		t.Errorf("All ids (-want +got):\n%s", diff)
	}
	// The fast scan chains pages in batches: 130 rows fit in one request.
	if n := srv.CallCount("batch"); n != 1 {
		t.Errorf("batch requests = %d, want 1", n)
	}
	for _, call := range srv.Calls() {
		if call.Method == "crm.item.list" && !call.InBatch {
			t.Errorf("fast scan sent a page outside a batch: %+v", call)
		}
	}

	// Another order pages by offset and keeps the order.
	var titles []string
	for it, err := range leads.All(ctx, crm.Query{Select: []string{"id", "title"}, Order: []crm.Order{{Field: "id", Desc: true}}}) {
		if err != nil {
			t.Fatal(err)
		}
		titles = append(titles, it.Title)
	}
	if len(titles) != 130 || titles[0] != "Item #130" || titles[129] != "Item #1" {
		t.Errorf("desc titles: %d, first %q, last %q", len(titles), titles[0], titles[len(titles)-1])
	}
}

func TestItemsListInvalidFilter(t *testing.T) {
	t.Parallel()
	_, c := newPortal(t)
	_, _, err := c.Items(crm.Lead).List(t.Context(), crm.Query{Filter: map[string]any{"NOSUCHFIELD": 1}}, 0)
	if !errors.Is(err, bitrix.ErrInvalidArgument) {
		t.Errorf("err = %v, want ErrInvalidArgument", err)
	}
}

func TestItemsFields(t *testing.T) {
	t.Parallel()
	_, c := newPortal(t)
	f, err := c.Items(crm.Deal).Fields(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if f["id"].Type != "integer" || !bool(f["id"].IsReadOnly) || f["title"].UpperName != "TITLE" {
		t.Errorf("fields: id %+v, title %+v", f["id"], f["title"])
	}
}

func TestItemsSmartProcessNotFound(t *testing.T) {
	t.Parallel()
	srv, c := newPortal(t)
	_, err := c.Items(130).Get(t.Context(), 1) // a valid SPA id the portal does not have
	if !errors.Is(err, bitrix.ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
	if srv.CallCount("crm.item.get") != 1 {
		t.Error("the request should have been sent")
	}
}

// Fixture decoding: each answer goes through the client as a portal would
// send it.

func TestFixtureItemAddDeal(t *testing.T) {
	t.Parallel()
	c, methods := fixtureClient(t, 200, "resp_crm_item_add_deal.json")
	it, err := c.Items(crm.Deal).Add(t.Context(), crm.Fields{"title": "x"})
	if err != nil {
		t.Fatal(err)
	}
	want := struct {
		ID, Category, Assigned, Company, Lead int
		Title, Stage, Currency, Opportunity   string
		Created                               time.Time
		Observers, Contacts                   []int
		Parents                               map[int]int
		Opened, Manual                        bool
	}{342, 9, 6, 5, 102, "New deal (specifically for rest method examples)", "C9:UC_KN8KFI", "EUR", "999.99",
		time.Date(2024, 7, 18, 12, 0, 14, 0, time.UTC), []int{2, 3}, []int{4, 5}, map[int]int{1220: 2}, false, true}
	got := want
	got.ID, got.Category, got.Assigned, got.Company = it.ID, it.CategoryID, it.AssignedByID, it.CompanyID
	var lead int
	if err := it.DecodeField("leadId", &lead); err != nil {
		t.Fatal(err)
	}
	got.Lead = lead
	got.Title, got.Stage, got.Currency, got.Opportunity = it.Title, it.StageID, it.CurrencyID, it.Opportunity.String()
	got.Created = it.CreatedTime.UTC()
	got.Observers, got.Contacts, got.Parents = it.Observers, it.ContactIDs, it.Parents
	got.Opened, got.Manual = bool(it.Opened), bool(it.IsManualOpportunity)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("item (-want +got):\n%s", diff)
	}
	var uf crm.Decimal
	if err := it.DecodeField("ufCrm_1721244707107", &uf); err != nil || uf.String() != "1111.1" {
		t.Errorf("user field = %v, %v", uf, err)
	}
	if diff := cmp.Diff([]string{"crm.item.add"}, *methods); diff != "" {
		t.Errorf("methods (-want +got):\n%s", diff)
	}
}

// TestItemRoundTrip proves that decoding and encoding an item loses nothing:
// every fixture item re-encodes to the same JSON value.
func TestItemRoundTrip(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"resp_crm_item_add_deal.json", "resp_crm_item_update_deal.json", "resp_crm_item_get_lead.json"} {
		raw := fixtureResult(t, name)
		var env struct {
			Item json.RawMessage `json:"item"`
		}
		if err := json.Unmarshal(raw, &env); err != nil {
			t.Fatal(err)
		}
		var it crm.Item
		if err := json.Unmarshal(env.Item, &it); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out, err := json.Marshal(it)
		if err != nil {
			t.Fatal(err)
		}
		var want, got any
		if err := json.Unmarshal(env.Item, &want); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s round trip (-want +got):\n%s", name, diff)
		}
	}
	for _, raw := range []json.RawMessage{fixtureResult(t, "resp_crm_item_list.json")} {
		var env struct {
			Items []json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(raw, &env); err != nil {
			t.Fatal(err)
		}
		for _, r := range env.Items {
			var it crm.Item
			if err := json.Unmarshal(r, &it); err != nil {
				t.Fatal(err)
			}
			out, _ := json.Marshal(it)
			var want, got any
			_ = json.Unmarshal(r, &want)
			_ = json.Unmarshal(out, &got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("list item round trip (-want +got):\n%s", diff)
			}
		}
	}
}

func TestItemChangedFieldsEncode(t *testing.T) {
	t.Parallel()
	var env struct {
		Item crm.Item `json:"item"`
	}
	if err := json.Unmarshal(fixtureResult(t, "resp_crm_item_get_lead.json"), &env); err != nil {
		t.Fatal(err)
	}
	it := env.Item
	it.Title = "Changed"
	it.OriginID = "ext-1" // was null
	it.Parents = map[int]int{1222: 7}
	if err := it.SetField("ufCrm_1720019876534", 42); err != nil {
		t.Fatal(err)
	}
	if err := it.SetField("parentId1226", 9); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(it)
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"title": "Changed", "originId": "ext-1", "originatorId": nil, "parentId1222": 7.0,
		"parentId1226": 9.0, "parentId1228": nil, "ufCrm_1720019876534": 42.0, "companyId": 0.0, "opportunity": 999.9}
	for k, v := range want {
		if diff := cmp.Diff(v, m[k]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", k, diff)
		}
	}
	if it.Field("nosuch") != nil {
		t.Error("Field of a missing name should be nil")
	}
	if string(it.Field("parentId1222")) != "7" || string(it.Field("title")) != `"Changed"` {
		t.Errorf("Field: parent %s, title %s", it.Field("parentId1222"), it.Field("title"))
	}
}

func TestFixtureItemGetListUpdateDeleteFields(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	t.Run("get lead", func(t *testing.T) {
		c, _ := fixtureClient(t, 200, "resp_crm_item_get_lead.json")
		it, err := c.Items(crm.Lead).Get(ctx, 250)
		if err != nil {
			t.Fatal(err)
		}
		if it.ID != 250 || it.StageID != "IN_PROCESS" || it.Opportunity.String() != "999.9" || it.OriginatorID != "" || !bool(it.Opened) {
			t.Errorf("lead = %+v", it)
		}
		var fm []struct {
			ID     int    `json:"id"`
			TypeID string `json:"typeId"`
			Value  string `json:"value"`
		}
		if err := it.DecodeField("fm", &fm); err != nil || len(fm) != 2 || fm[1].Value != "admin@example.com" {
			t.Errorf("fm = %+v, %v", fm, err)
		}
		if it.Parents != nil {
			t.Errorf("null parents decoded as links: %v", it.Parents)
		}
	})
	t.Run("list", func(t *testing.T) {
		c, _ := fixtureClient(t, 200, "resp_crm_item_list.json")
		items, resp, err := c.Items(crm.Lead).List(ctx, crm.Query{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int
		for _, it := range items {
			ids = append(ids, it.ID)
		}
		if diff := cmp.Diff([]int{253, 255, 252, 254}, ids); diff != "" || resp.Total != 4 || resp.Next != 0 {
			t.Errorf("ids (-want +got):\n%s total %d next %d", diff, resp.Total, resp.Next)
		}
		if items[1].Title != "Lead #255" || items[1].Opportunity.String() != "19600" {
			t.Errorf("item = %+v", items[1])
		}
	})
	t.Run("update", func(t *testing.T) {
		c, _ := fixtureClient(t, 200, "resp_crm_item_update_deal.json")
		it, err := c.Items(crm.Deal).Update(ctx, 351, crm.Fields{"title": "REST Deal #1"})
		if err != nil {
			t.Fatal(err)
		}
		if it.ID != 351 || it.Title != "REST Deal #1" || it.ContactIDs == nil || len(it.ContactIDs) != 0 {
			t.Errorf("deal = %+v", it)
		}
	})
	t.Run("delete", func(t *testing.T) {
		c, _ := fixtureClient(t, 200, "resp_crm_item_delete.json")
		if err := c.Items(crm.Deal).Delete(ctx, 1); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("fields", func(t *testing.T) {
		c, _ := fixtureClient(t, 200, "resp_crm_item_fields.json")
		f, err := c.Items(1268).Fields(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if f["stageId"].StatusType != "DYNAMIC_1268_STAGE_52" || !bool(f["opened"].IsRequired) || !bool(f["contactIds"].IsMultiple) {
			t.Errorf("fields: %+v %+v", f["stageId"], f["opened"])
		}
		if !bool(f["contactId"].IsDeprecated) {
			t.Error("contactId should be deprecated")
		}
		if string(f["parentId1248"].Settings["parentEntityTypeId"]) != "1248" {
			t.Errorf("settings = %v", f["parentId1248"].Settings)
		}
	})
	t.Run("delete not found", func(t *testing.T) {
		c, _ := fixtureClient(t, http.StatusBadRequest, "error_crm_item_delete_not_found.json")
		err := c.Items(crm.Deal).Delete(ctx, 1)
		var ae *bitrix.APIError
		if !errors.Is(err, bitrix.ErrNotFound) || !errors.As(err, &ae) || ae.Code != "NOT_FOUND" {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("list invalid filter", func(t *testing.T) {
		c, _ := fixtureClient(t, http.StatusBadRequest, "error_crm_item_list.json")
		_, _, err := c.Items(crm.Deal).List(ctx, crm.Query{Filter: map[string]any{"FIELD": 1}}, 0)
		if !errors.Is(err, bitrix.ErrInvalidArgument) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestErrorMapping(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cases := []struct {
		name string
		body string
		want []error
	}{
		{"entity type not supported", `{"error":"ENTITY_TYPE_NOT_SUPPORTED","error_description":"Entity type 5 is not supported"}`, []error{bitrix.ErrInvalidArgument}},
		{"access denied", `{"error":"ACCESS_DENIED","error_description":"Access denied"}`, []error{bitrix.ErrAccessDenied}},
		{"intranet only", `{"error":"allowed_only_intranet_user","error_description":"Action allowed only for intranet users"}`, []error{bitrix.ErrAccessDenied}},
		{"SPA not found", `{"error":"NOT_FOUND","error_description":"SPA not found"}`, []error{bitrix.ErrNotFound}},
	}
	for _, tc := range cases {
		c, _ := rawClient(t, http.StatusBadRequest, []byte(tc.body))
		_, err := c.Items(crm.Deal).Get(ctx, 1)
		for _, w := range tc.want {
			if !errors.Is(err, w) {
				t.Errorf("%s: %v does not match %v", tc.name, err, w)
			}
		}
		var ae *bitrix.APIError
		if !errors.As(err, &ae) {
			t.Errorf("%s: %v is not an *APIError", tc.name, err)
		}
	}
	// A legacy empty-code answer for an id that was valid means not found.
	c, _ := rawClient(t, http.StatusBadRequest, []byte(`{"error":"","error_description":"The parameter id is invalid or not defined."}`))
	_, err := c.DealProductRows(ctx, 12)
	if !errors.Is(err, bitrix.ErrNotFound) || !errors.Is(err, bitrix.ErrInvalidArgument) {
		t.Errorf("legacy empty code: %v", err)
	}
}
