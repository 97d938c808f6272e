package bitrixtest

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestImbotDocumentedCodes checks imbot answers against the error tables of
// api-reference/chat-bots/outdated/*.
func TestImbotDocumentedCodes(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newSink(t)
	tok := s.IssueToken(1)
	call := func(method string, p map[string]any) resp { return callToken(t, s, method, tok.AccessToken, p) }
	botID := num(mustOK(t, call("imbot.register", map[string]any{"CODE": "echo", "EVENT_HANDLER": k.url("/bot"), "PROPERTIES": map[string]any{"NAME": "Echo"}})))
	// commands/imbot-command-register.md: EVENT_COMMAND_ADD_ERROR.
	r := call("imbot.command.register", map[string]any{"BOT_ID": botID, "COMMAND": "echo", "LANG": []map[string]string{{"LANGUAGE_ID": "en", "TITLE": "Echo"}}})
	if r.Body["error"] != "EVENT_COMMAND_ADD_ERROR" {
		t.Errorf("command without handler: %s", r.Raw)
	}
	cmdID := num(mustOK(t, call("imbot.command.register", map[string]any{"BOT_ID": botID, "COMMAND": "echo", "EVENT_COMMAND_ADD": k.url("/cmd"), "LANG": []map[string]string{{"LANGUAGE_ID": "en", "TITLE": "Echo"}}})))
	// commands/imbot-command-answer.md: MESSAGE_ID_EMPTY.
	if r := call("imbot.command.answer", map[string]any{"COMMAND_ID": cmdID, "MESSAGE": "x"}); r.Body["error"] != "MESSAGE_ID_EMPTY" {
		t.Errorf("answer without MESSAGE_ID: %s", r.Raw)
	}
	// messages/imbot-message-add.md: DIALOG_ID_EMPTY for a DIALOG_ID that is not valid.
	for _, d := range []string{"chat999", "nobody", "0"} {
		if r := call("imbot.message.add", map[string]any{"BOT_ID": botID, "DIALOG_ID": d, "MESSAGE": "x"}); r.Body["error"] != "DIALOG_ID_EMPTY" {
			t.Errorf("message.add to %q: %s", d, r.Raw)
		}
	}
	// chats/imbot-chat-get.md: {"ID": n}, null without ENTITY_TYPE/ENTITY_ID.
	chatID := num(mustOK(t, call("imbot.chat.add", map[string]any{"BOT_ID": botID, "TITLE": "T", "USERS": []int{1}, "ENTITY_TYPE": "TICKET", "ENTITY_ID": "7"})))
	got := mustOK(t, call("imbot.chat.get", map[string]any{"BOT_ID": botID, "ENTITY_TYPE": "TICKET", "ENTITY_ID": "7"}))
	if m, _ := got.(map[string]any); len(m) != 1 || num(m["ID"]) != chatID {
		t.Errorf("chat.get = %v, want {\"ID\": %d}", got, chatID)
	}
	if r := call("imbot.chat.get", map[string]any{"BOT_ID": botID, "ENTITY_TYPE": "TICKET"}); r.Body["result"] != nil {
		t.Errorf("chat.get without ENTITY_ID: %s", r.Raw)
	}
}

// TestProfileShape: profile's ID is a string and its keys are the
// documented ones (api-reference/common/users/profile.md).
func TestProfileShape(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	got, _ := mustOK(t, callHook(t, s, "profile", nil)).(map[string]any)
	if _, isStr := got["ID"].(string); !isStr {
		t.Errorf("profile ID = %#v, want a string", got["ID"])
	}
	doc := map[string]bool{"ID": true, "ADMIN": true, "NAME": true, "LAST_NAME": true, "PERSONAL_GENDER": true, "TIME_ZONE": true, "PERSONAL_PHOTO": true}
	for k := range got {
		if !doc[k] {
			t.Errorf("profile has undocumented key %s", k)
		}
	}
	for k := range docSample(t, "profile.json")["result"].(map[string]any) {
		if _, has := got[k]; !has {
			t.Errorf("profile lacks %s of the docs sample", k)
		}
	}
}

// docSample reads a docs response sample of the corpus (testdata/rest at
// the module root; index.tsv there names the docs page of each file).
func docSample(t testing.TB, name string) map[string]any {
	t.Helper()
	return fixture(t, "../../../testdata/rest/"+name)
}

func addDeal(t *testing.T, s *Server) int {
	t.Helper()
	return num(get(mustOK(t, callHook(t, s, "crm.item.add", map[string]any{"entityTypeId": 2, "fields": map[string]any{"title": "D"}})), "item", "id"))
}

// TestProductRowFieldsMatchDocs: crm.item.productrow.fields answers the
// docs' sample (crm-item-productrow-fields.md) for every field it lists,
// flags included, and lists every key its own add returns.
func TestProductRowFieldsMatchDocs(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	got, _ := get(mustOK(t, callHook(t, s, "crm.item.productrow.fields", nil)), "fields").(map[string]any)
	want, _ := get(docSample(t, "crm_item_productrow_fields.json"), "result", "fields").(map[string]any)
	for name, w := range want {
		wm, gm := w.(map[string]any), get(got, name)
		for _, flag := range []string{"type", "isRequired", "isReadOnly", "isImmutable", "isMultiple", "isDynamic", "title"} {
			if gv := get(gm, flag); gv != wm[flag] {
				t.Errorf("%s.%s = %v, docs say %v", name, flag, gv, wm[flag])
			}
		}
	}
	deal := addDeal(t, s)
	row := get(mustOK(t, callHook(t, s, "crm.item.productrow.add", map[string]any{"fields": map[string]any{"ownerType": "D", "ownerId": deal, "productName": "A", "price": 1}})), "productRow")
	for k := range row.(map[string]any) {
		if got[k] == nil {
			t.Errorf("add returns %s, which fields does not list", k)
		}
	}
	// ... and the docs' own add sample has no key fields does not list.
	for k := range get(docSample(t, "crm_item_productrow_add.json"), "result", "productRow").(map[string]any) {
		if got[k] == nil {
			t.Errorf("the docs' add sample has %s, which fields does not list", k)
		}
	}
}

// TestProductRowWrites: update refuses unknown and read-only fields with
// INVALID_ARG_VALUE (crm-item-productrow-update.md), add and set leave the
// read-only ones alone, delete answers null, missing rows answer the
// documented NOT_FOUND sample.
func TestProductRowWrites(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	deal := addDeal(t, s)
	row := get(mustOK(t, callHook(t, s, "crm.item.productrow.add", map[string]any{"fields": map[string]any{
		"ownerType": "D", "ownerId": deal, "productName": "A", "price": 1, "xmlId": "x1", "storeId": 5, "type": 7}})), "productRow")
	if get(row, "xmlId") != "" || num(get(row, "storeId")) != 0 || num(get(row, "type")) == 7 {
		t.Errorf("add applied read-only fields: %v", row)
	}
	id := num(get(row, "id"))
	for _, f := range []string{"xmlId", "storeId", "type", "priceNetto", "priceAccount", "ownerId", "ownerType", "id", "colour"} {
		r := callHook(t, s, "crm.item.productrow.update", map[string]any{"id": id, "fields": map[string]any{f: "1"}})
		if r.Status != 400 || r.Body["error"] != "INVALID_ARG_VALUE" {
			t.Errorf("update %s: %d %s", f, r.Status, r.Raw)
		}
	}
	upd := get(mustOK(t, callHook(t, s, "crm.item.productrow.update", map[string]any{"id": id, "fields": map[string]any{"measureName": "kg", "quantity": 2}})), "productRow")
	if get(upd, "measureName") != "kg" || num(get(upd, "quantity")) != 2 {
		t.Errorf("update = %v", upd)
	}
	set := mustOK(t, callHook(t, s, "crm.item.productrow.set", map[string]any{"ownerType": "D", "ownerId": deal,
		"productRows": []map[string]any{{"productName": "B", "price": 2, "xmlId": "x2", "storeId": 3}}}))
	if r := get(set, "productRows", "0"); get(r, "xmlId") != "" || num(get(r, "storeId")) != 0 {
		t.Errorf("set applied read-only fields: %v", r)
	}
	id = num(get(set, "productRows", "0", "id"))
	r := callHook(t, s, "crm.item.productrow.delete", map[string]any{"id": id})
	if res, has := r.Body["result"]; r.Status != 200 || !has || res != nil {
		t.Errorf("delete: %d %s, want result null", r.Status, r.Raw)
	}
	wantErr := docSample(t, "crm_item_productrow_get.error.json")
	for _, m := range []string{"get", "delete", "update"} {
		r := callHook(t, s, "crm.item.productrow."+m, map[string]any{"id": id, "fields": map[string]any{"quantity": 1}})
		if r.Status != 400 || r.Body["error"] != wantErr["error"] || r.Body["error_description"] != wantErr["error_description"] {
			t.Errorf("%s of a deleted row: %d %s, want %v", m, r.Status, r.Raw, wantErr)
		}
	}
}

// TestBatchHaltPHPBool: halt is cast like PHP's (bool): only absent, "",
// "0" and 0 are false.
func TestBatchHaltPHPBool(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	cmd := map[string]any{"a": "crm.item.get?entityTypeId=2&id=999999", "b": "server.time"}
	for _, tc := range []struct {
		halt any
		want bool
	}{
		{nil, false}, {"", false}, {"0", false}, {0, false}, {false, false},
		{"1", true}, {1, true}, {true, true}, {"false", true}, {"N", true}, {"n", true}, {"0.0", true},
	} {
		p := map[string]any{"cmd": cmd}
		if tc.halt != nil {
			p["halt"] = tc.halt
		}
		res := mustOK(t, callHook(t, s, "batch", p))
		ran := get(res, "result", "b") != nil
		if ran == tc.want {
			t.Errorf("halt %#v: second command ran = %v, want halted = %v", tc.halt, ran, tc.want)
		}
	}
	// The form transport carries strings: halt=false halts too.
	r := callForm(t, s, "batch", "halt=false&cmd[a]="+url.QueryEscape("crm.item.get?entityTypeId=2&id=999999")+"&cmd[b]=server.time")
	if get(mustOK(t, r), "result", "b") != nil {
		t.Errorf("form halt=false did not halt: %s", r.Raw)
	}
}

// TestBatchEmbeddedRefSwallowsToken: an embedded reference takes the rest
// of the token up to whitespace (/\$(result|...)([^\s]*)/i).
func TestBatchEmbeddedRefSwallowsToken(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	res := mustOK(t, callHook(t, s, "batch", map[string]any{"halt": 1, "cmd": map[string]any{
		"b": "crm.item.add?entityTypeId=2&fields[title]=Deal",
		"c": "crm.item.add?entityTypeId=2&fields[title]=" + url.QueryEscape("t-$result[b][item][title]-x y-$result[b][item][title]"),
		"d": "crm.item.add?entityTypeId=2&fields[title]=" + url.QueryEscape("$result[b][item][title]-x"),
	}}))
	if got := get(res, "result", "c", "item", "title"); got != "t-Deal y-Deal" {
		t.Errorf("embedded reference: title = %v, want %q", got, "t-Deal y-Deal")
	}
	if got := get(res, "result", "d", "item", "title"); got != "Deal" {
		t.Errorf("whole-token reference: title = %v, want %q", got, "Deal")
	}
}

// TestIDSequencePerType: each CRM entity type numbers its items on its own
// (a deal and a lead created first both get id 1).
func TestIDSequencePerType(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	lead := num(get(mustOK(t, callHook(t, s, "crm.item.add", map[string]any{"entityTypeId": 1, "fields": map[string]any{"title": "L"}})), "item", "id"))
	deal := num(get(mustOK(t, callHook(t, s, "crm.item.add", map[string]any{"entityTypeId": 2, "fields": map[string]any{"title": "D"}})), "item", "id"))
	deal2 := num(mustOK(t, callHook(t, s, "crm.deal.add", map[string]any{"fields": map[string]any{"TITLE": "D2"}})))
	sp := num(get(mustOK(t, callHook(t, s, "crm.item.add", map[string]any{"entityTypeId": 128, "fields": map[string]any{"title": "S"}})), "item", "id"))
	if lead != 1 || deal != 1 || deal2 != 2 || sp != 1 {
		t.Errorf("ids lead %d deal %d deal2 %d smart %d, want 1 1 2 1", lead, deal, deal2, sp)
	}
}

// TestStartMinusOneTotal: classic list methods answer total 0 with
// start=-1 (settings/performance/huge-data.md); crm.item.list answers no
// total (docs/CONFORMANCE.md).
func TestStartMinusOneTotal(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	addDeal(t, s)
	for _, tc := range []struct {
		method string
		params map[string]any
	}{
		{"crm.deal.list", map[string]any{"start": -1}},
		{"lists.get", map[string]any{"IBLOCK_TYPE_ID": "lists", "start": -1}},
	} {
		r := callHook(t, s, tc.method, tc.params)
		mustOK(t, r)
		if tot, has := r.Body["total"]; !has || num(tot) != 0 {
			t.Errorf("%s start=-1: total = %v (present %v), want 0", tc.method, tot, has)
		}
		if _, has := r.Body["next"]; has {
			t.Errorf("%s start=-1 has next: %s", tc.method, r.Raw)
		}
	}
	r := callHook(t, s, "crm.item.list", map[string]any{"entityTypeId": 2, "start": -1})
	mustOK(t, r)
	if _, has := r.Body["total"]; has {
		t.Errorf("crm.item.list start=-1 has total: %s", r.Raw)
	}
}

// TestFaultHTML500: the call runs, the answer is an HTML 500 page.
func TestFaultHTML500(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	if FaultHTML500.String() != "html-500" {
		t.Errorf("String = %q", FaultHTML500.String())
	}
	s.HTML500(1)
	r := callHook(t, s, "crm.item.add", map[string]any{"entityTypeId": 2, "fields": map[string]any{"title": "x"}})
	if r.Status != 500 || r.Header.Get("Content-Type") != "text/html" || r.Body != nil {
		t.Errorf("answer %d %q %s", r.Status, r.Header.Get("Content-Type"), r.Raw)
	}
	if n := len(s.CRMItems(2)); n != 1 {
		t.Errorf("%d deals, want 1: the call runs before the error page", n)
	}
	mustOK(t, callHook(t, s, "server.time", nil))
}

// TestSmartProcessUpperNames: crm.item.fields of a smart process gives
// the upper names of the docs' sample (crm-item-fields.md, type 1268) for
// every field both list.
func TestSmartProcessUpperNames(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	want, _ := get(docSample(t, "crm_item_fields.json"), "result", "fields").(map[string]any)
	for _, typ := range []int{128, 31} {
		got, _ := get(mustOK(t, callHook(t, s, "crm.item.fields", map[string]any{"entityTypeId": typ})), "fields").(map[string]any)
		common := 0
		for name, w := range want {
			g := get(got, name)
			if g == nil {
				continue
			}
			common++
			if gu, wu := get(g, "upperName"), get(w, "upperName"); gu != wu {
				t.Errorf("type %d %s: upperName %v, docs %v", typ, name, gu, wu)
			}
		}
		if common < 20 {
			t.Errorf("type %d shares only %d fields with the docs sample", typ, common)
		}
	}
}

// TestNewDealDefaults: a new deal carries the "By default" values of
// api-reference/crm/deals/crm-deal-add.md, and crm.deal.get / crm.deal.fields
// answer only the fields crm-deal-fields.md lists.
func TestNewDealDefaults(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	id := num(mustOK(t, callHook(t, s, "crm.deal.add", map[string]any{"fields": map[string]any{"TITLE": "D"}})))
	deal, _ := mustOK(t, callHook(t, s, "crm.deal.get", map[string]any{"id": id})).(map[string]any)
	for k, v := range map[string]any{"IS_RECURRING": "N", "IS_RETURN_CUSTOMER": "N", "IS_REPEATED_APPROACH": "N",
		"OPPORTUNITY": "0.00", "IS_MANUAL_OPPORTUNITY": "N", "TAX_VALUE": "0.00", "OPENED": "Y", "CLOSED": "N",
		"COMPANY_ID": "0", "CONTACT_ID": "0", "CATEGORY_ID": "0", "SOURCE_ID": "CALL"} {
		if deal[k] != v {
			t.Errorf("%s = %#v, want %#v", k, deal[k], v)
		}
	}
	begin, _ := time.Parse(time.RFC3339, fmt.Sprint(deal["BEGINDATE"]))
	closeAt, _ := time.Parse(time.RFC3339, fmt.Sprint(deal["CLOSEDATE"]))
	if begin.IsZero() || closeAt.Sub(begin) != 7*24*time.Hour {
		t.Errorf("BEGINDATE %v CLOSEDATE %v, want the creation day and 7 days later", deal["BEGINDATE"], deal["CLOSEDATE"])
	}
	documented, _ := docSample(t, "crm_deal_fields.json")["result"].(map[string]any)
	fields, _ := mustOK(t, callHook(t, s, "crm.deal.fields", nil)).(map[string]any)
	for _, m := range []map[string]any{deal, fields} {
		for k := range m {
			if documented[k] == nil && !strings.HasPrefix(k, "UF_") && !strings.HasPrefix(k, "PARENT_ID_") {
				t.Errorf("undocumented deal field %s", k)
			}
		}
	}
	item := get(mustOK(t, callHook(t, s, "crm.item.get", map[string]any{"entityTypeId": 2, "id": id})), "item")
	for k, v := range map[string]any{"isRecurring": "N", "opened": "Y", "isManualOpportunity": "N"} {
		if get(item, k) != v {
			t.Errorf("crm.item.get %s = %#v, want %#v", k, get(item, k), v)
		}
	}
	if get(item, "begindate") == nil || get(item, "closedate") == nil || num(get(item, "companyId")) != 0 || get(item, "companyId") == nil {
		t.Errorf("crm.item.get dates/company: %v", item)
	}
}

// TestNewItemDefaults: new leads, smart invoices, smart processes,
// contacts, companies and estimates carry the "Default" values of the
// tabs of api-reference/crm/universal/crm-item-add.md (and the lead
// sample of crm-item-get.md), not null; fields whose documented default
// is null stay null.
func TestNewItemDefaults(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	if err := s.AddSmartProcess(1030, "HR"); err != nil {
		t.Fatal(err)
	}
	add := func(typ int, fields map[string]any) map[string]any {
		item, _ := get(mustOK(t, callHook(t, s, "crm.item.add", map[string]any{"entityTypeId": typ, "fields": fields})), "item").(map[string]any)
		id := num(item["id"])
		got, _ := get(mustOK(t, callHook(t, s, "crm.item.get", map[string]any{"entityTypeId": typ, "id": id})), "item").(map[string]any)
		if diff := cmp.Diff(item, got); diff != "" {
			t.Errorf("type %d: crm.item.get differs from the add answer (-add +get):\n%s", typ, diff)
		}
		return got
	}
	check := func(typ int, item map[string]any, want map[string]any) {
		t.Helper()
		for k, v := range want {
			if got := item[k]; fmt.Sprint(got) != fmt.Sprint(v) || (v == nil) != (got == nil) {
				t.Errorf("type %d %s = %#v, want %#v", typ, k, got, v)
			}
		}
	}
	day := func(item map[string]any) {
		t.Helper()
		begin, _ := time.Parse(time.RFC3339, fmt.Sprint(item["begindate"]))
		closeAt, _ := time.Parse(time.RFC3339, fmt.Sprint(item["closedate"]))
		if begin.IsZero() || closeAt.Sub(begin) != 7*24*time.Hour {
			t.Errorf("type %v begindate %v closedate %v, want the creation day and 7 days later", item["entityTypeId"], item["begindate"], item["closedate"])
		}
	}

	lead := add(EntityLead, map[string]any{"name": "Admin", "fm": []map[string]any{
		{"typeId": "PHONE", "valueType": "WORK", "value": "+6111111111"}, {"typeId": "EMAIL", "valueType": "WORK", "value": "admin@example.com"}}})
	id := num(lead["id"])
	check(EntityLead, lead, map[string]any{"title": fmt.Sprintf("Lead #%d", id), "sourceId": "CALL", "stageId": "NEW",
		"opened": "Y", "isManualOpportunity": "N", "currencyId": "USD", "opportunity": nil, "companyId": "0", "contactId": "0",
		"isReturnCustomer": "N", "hasImol": "N", "hasPhone": "Y", "hasEmail": "Y", "phone": "+6111111111", "phoneWork": "+6111111111",
		"phoneMobile": "", "phoneMailing": "", "email": "admin@example.com", "emailWork": "admin@example.com", "emailHome": "",
		"emailMailing": "", "imol": "", "skype": nil, "honorific": nil, "comments": nil})

	for typ, name := range map[int]string{EntitySmartInvoice: "Invoice", 1030: "HR"} {
		item := add(typ, map[string]any{})
		check(typ, item, map[string]any{"title": fmt.Sprintf("%s #%d", name, num(item["id"])), "xmlId": nil, "sourceId": "CALL",
			"opened": "Y", "isManualOpportunity": "N", "currencyId": "USD", "opportunity": nil, "taxValue": nil,
			"mycompanyId": nil, "webformId": nil, "sourceDescription": nil})
		day(item)
	}
	quote := add(EntityQuote, map[string]any{})
	check(EntityQuote, quote, map[string]any{"title": fmt.Sprintf("Estimate #%d", num(quote["id"])), "opportunity": nil, "mycompanyId": nil})
	day(quote)
	contact := add(EntityContact, map[string]any{"name": "Ann"})
	check(EntityContact, contact, map[string]any{"title": nil, "export": "Y", "sourceId": "CALL"})

	// mycompanyId: "the first available 'my' company".
	add(EntityCompany, map[string]any{"title": "Client"})
	company := add(EntityCompany, map[string]any{})
	check(EntityCompany, company, map[string]any{"title": fmt.Sprintf("Company #%d", num(company["id"])), "revenue": "0", "isMyCompany": "N"})
	mine := add(EntityCompany, map[string]any{"title": "Us", "isMyCompany": "Y"})
	inv := add(EntitySmartInvoice, map[string]any{"title": "INV-1"})
	check(EntitySmartInvoice, inv, map[string]any{"title": "INV-1", "mycompanyId": mine["id"]})
}

// TestXMLIDOnlyWhereDocumented: xmlId is a field of smart invoices and
// smart processes only (api-reference/crm/universal/object-fields.md; the
// lead and deal samples of crm-item-get.md and crm-item-add.md lack it).
func TestXMLIDOnlyWhereDocumented(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	for _, typ := range []int{EntityLead, EntityDeal, EntityContact, EntityCompany, EntityQuote, EntitySmartInvoice, 128} {
		want := typ == EntitySmartInvoice || typ == 128
		fields, _ := get(mustOK(t, callHook(t, s, "crm.item.fields", map[string]any{"entityTypeId": typ})), "fields").(map[string]any)
		item, _ := get(mustOK(t, callHook(t, s, "crm.item.add", map[string]any{"entityTypeId": typ, "fields": map[string]any{"xmlId": "x-1"}})), "item").(map[string]any)
		_, inFields := fields["xmlId"]
		v, inItem := item["xmlId"]
		if inFields != want || inItem != want || want && v != "x-1" {
			t.Errorf("type %d: xmlId in fields %v, in item %v (%v); want %v", typ, inFields, inItem, v, want)
		}
	}
	deal := mustOK(t, callHook(t, s, "crm.deal.get", map[string]any{"id": 1})).(map[string]any)
	for k := range deal {
		if strings.Contains(k, "XML") {
			t.Errorf("crm.deal.get has %s", k)
		}
	}
}
