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
func (l Limits) Parse(query string) (*Map, error) { return l.parse(query, nil) }

// ParseNames is [Limits.Parse] keeping only the top-level names for which
// keep reports true: the subtree of each kept name is exactly the one
// Parse builds (names never affect each other), but the other pairs are
// only scanned, their values neither unescaped nor stored. MaxPairs counts
// every pair; MaxDepth applies to the kept names. Release the tree with
// [Map.ReleaseNames].
func (l Limits) ParseNames(query string, keep func(name string) bool) (*Map, error) {
	return l.parse(query, keep)
}

func (l Limits) parse(query string, keep func(string) bool) (*Map, error) {
	var b builder
	b.keep = keep
	pools := &whole
	if keep != nil {
		// A filtered tree is small and of another shape: it would take
		// the maps released for the next whole tree (see mapList).
		pools = &named
	}
	b.maps = takeMaps(pools)
	defer b.maps.done()
	root := b.newMap()
	pairs := 0
	var arena arena
	var segBuf [8]string
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
		if keep != nil && skipName(k, keep) {
			b.splitN = 0 // the next key cannot share this one's prefix
			continue
		}
		var name string
		var segs []string
		var ok bool
		if n := b.splitN; n > 0 && len(k) > b.bounds[n-1] && k[:b.bounds[n-1]] == b.key[:b.bounds[n-1]] &&
			(n > 1 || k[b.bounds[0]] == '[' || escBracket(k, b.bounds[0]) == '[') {
			// The key repeats the previous one up to its last segment
			// (data%5BPARAMS%5D%5B...): split only the rest. After a
			// closing bracket that is safe; right after the name only if
			// a bracket opens there too (else the name goes on).
			name, segs, ok = splitSegments(k, b.splitName, segBuf[:n-1], &b.bounds, l.MaxDepth)
		} else {
			name, segs, ok = splitEscaped(k, segBuf[:0], &b.bounds, l.MaxDepth)
		}
		if ok {
			b.key, b.query, b.hinted = k, query, true
			b.splitName, b.splitN = name, len(segs)
			if keep == nil || keep(name) {
				store(root, name, segs, arena.unescape(v, len(query)), &b)
			}
			continue
		}
		b.hinted, b.splitN = false, 0
		v = arena.unescape(v, len(query))
		if err := l.assign(root, arena.unescape(k, len(query)), v, &b); err != nil {
			return nil, err
		}
	}
	return root, nil
}

// skipName reports that the still escaped key k certainly names a
// top-level name keep rejects: a plain name (nothing to unescape or
// rewrite) ending the key or followed by a bracket that closes later. Other
// keys take the full path.
func skipName(k string, keep func(string) bool) bool {
	i := 0
	for i < len(k) && !nameStop[k[i]] {
		i++
	}
	if i == 0 || keep(k[:i]) {
		return false
	}
	if i == len(k) {
		return true
	}
	rest := k[i:]
	if rest[0] != '[' && escBracket(rest, 0) != '[' {
		return false
	}
	return strings.IndexByte(rest, ']') >= 0 || strings.Contains(rest, "%5D") || strings.Contains(rest, "%5d")
}

// arena holds the unescaped keys and values of one query: they are
// written to shared buffers and sliced out, one allocation per chunk
// instead of one per escaped string.
type arena struct {
	b     strings.Builder
	chunk int // buffer size (0: arenaChunk)
}

// arenaChunk is the size of an arena buffer (or less, when the rest of
// the query is shorter).
const arenaChunk = 512

// unescape is PHP's urldecode ("+" is a space, valid %XX escapes decode,
// invalid ones stay as they are). It returns s itself when there is
// nothing to decode; rest is the length of the input after s, to size a
// new buffer.
func (a *arena) unescape(s string, rest int) string {
	j := 0
	for j < len(s) && !escapeByte[s[j]] {
		j++
	}
	if j == len(s) {
		return s
	}
	if a.b.Cap()-a.b.Len() < len(s) {
		// A new buffer; strings cut from the old one stay valid.
		chunk := a.chunk
		if chunk == 0 {
			chunk = arenaChunk
		}
		a.b = strings.Builder{}
		a.b.Grow(max(len(s), min(chunk, len(s)+rest)))
	}
	start := a.b.Len()
	for i := 0; ; {
		a.b.WriteString(s[i:j]) // a run with nothing to decode
		if j == len(s) {
			break
		}
		switch {
		case s[j] == '+':
			a.b.WriteByte(' ')
			i = j + 1
		case j+2 < len(s) && isHex(s[j+1]) && isHex(s[j+2]):
			a.b.WriteByte(unhex(s[j+1])<<4 | unhex(s[j+2]))
			i = j + 3
		default: // an invalid escape stays as it is
			a.b.WriteByte('%')
			i = j + 1
		}
		for j = i; j < len(s) && !escapeByte[s[j]]; j++ {
		}
	}
	return a.b.String()[start:]
}

// splitEscaped is the fast path of assign for a key still escaped, as
// Bitrix24 and http_build_query send them (data%5BFIELDS%5D%5BID%5D): when
// the only escapes are brackets (%5B, %5D) and the name needs no rewriting,
// it returns the name and segments as substrings of k, with the result
// assign would give for the unescaped key. Otherwise it reports false
// (and assign does the work): other escapes, "+", "." or " " in the name,
// a "]" in the name, an unclosed first bracket, an escaped bracket inside
// a segment, more segments than segs holds or maxDepth allows.
//
// bounds[i] is set to the end of the raw prefix naming the map that holds
// segs[i] (the name for i = 0, then each closing bracket).
func splitEscaped(k string, segs []string, bounds *[9]int, maxDepth int) (string, []string, bool) {
	i := 0
	for ; i < len(k); i++ {
		c := k[i]
		if !nameStop[c] {
			continue
		}
		if c == '[' || c == '%' && escBracket(k, i) == '[' {
			break
		}
		if c == '%' || c == '+' || c == '.' || c == ' ' || c == ']' {
			return "", nil, false
		}
	}
	name := k[:i]
	if name == "" {
		return "", nil, false
	}
	bounds[0] = i
	return splitSegments(k, name, segs, bounds, maxDepth)
}

// splitSegments continues splitEscaped after the name and segs, which end
// at bounds[len(segs)].
func splitSegments(k, name string, segs []string, bounds *[9]int, maxDepth int) (string, []string, bool) {
	rest := k[bounds[len(segs)]:]
	for rest != "" {
		open := 1
		if rest[0] == '%' && escBracket(rest, 0) == '[' {
			open = 3
		} else if rest[0] != '[' {
			break // what follows the last bracket is ignored
		}
		end, closeLen := -1, 0
	scan:
		for j := open; j < len(rest); j++ {
			if !segStop[rest[j]] {
				continue
			}
			switch rest[j] {
			case ']':
				end, closeLen = j, 1
				break scan
			case '%':
				if escBracket(rest, j) != ']' {
					return "", nil, false
				}
				end, closeLen = j, 3
				break scan
			case '+':
				return "", nil, false
			}
		}
		if end < 0 {
			if len(segs) == 0 {
				return "", nil, false // an unclosed first bracket: flat name
			}
			break // an unclosed later bracket ends the key
		}
		if len(segs) == cap(segs) || maxDepth > 0 && len(segs) >= maxDepth {
			return "", nil, false
		}
		segs = append(segs, rest[open:end])
		rest = rest[end+closeLen:]
		bounds[len(segs)] = len(k) - len(rest)
	}
	return name, segs, true
}

// Bytes that end the plain runs the scanners skip: escapes in values,
// what ends or spoils a name, what ends or spoils a segment.
var escapeByte, nameStop, segStop = byteSet("+%"), byteSet("[%+. ]"), byteSet("]%+")

func byteSet(chars string) (set [256]bool) {
	for i := 0; i < len(chars); i++ {
		set[chars[i]] = true
	}
	return set
}

// escBracket returns '[' or ']' when s[i:] starts with %5B or %5D (either
// case), else 0.
func escBracket(s string, i int) byte {
	if i+2 >= len(s) || s[i] != '%' || s[i+1] != '5' {
		return 0
	}
	switch s[i+2] {
	case 'B', 'b':
		return '['
	case 'D', 'd':
		return ']'
	}
	return 0
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
	var b builder
	b.maps = takeMaps(&whole)
	defer b.maps.done()
	root := b.newMap()
	for _, k := range keys {
		for _, v := range vals[k] {
			if err := l.assign(root, k, v, &b); err != nil {
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
func (l Limits) assign(root *Map, key, value string, b *builder) error {
	key = strings.TrimLeft(key, " ")
	// The name ends at the first "["; only there do "." and " " become "_".
	var segBuf [8]string // the keys Bitrix24 sends nest up to 4 levels
	name, rest, segs := key, "", segBuf[:0]
	i := strings.IndexByte(key, '[')
	if i >= 0 {
		name, rest = key[:i], key[i:]
	}
	if name == "" {
		return nil // PHP ignores variables without a name
	}
	if strings.ContainsAny(name, ". ") {
		name = nameReplacer.Replace(name)
	}
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
	store(root, name, segs, value, b)
	return nil
}

// store puts value under name[seg0][seg1]... With a hint, a map that
// outgrows its first small allocation is sized from the keys ahead.
func store(root *Map, name string, segs []string, value string, b *builder) {
	if b.keep != nil && !b.keep(name) {
		return
	}
	if len(segs) == 0 {
		root.setString(name, value)
		b.pathLen = 0 // root[name] may have been a map on the path
		return
	}
	// Consecutive keys mostly share their leading segments
	// (data[PARAMS][A], data[PARAMS][B]): start from the deepest map the
	// previous key walked through that this key walks through too. Maps on
	// that path cannot have changed since: the previous store only wrote
	// a leaf into the last of them.
	var cur *Map
	i := 0
	if b.pathLen > 0 && name == b.pathName {
		cur = b.pathMaps[0]
		for i+1 < b.pathLen && i < len(segs)-1 && segs[i] == b.pathSegs[i] {
			i++
			cur = b.pathMaps[i]
		}
	} else {
		cur = b.child(root, name)
		b.pathName, b.pathMaps[0] = name, cur
	}
	b.pathLen = i + 1
	for ; i < len(segs); i++ {
		s := segs[i]
		if b.hinted && cap(cur.keys) == firstCap && len(cur.keys) == firstCap {
			b.reserve(cur, i, s)
		}
		last := i == len(segs)-1
		switch {
		case last && s == "":
			cur.appendString(value)
		case last:
			cur.setString(s, value)
		case s == "":
			next := b.newMap()
			cur.Append(next)
			cur = next
			b.pathLen = 0 // a new map each time: nothing to reuse below
		default:
			cur = b.child(cur, s)
			if b.pathLen == i+1 && i+1 < len(b.pathMaps) {
				b.pathSegs[i], b.pathMaps[i+1] = s, cur
				b.pathLen = i + 2
			}
		}
	}
}

// builder is the state of one Parse or FromValues: recycled maps to build
// with and, when hinted, what lets store size maps (the raw key being
// stored, where the raw prefix of each of its maps ends, the rest of the
// query).
type builder struct {
	keep   func(name string) bool // ParseNames: the top-level names stored
	maps   *mapList
	hinted bool
	key    string
	query  string
	bounds [9]int
	// splitName and splitN are the name and number of segments of key,
	// when the fast path split it (splitN 0 otherwise).
	splitName string
	splitN    int

	// The maps the last store walked through: pathMaps[0] is root[pathName],
	// pathMaps[i+1] is pathMaps[i][pathSegs[i]], for i+1 < pathLen.
	pathName string
	pathSegs [8]string
	pathMaps [9]*Map
	pathLen  int
}

func (b *builder) newMap() *Map { return b.maps.take() }

// maxLookahead bounds the pairs one reserve call looks at.
const maxLookahead = 1024

// reserve grows m, the map at depth d of h.key that is about to get key
// seg, by the number of distinct keys the pairs right after this one add
// to it (escaped keys naming it share its raw prefix). It is a size hint
// only: the keys ahead may differ in spelling or be repeats.
func (h *builder) reserve(m *Map, d int, seg string) {
	if seg == "" || m.find(seg) >= 0 {
		return
	}
	prefix := h.key[:h.bounds[d]]
	n, last := 1, seg
	q := h.query
	for range maxLookahead {
		if q == "" {
			break
		}
		var pair string
		pair, q, _ = strings.Cut(q, "&")
		k, _, _ := strings.Cut(pair, "=")
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			if pair == "" {
				continue
			}
			break
		}
		open := 1
		if escBracket(rest, 0) == '[' {
			open = 3
		} else if !strings.HasPrefix(rest, "[") {
			break
		}
		end := open
		for end < len(rest) && rest[end] != ']' && escBracket(rest, end) != ']' {
			end++
		}
		if s := rest[open:end]; s != last {
			n++
			last = s
		}
	}
	m.reserve(n)
}

// child returns the map under k, replacing a leaf there as PHP does.
func (b *builder) child(m *Map, k string) *Map {
	i := m.find(k)
	if i >= 0 {
		if c, ok := m.ents[i].v.(*Map); ok {
			return c
		}
		c := b.newMap()
		m.ents[i] = entry{v: c}
		return c
	}
	c := b.newMap()
	m.add(k, entry{v: c})
	return c
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
