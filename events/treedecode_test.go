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

// shapes is a struct with the shapes the tree decoder handles itself and
// several it hands to encoding/json, to check both against the round trip.
type shapes struct {
	embedded
	*embeddedPtr `json:"-"`
	Name         string            `json:"name"`
	Untagged     string            //
	Renamed      string            `json:"other,omitempty"`
	Skipped      string            `json:"-"`
	Int          bitrix.Int        `json:"int"`
	Flag         bitrix.Bool       `json:"flag"`
	Tri          TriState          `json:"tri"`
	Nested       nested            `json:"nested"`
	ByID         map[int]nested    `json:"by_id"`
	ByID8        map[int8]string   `json:"by_id8"`
	ByName       map[string]string `json:"by_name"` // encoding/json
	List         []string          `json:"list"`    // encoding/json
	Ptr          *nested           `json:"ptr"`     // encoding/json
	Any          any               `json:"any"`     // encoding/json
	Addr         netip.Addr        `json:"addr"`    // TextUnmarshaler: encoding/json
	Raw          json.RawMessage   `json:"raw"`
	Number       int               `json:"number"` // encoding/json
	Bots         map[int]Bot       `json:"bots"`
	Task         TaskFields        `json:"task"`
	Dup          string            `json:"dup"`
	DUP          string            // folds like "dup": the first one wins folded matches
}

// quoted has a ",string" field: the whole struct goes to encoding/json.
type quoted struct {
	Quoted int    `json:"quoted,string"`
	Name   string `json:"name"`
}

// conflicts has names encoding/json resolves by depth and tags.
type conflicts struct {
	confA
	confB
	Deeper twice `json:"deeper"`
}

type confA struct {
	Same   string
	Tagged string `json:"T"`
	Both   string `json:"B"`
	OnlyA  string
}

type confB struct {
	Same string
	T    string
}

// twice embeds confA twice at one depth: its fields are ambiguous.
type twice struct {
	wrapA1
	wrapA2
	Own string
}

type wrapA1 struct{ confA }
type wrapA2 struct{ confA }

type embedded struct {
	Inner string `json:"inner"`
	Name  string `json:"name"` // shadowed by shapes.Name
	Deep  deeper
}

type deeper struct{ Deepest string }

type embeddedPtr struct{ Hidden string }

type nested struct {
	ID   bitrix.Int `json:"ID"`
	Text string     `json:"TEXT"`
}

// dataTypes are the registered Data types (one value each).
func dataTypes() []func() any {
	seen := map[reflect.Type]bool{}
	var out []func() any
	for _, name := range Names() {
		f := types[name]
		if t := reflect.TypeOf(f()); !seen[t] {
			seen[t] = true
			out = append(out, f)
		}
	}
	return append(out, func() any { return new(shapes) }, func() any { return new(wireCommand) }, func() any { return new(quoted) }, func() any { return new(conflicts) })
}

// viaJSON is the decoding the tree decoder replaces: the tree's JSON
// through encoding/json.
func viaJSON(tree any, out any) error {
	b, err := json.Marshal(tree)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// checkTreeDecoder decodes the data tree of body into every type both
// ways and fails if the results differ (or only one fails).
func checkTreeDecoder(t *testing.T, body string) {
	t.Helper()
	root, err := phpform.Limits{MaxDepth: 16, MaxPairs: 10_000}.Parse(body)
	if err != nil {
		return
	}
	data, ok := root.Get("data")
	if !ok {
		return
	}
	for _, newT := range dataTypes() {
		want, got := newT(), newT()
		errW := viaJSON(data, want)
		errG := decodeTree(data, got)
		if (errW == nil) != (errG == nil) {
			t.Fatalf("%T: encoding/json err %v, tree decoder err %v", want, errW, errG)
		}
		if errW != nil {
			// Where both fail on a type, they name the same field path.
			var tw, tg *json.UnmarshalTypeError
			if errors.As(errW, &tw) && errors.As(errG, &tg) && tw.Field != tg.Field {
				t.Fatalf("%T: encoding/json fails at %q, tree decoder at %q", want, tw.Field, tg.Field)
			}
			continue
		}
		if d := cmp.Diff(want, got, cmp.Exporter(func(reflect.Type) bool { return true }), cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); d != "" {
			t.Fatalf("%T: (-encoding/json +tree decoder)\n%s", want, d)
		}
	}
}

var treeDecoderSeeds = []string{
	"data[FIELDS][ID]=1&data[fields][ENTITY_TYPE_ID]=7",
	"data[fields][id]=1&data[Fields][Id]=2",
	"data[FIELDS][ID]=1.0&data[FIELDS][ENTITY_TYPE_ID]=+3",
	"data[FIELDS][ID]=x",
	"data[FIELDS][]=1",
	"data[FIELDS]=abc",
	"data=abc",
	"data[BOT][0][BOT_ID]=1",
	"data[BOT][+5][bot_id]=2&data[BOT][05][BOT_ID]=3&data[BOT][-7][BOT_CODE]=c",
	"data[BOT][99999999999999999999][BOT_ID]=1",
	"data[BOT][x][BOT_ID]=1",
	"data[BOT][1][expires]=soon",
	"data[BOT][1]=flat",
	"data[BOT][1][BOT_ID][x]=1",
	"data[PARAMS][MESSAGE]=%ff%fe%e2%82&data[PARAMS][DIALOG_ID]=%3Cb%3E%26%22%5C",
	"data[PARAMS][%E2%84%AA]=kelvin&data[USER][NAME]=%C5%BF&data[USER][%C5%BFYSTEM]=x",
	"data[PARAMS][MESSAGE_ID]=%20%2012%20&data[PARAMS][SYSTEM]=yes&data[PARAMS][SYSTEM]=maybe",
	"data[FIELDS_BEFORE]=undefined&data[FIELDS_AFTER][ID]=1&data[IS_ACCESSIBLE_BEFORE]=1&data[IS_ACCESSIBLE_AFTER]=bad",
	"data[FIELDS_BEFORE]=&data[FIELDS_AFTER]=oops",
	"data[QUERY][a][]=1&data[QUERY][a][]=2&data[LANGUAGE_ID]=de",
	"data[COMMAND][103][COMMAND]=echo&data[COMMAND][103][AUTH][access_token]=t&data[COMMAND][103][access_token]=u&data[COMMAND][103][expires]=1",
	"data[name]=a&data[inner]=b&data[Deep][Deepest]=c&data[Hidden]=d&data[Untagged]=e&data[untagged]=f&data[other]=g&data[Renamed]=h&data[Skipped]=i",
	"data[int]=12&data[flag]=Y&data[tri]=N&data[nested][ID]=3&data[nested][text]=t&data[by_id][7][ID]=1&data[by_id][8]=x",
	"data[by_id8][127]=a&data[by_id8][128]=b",
	"data[by_name][a]=1&data[list][]=x&data[list][]=y&data[ptr][ID]=4&data[any][k][]=v&data[addr]=127.0.0.1&data[raw][x]=1&data[number]=6",
	"data[quoted]=5&data[name]=n",
	"data[Same]=1&data[T]=2&data[B]=3&data[Tagged]=4&data[same]=5&data[onlya]=6&data[deeper][OnlyA]=7&data[deeper][own]=8&data[deeper][Same]=9",
	"data[quoted]=x",
	"data[addr]=not-an-ip",
	"data[bots][567][BOT_ID]=567&data[bots][567][user_id]=567&data[task][ID]=2&data[dup]=a&data[DUP]=b&data[Dup]=c",
	"data[int]=%EF%BC%91&data[flag]=on&data[tri]=undefined&data[by_id][]=1",
	"data[PARAMS][MESSAGE]=%ff%C3%A9x%E2%82%AC%fe&data[by_name][%ffk%C3%A9]=v",
	"data[nested][ID][]=1",
	"data[Deep][Deepest][]=1",
	"data[by_id][7][TEXT][]=1",
	"data[deeper][OnlyA][x]=1",
}

func TestTreeDecoderMatchesJSON(t *testing.T) {
	t.Parallel()
	bodies := append([]string(nil), treeDecoderSeeds...)
	bodies = append(bodies, seedBodies(t)...)
	for _, body := range bodies {
		checkTreeDecoder(t, body)
	}
}

// TestTreeDecoderCoversShapes guards the comparison above: the shapes
// seeds must decode into every field, and the failure seeds must fail.
func TestTreeDecoderCoversShapes(t *testing.T) {
	t.Parallel()
	// The comparison means something only where the tree decoder does the
	// work itself.
	for _, v := range append(dataTypes(), func() any { return new(map[int]nested) }) {
		typ := reflect.TypeOf(v()).Elem()
		want := planStruct
		switch typ {
		case reflect.TypeFor[quoted]():
			want = planFallback
		case reflect.TypeFor[BotMessage]():
			want = planHook
		case reflect.TypeFor[map[int]nested]():
			want = planMap
		}
		if got := planFor(typ).kind; got != want {
			t.Errorf("plan for %v = %d, want %d", typ, got, want)
		}
	}
	if p := planFor(reflect.TypeFor[conflicts]()); len(p.exact) != 4 || p.exact["T"] == nil || p.exact["OnlyA"] == nil ||
		len(p.exact["deeper"].plan.exact) != 1 || p.exact["deeper"].plan.exact["Own"] == nil {
		t.Errorf("conflicts plan: %+v; deeper %+v", p.exact, p.exact["deeper"].plan.exact)
	}
	if p := planFor(reflect.TypeFor[shapes]()); p.exact["by_id8"].plan.kind != planMap || p.exact["addr"].plan.kind != planFallback ||
		p.exact["Hidden"] != nil || p.exact["inner"] == nil || p.exact["Deep"] == nil || p.exact["Name"] != nil {
		t.Errorf("shapes plan: %+v", p.exact)
	}
	decode := func(body string) (*shapes, error) {
		root, err := phpform.Parse(body)
		if err != nil {
			t.Fatal(err)
		}
		var s shapes
		data, _ := root.Get("data")
		return &s, decodeTree(data, &s)
	}
	got, err := decode("data[name]=a&data[inner]=b&data[Deep][Deepest]=c&data[Hidden]=d&data[Untagged]=e&data[untagged]=f" +
		"&data[other]=g&data[Renamed]=h&data[Skipped]=i&data[int]=12&data[flag]=Y&data[tri]=N&data[nested][ID]=3" +
		"&data[nested][text]=t&data[by_id][7][ID]=1&data[by_name][a]=1&data[list][]=x&data[list][]=y&data[ptr][ID]=4" +
		"&data[any][k][]=v&data[addr]=127.0.0.1&data[raw][x]=1&data[bots][567][BOT_ID]=567" +
		"&data[bots][567][user_id]=567&data[task][ID]=2&data[dup]=a&data[DUP]=b&data[Dup]=c")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "a" || got.Inner != "b" || got.Deep.Deepest != "c" || got.Untagged != "f" || got.Renamed != "g" ||
		got.Skipped != "" || got.Int != 12 || !bool(got.Flag) || got.Tri != No || got.Nested != (nested{ID: 3, Text: "t"}) ||
		got.ByID[7].ID != 1 || got.ByName["a"] != "1" || len(got.List) != 2 || got.Ptr.ID != 4 || got.Any == nil ||
		got.Addr.String() != "127.0.0.1" || string(got.Raw) != `{"x":"1"}` || got.Bots[567].Auth.UserID != 567 ||
		got.Task.ID != 2 || got.Dup != "c" || got.DUP != "b" {
		t.Errorf("decoded %+v", got)
	}
	for _, body := range []string{"data[by_id][8]=x", "data[number]=6", "data[addr]=x", "data[by_id8][128]=b", "data[bots][x][BOT_ID]=1", "data[nested][]=1"} {
		if _, err := decode(body); err == nil {
			t.Errorf("%s: no error", body)
		} else if te := (*json.UnmarshalTypeError)(nil); errors.As(err, &te) && strings.Contains(body, "nested") && te.Field != "nested" {
			t.Errorf("%s: field %q", body, te.Field)
		}
	}
}

func FuzzTreeDecoder(f *testing.F) {
	for _, s := range treeDecoderSeeds {
		f.Add(s)
	}
	for _, s := range seedBodies(f) {
		f.Add(s)
	}
	f.Fuzz(checkTreeDecoder)
}
