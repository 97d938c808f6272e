package wire

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDecodeExtraKeepsUnnamedMembers(t *testing.T) {
	t.Parallel()
	var w struct {
		ID   int    `json:"ID"`
		Name string `json:"NAME,omitempty"`
		Skip string `json:"-"`
		Bare string
	}
	extra, err := DecodeExtra([]byte(` {"ID":7,"NAME":"x","Bare":"b","UF_X":[1],"-":"dash"} `), &w)
	if err != nil {
		t.Fatal(err)
	}
	if w.ID != 7 || w.Name != "x" || w.Bare != "b" {
		t.Errorf("struct = %+v", w)
	}
	want := map[string]json.RawMessage{"UF_X": json.RawMessage(`[1]`), "-": json.RawMessage(`"dash"`)}
	if d := cmp.Diff(want, extra); d != "" {
		t.Errorf("extra (-want +got)\n%s", d)
	}
	for _, empty := range []string{"", "null", "[]", " [ ] "} {
		if extra, err := DecodeExtra([]byte(empty), &w); err != nil || extra != nil {
			t.Errorf("DecodeExtra(%q) = %v, %v", empty, extra, err)
		}
	}
	if _, err := DecodeExtra([]byte(`[1]`), &w); err == nil {
		t.Error("a non-empty array decoded as an object")
	}
}

func TestFlexMapShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want map[string]json.RawMessage
		err  bool
	}{
		{`{"39":{"ID":39}}`, map[string]json.RawMessage{"39": json.RawMessage(`{"ID":39}`)}, false},
		{`["a","b"]`, map[string]json.RawMessage{"0": json.RawMessage(`"a"`), "1": json.RawMessage(`"b"`)}, false},
		{`[]`, map[string]json.RawMessage{}, false},
		{`null`, map[string]json.RawMessage{}, false},
		{``, map[string]json.RawMessage{}, false},
		{`"x"`, nil, true},
		{`12`, nil, true},
	}
	for _, tt := range tests {
		got, err := FlexMap(json.RawMessage(tt.in))
		if (err != nil) != tt.err {
			t.Errorf("FlexMap(%q) error = %v", tt.in, err)
			continue
		}
		if !tt.err {
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("FlexMap(%q) (-want +got)\n%s", tt.in, d)
			}
		}
	}
}

func TestUFCamelName(t *testing.T) {
	t.Parallel()
	// The documented conversions (b24restdocs: api-reference/crm/universal/index.md).
	for in, want := range map[string]string{
		"UF_CRM_3_DIGIT":      "ufCrm3Digit",
		"UF_CRM_3_1747309727": "ufCrm3_1747309727",
		"UF_CRM_3_DIGIT10":    "ufCrm_3_DIGIT10",
		"UF_CRM_1747309879":   "ufCrm_1747309879",
		"UF_CRM_FOO_BAR":      "ufCrmFooBar",
		"uf_crm_3_digit":      "ufCrm3Digit",
		"UF_CRM_":             "UF_CRM_",
		"title":               "title",
	} {
		if got := UFCamelName(in); got != want {
			t.Errorf("UFCamelName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIDKeyed(t *testing.T) {
	t.Parallel()
	type rec struct {
		ID   int    `json:"id"`
		Name string `json:"name"`
	}
	setID := func(id int, r *rec) {
		if r.ID == 0 {
			r.ID = id
		}
	}
	for _, tc := range []struct {
		in   string
		want []rec
	}{
		{``, nil},
		{`null`, nil},
		{` false `, nil},
		{`[]`, []rec{}},
		{`[{"name":"a"},{"id":3,"name":"b"}]`, []rec{{0, "a"}, {3, "b"}}},
		{`{"10":{"name":"ten"},"9":{"id":9,"name":"nine"},"-1":{"name":"m"}}`, []rec{{-1, "m"}, {9, "nine"}, {10, "ten"}}},
	} {
		got, err := IDKeyed([]byte(tc.in), setID)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if len(got) != len(tc.want) {
			t.Errorf("%q: %+v, want %+v", tc.in, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%q: %+v, want %+v", tc.in, got, tc.want)
				break
			}
		}
	}
	for _, in := range []string{`{"a":{}}`, `{"1":{},"2x":{}}`, `"list"`, `7`, `true`, `{"1":"x"}`, `[1`} {
		if got, err := IDKeyed[rec]([]byte(in), nil); err == nil {
			t.Errorf("%q: %+v, want an error", in, got)
		}
	}
}
