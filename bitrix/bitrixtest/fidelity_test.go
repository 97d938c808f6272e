package bitrixtest

import (
	"testing"
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
