// Package phpform reads and writes the PHP form syntax that Bitrix24 speaks:
// http_build_query on the way out (fields[PHONE][0][VALUE]=112233) and
// parse_str on the way in (event bodies, batch commands, the fake portal).
//
// A decoded form is a tree. Inner nodes are *Map, an ordered map like a PHP
// array; leaves are string (form input) or, for trees read from JSON by
// [ParseJSON], json.Number, bool and nil as well. One tree type serves both
// wire encodings so that code reading requests never cares which one arrived.
package phpform

import (
	"bytes"
	"encoding/json"
	"strconv"
	"sync"
)

// Map is an ordered string-keyed map with PHP array semantics: integer-like
// keys take part in appends ("a[]=x" appends at the highest integer key + 1),
// and a map whose keys are exactly "0".."n-1" in order is a list.
type Map struct {
	keys []string
	ents []entry        // ents[i] is the value of keys[i]
	idx  map[string]int // key → position, built once a map outgrows smallMap
	next int            // next index an append uses
}

// entry is one value. String leaves read by Parse and FromValues are kept
// unboxed in s (with v set to strLeaf{}), which saves an allocation per
// form field; Get boxes them on the way out.
type entry struct {
	v any
	s string
}

// strLeaf marks an entry whose value is its s field.
type strLeaf struct{}

func (e *entry) get() any {
	if _, ok := e.v.(strLeaf); ok {
		return e.s
	}
	return e.v
}

// leaf returns the entry as a string leaf.
func (e *entry) leaf() (string, bool) {
	switch v := e.v.(type) {
	case strLeaf:
		return e.s, true
	case string:
		return v, true
	}
	return "", false
}

// smallMap is the size up to which lookups scan the keys instead of
// hashing: most form maps are small, and a scan allocates nothing.
const smallMap = 32

// NewMap returns an empty Map.
func NewMap() *Map { return &Map{} }

// Len reports the number of keys.
func (m *Map) Len() int {
	if m == nil {
		return 0
	}
	return len(m.keys)
}

// Keys returns the keys in insertion order. The slice must not be modified.
func (m *Map) Keys() []string {
	if m == nil {
		return nil
	}
	return m.keys
}

// Entry returns the i-th key (in [Map.Keys] order, 0 <= i < Len) and its
// value. A string leaf is returned as leaf with isLeaf set (and v nil),
// which unlike [Map.Get] does not allocate; any other value, a child *Map
// included, is returned as v.
func (m *Map) Entry(i int) (key string, v any, leaf string, isLeaf bool) {
	e := &m.ents[i]
	if s, ok := e.leaf(); ok {
		return m.keys[i], nil, s, true
	}
	return m.keys[i], e.v, "", false
}

// find returns the position of k, or -1.
func (m *Map) find(k string) int {
	if m.idx != nil {
		if i, ok := m.idx[k]; ok {
			return i
		}
		return -1
	}
	for i, key := range m.keys {
		if key == k {
			return i
		}
	}
	return -1
}

// Get returns the value stored under k.
func (m *Map) Get(k string) (any, bool) {
	if m == nil {
		return nil, false
	}
	if i := m.find(k); i >= 0 {
		return m.ents[i].get(), true
	}
	return nil, false
}

// String returns the value under k when it is a leaf, rendered as PHP would
// see it in a form ("" when absent or not a leaf).
func (m *Map) String(k string) string {
	if m == nil {
		return ""
	}
	i := m.find(k)
	if i < 0 {
		return ""
	}
	if s, ok := m.ents[i].leaf(); ok {
		return s
	}
	s, _ := LeafString(m.ents[i].v)
	return s
}

// Map returns the child map under k, or nil.
func (m *Map) Map(k string) *Map {
	if m == nil {
		return nil
	}
	if i := m.find(k); i >= 0 {
		c, _ := m.ents[i].v.(*Map)
		return c
	}
	return nil
}

// Set stores v under k, keeping the key's original position if it exists.
func (m *Map) Set(k string, v any) {
	m.set(k, entry{v: v})
}

// setString is Set for a string leaf, without boxing it.
func (m *Map) setString(k, s string) {
	m.set(k, entry{v: strLeaf{}, s: s})
}

func (m *Map) set(k string, e entry) {
	if i := m.find(k); i >= 0 {
		m.ents[i] = e
		return
	}
	m.add(k, e)
}

// add appends a key known to be absent.
func (m *Map) add(k string, e entry) {
	if cap(m.keys) == 0 {
		m.keys = make([]string, 0, firstCap)
		m.ents = make([]entry, 0, firstCap)
	}
	m.keys = append(m.keys, k)
	m.ents = append(m.ents, e)
	if m.idx != nil {
		m.idx[k] = len(m.keys) - 1
	} else if len(m.keys) > smallMap {
		m.reindex()
	}
	if n, ok := intKey(k); ok && n >= m.next {
		m.next = n + 1
	}
}

// firstCap is the capacity of a map's first key allocation.
const firstCap = 4

// reserve makes room for n more keys.
func (m *Map) reserve(n int) {
	if cap(m.keys)-len(m.keys) >= n && cap(m.ents)-len(m.ents) >= n {
		return
	}
	keys := make([]string, len(m.keys), len(m.keys)+n)
	copy(keys, m.keys)
	ents := make([]entry, len(m.ents), len(m.ents)+n)
	copy(ents, m.ents)
	m.keys, m.ents = keys, ents
}

func (m *Map) reindex() {
	m.idx = make(map[string]int, 2*len(m.keys))
	for i, k := range m.keys {
		m.idx[k] = i
	}
}

// Release hands m and every map under it back for reuse by later calls of
// [Parse] and [FromValues], which then allocate less. Call it only on a
// tree one of them returned, once the tree is no longer needed: afterwards
// neither m nor any map read from it may be used (strings read from it
// stay valid). Trees that are not released are simply garbage collected.
func (m *Map) Release() { m.releaseTo(&whole) }

// ReleaseNames is [Map.Release] for a tree [Limits.ParseNames] returned:
// its maps go back to ParseNames, whose trees are small and of another
// shape than whole ones.
func (m *Map) ReleaseNames() { m.releaseTo(&named) }

func (m *Map) releaseTo(p *listPools) {
	if m == nil {
		return
	}
	l, _ := p.empty.Get().(*mapList)
	if l == nil {
		l = new(mapList)
	}
	m.collect(l)
	l.pools = p
	p.full.Put(l)
}

// collect appends m and the maps under it to l in the order Parse created
// them (m first, then its children's trees in key order), emptied.
func (m *Map) collect(l *mapList) {
	l.maps = append(l.maps, m)
	for i := range m.ents {
		if c, ok := m.ents[i].v.(*Map); ok {
			c.collect(l)
		}
	}
	if cap(m.keys) > maxPooledKeys || cap(m.ents) > maxPooledKeys {
		*m = Map{}
		return
	}
	clear(m.keys)
	clear(m.ents)
	*m = Map{keys: m.keys[:0], ents: m.ents[:0]}
}

// maxPooledKeys is the capacity above which a released map's storage is
// dropped rather than kept for reuse.
const maxPooledKeys = 256

// mapList holds released maps in creation order, so that a body of the
// same shape as the last one gets maps of the right sizes back.
type mapList struct {
	maps  []*Map
	pos   int
	pools *listPools
}

// listPools hold lists of released maps (full) and emptied lists (empty):
// one pair for whole trees, one for ParseNames' trees.
type listPools struct{ full, empty sync.Pool }

var whole, named listPools

// takeMaps returns a list of released maps from p, or nil.
func takeMaps(p *listPools) *mapList {
	l, _ := p.full.Get().(*mapList)
	return l
}

// take returns the next released map, or a new one.
func (l *mapList) take() *Map {
	if l == nil || l.pos == len(l.maps) {
		return NewMap()
	}
	m := l.maps[l.pos]
	l.maps[l.pos] = nil
	l.pos++
	return m
}

// done returns l to its pool: the full one if maps are left, else the
// empty one.
func (l *mapList) done() {
	if l == nil {
		return
	}
	if l.pos < len(l.maps) {
		l.maps = l.maps[l.pos:]
		l.pos = 0
		l.pools.full.Put(l)
		return
	}
	l.maps, l.pos = l.maps[:0], 0
	l.pools.empty.Put(l)
}

// Append stores v under the next integer key, as PHP's $a[] = v does.
func (m *Map) Append(v any) {
	m.Set(strconv.Itoa(m.next), v)
}

// appendString is Append for a string leaf, without boxing it.
func (m *Map) appendString(s string) {
	m.setString(strconv.Itoa(m.next), s)
}

// Delete removes k.
func (m *Map) Delete(k string) {
	i := m.find(k)
	if i < 0 {
		return
	}
	m.keys = append(m.keys[:i], m.keys[i+1:]...)
	m.ents = append(m.ents[:i], m.ents[i+1:]...)
	m.ents[:len(m.ents)+1][len(m.ents)] = entry{} // drop the reference
	if m.idx != nil {
		m.reindex()
	}
}

// IsList reports whether the keys are exactly "0", "1", ... in order, which
// is when PHP's json_encode writes the array as a JSON array. An empty map is
// a list, as in PHP (json_encode([]) is "[]").
func (m *Map) IsList() bool {
	for i, k := range m.Keys() {
		if k != strconv.Itoa(i) {
			return false
		}
	}
	return true
}

// Values returns the values in key order.
func (m *Map) Values() []any {
	out := make([]any, 0, m.Len())
	if m != nil {
		for i := range m.ents {
			out = append(out, m.ents[i].get())
		}
	}
	return out
}

// MarshalJSON writes the map as PHP's json_encode would: a JSON array when
// the map is a list (including the empty map, which becomes "[]"), else a
// JSON object in key order.
func (m *Map) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	if err := m.writeJSON(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (m *Map) writeJSON(buf *bytes.Buffer) error {
	list := m.IsList()
	if list {
		buf.WriteByte('[')
	} else {
		buf.WriteByte('{')
	}
	for i, k := range m.Keys() {
		if i > 0 {
			buf.WriteByte(',')
		}
		if !list {
			writeJSONString(buf, k)
			buf.WriteByte(':')
		}
		switch v := m.ents[i].v.(type) {
		case *Map:
			if err := v.writeJSON(buf); err != nil {
				return err
			}
		case strLeaf:
			writeJSONString(buf, m.ents[i].s)
		case string:
			writeJSONString(buf, v)
		default:
			b, err := json.Marshal(v)
			if err != nil {
				return err
			}
			buf.Write(b)
		}
	}
	if list {
		buf.WriteByte(']')
	} else {
		buf.WriteByte('}')
	}
	return nil
}

// writeJSONString writes s as a JSON string exactly as encoding/json does,
// copying plain ASCII directly and leaving anything that needs escaping
// (controls, quotes, backslashes, <, >, &, non-ASCII) to json.Marshal.
func writeJSONString(buf *bytes.Buffer, s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s)
			buf.Write(b)
			return
		}
	}
	buf.WriteByte('"')
	buf.WriteString(s)
	buf.WriteByte('"')
}

// Clone returns a deep copy of m.
func (m *Map) Clone() *Map {
	if m == nil {
		return nil
	}
	c := &Map{keys: append([]string(nil), m.keys...), ents: append([]entry(nil), m.ents...), next: m.next}
	for i := range c.ents {
		if sub, ok := c.ents[i].v.(*Map); ok {
			c.ents[i].v = sub.Clone()
		}
	}
	if m.idx != nil {
		c.reindex()
	}
	return c
}

// Plain converts a tree into plain Go values: *Map becomes []any when it is
// a non-empty list and map[string]any otherwise; leaves are returned as they
// are. It is meant for comparisons in tests and for handing a tree to code
// that expects encoding/json shapes.
func Plain(v any) any {
	m, ok := v.(*Map)
	if !ok {
		return v
	}
	if m.Len() > 0 && m.IsList() {
		out := make([]any, 0, m.Len())
		for i := range m.ents {
			out = append(out, Plain(m.ents[i].get()))
		}
		return out
	}
	out := make(map[string]any, m.Len())
	for i, k := range m.keys {
		out[k] = Plain(m.ents[i].get())
	}
	return out
}

// LeafString renders a leaf as the string a PHP form would carry: bools as
// "1"/"" (PHP's string cast), nil as "". It reports false for a *Map.
func LeafString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return string(x), true
	case bool:
		if x {
			return "1", true
		}
		return "", true
	case nil:
		return "", true
	default:
		return "", false
	}
}

// intKey reports whether k is a PHP integer key: a decimal number without
// leading zeros (or "0"), optionally negative, that fits an int.
func intKey(k string) (int, bool) {
	if k == "" || len(k) > 18 {
		return 0, false
	}
	s := k
	if s[0] == '-' {
		s = s[1:]
		if s == "" || s == "0" {
			return 0, false
		}
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if k[0] == '-' {
		n = -n
	}
	return n, true
}
