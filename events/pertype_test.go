package events

import (
	"errors"
	"strings"
	"testing"
)

// Per-type dynamic-item events: api-reference/crm/universal/events/index.md
// ("Event for a Single Smart Process", ONCRMDYNAMICITEMADD_147) and
// api-reference/crm/universal/invoice.md (invoices are entity type 31).
func TestDynamicItemEventOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		action string
		typeID int
		ok     bool
	}{
		{"ONCRMDYNAMICITEMADD", "ADD", 0, true},
		{"onCrmDynamicItemUpdate", "UPDATE", 0, true},
		{"ONCRMDYNAMICITEMDELETE", "DELETE", 0, true},
		{"ONCRMDYNAMICITEMADD_31", "ADD", 31, true},
		{"ONCRMDYNAMICITEMUPDATE_147", "UPDATE", 147, true},
		{"oncrmdynamicitemdelete_1038", "DELETE", 1038, true},
		{"ONCRMDYNAMICITEMADD_2147483647", "ADD", 2147483647, true},
		{"ONCRMDYNAMICITEMADD_2147483648", "", 0, false},
		{"ONCRMDYNAMICITEMADD_99999999999", "", 0, false},
		{"ONCRMDYNAMICITEMADD_", "", 0, false},
		{"ONCRMDYNAMICITEMADD_0", "", 0, false},
		{"ONCRMDYNAMICITEMADD_031", "", 0, false},
		{"ONCRMDYNAMICITEMADD_-31", "", 0, false},
		{"ONCRMDYNAMICITEMADD_+31", "", 0, false},
		{"ONCRMDYNAMICITEMADD_31 ", "", 0, false},
		{"ONCRMDYNAMICITEMADD_3a", "", 0, false},
		{"ONCRMDYNAMICITEMADD_٣١", "", 0, false}, // non-ASCII digits
		{"ONCRMDYNAMICITEMADD__31", "", 0, false},
		{"ONCRMDYNAMICITEMADD31", "", 0, false},
		{"ONCRMDYNAMICITEMADD_31_2", "", 0, false},
		{"ONCRMDYNAMICITEMMOVE_31", "", 0, false},
		{"ONCRMDYNAMICITEM", "", 0, false},
		{"ONCRMDEALADD_2", "", 0, false},
		{"", "", 0, false},
	}
	for _, tt := range tests {
		a, id, ok := DynamicItemEventOf(tt.name)
		if a != tt.action || id != tt.typeID || ok != tt.ok {
			t.Errorf("DynamicItemEventOf(%q) = %q, %d, %v; want %q, %d, %v", tt.name, a, id, ok, tt.action, tt.typeID, tt.ok)
		}
	}
	for _, tt := range []struct {
		event string
		id    int
		want  string
	}{
		{OnCRMDynamicItemAdd, 31, "ONCRMDYNAMICITEMADD_31"},
		{"onCrmDynamicItemDelete", 1038, "ONCRMDYNAMICITEMDELETE_1038"},
		{OnCRMDynamicItemUpdate, 0, OnCRMDynamicItemUpdate},
		{OnCRMDynamicItemUpdate, -1, ""},
		{"ONCRMDYNAMICITEMADD_31", 31, ""},
		{OnCRMDealAdd, 2, ""},
	} {
		if got := DynamicItemEvent(tt.event, tt.id); got != tt.want {
			t.Errorf("DynamicItemEvent(%q, %d) = %q, want %q", tt.event, tt.id, got, tt.want)
		}
	}
}

// TestPerTypeEventData: a per-type name decodes to the same *CRMEntity as
// the generic one, its type taken from the payload or, when the payload
// lacks it, from the name; a payload naming another type is refused.
func TestPerTypeEventData(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body           string
		wantID, wantTT int
		wantErr        bool
	}{
		{body: "event=ONCRMDYNAMICITEMUPDATE_31&data[FIELDS][ID]=5&data[FIELDS][ENTITY_TYPE_ID]=31", wantID: 5, wantTT: 31},
		{body: "event=ONCRMDYNAMICITEMADD_31&data[FIELDS][ID]=6", wantID: 6, wantTT: 31},
		{body: "event=oncrmdynamicitemdelete_1038&data[FIELDS][ID]=7", wantID: 7, wantTT: 1038},
		{body: "event=ONCRMDYNAMICITEMADD_147&data[FIELDS][ID]=8&data[FIELDS][ENTITY_TYPE_ID]=", wantID: 8, wantTT: 147},
		{body: "event=ONCRMDYNAMICITEMADD_31&data[FIELDS][ID]=9&data[FIELDS][ENTITY_TYPE_ID]=128", wantErr: true},
		{body: "event=ONCRMDYNAMICITEMUPDATE&data[FIELDS][ID]=10&data[FIELDS][ENTITY_TYPE_ID]=31", wantID: 10, wantTT: 31},
	}
	for _, tt := range tests {
		ev, err := ParseBody([]byte(tt.body))
		if tt.wantErr {
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("%s: err = %v, want ErrMalformed", tt.body, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.body, err)
		}
		d, ok := ev.Data.(*CRMEntity)
		if !ok {
			t.Fatalf("%s: Data is %T", tt.body, ev.Data)
		}
		id, _ := ev.EntityID()
		tid, ok := ev.EntityTypeID()
		if id != tt.wantID || tid != tt.wantTT || !ok || int(d.Fields.EntityTypeID) != tt.wantTT {
			t.Errorf("%s: EntityID %d EntityTypeID %d,%v Fields %+v", tt.body, id, tid, ok, d.Fields)
		}
		if e, a, ok := CRMEntityOf(ev.Name); !ok || e != "DYNAMICITEM" || a == "" {
			t.Errorf("CRMEntityOf(%q) = %q %q %v", ev.Name, e, a, ok)
		}
	}
	// The same through the JSON path (offline records).
	d, err := decodeData("ONCRMDYNAMICITEMADD_31", []byte(`{"FIELDS":{"ID":"3"}}`))
	if err != nil || d.(*CRMEntity).Fields.EntityTypeID != 31 {
		t.Errorf("decodeData = %+v, %v", d, err)
	}
	if _, err := decodeData("ONCRMDYNAMICITEMADD_31", []byte(`{"FIELDS":{"ID":"3","ENTITY_TYPE_ID":"4"}}`)); !errors.Is(err, ErrMalformed) {
		t.Errorf("decodeData with another type: %v", err)
	}
	// Invented names stay unknown.
	for _, name := range []string{"ONCRMDYNAMICITEMADD_031", "ONCRMDYNAMICITEMADD_x", "ONCRMDYNAMICITEMADDX"} {
		if NewData(name) != nil {
			t.Errorf("NewData(%q) is typed", name)
		}
	}
}

// FuzzDynamicItemEventOf: a name that matches round-trips through
// DynamicItemEvent to its upper-case self, so the match admits exactly the
// canonical spellings.
func FuzzDynamicItemEventOf(f *testing.F) {
	for _, s := range []string{"ONCRMDYNAMICITEMADD", "ONCRMDYNAMICITEMUPDATE_31", "oncrmdynamicitemdelete_1038",
		"ONCRMDYNAMICITEMADD_031", "ONCRMDYNAMICITEMADD_99999999999", "ONCRMDYNAMICITEMADD_ 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		action, id, ok := DynamicItemEventOf(name)
		if !ok {
			if action != "" || id != 0 {
				t.Fatalf("no match but %q, %d", action, id)
			}
			return
		}
		if id < 0 || id > maxEntityTypeID {
			t.Fatalf("id %d out of range", id)
		}
		if got := DynamicItemEvent(dynamicItemStem+action, id); got != strings.ToUpper(name) || got == "" {
			t.Fatalf("DynamicItemEvent(%s, %d) = %q, name %q", action, id, got, name)
		}
	})
}
