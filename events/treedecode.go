package events

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/internal/phpform"
)

// This file decodes a data tree (as phpform builds it from a form: *Map
// inner nodes, string leaves) straight into the typed structs, with the
// result json.Unmarshal would give on the tree's JSON (Map.MarshalJSON):
//
//   - a *Map that is a list is a JSON array, any other *Map an object, a
//     leaf a JSON string (invalid UTF-8 bytes become U+FFFD, as
//     json.Marshal writes them);
//   - struct fields match object keys by json tag or name, exactly first,
//     then case-insensitively (encoding/json's folding), embedded structs
//     promote their fields, unknown keys are skipped, and decoding merges
//     into the existing value;
//   - map keys parse with strconv for integer key types; each entry is
//     decoded into a fresh element;
//   - json.Unmarshaler implementations get the subtree's JSON.
//
// A few leaf types have a fast path for the spellings whose result is
// obvious (bitrix.Int for plain digits, bitrix.Bool and TriState for Y/N);
// every other value of those types goes through their UnmarshalJSON.
// Types the decoder does not model (slices, pointers, interfaces, numbers,
// TextUnmarshalers, ",string" fields, embedded pointers) fall back to
// encoding/json for their subtree, so the result never differs.
// FuzzTreeDecoder checks it against the JSON round trip.

// treeUnmarshaler is implemented by the data types whose UnmarshalJSON
// reads a wire struct and converts it: they decode the same wire struct
// from the tree and apply the same conversion.
type treeUnmarshaler interface {
	unmarshalTree(d *treeDecoder, n node) error
}

type planKind uint8

const (
	planFallback    planKind = iota // encoding/json on the subtree's JSON
	planHook                        // treeUnmarshaler
	planUnmarshaler                 // json.Unmarshaler
	planString                      // a string kind without methods json uses
	planStruct
	planMap
)

// plan is how to decode into one type; plans are built once per type.
type plan struct {
	kind planKind
	typ  reflect.Type
	// leaf, when set, decodes the string leaves whose result is obvious
	// and reports false for the others (which then take kind's path).
	leaf func(s string, v reflect.Value) bool

	exact  map[string]*fieldPlan // planStruct
	folded map[string]*fieldPlan // planStruct, keys folded as encoding/json does
	// order is the field of each key of the first object decoded (nil
	// for unknown keys), in key order: deliveries of one event mostly
	// repeat it, and a string compare is cheaper than the lookups.
	order atomic.Pointer[[]orderEntry]

	elem *plan // planMap
}

type orderEntry struct {
	key string
	f   *fieldPlan
}

// field returns the field key k matches (exactly, else case-insensitively
// as encoding/json does), or nil.
func (p *plan) field(k string) *fieldPlan {
	if f := p.exact[k]; f != nil {
		return f
	}
	jk := jsonString(k)
	if f := p.exact[jk]; f != nil {
		return f
	}
	return p.folded[foldKey(jk)]
}

type fieldPlan struct {
	name  string
	index []int
	plan  *plan
	// errPath is the field in type errors, as encoding/json names it: the
	// Go names of the embedded structs it is promoted from, then name.
	errPath string
}

var (
	plansMu sync.Mutex
	plans   sync.Map // reflect.Type → *plan
)

var (
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	treeUnmarshalerType = reflect.TypeFor[treeUnmarshaler]()
)

// leafFastPaths decode the common spellings of the wire scalar types
// directly; anything else goes through the type's UnmarshalJSON.
var leafFastPaths = map[reflect.Type]func(s string, v reflect.Value) bool{
	reflect.TypeFor[bitrix.Int](): func(s string, v reflect.Value) bool {
		if len(s) > 18 {
			return false
		}
		n := int64(0)
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return false
			}
			n = n*10 + int64(c-'0')
		}
		v.SetInt(n) // "" is 0, as bitrix.Int decodes it
		return true
	},
	reflect.TypeFor[bitrix.Bool](): func(s string, v reflect.Value) bool {
		switch s {
		case "Y", "y", "1":
			v.SetBool(true)
		case "N", "n", "0", "":
			v.SetBool(false)
		default:
			return false
		}
		return true
	},
	reflect.TypeFor[TriState](): func(s string, v reflect.Value) bool {
		switch s {
		case "Y":
			v.SetInt(int64(Yes))
		case "N":
			v.SetInt(int64(No))
		case "undefined", "":
			v.SetInt(int64(Undefined))
		default:
			return false
		}
		return true
	},
}

func planFor(t reflect.Type) *plan {
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	plansMu.Lock()
	defer plansMu.Unlock()
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	building := map[reflect.Type]*plan{}
	p := buildPlan(t, building)
	for typ, bp := range building { // publish complete plans only
		plans.Store(typ, bp)
	}
	return p
}

func buildPlan(t reflect.Type, building map[reflect.Type]*plan) *plan {
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	if p, ok := building[t]; ok {
		return p
	}
	p := &plan{typ: t, leaf: leafFastPaths[t]}
	building[t] = p
	pt := reflect.PointerTo(t)
	switch {
	case pt.Implements(treeUnmarshalerType):
		p.kind = planHook
	case pt.Implements(jsonUnmarshalerType):
		p.kind = planUnmarshaler
	case pt.Implements(textUnmarshalerType):
		p.kind = planFallback
	case t.Kind() == reflect.String:
		p.kind = planString
	case t.Kind() == reflect.Struct:
		p.kind = planStruct
		if !buildFields(p, building) {
			*p = plan{kind: planFallback, typ: t}
		}
	case t.Kind() == reflect.Map && isIntKind(t.Key().Kind()) && !reflect.PointerTo(t.Key()).Implements(textUnmarshalerType):
		p.kind = planMap
		p.elem = buildPlan(t.Elem(), building)
	default:
		p.kind = planFallback
	}
	return p
}

func isIntKind(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return true
	}
	return false
}

// buildFields lists the fields of a struct as encoding/json matches them
// (tags, embedded structs, the shallowest name wins, a tagged one among
// equals, ambiguous names dropped). It reports false for the shapes it
// leaves to encoding/json: ",string" options, tags encoding/json would
// reject, embedded pointers.
func buildFields(p *plan, building map[reflect.Type]*plan) bool {
	type cand struct {
		name   string
		tagged bool
		depth  int
		index  []int
		typ    reflect.Type
		path   []string // Go names of the embedded structs on the way
	}
	var cands []cand
	type level struct {
		typ   reflect.Type
		index []int
		path  []string
	}
	next := []level{{typ: p.typ}}
	visited := map[reflect.Type]bool{}
	for depth := 0; len(next) > 0; depth++ {
		cur := next
		next = nil
		seen := map[reflect.Type]int{}
		for _, l := range cur {
			seen[l.typ]++
		}
		for _, l := range cur {
			if visited[l.typ] {
				continue
			}
			visited[l.typ] = true
			for i := 0; i < l.typ.NumField(); i++ {
				sf := l.typ.Field(i)
				if sf.Anonymous {
					t := sf.Type
					if t.Kind() == reflect.Pointer {
						t = t.Elem()
					}
					if !sf.IsExported() && t.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				for _, o := range strings.Split(opts, ",") {
					if o == "string" {
						return false
					}
				}
				if !simpleTag(name) || !sf.IsExported() && name != "" {
					return false
				}
				index := append(append([]int(nil), l.index...), i)
				if name == "" && sf.Anonymous {
					switch {
					case sf.Type.Kind() == reflect.Struct:
						next = append(next, level{typ: sf.Type, index: index, path: append(append([]string(nil), l.path...), sf.Name)})
						continue
					case sf.Type.Kind() == reflect.Pointer && sf.Type.Elem().Kind() == reflect.Struct:
						return false // encoding/json allocates embedded pointers
					}
				}
				c := cand{name: name, tagged: name != "", depth: depth, index: index, typ: sf.Type, path: l.path}
				if c.name == "" {
					c.name = sf.Name
				}
				cands = append(cands, c)
				if seen[l.typ] > 1 { // the same embedded type twice: ambiguous
					cands = append(cands, c)
				}
			}
		}
	}
	// Dominance per name, keeping the order of first appearance by index.
	byName := map[string][]cand{}
	var order []string
	for _, c := range cands {
		if _, ok := byName[c.name]; !ok {
			order = append(order, c.name)
		}
		byName[c.name] = append(byName[c.name], c)
	}
	var fields []*fieldPlan
	for _, name := range order {
		group := byName[name]
		minDepth := group[0].depth
		for _, c := range group {
			minDepth = min(minDepth, c.depth)
		}
		var top []cand
		for _, c := range group {
			if c.depth == minDepth {
				top = append(top, c)
			}
		}
		if len(top) > 1 {
			var tagged []cand
			for _, c := range top {
				if c.tagged {
					tagged = append(tagged, c)
				}
			}
			if len(tagged) != 1 {
				continue // ambiguous: encoding/json ignores the name
			}
			top = tagged
		}
		errPath := strings.Join(append(append([]string(nil), top[0].path...), name), ".")
		fields = append(fields, &fieldPlan{name: name, index: top[0].index, plan: buildPlan(top[0].typ, building), errPath: errPath})
	}
	sortByIndex(fields)
	p.exact = make(map[string]*fieldPlan, len(fields))
	p.folded = make(map[string]*fieldPlan, len(fields))
	for _, f := range fields {
		p.exact[f.name] = f
		if k := foldKey(f.name); p.folded[k] == nil { // first folded match wins
			p.folded[k] = f
		}
	}
	return true
}

func sortByIndex(fs []*fieldPlan) {
	less := func(a, b []int) bool {
		for i := range min(len(a), len(b)) {
			if a[i] != b[i] {
				return a[i] < b[i]
			}
		}
		return len(a) < len(b)
	}
	for i := 1; i < len(fs); i++ {
		for j := i; j > 0 && less(fs[j].index, fs[j-1].index); j-- {
			fs[j], fs[j-1] = fs[j-1], fs[j]
		}
	}
}

// simpleTag reports whether a json tag name is one the decoder takes as
// it is (letters, digits, "_" and "-"; "" means the field name).
func simpleTag(name string) bool {
	for _, c := range name {
		if !(c == '_' || c == '-' || unicode.IsLetter(c) || unicode.IsDigit(c)) {
			return false
		}
	}
	return true
}

// foldKey folds a name as encoding/json does for case-insensitive field
// matching: ASCII upper-cased, other runes to the smallest rune of their
// fold set.
func foldKey(s string) string {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || 'a' <= c && c <= 'z' {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r < utf8.RuneSelf {
			if 'a' <= r && r <= 'z' {
				r -= 'a' - 'A'
			}
			b.WriteByte(byte(r))
			continue
		}
		for {
			r2 := unicode.SimpleFold(r)
			if r2 <= r {
				r = r2
				break
			}
			r = r2
		}
		b.WriteRune(r)
	}
	return b.String()
}

// jsonString returns s as encoding/json's round trip delivers it: each
// byte of invalid UTF-8 replaced by U+FFFD.
func jsonString(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteString("\ufffd")
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// node is one value of a tree: a string leaf, a *phpform.Map, or another
// leaf (json.Number, bool or nil, in trees read from JSON).
type node struct {
	m      *phpform.Map
	s      string
	other  any
	isLeaf bool
}

func nodeOf(v any) node {
	switch t := v.(type) {
	case string:
		return node{s: t, isLeaf: true}
	case *phpform.Map:
		if t != nil {
			return node{m: t}
		}
	}
	return node{other: v}
}

// entry returns the i-th key of m and its value, without boxing leaves.
func entryOf(m *phpform.Map, i int) (string, node) {
	k, v, leaf, isLeaf := m.Entry(i)
	if isLeaf {
		return k, node{s: leaf, isLeaf: true}
	}
	return k, nodeOf(v)
}

// treeDecoder decodes one tree; scratch is reused for the JSON of leaves
// handed to UnmarshalJSON (which must not keep its argument).
type treeDecoder struct {
	scratch []byte
}

// decodeTree decodes tree into out (a non-nil pointer) as json.Unmarshal
// would decode tree's JSON.
func decodeTree(tree any, out any) error {
	var d treeDecoder
	return d.decode(nodeOf(tree), out)
}

func (d *treeDecoder) decode(n node, out any) error {
	v := reflect.ValueOf(out)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return fmt.Errorf("events: decode into %T", out)
	}
	return d.value(n, v.Elem(), planFor(v.Elem().Type()))
}

// jsonOf returns n's JSON, in d.scratch for leaves.
func (d *treeDecoder) jsonOf(n node) ([]byte, error) {
	switch {
	case n.isLeaf:
		d.scratch = appendJSONString(d.scratch[:0], n.s)
		return d.scratch, nil
	case n.m != nil:
		return n.m.MarshalJSON()
	}
	return json.Marshal(n.other)
}

// appendJSONString writes s as json.Marshal does.
func appendJSONString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s)
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

func typeError(n node, t reflect.Type) error {
	kind := "value"
	switch {
	case n.isLeaf:
		kind = "string"
	case n.m != nil && n.m.IsList():
		kind = "array"
	case n.m != nil:
		kind = "object"
	}
	return &json.UnmarshalTypeError{Value: kind, Type: t}
}

// value decodes n into v (addressable) following p.
func (d *treeDecoder) value(n node, v reflect.Value, p *plan) error {
	if n.isLeaf && p.leaf != nil && p.leaf(n.s, v) {
		return nil
	}
	if !n.isLeaf && n.m == nil {
		p = &plan{kind: planFallback, typ: p.typ}
	}
	switch p.kind {
	case planHook:
		return v.Addr().Interface().(treeUnmarshaler).unmarshalTree(d, n)
	case planUnmarshaler:
		b, err := d.jsonOf(n)
		if err != nil {
			return err
		}
		return v.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(b)
	case planString:
		if !n.isLeaf {
			return typeError(n, p.typ)
		}
		v.SetString(jsonString(n.s))
		return nil
	case planStruct:
		if n.m == nil || n.m.IsList() {
			return typeError(n, p.typ)
		}
		var order []orderEntry
		var learn []orderEntry
		if o := p.order.Load(); o != nil {
			order = *o
		} else {
			learn = make([]orderEntry, 0, n.m.Len())
		}
		for i := range n.m.Len() {
			k, child := entryOf(n.m, i)
			var f *fieldPlan
			if i < len(order) && order[i].key == k {
				f = order[i].f
			} else {
				f = p.field(k)
			}
			if learn != nil {
				learn = append(learn, orderEntry{key: strings.Clone(k), f: f})
			}
			if f == nil {
				continue
			}
			fv := v
			if len(f.index) == 1 {
				fv = v.Field(f.index[0])
			} else {
				fv = v.FieldByIndex(f.index)
			}
			if err := d.value(child, fv, f.plan); err != nil {
				return fieldError(err, f.errPath)
			}
		}
		if learn != nil {
			learned := learn // only this copy escapes
			p.order.CompareAndSwap(nil, &learned)
		}
		return nil
	case planMap:
		if n.m == nil || n.m.IsList() {
			return typeError(n, p.typ)
		}
		if v.IsNil() {
			v.Set(reflect.MakeMapWithSize(p.typ, n.m.Len()))
		}
		kt := p.typ.Key()
		elem := reflect.New(p.typ.Elem()).Elem()
		kv := reflect.New(kt).Elem()
		for i := range n.m.Len() {
			k, child := entryOf(n.m, i)
			elem.SetZero()
			if err := d.value(child, elem, p.elem); err != nil {
				return err
			}
			ks := jsonString(k)
			x, err := strconv.ParseInt(ks, 10, 64)
			if err != nil || kt.OverflowInt(x) {
				return &json.UnmarshalTypeError{Value: "number " + ks, Type: kt}
			}
			kv.SetInt(x)
			v.SetMapIndex(kv, elem)
		}
		return nil
	}
	b, err := d.jsonOf(n)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v.Addr().Interface())
}

// fieldError prefixes the field to the path of a type error.
func fieldError(err error, name string) error {
	if te, ok := err.(*json.UnmarshalTypeError); ok {
		te2 := *te
		if te2.Field == "" {
			te2.Field = name
		} else {
			te2.Field = name + "." + te2.Field
		}
		return &te2
	}
	return err
}
