package events

import (
	"encoding/json"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/internal/phpform"
	"github.com/google/go-cmp/cmp"
)

// TestTreeLeafFastPaths: the leaf fast paths of bitrix.Int, bitrix.Bool
// and TriState give what their UnmarshalJSON gives for the same string,
// at the edges of what they take (digit bounds, lengths around int64's,
// signs and other bytes below '0', every Y/N spelling).
func TestTreeLeafFastPaths(t *testing.T) {
	t.Parallel()
	leaves := []string{
		"", "0", "9", "09", "/", ":", "-", "+", " ", ".", "-5", "+3", "1.0", "1e3", "a",
		strings.Repeat("9", 18), strings.Repeat("9", 19), strings.Repeat("9", 20), "9223372036854775807", "9223372036854775808",
		"Y", "y", "N", "n", "1", "2", "yes", "no", "on", "off", "true", "false", "undefined", "Undefined", "x",
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[bitrix.Int](), reflect.TypeFor[bitrix.Bool](), reflect.TypeFor[TriState]()} {
		if planFor(typ).leaf == nil {
			t.Fatalf("%v has no fast path", typ)
		}
		for _, s := range leaves {
			want, got := reflect.New(typ), reflect.New(typ)
			b, _ := json.Marshal(s)
			errW := json.Unmarshal(b, want.Interface())
			errG := decodeTree(s, got.Interface())
			if (errW == nil) != (errG == nil) || errW == nil && want.Elem().Interface() != got.Elem().Interface() {
				t.Errorf("%v %q: UnmarshalJSON %v, %v; tree decoder %v, %v", typ, s, want.Elem(), errW, got.Elem(), errG)
			}
		}
	}
}

// foldOrder has two fields that fold to the same key: the promoted one
// comes first by index (encoding/json sorts fields by index, and the first
// folded match wins), though it is found one level deeper.
type foldOrder struct {
	foldInner
	FOO string
}

type foldInner struct{ Foo string }

// TestTreeDecoderFoldedMatchByIndex: a key that matches two fields only
// case-insensitively goes to the first field in index order, as in
// encoding/json.
func TestTreeDecoderFoldedMatchByIndex(t *testing.T) {
	t.Parallel()
	root, err := phpform.Parse("data[foo]=x")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := root.Get("data")
	var want, got foldOrder
	if err := viaJSON(data, &want); err != nil {
		t.Fatal(err)
	}
	if err := decodeTree(data, &got); err != nil {
		t.Fatal(err)
	}
	if want != (foldOrder{foldInner: foldInner{Foo: "x"}}) || got != want {
		t.Errorf("encoding/json %+v, tree decoder %+v", want, got)
	}
}

// decodeBothWays decodes the data tree of body into want (through
// encoding/json) and got (the tree decoder) and fails unless they agree.
func decodeBothWays(t *testing.T, body string, want, got any) {
	t.Helper()
	root, err := phpform.Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := root.Get("data")
	errW, errG := viaJSON(data, want), decodeTree(data, got)
	if (errW == nil) != (errG == nil) {
		t.Fatalf("%s: encoding/json err %v, tree decoder err %v", body, errW, errG)
	}
	if d := cmp.Diff(want, got, cmp.Exporter(func(reflect.Type) bool { return true })); d != "" {
		t.Errorf("%s: (-encoding/json +tree decoder)\n%s", body, d)
	}
}

type foldKeys struct {
	A, Z, K string
	Han     string `json:"中x"` // 中 has no case: it folds to itself
}

// TestTreeDecoderFoldsKeys: keys that match a field only
// case-insensitively, at the ends of the ASCII lower-case range and
// through a non-ASCII fold (KELVIN SIGN folds to K) and next to a rune
// that has no case, as encoding/json matches them.
func TestTreeDecoderFoldsKeys(t *testing.T) {
	t.Parallel()
	var want, got foldKeys
	decodeBothWays(t, "data[a]=1&data[z]=2&data[%E2%84%AA]=3&data[%E4%B8%ADX]=4", &want, &got)
	if want != (foldKeys{A: "1", Z: "2", K: "3", Han: "4"}) {
		t.Errorf("encoding/json gave %+v", want)
	}
}

// badTag has a json tag encoding/json rejects (a currency sign): it uses the
// Go field name for it.
type badTag struct {
	F string `json:"a€b"`
}

func TestTreeDecoderInvalidTag(t *testing.T) {
	t.Parallel()
	var want, got badTag
	decodeBothWays(t, "data[F]=1&data[a€b]=2", &want, &got)
	if want != (badTag{F: "1"}) {
		t.Errorf("encoding/json gave %+v", want)
	}
}

type ownPath struct {
	Name  string
	Inner struct{ ID bitrix.Int }
	Items map[int]ownItem
}

type ownItem struct{ Text string }

// TestTreeDecoderDecodesItself: a form tree of a struct is decoded by the
// tree decoder's own struct path (which learns the key order of the first
// object), not handed to encoding/json; the fallback gives the same value,
// so only this tells them apart.
func TestTreeDecoderDecodesItself(t *testing.T) {
	t.Parallel()
	var want, got ownPath
	decodeBothWays(t, "data[Name]=n&data[Inner][ID]=7&data[other]=x&data[Items][3][Text]=t", &want, &got)
	if got.Name != "n" || got.Inner.ID != 7 || got.Items[3].Text != "t" {
		t.Errorf("decoded %+v", got)
	}
	p := planFor(reflect.TypeFor[ownPath]())
	o := p.order.Load()
	if o == nil || len(*o) != 4 || (*o)[0].key != "Name" || (*o)[0].f != p.exact["Name"] || (*o)[2].f != nil {
		t.Fatalf("order learned from the first object: %+v", o)
	}
	if inner := p.exact["Inner"].plan.order.Load(); inner == nil || len(*inner) != 1 || (*inner)[0].key != "ID" {
		t.Errorf("order of Inner: %+v", inner)
	}
	if item := planFor(reflect.TypeFor[ownItem]()).order.Load(); item == nil || len(*item) != 1 || (*item)[0].key != "Text" {
		t.Errorf("order of the map's elements: %+v", item)
	}
}

// TestTreeLeafJSON: a leaf handed to an UnmarshalJSON gets the bytes
// json.Marshal writes for it (json.RawMessage keeps them): escapes for
// control bytes, quotes, backslashes and HTML characters, U+FFFD for
// invalid UTF-8, U+2028 escaped, other text as it is.
func TestTreeLeafJSON(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "abc", " ", "\x1f", "\x7f", "\x80", "a\xffb", "é", "\u2028", `"`, `\`, "<", ">", "&", "x&y"} {
		want, _ := json.Marshal(s)
		var got json.RawMessage
		if err := decodeTree(s, &got); err != nil || string(got) != string(want) {
			t.Errorf("%q: tree decoder gave %q, %v; json.Marshal %q", s, got, err, want)
		}
	}
}

// TestTreeOtherLeaves: the leaves of trees read from JSON that are not
// strings (null, booleans, numbers) decode as encoding/json decodes them,
// into every kind of plan.
func TestTreeOtherLeaves(t *testing.T) {
	t.Parallel()
	types := []func() any{
		func() any { return new(shapes) }, func() any { return new(bitrix.Int) }, func() any { return new(bitrix.Bool) },
		func() any { return new(TriState) }, func() any { return new(string) }, func() any { return new(map[int]nested) },
		func() any { return new(json.RawMessage) }, func() any { return new(BotMessage) },
	}
	for _, leaf := range []any{nil, true, false, json.Number("12"), json.Number("1.5")} {
		for _, newT := range types {
			want, got := newT(), newT()
			errW, errG := viaJSON(leaf, want), decodeTree(leaf, got)
			if (errW == nil) != (errG == nil) {
				t.Errorf("%v into %T: encoding/json err %v, tree decoder err %v", leaf, want, errW, errG)
				continue
			}
			if d := cmp.Diff(want, got, cmp.Exporter(func(reflect.Type) bool { return true }), cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); d != "" {
				t.Errorf("%v into %T: (-encoding/json +tree decoder)\n%s", leaf, want, d)
			}
		}
	}
}

// TestTreeTypeErrorsSayWhat: a type error names what the tree held
// (string, array, object) and the Go type, as encoding/json's does.
func TestTreeTypeErrorsSayWhat(t *testing.T) {
	t.Parallel()
	for _, body := range []string{"data[nested]=x", "data[nested][]=1", "data[name][x]=1", "data[name][]=1", "data[by_id]=x", "data[by_id][]=x"} {
		var want, got shapes
		root, err := phpform.Parse(body)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := root.Get("data")
		var tw, tg *json.UnmarshalTypeError
		if !errors.As(viaJSON(data, &want), &tw) || !errors.As(decodeTree(data, &got), &tg) {
			t.Errorf("%s: a type error expected both ways", body)
			continue
		}
		if tw.Value != tg.Value || tw.Type != tg.Type || tw.Field != tg.Field {
			t.Errorf("%s: encoding/json %s %v at %q, tree decoder %s %v at %q", body, tw.Value, tw.Type, tw.Field, tg.Value, tg.Type, tg.Field)
		}
	}
}

// PtrInner is embedded by pointer: encoding/json allocates it and promotes
// its fields.
type PtrInner struct{ Hidden string }

type embedsPtr struct {
	*PtrInner
	Name string
}

func TestTreeDecoderEmbeddedPointer(t *testing.T) {
	t.Parallel()
	var want, got embedsPtr
	decodeBothWays(t, "data[Hidden]=h&data[Name]=n", &want, &got)
	if want.PtrInner == nil || want.Hidden != "h" || want.Name != "n" {
		t.Errorf("encoding/json gave %+v", want)
	}
}

// hookProbe says which way it was decoded.
type hookProbe struct{ via string }

func (h *hookProbe) unmarshalTree(*treeDecoder, node) error { h.via = "tree"; return nil }
func (h *hookProbe) UnmarshalJSON([]byte) error             { h.via = "json"; return nil }

// TestTreeDecoderCallsHooks: a type with its own tree decoding gets the
// tree, not its JSON.
func TestTreeDecoderCallsHooks(t *testing.T) {
	t.Parallel()
	var h hookProbe
	if err := decodeTree("x", &h); err != nil || h.via != "tree" {
		t.Errorf("decoded via %q, %v", h.via, err)
	}
}
