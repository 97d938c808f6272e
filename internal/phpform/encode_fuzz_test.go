package phpform

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzEncodeDecode builds a nested value (maps, lists, scalars) from the
// fuzzer's strings, encodes it, and checks Parse gives the same tree back
// (with every leaf as the string a form carries).
func FuzzEncodeDecode(f *testing.F) {
	f.Add("fields", "PHONE", "VALUE", "+1 555&x=y", int64(-3), true, 2.5)
	f.Add("a", "0", "b", "", int64(0), false, 0.0)
	f.Add("filter", ">ID", "=%", "$result[x][0][ID]", int64(1<<40), true, -1e-7)
	f.Add("select", "1", "x y", "привет", int64(7), false, 1e21)
	f.Fuzz(func(t *testing.T, k1, k2, k3, s string, n int64, b bool, fl float64) {
		for _, k := range []string{k1, k2, k3} {
			// A key cannot carry brackets; a top-level name cannot carry "." or " "
			// (PHP rewrites them) and must not be empty.
			if k == "" || strings.ContainsAny(k, "[]") {
				t.Skip()
			}
			if _, isIndex := intKey(k); isIndex {
				t.Skip() // numeric keys make lists (PHP arrays); covered by FuzzRoundTrip
			}
		}
		if strings.ContainsAny(k1, ". ") || strings.TrimLeft(k1, " ") != k1 {
			t.Skip()
		}
		in := map[string]any{
			k1: map[string]any{
				k2: []any{s, n, b, map[string]any{k3: s}},
				k3: []string{s, s + "!"},
			},
			k1 + "_f": fl,
		}
		enc, err := Encode(in)
		if err != nil {
			if fl != fl || fl > 1e308 || fl < -1e308 {
				return // NaN/Inf are refused
			}
			t.Fatalf("Encode(%v): %v", in, err)
		}
		m, err := Parse(enc)
		if err != nil {
			t.Fatalf("Parse(%q): %v", enc, err)
		}
		bs := "0"
		if b {
			bs = "1"
		}
		inner := map[string]any{k3: []any{s, s + "!"}}
		list := []any{s, strconv.FormatInt(n, 10), bs, map[string]any{k3: s}}
		if k2 == k3 {
			// The later key wins, as in PHP.
			inner = map[string]any{k3: []any{s, s + "!"}}
		} else {
			inner[k2] = list
		}
		want := map[string]any{k1: inner, k1 + "_f": strconv.FormatFloat(fl, 'f', -1, 64)}
		if d := cmp.Diff(want, Plain(m)); d != "" {
			t.Fatalf("round trip via %q (-want +got)\n%s", enc, d)
		}
	})
}
