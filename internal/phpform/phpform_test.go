package phpform

import (
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustParse(t *testing.T, q string) *Map {
	t.Helper()
	m, err := Parse(q)
	if err != nil {
		t.Fatalf("Parse(%q): %v", q, err)
	}
	return m
}

func TestParseFixtureLeadAdd(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/req_crm_lead_add_urlencoded.txt")
	if err != nil {
		t.Fatal(err)
	}
	got := Plain(mustParse(t, strings.TrimSpace(string(raw))))
	want := map[string]any{"fields": map[string]any{
		"TITLE": "My company",
		"PHONE": []any{
			map[string]any{"VALUE": "112233", "VALUE_TYPE": "WORK"},
			map[string]any{"VALUE": "555888112", "VALUE_TYPE": "OTHER"},
		},
	}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
}

func TestParseFixtureBatchDoubleEncoded(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/req_batch_double_encoded.txt")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	outer := mustParse(t, u.RawQuery)
	cmd := outer.Map("cmd").String("0")
	if cmd != "crm.lead.add?fields[TITLE]=John%26Martin" {
		t.Fatalf("outer decode gave %q", cmd)
	}
	method, query, _ := strings.Cut(cmd, "?")
	inner := mustParse(t, query)
	if method != "crm.lead.add" || inner.Map("fields").String("TITLE") != "John&Martin" {
		t.Errorf("inner decode: method %q, tree %v", method, Plain(inner))
	}
}

func TestParseFixturePositional(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/req_task_commentitem_add_positional.txt")
	if err != nil {
		t.Fatal(err)
	}
	_, q, _ := strings.Cut(strings.Trim(strings.TrimSpace(string(raw)), "curl '"), "?")
	m := mustParse(t, q)
	if d := cmp.Diff([]string{"0", "1"}, m.Keys()); d != "" {
		t.Errorf("keys (-want +got)\n%s", d)
	}
	if d := cmp.Diff([]any{"123", map[string]any{"POST_MESSAGE": "test"}}, Plain(m)); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
}

// TestParsePHPSemantics pins down parse_str behaviour the portal relies on.
func TestParsePHPSemantics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     any
	}{
		{"append", "a[]=x&a[]=y", map[string]any{"a": []any{"x", "y"}}},
		{"append after explicit index", "a[5]=x&a[]=y", map[string]any{"a": map[string]any{"5": "x", "6": "y"}}},
		{"later key wins", "a=1&a=2", map[string]any{"a": "2"}},
		{"scalar replaced by array", "a=1&a[b]=2", map[string]any{"a": map[string]any{"b": "2"}}},
		{"array replaced by scalar", "a[b]=2&a=1", map[string]any{"a": "1"}},
		{"dot and space in top name", "a.b=1&c+d=2", map[string]any{"a_b": "1", "c_d": "2"}},
		{"dot kept in index", "a[b.c]=1", map[string]any{"a": map[string]any{"b.c": "1"}}},
		{"unclosed bracket", "a[b=1", map[string]any{"a_b": "1"}},
		{"unclosed bracket keeps later dots", "a.x[b.c=1", map[string]any{"a_x_b.c": "1"}},
		{"only brackets", "[[[=1", map[string]any{}},
		{"trailing junk ignored", "a[b]c=1", map[string]any{"a": map[string]any{"b": "1"}}},
		{"empty name ignored", "=1&[x]=2&b=3", map[string]any{"b": "3"}},
		{"no value", "a&b=", map[string]any{"a": "", "b": ""}},
		{"plus and percent", "q=a+b%26c%zz", map[string]any{"q": "a b&c%zz"}},
		{"escaped brackets", "f%5BX%5D%5B0%5D=1", map[string]any{"f": map[string]any{"X": []any{"1"}}}},
		{"filter operators", "filter%5B%3EID%5D=10&filter%5B%21%3DTITLE%5D=x", map[string]any{"filter": map[string]any{">ID": "10", "!=TITLE": "x"}}},
		{"nested append", "a[][x]=1&a[][x]=2", map[string]any{"a": []any{map[string]any{"x": "1"}, map[string]any{"x": "2"}}}},
		{"empty pairs", "&&a=1&", map[string]any{"a": "1"}},
		{"reference kept literal", "id=%24result%5Bd%5D%5BID%5D", map[string]any{"id": "$result[d][ID]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if d := cmp.Diff(tt.want, Plain(mustParse(t, tt.in))); d != "" {
				t.Errorf("Parse(%q) (-want +got)\n%s", tt.in, d)
			}
		})
	}
}

func TestParseKeepsOrder(t *testing.T) {
	t.Parallel()
	m := mustParse(t, "cmd[z]=1&cmd[a]=2&cmd[m]=3")
	if d := cmp.Diff([]string{"z", "a", "m"}, m.Map("cmd").Keys()); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
}

func TestLimits(t *testing.T) {
	t.Parallel()
	deep := "a" + strings.Repeat("[x]", 65) + "=1"
	if _, err := Parse(deep); !errors.Is(err, ErrTooDeep) {
		t.Errorf("65 levels: err = %v, want ErrTooDeep", err)
	}
	if _, err := Parse("a" + strings.Repeat("[x]", 64) + "=1"); err != nil {
		t.Errorf("64 levels: %v", err)
	}
	l := Limits{MaxDepth: 8, MaxPairs: 3}
	if _, err := l.Parse("a=1&b=2&c=3&d=4"); !errors.Is(err, ErrTooManyPairs) {
		t.Errorf("4 pairs with MaxPairs 3: err = %v", err)
	}
	if _, err := l.FromValues(url.Values{"a": {"1", "2"}, "b": {"3", "4"}}); !errors.Is(err, ErrTooManyPairs) {
		t.Errorf("FromValues: err = %v", err)
	}
	if _, err := l.ParseJSON([]byte(`[[[[[[[[[[1]]]]]]]]]]`)); !errors.Is(err, ErrTooDeep) {
		t.Errorf("deep JSON: err = %v", err)
	}
	if _, err := l.ParseJSON([]byte(`[1,2,3,4]`)); !errors.Is(err, ErrTooManyPairs) {
		t.Errorf("wide JSON: err = %v", err)
	}
	// A huge index costs one map entry, not a huge slice.
	m := mustParse(t, "a[99999999999]=1&a[]=2")
	if m.Map("a").Len() != 2 {
		t.Errorf("huge index: %v", Plain(m))
	}
}

// TestEncodeAcceptsWhatParseAccepts: the deepest key Parse takes must
// encode again (the fuzzer found the encoder one level stricter).
func TestEncodeAcceptsWhatParseAccepts(t *testing.T) {
	t.Parallel()
	deepest := "a" + strings.Repeat("[x]", DefaultLimits.MaxDepth) + "=1"
	m := mustParse(t, deepest)
	enc, err := Encode(m)
	if err != nil {
		t.Fatalf("Encode of the deepest parsable key: %v", err)
	}
	if d := cmp.Diff(Plain(m), Plain(mustParse(t, enc))); d != "" {
		t.Errorf("round trip (-want +got)\n%s", d)
	}
	// One level more is refused on both sides.
	tooDeep := map[string]any{"a": map[string]any{}}
	cur := tooDeep["a"].(map[string]any)
	for range DefaultLimits.MaxDepth {
		next := map[string]any{}
		cur["x"] = next
		cur = next
	}
	cur["x"] = "1"
	if _, err := Encode(tooDeep); !errors.Is(err, ErrTooDeep) {
		t.Errorf("Encode of %d levels: err = %v, want ErrTooDeep", DefaultLimits.MaxDepth+1, err)
	}
}

func TestFromValuesSortedAndStable(t *testing.T) {
	t.Parallel()
	m, err := FromValues(url.Values{"b[]": {"1", "2"}, "a[x]": {"3"}})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"a", "b"}, m.Keys()); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
	if d := cmp.Diff([]any{"1", "2"}, Plain(m.Map("b"))); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
}

func TestEncodeMatchesHTTPBuildQuery(t *testing.T) {
	t.Parallel()
	type phone struct {
		Value string `json:"VALUE"`
		Type  string `json:"VALUE_TYPE,omitempty"`
	}
	type fields struct {
		Title  string  `json:"TITLE"`
		Phone  []phone `json:"PHONE,omitempty"`
		Opened *bool   `json:"OPENED,omitempty"`
		Sum    float64 `json:"OPPORTUNITY"`
	}
	yes := true
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"map sorted", map[string]any{"b": 1, "a": "x y"}, "a=x+y&b=1"},
		{"list indexes", map[string]any{"select": []string{"ID", "NAME"}}, "select%5B0%5D=ID&select%5B1%5D=NAME"},
		{"bools", map[string]any{"t": true, "f": false}, "f=0&t=1"},
		{"nil and empty dropped", map[string]any{"n": nil, "e": []any{}, "m": map[string]any{}, "k": "v"}, "k=v"},
		{"special chars", map[string]any{"TITLE": "John&Martin"}, "TITLE=John%26Martin"},
		{"float", map[string]any{"p": 10.5, "q": 3.0}, "p=10.5&q=3"},
		{"struct via json tags", map[string]any{"fields": fields{Title: "T", Phone: []phone{{"1", "WORK"}}, Opened: &yes, Sum: 2.25}},
			"fields%5BTITLE%5D=T&fields%5BPHONE%5D%5B0%5D%5BVALUE%5D=1&fields%5BPHONE%5D%5B0%5D%5BVALUE_TYPE%5D=WORK&fields%5BOPENED%5D=1&fields%5BOPPORTUNITY%5D=2.25"},
		{"nil pointer struct field", map[string]any{"x": (*fields)(nil), "y": "1"}, "y=1"},
		{"url.Values", url.Values{"b": {"2"}, "a": {"1", "3"}}, "a=1&a=3&b=2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Encode(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Encode = %q\n want %q", got, tt.want)
			}
		})
	}
}

func TestEncodeOrderedMap(t *testing.T) {
	t.Parallel()
	m := NewMap()
	m.Set("z", "1")
	m.Set("a", "2")
	got, err := Encode(m)
	if err != nil || got != "z=1&a=2" {
		t.Errorf("Encode = %q, %v", got, err)
	}
}

func TestEncodeErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []any{"bare", 42, map[string]any{"x": []any{1.0, func() {}}}} {
		if s, err := Encode(in); err == nil {
			t.Errorf("Encode(%T) = %q, want error", in, s)
		}
	}
}

func TestParseJSONKeepsOrderAndTypes(t *testing.T) {
	t.Parallel()
	tree, err := ParseJSON([]byte(`{"halt":0,"cmd":{"b":"x?y=1","a":"z"},"f":true,"n":null,"l":[1,"2"]}`))
	if err != nil {
		t.Fatal(err)
	}
	m := tree.(*Map)
	if d := cmp.Diff([]string{"b", "a"}, m.Map("cmd").Keys()); d != "" {
		t.Errorf("order (-want +got)\n%s", d)
	}
	want := map[string]any{"halt": json.Number("0"), "cmd": map[string]any{"b": "x?y=1", "a": "z"},
		"f": true, "n": nil, "l": []any{json.Number("1"), "2"}}
	if d := cmp.Diff(want, Plain(m)); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
	for _, bad := range []string{`{"a":`, `{"a":1} x`, ``, `{1:2}`} {
		if _, err := ParseJSON([]byte(bad)); err == nil {
			t.Errorf("ParseJSON(%q) succeeded", bad)
		}
	}
}

func TestMarshalJSONLikePHP(t *testing.T) {
	t.Parallel()
	m := mustParse(t, "a[]=1&a[]=2&b[x]=y&c[0]=1&c[2]=3")
	m.Set("e", NewMap())
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"a":["1","2"],"b":{"x":"y"},"c":{"0":"1","2":"3"},"e":[]}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

func TestUnmarshalFixtureIntoStruct(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/event_ONIMBOTMESSAGEADD_private.json")
	if err != nil {
		t.Fatal(err)
	}
	// Turn the docs' decoded view into the form body the portal sends, then back.
	tree, err := ParseJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	body, err := Encode(tree)
	if err != nil {
		t.Fatal(err)
	}
	form := mustParse(t, body)
	var ev struct {
		Event string `json:"event"`
		Data  struct {
			Bot map[string]struct {
				BotID string `json:"BOT_ID"`
			} `json:"BOT"`
			Params struct {
				Message  string `json:"MESSAGE"`
				DialogID string `json:"DIALOG_ID"`
			} `json:"PARAMS"`
		} `json:"data"`
	}
	if err := Unmarshal(form, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Event != "ONIMBOTMESSAGEADD" || len(ev.Data.Bot) != 1 || ev.Data.Params.Message == "" || ev.Data.Params.DialogID == "" {
		t.Errorf("decoded %+v", ev)
	}
	for id, b := range ev.Data.Bot {
		if b.BotID != id {
			t.Errorf("bot map key %q holds BOT_ID %q", id, b.BotID)
		}
	}
}

func TestMapEditing(t *testing.T) {
	t.Parallel()
	m := NewMap()
	m.Set("a", "1")
	m.Set("b", "2")
	m.Set("a", "3")
	c := m.Clone()
	m.Delete("a")
	m.Delete("missing")
	if d := cmp.Diff([]string{"b"}, m.Keys()); d != "" {
		t.Errorf("after delete (-want +got)\n%s", d)
	}
	if d := cmp.Diff(map[string]any{"a": "3", "b": "2"}, Plain(c)); d != "" {
		t.Errorf("clone (-want +got)\n%s", d)
	}
	if s, ok := LeafString(true); !ok || s != "1" {
		t.Errorf("LeafString(true) = %q", s)
	}
	if _, ok := LeafString(NewMap()); ok {
		t.Error("LeafString(*Map) reported a leaf")
	}
}

// FuzzRoundTrip checks that whatever Parse builds, Encode writes a form
// that parses back to the same tree, and that nothing panics.
func FuzzRoundTrip(f *testing.F) {
	for _, name := range []string{"req_crm_lead_add_urlencoded.txt", "req_task_commentitem_add_positional.txt"} {
		if b, err := os.ReadFile("testdata/" + name); err == nil {
			f.Add(string(b))
		}
	}
	f.Add("a[]=1&a[]=2&b[x][y]=z")
	f.Add("a[5]=x&a[]=y&c.d=1")
	f.Add("a[b=1&[x]=2&=3")
	f.Add(strings.Repeat("a", 10) + strings.Repeat("[x]", 70) + "=1")
	f.Fuzz(func(t *testing.T, in string) {
		m, err := Parse(in)
		if err != nil {
			return
		}
		enc, err := Encode(m)
		if err != nil {
			t.Fatalf("Encode of parsed %q: %v", in, err)
		}
		back, err := Parse(enc)
		if err != nil {
			t.Fatalf("reparse %q: %v", enc, err)
		}
		// A top-level name can hold "[", "." or " " (PHP's rule for an unclosed bracket)
		// and no form can say that again; everything else must survive as is.
		// Empty maps cannot be written to a form, so compare after pruning.
		if representable(m) {
			if d := cmp.Diff(Plain(prune(m)), Plain(back)); d != "" {
				t.Fatalf("round trip of %q via %q (-want +got)\n%s", in, enc, d)
			}
		}
		if !representable(back) {
			return
		}
		// Whatever the input, one trip normalises it: a second changes nothing.
		enc2, err := Encode(back)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Parse(enc2)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(Plain(back), Plain(again)); d != "" {
			t.Fatalf("second trip of %q changed the tree (-want +got)\n%s", in, d)
		}
	})
}

func representable(m *Map) bool {
	for _, k := range m.Keys() {
		if strings.ContainsAny(k, "[]. ") {
			return false
		}
	}
	return true
}

// prune drops empty maps, which a form cannot express.
func prune(m *Map) *Map {
	out := NewMap()
	for _, k := range m.Keys() {
		v, _ := m.Get(k)
		if sub, ok := v.(*Map); ok {
			sub = prune(sub)
			if sub.Len() == 0 {
				continue
			}
			v = sub
		}
		out.Set(k, v)
	}
	return out
}

func BenchmarkEncode(b *testing.B) {
	params := map[string]any{"fields": map[string]any{
		"TITLE": "ООО Ромашка", "OPPORTUNITY": 1500.5, "OPENED": true,
		"PHONE": []any{map[string]any{"VALUE": "+7 900 000", "VALUE_TYPE": "WORK"}},
		"EMAIL": []any{map[string]any{"VALUE": "a@b.c", "VALUE_TYPE": "WORK"}},
	}, "params": map[string]any{"REGISTER_SONET_EVENT": "Y"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(params); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	q := "event=ONIMBOTMESSAGEADD&data%5BBOT%5D%5B39%5D%5BBOT_ID%5D=39&data%5BPARAMS%5D%5BMESSAGE%5D=hello&data%5BPARAMS%5D%5BDIALOG_ID%5D=1&auth%5Bapplication_token%5D=abc&auth%5Bmember_id%5D=def&ts=1"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(q); err != nil {
			b.Fatal(err)
		}
	}
}

// TestMarshalJSONStringsMatchEncodingJSON checks the fast path for string
// leaves and keys against encoding/json.
func TestMarshalJSONStringsMatchEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "plain ASCII 123", "q\"uote", "back\\slash", "<b>&amp;", "tab\tnl\n", "\x00\x1f",
		"кириллица", "emoji 🙂", "bad utf8 \xff", "\u2028\u2029", "\x7f"} {
		m := NewMap()
		m.Set(s, s)
		got, err := m.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(map[string]string{s: s})
		if string(got) != string(want) {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	}
}
