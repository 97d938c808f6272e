package phpform

import (
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"testing"
)

// referenceParse is Parse without its fast paths: every key and value
// unescaped on its own, then assigned.
func referenceParse(l Limits, query string) (*Map, error) {
	var b builder
	root := NewMap()
	pairs := 0
	for _, pair := range strings.Split(query, "&") {
		if pair == "" {
			continue
		}
		pairs++
		if l.MaxPairs > 0 && pairs > l.MaxPairs {
			return nil, fmt.Errorf("%w: more than %d", ErrTooManyPairs, l.MaxPairs)
		}
		k, v, _ := strings.Cut(pair, "=")
		b = builder{} // no state from earlier pairs
		if err := l.assign(root, referenceUnescape(k), referenceUnescape(v), &b); err != nil {
			return nil, err
		}
	}
	return root, nil
}

// referenceUnescape is PHP's urldecode, byte by byte.
func referenceUnescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			b.WriteByte(' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// dump renders a tree with its key order, next append index and leaf
// types, so that two dumps are equal only for equal trees.
func dump(v any) string {
	m, ok := v.(*Map)
	if !ok {
		return fmt.Sprintf("%T(%q)", v, v)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "{next=%d", m.next)
	for _, k := range m.Keys() {
		c, _ := m.Get(k)
		fmt.Fprintf(&b, " %q:%s", k, dump(c))
	}
	b.WriteString("}")
	return b.String()
}

var fastPathSeeds = []string{
	"data%5BBOT%5D%5B567%5D%5BAUTH%5D%5Baccess_token%5D=a%2Fb&data%5BBOT%5D%5B567%5D%5BBOT_ID%5D=567",
	"a%5bb%5d%5bc%5d=1&a[b][]=2&a%5B%5D%5Bx%5D=3&a%5B%5D=4",
	"a%5Bb=1&a%5Bb%5D%5Bc=2&a[b%5Bc]=3&a[b]%5Bc%5D=4&a%5Bb%5Dx%5Bc%5D=5",
	"a%5D=1&a]b[c]=2&%5Bx%5D=3&+a[b]=4&a.b[c]=5&a%2Eb[c]=6&a b[c]=7&a%20b[c]=8",
	"a[b%2Bc]=1&a[b+c]=2&a[%5B]=3&a[%5D]=4&a[%zz]=5&a[b%]=6&a[b%5]=7&a%5",
	"a[1][2][3][4][5][6][7][8][9]=x&b%5B1%5D%5B2%5D%5B3%5D%5B4%5D%5B5%5D%5B6%5D%5B7%5D%5B8%5D=y",
	"a=1&a[b]=2&a=3&c[d]=4&c[d][e]=5&c[d]=6",
	"a[b]=1&a=2&a[c]=3&d[e][f]=1&d[e]=2&d[e][g]=3&h[i][]=1&h[i][]=2&h[i][][j]=3&h[i][][j]=4",
	"%5B=1&%5D=2&%=3&=4&a=%&b=%4&c=%41%4g&d=++&e=%2B%2b",
	"x[-1]=a&x[]=b&x[007]=c&x[]=d&x[99999999999999999999]=e&x[]=f",
	"0[]&00&a[b]=1&ab=2&a%5Bc%5D=3&a[d][e]=1&a[d]x=2&a[d][e]f[g]=3&a[d]%5Bh%5D=4&a[d]%5Bi=5&a[d][+]=6",
}

func checkFastPath(t *testing.T, l Limits, query string) {
	t.Helper()
	want, errW := referenceParse(l, query)
	got, errG := l.Parse(query)
	if (errW == nil) != (errG == nil) || errW != nil && errW.Error() != errG.Error() {
		t.Fatalf("Parse(%q): err %v, reference %v", query, errG, errW)
	}
	if errW == nil && dump(want) != dump(got) {
		t.Fatalf("Parse(%q)\n got %s\nwant %s", query, dump(got), dump(want))
	}
	if errW != nil {
		return
	}
	checkParseNames(t, l, query, want)
	// Released maps come back clean, whatever shape they are reused for.
	d := dump(got)
	got.Release()
	for _, q := range []string{query, "a[b][c]=1&a[b][d]=2&x[]=1", query} {
		again, err := l.Parse(q)
		if err != nil {
			continue
		}
		want, _ := referenceParse(l, q)
		if dump(again) != dump(want) {
			t.Fatalf("Parse(%q) after Release\n got %s\nwant %s", q, dump(again), dump(want))
		}
		again.Release()
	}
	_ = d
}

func TestParseFastPathMatchesReference(t *testing.T) {
	t.Parallel()
	for _, l := range []Limits{DefaultLimits, {MaxDepth: 3, MaxPairs: 5}, {}} {
		for _, q := range fastPathSeeds {
			checkFastPath(t, l, q)
		}
	}
	// The fast path must actually take the escaped bracket keys.
	var bounds [9]int
	name, segs, ok := splitEscaped("data%5BBOT%5D%5b567%5d[AUTH]%5Bx]", nil, &bounds, 0)
	if ok || name != "" {
		t.Errorf("nil segs buffer: %q %q %v", name, segs, ok)
	}
	var buf [8]string
	name, segs, ok = splitEscaped("data%5BBOT%5D%5b567%5d[AUTH]%5Bx]", buf[:0], &bounds, 0)
	if !ok || name != "data" || strings.Join(segs, "|") != "BOT|567|AUTH|x" || bounds != [9]int{4, 13, 22, 28, 33} {
		t.Errorf("splitEscaped = %q %q %v %v", name, segs, ok, bounds)
	}
}

func TestParseSizesMapsFromKeysAhead(t *testing.T) {
	// Not parallel: maps released by other tests would be reused here.
	runtime.GC() // twice empties the pools of released maps
	runtime.GC()
	var q strings.Builder
	for i := range 27 {
		fmt.Fprintf(&q, "data%%5BPARAMS%%5D%%5BK%d%%5D=%d&", i, i)
	}
	for i := range 6 {
		fmt.Fprintf(&q, "data[BOT][567][k%d]=x&", i)
	}
	for i := range 6 {
		fmt.Fprintf(&q, "data[BOT][567][AUTH][k%d]=y&", i)
	}
	q.WriteString("data[BOT][567][BOT_ID]=1&data[USER][a]=1&data[USER][b]=2&data[USER][c]=4&data[USER][d]=5&data[USER][e]=6&data[USER][a]=7&data[USER][f]=8&other=1")
	m, err := Parse(q.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		m        *Map
		len, cap int
	}{
		{m.Map("data").Map("PARAMS"), 27, 27},
		{m.Map("data").Map("BOT").Map("567"), 8, 8},
		{m.Map("data").Map("BOT").Map("567").Map("AUTH"), 6, 6},
		{m.Map("data").Map("USER"), 6, 7}, // a repeated key is counted twice
		{m.Map("data"), 3, firstCap},
	} {
		if len(tt.m.keys) != tt.len || cap(tt.m.keys) != tt.cap || cap(tt.m.ents) != tt.cap {
			t.Errorf("keys %v: len %d cap %d/%d, want %d, %d", tt.m.keys, len(tt.m.keys), cap(tt.m.keys), cap(tt.m.ents), tt.len, tt.cap)
		}
	}
}

func TestParseArenaStringsStayValid(t *testing.T) {
	t.Parallel()
	// Many escaped values: the arena moves on to new buffers, and the
	// strings cut from earlier ones must keep their content.
	var q strings.Builder
	want := url.Values{}
	for i := range 300 {
		v := fmt.Sprintf("v%d/%s", i, strings.Repeat("é", i%7))
		fmt.Fprintf(&q, "k%d=%s&", i, url.QueryEscape(v))
		want.Set(fmt.Sprint("k", i), v)
	}
	m, err := Parse(q.String())
	if err != nil {
		t.Fatal(err)
	}
	for k := range want {
		if got := m.String(k); got != want.Get(k) {
			t.Fatalf("%s = %q, want %q", k, got, want.Get(k))
		}
	}
}

func FuzzParseFastPath(f *testing.F) {
	for _, q := range fastPathSeeds {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, query string) {
		checkFastPath(t, Limits{MaxDepth: 4, MaxPairs: 50}, query)
		checkFastPath(t, DefaultLimits, query)
	})
}

func TestReleaseReusesMaps(t *testing.T) {
	// Not parallel: it counts allocations.
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	var q strings.Builder
	for i := range 20 {
		fmt.Fprintf(&q, "data%%5BPARAMS%%5D%%5BK%d%%5D=%d&data%%5BUSER%%5D%%5BK%d%%5D=x&", i, i, i)
	}
	query := q.String()
	fresh := testing.AllocsPerRun(20, func() {
		if _, err := Parse(query); err != nil {
			t.Fatal(err)
		}
	})
	reused := testing.AllocsPerRun(20, func() {
		m, err := Parse(query)
		if err != nil {
			t.Fatal(err)
		}
		if m.Map("data").Map("USER").String("K19") != "x" || m.Map("data").Map("PARAMS").Len() != 20 {
			t.Fatalf("parsed %v", Plain(m))
		}
		m.Release()
	})
	if reused > 2 || fresh < 8 {
		t.Errorf("allocations per Parse: %v fresh, %v with Release", fresh, reused)
	}
}

// TestParsedLeavesBehaveLikeSetOnes checks that the unboxed string leaves
// of a parsed tree read back through every accessor exactly like leaves
// stored with Set.
func TestParsedLeavesBehaveLikeSetOnes(t *testing.T) {
	t.Parallel()
	parsed, err := Parse("a=1&b[c]=2&b[]=3&d=%3Cx%3E&e[f][g]=4")
	if err != nil {
		t.Fatal(err)
	}
	built := NewMap()
	built.Set("a", "1")
	b := NewMap()
	b.Set("c", "2")
	b.Append("3")
	built.Set("b", b)
	built.Set("d", "<x>")
	f := NewMap()
	f.Set("g", "4")
	e := NewMap()
	e.Set("f", f)
	built.Set("e", e)
	for _, m := range []*Map{parsed, built, parsed.Clone()} {
		if v, ok := m.Get("a"); v != "1" || !ok {
			t.Errorf("Get = %#v, %v", v, ok)
		}
		if got := m.String("d"); got != "<x>" {
			t.Errorf("String = %q", got)
		}
		if got := fmt.Sprint(m.Map("b").Values()); got != "[2 3]" {
			t.Errorf("Values = %s", got)
		}
		k, v, leaf, isLeaf := m.Entry(0)
		if k != "a" || v != nil || leaf != "1" || !isLeaf {
			t.Errorf("Entry(0) = %q %#v %q %v", k, v, leaf, isLeaf)
		}
		k, v, leaf, isLeaf = m.Entry(1)
		if k != "b" || v != m.Map("b") || leaf != "" || isLeaf {
			t.Errorf("Entry(1) = %q %#v %q %v", k, v, leaf, isLeaf)
		}
		js, err := m.MarshalJSON()
		if err != nil || string(js) != `{"a":"1","b":{"c":"2","0":"3"},"d":"\u003cx\u003e","e":{"f":{"g":"4"}}}` {
			t.Errorf("MarshalJSON = %s, %v", js, err)
		}
		enc, err := Encode(m)
		if err != nil || enc != "a=1&b%5Bc%5D=2&b%5B0%5D=3&d=%3Cx%3E&e%5Bf%5D%5Bg%5D=4" {
			t.Errorf("Encode = %s, %v", enc, err)
		}
		if got := fmt.Sprint(Plain(m)); got != "map[a:1 b:map[0:3 c:2] d:<x> e:map[f:map[g:4]]]" {
			t.Errorf("Plain = %s", got)
		}
	}
	parsed.Delete("a")
	if _, ok := parsed.Get("a"); ok || parsed.String("d") != "<x>" || parsed.Len() != 3 {
		t.Errorf("after Delete: %v", Plain(parsed))
	}
}

// checkParseNames checks that ParseNames keeps exactly the subtrees Parse
// builds for the kept names (want is the reference tree of query).
func checkParseNames(t *testing.T, l Limits, query string, want *Map) {
	t.Helper()
	for _, kept := range [][]string{{"a"}, {"data", "auth"}, {"a", "c", "x"}, {}} {
		keep := func(name string) bool {
			for _, k := range kept {
				if k == name {
					return true
				}
			}
			return false
		}
		got, err := l.ParseNames(query, keep)
		if err != nil {
			t.Fatalf("ParseNames(%q): %v (Parse accepted it)", query, err)
		}
		var g, w []string
		for _, k := range got.Keys() {
			v, _ := got.Get(k)
			g = append(g, k+"="+dump(v))
		}
		for _, k := range want.Keys() {
			if keep(k) {
				v, _ := want.Get(k)
				w = append(w, k+"="+dump(v))
			}
		}
		if strings.Join(g, " ") != strings.Join(w, " ") {
			t.Fatalf("ParseNames(%q, %q)\n got %s\nwant %s", query, kept, g, w)
		}
		got.ReleaseNames()
	}
}
