package bitrixtest

import (
	"encoding/json"
	"fmt"
	"github.com/b24go/sdk/internal/wire"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// subsetKeys reports keys of want missing from got.
func missingKeys(want, got any) []string {
	var out []string
	gm, _ := got.(map[string]any)
	for _, k := range keysOf(want) {
		if _, ok := gm[k]; !ok {
			out = append(out, k)
		}
	}
	return out
}

func TestCRMItemShapes(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	r := callHook(t, s, "crm.item.add", map[string]any{"entityTypeId": 2, "fields": map[string]any{
		"title": "New deal", "opportunity": 999.99, "assignedById": 6, "observers": []int{2, 3}, "contactIds": []int{4, 5},
		"opened": "N", "ufCrm_1721244707107": 1111.1, "begindate": "2024-06-18T02:00:00+02:00", "unknownField": "ignored",
	}})
	item := get(mustOK(t, r), "item")
	want := get(fixture(t, "resp_crm_item_add_deal.json"), "result", "item")
	if miss := missingKeys(want, item); len(miss) > 0 && !(len(miss) == 1 && miss[0] == "parentId1220") {
		t.Errorf("crm.item.add deal misses keys %v", miss)
	}
	wantVals := map[string]any{"title": "New deal", "opportunity": json.Number("999.99"), "assignedById": json.Number("6"),
		"opened": "N", "ufCrm_1721244707107": json.Number("1111.1"), "entityTypeId": json.Number("2"), "stageId": "NEW",
		"begindate": "2024-06-18T03:00:00+03:00"}
	for k, v := range wantVals {
		if got := get(item, k); got != v {
			t.Errorf("%s = %#v, want %#v", k, got, v)
		}
	}
	if diff := cmp.Diff([]any{json.Number("2"), json.Number("3")}, get(item, "observers")); diff != "" {
		t.Errorf("observers (-want +got):\n%s", diff)
	}
	if _, ok := item.(map[string]any)["unknownField"]; ok {
		t.Error("unknown field stored")
	}
	id := num(get(item, "id"))

	// update returns the whole item; only sent fields change.
	r = callHook(t, s, "crm.item.update", map[string]any{"entityTypeId": 2, "id": id, "fields": map[string]any{"stageId": "WON"}})
	item = get(mustOK(t, r), "item")
	if get(item, "stageId") != "WON" || get(item, "title") != "New deal" {
		t.Errorf("after update: %v", item)
	}
	// get with original UF names.
	r = callHook(t, s, "crm.item.get", map[string]any{"entityTypeId": 2, "id": id, "useOriginalUfNames": "Y"})
	if got := get(mustOK(t, r), "item", "UF_CRM_1721244707107"); got != json.Number("1111.1") {
		t.Errorf("original UF name: %v", got)
	}
	crmLeadShape(t, s)

	// delete answers [] and then NOT_FOUND.
	r = callHook(t, s, "crm.item.delete", map[string]any{"entityTypeId": 2, "id": id})
	if !strings.Contains(r.Raw, `"result":[]`) {
		t.Errorf("delete: %s", r.Raw)
	}
	r = callHook(t, s, "crm.item.delete", map[string]any{"entityTypeId": 2, "id": id})
	if diff := cmp.Diff(fixture(t, "error_crm_item_delete_not_found.json"), r.Body); diff != "" || r.Status != 400 {
		t.Errorf("delete missing %d (-want +got):\n%s", r.Status, diff)
	}
	r = callHook(t, s, "crm.item.get", map[string]any{"entityTypeId": 999, "id": 1})
	if r.Status != 400 || r.Body["error"] != "NOT_FOUND" {
		t.Errorf("bad type: %d %s", r.Status, r.Raw)
	}
	crmFieldsAndTypes(t, s)
}

// crmLeadShape: a lead has the keys of the docs' sample and fm columns.
func crmLeadShape(t *testing.T, s *Server) {
	// lead shape.
	r := callHook(t, s, "crm.item.add", map[string]any{"entityTypeId": 1, "fields": map[string]any{"title": "Lead", "name": "Admin",
		"fm": []map[string]any{{"typeId": "PHONE", "valueType": "WORK", "value": "+6111111111"}}}})
	lead := get(mustOK(t, r), "item")
	if miss := missingKeys(get(fixture(t, "resp_crm_item_get_lead.json"), "result", "item"), lead); len(miss) > 0 {
		// parentId* and some computed lead fields are portal-specific.
		var real []string
		for _, k := range miss {
			if !strings.HasPrefix(k, "parentId") && !strings.HasPrefix(k, "ufCrm") {
				real = append(real, k)
			}
		}
		if len(real) > 0 {
			t.Errorf("lead misses keys %v", real)
		}
	}
	if get(lead, "hasPhone") != "Y" || get(lead, "fm", "0", "value") != "+6111111111" {
		t.Errorf("lead fm: %v %v", get(lead, "hasPhone"), get(lead, "fm"))
	}
}

// crmFieldsAndTypes: crm.item.fields keys, smart invoices and SPAs.
func crmFieldsAndTypes(t *testing.T, s *Server) {
	// fields
	r := callHook(t, s, "crm.item.fields", map[string]any{"entityTypeId": 2})
	f := get(mustOK(t, r), "fields", "id")
	if diff := cmp.Diff(keysOf(get(fixture(t, "resp_crm_item_fields.json"), "result", "fields", "id")), keysOf(f)); diff != "" {
		t.Errorf("fields keys (-want +got):\n%s", diff)
	}
	// Smart invoice and SPA.
	for _, et := range []int{31, 128} {
		r = callHook(t, s, "crm.item.add", map[string]any{"entityTypeId": et, "fields": map[string]any{"title": "x"}})
		if get(mustOK(t, r), "item", "entityTypeId") != json.Number(fmt.Sprint(et)) {
			t.Errorf("type %d: %s", et, r.Raw)
		}
	}
	if err := s.AddSmartProcess(1038, "Big"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddSmartProcess(1039, "Odd"); err == nil {
		t.Error("odd SPA id accepted")
	}
	mustOK(t, callHook(t, s, "crm.item.add", map[string]any{"entityTypeId": 1038, "fields": map[string]any{"title": "x"}}))
}

func TestUFNames(t *testing.T) {
	t.Parallel()
	for orig, want := range map[string]string{
		"UF_CRM_3_DIGIT":      "ufCrm3Digit",
		"UF_CRM_3_1747309727": "ufCrm3_1747309727",
		"UF_CRM_3_DIGIT10":    "ufCrm_3_DIGIT10",
		"UF_CRM_1747309879":   "ufCrm_1747309879",
	} {
		if got := wire.UFCamelName(orig); got != want {
			t.Errorf("UFCamelName(%s) = %s, want %s", orig, got, want)
		}
	}
}

func TestClassicDealLead(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	id := num(mustOK(t, callForm(t, s, "crm.deal.add", "fields[TITLE]=Classic&fields[OPPORTUNITY]=100.5&fields[UF_CRM_5]=x&fields[ASSIGNED_BY_ID]=2")))
	deal := mustOK(t, callHook(t, s, "crm.deal.get", map[string]any{"id": id}))
	for k, v := range map[string]any{"ID": fmt.Sprint(id), "TITLE": "Classic", "OPPORTUNITY": "100.50" /* crm-deal-get.md: two decimals */, "UF_CRM_5": "x", "ASSIGNED_BY_ID": "2", "STAGE_ID": "NEW"} {
		if got := get(deal, k); got != v {
			t.Errorf("%s = %#v, want %#v", k, got, v)
		}
	}
	// The same store: crm.item.get sees it, camelCase.
	item := get(mustOK(t, callHook(t, s, "crm.item.get", map[string]any{"entityTypeId": 2, "id": id})), "item")
	if get(item, "title") != "Classic" || get(item, "ufCrm_5") != "x" {
		t.Errorf("crm.item view of classic deal: %v", item)
	}
	if got := mustOK(t, callHook(t, s, "crm.deal.update", map[string]any{"id": id, "fields": map[string]any{"TITLE": "Renamed"}})); got != true {
		t.Errorf("update = %v", got)
	}
	r := callHook(t, s, "crm.deal.list", map[string]any{"filter": map[string]any{"%TITLE": "renam"}, "select": []string{"ID", "TITLE"}})
	list := mustOK(t, r).([]any)
	if len(list) != 1 || get(list[0], "TITLE") != "Renamed" || r.Body["total"] != json.Number("1") {
		t.Errorf("list: %s", r.Raw)
	}
	if diff := cmp.Diff([]string{"ID", "TITLE"}, keysOf(list[0])); diff != "" {
		t.Errorf("select (-want +got):\n%s", diff)
	}
	r = callHook(t, s, "crm.deal.get", map[string]any{"id": 99999})
	if r.Status != 400 || r.Body["error"] != "" {
		t.Errorf("missing deal: %d %s", r.Status, r.Raw)
	}
	mustOK(t, callHook(t, s, "crm.deal.delete", map[string]any{"id": id}))
	if s.CRMItem(EntityDeal, id) != nil {
		t.Error("deal not deleted")
	}
	lid := num(mustOK(t, callHook(t, s, "crm.lead.add", map[string]any{"fields": map[string]any{"TITLE": "L", "STATUS_ID": "IN_PROCESS"}})))
	if got := get(mustOK(t, callHook(t, s, "crm.lead.get", map[string]any{"id": lid})), "STATUS_ID"); got != "IN_PROCESS" {
		t.Errorf("lead STATUS_ID = %v", got)
	}
}

func TestListPaging(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	ids, err := s.SeedCRMItems(EntityDeal, 120, map[string]any{"opportunity": 10})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name        string
		params      map[string]any
		n           int
		first       int
		next, total any
	}{
		{"first page", map[string]any{}, 50, ids[0], json.Number("50"), json.Number("120")},
		{"start floors", map[string]any{"start": 57}, 50, ids[50], json.Number("100"), json.Number("120")},
		{"last page", map[string]any{"start": 100}, 20, ids[100], nil, json.Number("120")},
		{"no count", map[string]any{"start": -1}, 50, ids[0], nil, nil},
		{"cursor", map[string]any{"start": -1, "order": map[string]string{"id": "ASC"}, "filter": map[string]any{">id": ids[109]}}, 10, ids[110], nil, nil},
		{"desc", map[string]any{"order": map[string]string{"ID": "DESC"}}, 50, ids[119], json.Number("50"), json.Number("120")},
		{"filter ops", map[string]any{"filter": map[string]any{"@id": []int{ids[3], ids[4]}, "!=id": ids[3]}}, 1, ids[4], nil, json.Number("1")},
		{"or", map[string]any{"filter": map[string]any{"0": map[string]any{"logic": "OR", "=id": ids[7], "0": map[string]any{"=id": ids[9]}}}}, 2, ids[7], nil, json.Number("2")},
	}
	for _, tc := range cases {
		p := map[string]any{"entityTypeId": 2, "select": []string{"id", "title"}}
		for k, v := range tc.params {
			p[k] = v
		}
		r := callHook(t, s, "crm.item.list", p)
		items, _ := get(mustOK(t, r), "items").([]any)
		if len(items) != tc.n || num(get(items, "0", "id")) != tc.first || r.Body["next"] != tc.next || r.Body["total"] != tc.total {
			t.Errorf("%s: n=%d first=%v next=%v total=%v", tc.name, len(items), get(items, "0", "id"), r.Body["next"], r.Body["total"])
		}
	}
	r := callHook(t, s, "crm.item.list", map[string]any{"entityTypeId": 2, "filter": map[string]any{"FIELD": 1}})
	want := fixture(t, "error_crm_item_list.json")
	want["error_description"] = "Invalid filter: field 'FIELD' is not allowed in filter"
	if diff := cmp.Diff(want, r.Body); diff != "" || r.Status != 400 {
		t.Errorf("bad filter field %d (-want +got):\n%s", r.Status, diff)
	}
	// The shape of a list page matches the docs.
	r = callHook(t, s, "crm.item.list", map[string]any{"entityTypeId": 2, "start": 100})
	if diff := cmp.Diff(keysOf(fixture(t, "resp_crm_item_list.json")), keysOf(r.Body)); diff != "" {
		t.Errorf("list envelope keys (-want +got):\n%s", diff)
	}
}

func TestBatch(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	ids, _ := s.SeedCRMItems(EntityDeal, 60, nil)
	// Commands run in key order, so build the JSON object by hand.
	cmds := [][2]string{
		{"page1", "crm.item.list?" + q(url.Values{"entityTypeId": {"2"}, "order[id]": {"ASC"}, "select[]": {"id"}, "start": {"-1"}})},
		{"page2", "crm.item.list?" + q(url.Values{"entityTypeId": {"2"}, "order[id]": {"ASC"}, "select[]": {"id"}, "start": {"-1"}, "filter[>id]": {"$result[page1][items][49][id]"}})},
		{"user", "user.current"},
		{"dep", "crm.item.get?entityTypeId=2&id=$result[page2][items][0][id]"},
		{"bad", "crm.item.get?entityTypeId=2&id=999999"},
		{"count", "crm.item.list?entityTypeId=2&select[]=id"},
		{"str", "crm.item.update?entityTypeId=2&id=" + fmt.Sprint(ids[0]) + "&fields[title]=total+$total[count]+items"},
		{"inner", "batch?cmd[0]=user.current"},
	}
	var parts []string
	for _, c := range cmds {
		k, _ := json.Marshal(c[0])
		v, _ := json.Marshal(c[1])
		parts = append(parts, string(k)+":"+string(v))
	}
	r := do(t, "POST", s.WebhookURL()+"batch", "application/json", `{"halt":0,"cmd":{`+strings.Join(parts, ",")+`}}`)
	if r.Status != 200 {
		t.Fatalf("batch status %d", r.Status)
	}
	res := mustOK(t, r)
	if n := len(get(res, "result", "page2", "items").([]any)); n != 10 {
		t.Errorf("page2 has %d rows", n)
	}
	if got := num(get(res, "result", "dep", "item", "id")); got != ids[50] {
		t.Errorf("reference resolved to %d, want %d", got, ids[50])
	}
	if get(res, "result_error", "bad", "error") != "NOT_FOUND" {
		t.Errorf("result_error: %v", get(res, "result_error"))
	}
	if get(res, "result_error", "inner", "error") != "ERROR_BATCH_METHOD_NOT_ALLOWED" {
		t.Errorf("nested batch: %v", get(res, "result_error", "inner"))
	}
	if get(res, "result_total", "count") != json.Number("60") || get(res, "result_next", "count") != json.Number("50") {
		t.Errorf("total/next: %v %v", get(res, "result_total"), get(res, "result_next"))
	}
	if got := get(res, "result", "str", "item", "title"); got != "total 60 items" {
		t.Errorf("embedded reference: %v", got)
	}
	if miss := missingKeys(get(fixture(t, "resp_batch.json"), "result"), res); len(miss) > 0 {
		t.Errorf("batch result misses %v", miss)
	}
	if miss := missingKeys(get(fixture(t, "resp_batch.json"), "result", "result_time", "get_user"), get(res, "result_time", "user")); len(miss) > 0 {
		t.Errorf("result_time misses %v", miss)
	}

	// halt=1 stops after the first error; empty maps are [].
	r = callHook(t, s, "batch", map[string]any{"halt": 1, "cmd": []string{"crm.item.get?entityTypeId=2&id=999999", "user.current"}})
	if !strings.Contains(r.Raw, `"result":[]`) || !strings.Contains(r.Raw, `"result_total":[]`) || get(mustOK(t, r), "result_error", "0", "error") != "NOT_FOUND" {
		t.Errorf("halt: %s", r.Raw)
	}
	// More than 50 commands.
	many := map[string]string{}
	for i := 0; i < 52; i++ {
		many[fmt.Sprintf("c%02d", i)] = "server.time"
	}
	r = callHook(t, s, "batch", map[string]any{"cmd": many})
	res = mustOK(t, r)
	if len(get(res, "result").(map[string]any)) != 50 || get(res, "result_error", "c51", "error") != "ERROR_BATCH_LENGTH_EXCEEDED" {
		t.Errorf("length cap: %d results, errors %v", len(get(res, "result").(map[string]any)), get(res, "result_error"))
	}
	// List cmd → JSON array of results.
	r = callHook(t, s, "batch", map[string]any{"cmd": []string{"server.time", "server.time"}})
	if _, ok := get(mustOK(t, r), "result").([]any); !ok {
		t.Errorf("list cmd result not an array: %s", r.Raw)
	}
	// Double-encoded query-string batch (docs example).
	r = do(t, "GET", s.WebhookURL()+"batch?cmd[0]=crm.lead.add%3Ffields%5BTITLE%5D%3DJohn%2526Martin", "", "")
	lid := num(get(mustOK(t, r), "result", "0"))
	if got := s.CRMItem(EntityLead, lid)["title"]; got != "John&Martin" {
		t.Errorf("double-encoded title = %v", got)
	}
	// The batch counts once in the log, its commands are marked.
	var inBatch int
	for _, c := range s.Calls() {
		if c.InBatch {
			inBatch++
		}
	}
	if inBatch == 0 || s.CallCount("batch") != 5 {
		t.Errorf("call log: inBatch=%d batches=%d", inBatch, s.CallCount("batch"))
	}
}

func TestProductRows(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	deal := num(get(mustOK(t, callHook(t, s, "crm.item.add", map[string]any{"entityTypeId": 2, "fields": map[string]any{"title": "d"}})), "item", "id"))
	r := callHook(t, s, "crm.item.productrow.add", map[string]any{"fields": map[string]any{"ownerId": deal, "ownerType": "D", "productId": 9621,
		"productName": "iphone 14", "price": 80000, "quantity": 2, "discountTypeId": 2, "discountRate": 20, "taxRate": 20, "taxIncluded": "Y", "sort": 10}})
	row := get(mustOK(t, r), "productRow")
	want := get(fixture(t, "resp_crm_item_productrow_add.json"), "result", "productRow")
	for _, k := range []string{"priceExclusive", "priceNetto", "priceBrutto", "discountSum", "price", "quantity"} {
		if get(row, k) != get(want, k) {
			t.Errorf("%s = %v, want %v", k, get(row, k), get(want, k))
		}
	}
	if miss := missingKeys(want, row); len(miss) > 0 {
		t.Errorf("productRow misses %v", miss)
	}
	r = callHook(t, s, "crm.item.productrow.add", map[string]any{"fields": map[string]any{"ownerId": 424242, "ownerType": "D"}})
	if diff := cmp.Diff(fixture(t, "error_crm_item_productrow_owner_not_found.json"), r.Body); diff != "" {
		t.Errorf("owner not found (-want +got):\n%s", diff)
	}
	r = callHook(t, s, "crm.item.productrow.set", map[string]any{"ownerId": deal, "ownerType": "D", "productRows": []map[string]any{
		{"productName": "a", "price": 1}, {"productName": "b", "price": 2, "quantity": 3}}})
	rows := get(mustOK(t, r), "productRows").([]any)
	if len(rows) != 2 {
		t.Fatalf("set: %s", r.Raw)
	}
	r = callHook(t, s, "crm.item.productrow.list", map[string]any{"filter": map[string]any{"=ownerType": "D", "=ownerId": deal}})
	if len(get(mustOK(t, r), "productRows").([]any)) != 2 || r.Body["total"] != json.Number("2") {
		t.Errorf("list: %s", r.Raw)
	}
	r = callHook(t, s, "crm.item.productrow.list", map[string]any{"filter": map[string]any{"ownerId": deal}})
	if r.Status != 400 {
		t.Errorf("list without ownerType: %d", r.Status)
	}
	// Classic view of the same rows.
	r = callHook(t, s, "crm.deal.productrows.get", map[string]any{"id": deal})
	classic := mustOK(t, r).([]any)
	if len(classic) != 2 || get(classic, "1", "PRODUCT_NAME") != "b" || get(classic, "1", "PRICE_ACCOUNT") != "2.00" {
		t.Errorf("classic get: %s", r.Raw)
	}
	if miss := missingKeys(get(fixture(t, "resp_crm_deal_productrows_get.json"), "result", "0"), classic[0]); len(miss) > 0 {
		t.Errorf("classic row misses %v", miss)
	}
	mustOK(t, callHook(t, s, "crm.deal.productrows.set", map[string]any{"id": deal, "rows": []map[string]any{{"PRODUCT_NAME": "only", "PRICE": 5}}}))
	if got := s.ProductRows("D", deal); len(got) != 1 || got[0].ProductName != "only" {
		t.Errorf("after classic set: %+v", got)
	}
	r = callHook(t, s, "crm.deal.productrows.set", map[string]any{"id": deal, "rows": []map[string]any{{"DISCOUNT_TYPE_ID": 1}}})
	if r.Body["error"] != "ERROR_CORE" {
		t.Errorf("validation: %s", r.Raw)
	}
	r = callHook(t, s, "crm.deal.productrows.get", map[string]any{"id": 0})
	if r.Status != 400 || r.Body["error"] != "" || r.Body["error_description"] != "The parameter id is invalid or not defined." {
		t.Errorf("bad id: %s", r.Raw)
	}
	// SPA owner T80 and smart invoice SI.
	for _, et := range []struct {
		id   int
		abbr string
	}{{128, "T80"}, {31, "SI"}} {
		oid := num(get(mustOK(t, callHook(t, s, "crm.item.add", map[string]any{"entityTypeId": et.id, "fields": map[string]any{"title": "x"}})), "item", "id"))
		r = callHook(t, s, "crm.item.productrow.add", map[string]any{"fields": map[string]any{"ownerId": oid, "ownerType": et.abbr, "productName": "p", "price": 1}})
		if get(mustOK(t, r), "productRow", "ownerType") != et.abbr {
			t.Errorf("%s: %s", et.abbr, r.Raw)
		}
	}
}
