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
)

// Map is an ordered string-keyed map with PHP array semantics: integer-like
// keys take part in appends ("a[]=x" appends at the highest integer key + 1),
// and a map whose keys are exactly "0".."n-1" in order is a list.
type Map struct {
	keys []string
	vals []any          // vals[i] is the value of keys[i]
	idx  map[string]int // key → position, built once a map outgrows smallMap
	next int            // next index an append uses
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
		return m.vals[i], true
	}
	return nil, false
}

// String returns the value under k when it is a leaf, rendered as PHP would
// see it in a form ("" when absent or not a leaf).
func (m *Map) String(k string) string {
	v, _ := m.Get(k)
	s, _ := LeafString(v)
	return s
}

// Map returns the child map under k, or nil.
func (m *Map) Map(k string) *Map {
	v, _ := m.Get(k)
	c, _ := v.(*Map)
	return c
}

// Set stores v under k, keeping the key's original position if it exists.
func (m *Map) Set(k string, v any) {
	if i := m.find(k); i >= 0 {
		m.vals[i] = v
		return
	}
	m.add(k, v)
}

// add appends a key known to be absent.
func (m *Map) add(k string, v any) {
	if cap(m.keys) == 0 {
		m.keys = make([]string, 0, firstCap)
		m.vals = make([]any, 0, firstCap)
	}
	m.keys = append(m.keys, k)
	m.vals = append(m.vals, v)
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
	if cap(m.keys)-len(m.keys) >= n {
		return
	}
	keys := make([]string, len(m.keys), len(m.keys)+n)
	copy(keys, m.keys)
	vals := make([]any, len(m.vals), len(m.vals)+n)
	copy(vals, m.vals)
	m.keys, m.vals = keys, vals
}

func (m *Map) reindex() {
	m.idx = make(map[string]int, 2*len(m.keys))
	for i, k := range m.keys {
		m.idx[k] = i
	}
}

// Append stores v under the next integer key, as PHP's $a[] = v does.
func (m *Map) Append(v any) {
	m.Set(strconv.Itoa(m.next), v)
}

// Delete removes k.
func (m *Map) Delete(k string) {
	i := m.find(k)
	if i < 0 {
		return
	}
	m.keys = append(m.keys[:i], m.keys[i+1:]...)
	m.vals = append(m.vals[:i], m.vals[i+1:]...)
	m.vals[:len(m.vals)+1][len(m.vals)] = nil // drop the reference
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
		out = append(out, m.vals...)
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
		switch v := m.vals[i].(type) {
		case *Map:
			if err := v.writeJSON(buf); err != nil {
				return err
			}
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
	c := &Map{keys: append([]string(nil), m.keys...), vals: make([]any, len(m.vals)), next: m.next}
	for i, v := range m.vals {
		if sub, ok := v.(*Map); ok {
			v = sub.Clone()
		}
		c.vals[i] = v
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
		for _, v := range m.vals {
			out = append(out, Plain(v))
		}
		return out
	}
	out := make(map[string]any, m.Len())
	for i, k := range m.keys {
		out[k] = Plain(m.vals[i])
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
