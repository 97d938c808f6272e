package crm_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/b24go/sdk/crm"
)

func TestOwnerType(t *testing.T) {
	t.Parallel()
	cases := []struct {
		id   int
		code string
	}{
		{crm.Lead, "L"}, {crm.Deal, "D"}, {crm.Contact, "C"}, {crm.Company, "CO"}, {crm.Quote, "Q"},
		{crm.SmartInvoice, "SI"}, {128, "T80"}, {191, "Tbf"}, {1030, "T406"}, {1038, "T40e"},
	}
	for _, tc := range cases {
		got, err := crm.OwnerType(tc.id)
		if err != nil || got != tc.code {
			t.Errorf("OwnerType(%d) = %q, %v; want %q", tc.id, got, err, tc.code)
		}
		back, err := crm.ParseOwnerType(tc.code)
		if err != nil || back != tc.id {
			t.Errorf("ParseOwnerType(%q) = %d, %v; want %d", tc.code, back, err, tc.id)
		}
	}
	for _, code := range []string{"t40E", "T40E", "d", " co ", "si"} {
		if _, err := crm.ParseOwnerType(code); err != nil {
			t.Errorf("ParseOwnerType(%q): %v", code, err)
		}
	}
	for _, id := range []int{0, 5, 6, 8, 127, 192, 255, 1029, 1031, 1037} {
		if _, err := crm.OwnerType(id); !errors.Is(err, crm.ErrUnknownEntityType) {
			t.Errorf("OwnerType(%d) err = %v", id, err)
		}
	}
	for _, code := range []string{"", "X", "T", "T7f", "T407", "T0080", "TZZ", "I", "T1000000000"} {
		if id, err := crm.ParseOwnerType(code); !errors.Is(err, crm.ErrUnknownEntityType) {
			t.Errorf("ParseOwnerType(%q) = %d, %v; want an error", code, id, err)
		}
	}
}

func TestIsSmartProcess(t *testing.T) {
	t.Parallel()
	for id, want := range map[int]bool{127: false, 128: true, 150: true, 191: true, 192: false, 1028: false, 1029: false, 1030: true, 1031: false, 4096: true} {
		if got := crm.IsSmartProcess(id); got != want {
			t.Errorf("IsSmartProcess(%d) = %v", id, got)
		}
	}
	for id, want := range map[int]bool{1: true, 2: true, 3: true, 4: true, 5: false, 7: true, 31: true, 36: false, 128: true} {
		if got := crm.IsKnownType(id); got != want {
			t.Errorf("IsKnownType(%d) = %v", id, got)
		}
	}
}

func TestUFCamelName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"UF_CRM_3_DIGIT":      "ufCrm3Digit",
		"UF_CRM_3_1747309727": "ufCrm3_1747309727",
		"UF_CRM_3_DIGIT10":    "ufCrm_3_DIGIT10",
		"UF_CRM_1747309879":   "ufCrm_1747309879",
		"UF_CRM_FOO_BAR":      "ufCrmFooBar",
		"title":               "title",
	} {
		if got := crm.UFCamelName(in); got != want {
			t.Errorf("UFCamelName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDecimalParseAndString(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want, fixed2 string }{
		{"899.10", "899.1", "899.10"},
		{"0", "0", "0.00"},
		{"-0.05", "-0.05", "-0.05"},
		{"100000.01", "100000.01", "100000.01"},
		{"1.23456", "1.2346", "1.23"},
		{"1.23455", "1.2346", "1.23"}, // half away from zero at the 5th place
		{"-1.23455", "-1.2346", "-1.23"},
		{"1e3", "1000", "1000.00"},
		{"1.5E-2", "0.015", "0.02"},
		{"12,5", "12.5", "12.50"},
		{"+7", "7", "7.00"},
		{"922337203685477.5807", "922337203685477.5807", "922337203685477.58"},
	}
	for _, tc := range cases {
		d, err := crm.ParseDecimal(tc.in)
		if err != nil {
			t.Errorf("ParseDecimal(%q): %v", tc.in, err)
			continue
		}
		if d.String() != tc.want || d.StringFixed(2) != tc.fixed2 {
			t.Errorf("ParseDecimal(%q) = %s / %s, want %s / %s", tc.in, d, d.StringFixed(2), tc.want, tc.fixed2)
		}
	}
	for _, bad := range []string{"", " ", "abc", "1.2.3", "1/2", "0x10", "922337203685478", "1e30", "-", "."} {
		if d, err := crm.ParseDecimal(bad); err == nil {
			t.Errorf("ParseDecimal(%q) = %s, want an error", bad, d)
		}
	}
}

func TestDecimalArithmetic(t *testing.T) {
	t.Parallel()
	a, b := crm.MustDecimal("0.1"), crm.MustDecimal("0.2")
	if got := a.Add(b); got.String() != "0.3" || got.Cmp(crm.MustDecimal("0.3")) != 0 {
		t.Errorf("0.1+0.2 = %s", got)
	}
	if got := a.Sub(b); got.String() != "-0.1" || got.Sign() != -1 {
		t.Errorf("0.1-0.2 = %s", got)
	}
	// MulRound rounds the exact product once: 0.145 × 0.5 = 0.0725 → 0.07
	// (two-step rounding via 4 places would also give 0.0725 → 0.07), and
	// 1.0049 × 1.0001 = 1.00500049 → 1.01 at 2 places (1.0050 → 1.01).
	if got := crm.MustDecimal("0.145").MulRound(crm.MustDecimal("0.5"), 2); got.String() != "0.07" {
		t.Errorf("0.145×0.5 = %s", got)
	}
	if got := crm.MustDecimal("1.0049").MulRound(crm.MustDecimal("1.0001"), 2); got.String() != "1.01" {
		t.Errorf("1.0049×1.0001 = %s", got)
	}
	// 0.3333 × 3 rounded once to 2 places is 1.00; 4-place rounding first
	// would be the same here, but 2.675 × 1 must stay 2.68 (a float64 gives 2.67).
	if got := crm.MustDecimal("2.675").MulRound(crm.MustDecimal("1"), 2); got.String() != "2.68" {
		t.Errorf("2.675 rounded = %s", got)
	}
	if got := crm.MustDecimal("-2.345").Round(2); got.String() != "-2.35" {
		t.Errorf("round(-2.345) = %s", got)
	}
	if got := crm.MustDecimal("19.99").Mul(crm.MustDecimal("3")); got.String() != "59.97" {
		t.Errorf("19.99×3 = %s", got)
	}
	if got := crm.NewDecimal(89910, 2); got.String() != "899.1" || got.Units() != 8991000 {
		t.Errorf("NewDecimal = %s (%d)", got, got.Units())
	}
	if got := crm.DecimalFromInt(-3); got.String() != "-3" {
		t.Errorf("DecimalFromInt = %s", got)
	}
	if d, err := crm.DecimalFromFloat(0.1); err != nil || d.String() != "0.1" || d.Float64() != 0.1 {
		t.Errorf("DecimalFromFloat(0.1) = %s, %v", d, err)
	}
	if !crm.MustDecimal("0.0000").IsZero() {
		t.Error("IsZero")
	}
	defer func() {
		if recover() == nil {
			t.Error("overflow did not panic")
		}
	}()
	max := crm.MustDecimal("922337203685477.5807")
	_ = max.Add(crm.MustDecimal("0.0001"))
}

func TestDecimalJSON(t *testing.T) {
	t.Parallel()
	var v struct {
		A, B, C, D, E crm.Decimal
		P             *crm.Decimal
	}
	if err := json.Unmarshal([]byte(`{"A": 899.1, "B": "899.10", "C": "", "D": null, "E": 1e2, "P": null}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.A.String() != "899.1" || v.B.String() != "899.1" || !v.C.IsZero() || !v.D.IsZero() || v.E.String() != "100" || v.P != nil {
		t.Errorf("decoded %+v", v)
	}
	out, _ := json.Marshal(v)
	if string(out) != `{"A":899.1,"B":899.1,"C":0,"D":0,"E":100,"P":null}` {
		t.Errorf("encoded %s", out)
	}
	var d crm.Decimal
	for _, bad := range []string{`"abc"`, `[1]`, `{}`, `true`} {
		if err := json.Unmarshal([]byte(bad), &d); err == nil {
			t.Errorf("decoded %s without error", bad)
		}
	}
}

func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"899.10", "-0.05", "1e3", "12,5", "922337203685477.5807", "abc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := crm.ParseDecimal(s)
		if err != nil {
			return
		}
		back, err := crm.ParseDecimal(d.String())
		if err != nil || back != d {
			t.Fatalf("%q → %s → %v, %v", s, d, back, err)
		}
		b, _ := json.Marshal(d)
		var j crm.Decimal
		if err := json.Unmarshal(b, &j); err != nil || j != d {
			t.Fatalf("JSON %s → %v, %v", b, j, err)
		}
	})
}

// TestDecimalMulRoundPaths compares the int64 fast path with the big-number
// path on values on both sides of the fast path's bound.
func TestDecimalMulRoundPaths(t *testing.T) {
	t.Parallel()
	cases := []struct{ a, b, want2, want4 string }{
		{"303700.0499", "2", "607400.10", "607400.0998"},
		{"303700.05", "2", "607400.10", "607400.1"}, // just over the bound: big path
		{"-303700.0499", "0.5", "-151850.02", "-151850.025"},
		{"-303700.05", "0.5", "-151850.03", "-151850.025"}, // big path, half away from zero
		{"99999999.99", "1000", "99999999990.00", "99999999990"},
		{"0.0001", "0.0001", "0.00", "0"},
		{"0.005", "1", "0.01", "0.005"},
		{"-0.005", "1", "-0.01", "-0.005"},
	}
	for _, tc := range cases {
		a, b := crm.MustDecimal(tc.a), crm.MustDecimal(tc.b)
		if got := a.MulRound(b, 2).StringFixed(2); got != tc.want2 {
			t.Errorf("%s×%s (2) = %s, want %s", tc.a, tc.b, got, tc.want2)
		}
		if got := a.Mul(b).String(); got != tc.want4 {
			t.Errorf("%s×%s (4) = %s, want %s", tc.a, tc.b, got, tc.want4)
		}
	}
}
