package phpform

import (
	"fmt"
	"testing"
)

// TestScanFlat: plain keys of kept names are read (in order, values as
// they stand, other names skipped); any other form of a kept name's key,
// or too many pairs, sends the caller to the tree.
func TestScanFlat(t *testing.T) {
	keep := func(n string) bool { return n == "auth" || n == "event" }
	for _, c := range []struct {
		query, want string
		ok          bool
	}{
		{"event=ONX&auth%5Bmember_id%5D=m&data%5BFIELDS%5D%5BID%5D=1&auth[domain]=a%2Eb&auth%5bx%5d=1&auth[member_id]=n+2", "[event  ONX][auth member_id m][auth domain a%2Eb][auth x 1][auth member_id n+2]", true},
		{"Auth[member_id]=m&other=1&x[y][z]=2", "", true},
		{"auth[member_id][]=m", "", false},
		{"auth[]=m", "", false},
		{"auth[member_id]x=m", "", false},
		{"auth[member-id]=m", "", false},
		{"auth[member_id=m", "", false},
		{"%61uth[member_id]=m", "", false}, // "auth" escaped: the tree decides
		{"auth%5Bmember_id%5D%5D=m", "", false},
		{" auth[member_id]=m", "", false},
		{"auth.x=m", "", false},
	} {
		got := ""
		ok := Limits{}.ScanFlat(c.query, keep, func(name, sub, v string) { got += fmt.Sprintf("[%s %s %s]", name, sub, v) })
		if ok != c.ok || ok && got != c.want {
			t.Errorf("ScanFlat(%q) = %v %s, want %v %s", c.query, ok, got, c.ok, c.want)
		}
	}
	if (Limits{MaxPairs: 2}).ScanFlat("a=1&b=2&c=3", keep, func(string, string, string) {}) {
		t.Error("ScanFlat read more than MaxPairs pairs")
	}
}

// TestUnescape: PHP's urldecode, as Parse decodes values.
func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{
		"":                 "",
		"plain_1":          "plain_1",
		"a+b":              "a b",
		"https%3A%2F%2Fx/": "https://x/",
		"%zz%4":            "%zz%4",
		"%41%e2%82%ac":     "A\u20ac",
	} {
		if got := Unescape(in); got != want {
			t.Errorf("Unescape(%q) = %q, want %q", in, got, want)
		}
		tree, err := Parse("k=" + in)
		if err != nil {
			t.Fatal(err)
		}
		if leaf := tree.String("k"); leaf != want {
			t.Errorf("Parse gives %q for %q, Unescape %q", leaf, in, want)
		}
	}
}
