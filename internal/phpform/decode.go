package phpform

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
)

// Limits bound the work a decoder does on hostile input.
type Limits struct {
	// MaxDepth is the deepest bracket nesting accepted (PHP's
	// max_input_nesting_level, 64 by default there and here).
	MaxDepth int
	// MaxPairs is the largest number of key=value pairs (JSON leaves for
	// ParseJSON) accepted.
	MaxPairs int
}

// DefaultLimits are the limits the package-level functions use.
var DefaultLimits = Limits{MaxDepth: 64, MaxPairs: 100_000}

var (
	// ErrTooDeep is returned when a key nests deeper than Limits.MaxDepth.
	ErrTooDeep = errors.New("phpform: nesting too deep")
	// ErrTooManyPairs is returned when a form has more pairs than Limits.MaxPairs.
	ErrTooManyPairs = errors.New("phpform: too many form fields")
)

// Parse decodes a URL-encoded query string with PHP parse_str semantics:
// bracket keys build nested maps, "[]" appends, later keys overwrite
// earlier ones, and "." or " " in a top-level name become "_".
func Parse(query string) (*Map, error) { return DefaultLimits.Parse(query) }

// Parse is [Parse] with these limits.
func (l Limits) Parse(query string) (*Map, error) {
	root := NewMap()
	pairs := 0
	for query != "" {
		var pair string
		pair, query, _ = strings.Cut(query, "&")
		if pair == "" {
			continue
		}
		pairs++
		if l.MaxPairs > 0 && pairs > l.MaxPairs {
			return nil, fmt.Errorf("%w: more than %d", ErrTooManyPairs, l.MaxPairs)
		}
		k, v, _ := strings.Cut(pair, "=")
		if err := l.assign(root, unescape(k), unescape(v)); err != nil {
			return nil, err
		}
	}
	return root, nil
}

// FromValues builds a tree from already-decoded form values (for example
// http.Request.PostForm). url.Values has no key order, so keys are taken in
// sorted order; the values of one key keep their order.
func FromValues(vals url.Values) (*Map, error) { return DefaultLimits.FromValues(vals) }

// FromValues is [FromValues] with these limits.
func (l Limits) FromValues(vals url.Values) (*Map, error) {
	keys := make([]string, 0, len(vals))
	n := 0
	for k, vs := range vals {
		keys = append(keys, k)
		n += len(vs)
	}
	if l.MaxPairs > 0 && n > l.MaxPairs {
		return nil, fmt.Errorf("%w: more than %d", ErrTooManyPairs, l.MaxPairs)
	}
	sort.Strings(keys)
	root := NewMap()
	for _, k := range keys {
		for _, v := range vals[k] {
			if err := l.assign(root, k, v); err != nil {
				return nil, err
			}
		}
	}
	return root, nil
}

// nameReplacer turns "." and " " in a top-level name into "_" (built once:
// a Replacer is costly to construct).
var nameReplacer = strings.NewReplacer(".", "_", " ", "_")

// assign stores value under the bracket key, as php_register_variable_ex does.
func (l Limits) assign(root *Map, key, value string) error {
	key = strings.TrimLeft(key, " ")
	// The name ends at the first "["; only there do "." and " " become "_".
	name, rest, segs := key, "", []string(nil)
	i := strings.IndexByte(key, '[')
	if i >= 0 {
		name, rest = key[:i], key[i:]
	}
	if name == "" {
		return nil // PHP ignores variables without a name
	}
	name = nameReplacer.Replace(name)
	if i >= 0 && strings.IndexByte(rest, ']') < 0 {
		// An unclosed first bracket turns into "_" and the key is flat.
		name, rest = name+"_"+rest[1:], ""
	}
	for strings.HasPrefix(rest, "[") {
		j := strings.IndexByte(rest, ']')
		if j < 0 {
			break // an unclosed later bracket ends the key
		}
		segs = append(segs, rest[1:j])
		if l.MaxDepth > 0 && len(segs) > l.MaxDepth {
			return fmt.Errorf("%w: key %.40q has more than %d levels", ErrTooDeep, key, l.MaxDepth)
		}
		rest = rest[j+1:]
	}
	if len(segs) == 0 {
		root.Set(name, value)
		return nil
	}
	cur := child(root, name)
	for i, s := range segs {
		last := i == len(segs)-1
		switch {
		case last && s == "":
			cur.Append(value)
		case last:
			cur.Set(s, value)
		case s == "":
			next := NewMap()
			cur.Append(next)
			cur = next
		default:
			cur = child(cur, s)
		}
	}
	return nil
}

// child returns the map under k, replacing a leaf there as PHP does.
func child(m *Map, k string) *Map {
	if c, ok := m.vals[k].(*Map); ok {
		return c
	}
	c := NewMap()
	m.Set(k, c)
	return c
}

// unescape is PHP's urldecode: "+" is a space, valid %XX escapes decode,
// invalid ones stay as they are.
func unescape(s string) string {
	if !strings.ContainsAny(s, "+%") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
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

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// ParseJSON decodes a JSON document into the same tree shape Parse builds:
// objects and arrays become *Map (arrays keyed "0".."n-1"), object key order
// is kept, and leaves are string, json.Number, bool or nil.
func ParseJSON(data []byte) (any, error) { return DefaultLimits.ParseJSON(data) }

// ParseJSON is [ParseJSON] with these limits.
func (l Limits) ParseJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	leaves := 0
	v, err := l.readJSON(dec, 0, &leaves)
	if err != nil {
		return nil, fmt.Errorf("phpform: invalid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("phpform: invalid JSON: data after the top-level value")
	}
	return v, nil
}

func (l Limits) readJSON(dec *json.Decoder, depth int, leaves *int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		*leaves++
		if l.MaxPairs > 0 && *leaves > l.MaxPairs {
			return nil, fmt.Errorf("%w: more than %d", ErrTooManyPairs, l.MaxPairs)
		}
		return tok, nil // string, json.Number, bool or nil
	}
	if l.MaxDepth > 0 && depth >= l.MaxDepth {
		return nil, fmt.Errorf("%w: more than %d levels", ErrTooDeep, l.MaxDepth)
	}
	m := NewMap()
	for dec.More() {
		if d == '{' {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			v, err := l.readJSON(dec, depth+1, leaves)
			if err != nil {
				return nil, err
			}
			m.Set(kt.(string), v)
		} else {
			v, err := l.readJSON(dec, depth+1, leaves)
			if err != nil {
				return nil, err
			}
			m.Append(v)
		}
	}
	if _, err := dec.Token(); err != nil { // closing delimiter
		return nil, err
	}
	return m, nil
}

// Unmarshal decodes a tree into out through encoding/json, so struct tags
// and json.Unmarshaler implementations apply. Form leaves are strings, so the
// target types must accept numbers and booleans written as strings.
func Unmarshal(tree any, out any) error {
	b, err := json.Marshal(tree)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}
