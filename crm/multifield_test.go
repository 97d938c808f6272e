package crm_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/crm"
)

// TestMultifieldLeadAdd: crm.Phone and crm.Email values go out in the shape
// of the crm.lead.add example (api-reference/crm/leads/crm-lead-add.md:
// "PHONE":[{"VALUE":"555888","VALUE_TYPE":"WORK"}]), without an ID or
// TYPE_ID, and crm.lead.get's PHONE/EMAIL lists decode back into them.
func TestMultifieldLeadAdd(t *testing.T) {
	t.Parallel()
	srv := bitrixtest.NewServer(t)
	c, err := bitrix.New(bitrix.WebhookURL(srv.WebhookURL()), bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit())
	if err != nil {
		t.Fatal(err)
	}
	var id bitrix.Int
	_, err = c.Call(t.Context(), "crm.lead.add", bitrix.Params{"fields": bitrix.Params{
		"TITLE": "Website enquiry",
		"PHONE": []crm.Multifield{crm.Phone("+44 20 7946 0000", crm.PhoneWork), crm.Phone("+44 7700 900000", crm.PhoneMobile)},
		"EMAIL": []crm.Multifield{crm.Email("ada@example.com", crm.EmailHome)},
	}}, &id)
	if err != nil || id <= 0 {
		t.Fatalf("crm.lead.add: id %d, err %v", id, err)
	}

	calls := srv.Calls()
	var sent map[string]any
	for _, call := range calls {
		if call.Method == "crm.lead.add" {
			sent = call.Params
		}
	}
	// The call log holds the decoded form; fields[PHONE][0][VALUE],
	// fields[PHONE][1][VALUE], ... come back as a list.
	want := map[string]any{
		"TITLE": "Website enquiry",
		"PHONE": []any{
			map[string]any{"VALUE": "+44 20 7946 0000", "VALUE_TYPE": "WORK"},
			map[string]any{"VALUE": "+44 7700 900000", "VALUE_TYPE": "MOBILE"},
		},
		"EMAIL": []any{map[string]any{"VALUE": "ada@example.com", "VALUE_TYPE": "HOME"}},
	}
	if diff := cmp.Diff(want, sent["fields"]); diff != "" {
		t.Errorf("fields on the wire (-want +got):\n%s", diff)
	}

	var got struct {
		Phone []crm.Multifield `json:"PHONE"`
		Email []crm.Multifield `json:"EMAIL"`
	}
	if _, err := c.Call(t.Context(), "crm.lead.get", bitrix.Params{"id": id}, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Phone) != 2 || len(got.Email) != 1 {
		t.Fatalf("crm.lead.get: %+v", got)
	}
	for i, m := range append(got.Phone, got.Email...) {
		if m.ID <= 0 {
			t.Errorf("value %d has no ID: %+v", i, m)
		}
	}
	if p := got.Phone[1]; p.TypeID != "PHONE" || p.Value != "+44 7700 900000" || p.ValueType != string(crm.PhoneMobile) {
		t.Errorf("second phone = %+v", p)
	}
	if e := got.Email[0]; e.TypeID != "EMAIL" || e.Value != "ada@example.com" || e.ValueType != string(crm.EmailHome) {
		t.Errorf("e-mail = %+v", e)
	}
}
