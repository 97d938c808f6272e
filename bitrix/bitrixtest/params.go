package bitrixtest

import (
	"encoding/json"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/b24go/sdk/internal/phpform"
)

// ciGet returns m[key] matching the key case-insensitively (batch and most
// classic methods accept any case; exact matches win).
func ciGet(m *phpform.Map, key string) any {
	if m == nil {
		return nil
	}
	if v, ok := m.Get(key); ok {
		return v
	}
	for _, k := range m.Keys() {
		if strings.EqualFold(k, key) {
			v, _ := m.Get(k)
			return v
		}
	}
	return nil
}

func ciHas(m *phpform.Map, key string) bool {
	if m == nil {
		return false
	}
	if _, ok := m.Get(key); ok {
		return true
	}
	for _, k := range m.Keys() {
		if strings.EqualFold(k, key) {
			return true
		}
	}
	return false
}

func ciMap(m *phpform.Map, key string) *phpform.Map {
	v, _ := ciGet(m, key).(*phpform.Map)
	return v
}

func ciString(m *phpform.Map, key string) string {
	s, _ := phpform.LeafString(ciGet(m, key))
	return s
}

func ciInt(m *phpform.Map, key string) int { return toInt(ciGet(m, key)) }

// toInt is PHP's intval for leaves: leading digits count, junk is 0.
func toInt(v any) int {
	switch x := v.(type) {
	case int:
		return x
	case int64:
		return int(x)
	case float64:
		return int(x)
	case bool:
		if x {
			return 1
		}
		return 0
	}
	s, ok := phpform.LeafString(v)
	if !ok {
		return 0
	}
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return int(f)
	}
	end := 0
	for end < len(s) && (s[end] >= '0' && s[end] <= '9' || end == 0 && s[end] == '-') {
		end++
	}
	n, _ := strconv.Atoi(s[:end])
	return n
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
	}
	return 0, false
}

// leafStr renders a stored value as a string for comparisons and for the
// classic methods' all-strings output.
func leafStr(v any) string {
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	s, _ := phpform.LeafString(v)
	return s
}

// listValues returns the elements of a list-like value (a *Map or []any);
// a scalar yields itself.
func listValues(v any) []any {
	switch x := v.(type) {
	case *phpform.Map:
		return x.Values()
	case []any:
		return x
	case nil:
		return nil
	}
	return []any{v}
}

// ---- filters ----

type cond struct {
	field string
	op    string
	val   any
}

type filterExpr struct {
	or    bool
	conds []cond
	subs  []*filterExpr
}

var filterOps = []string{"!=%", "!%=", ">=", "<=", "!=", "=%", "%=", "!@", "!%", ">", "<", "=", "%", "@", "!"}

func splitOp(key string) (op, field string) {
	for _, op := range filterOps {
		if strings.HasPrefix(key, op) {
			return op, key[len(op):]
		}
	}
	return "", key
}

// parseFilter reads a Bitrix filter map. resolve maps a field name as the
// caller spelled it to the stored name; unknown fields are an error.
func parseFilter(m *phpform.Map, resolve func(string) (string, bool)) (*filterExpr, *APIError) {
	f := &filterExpr{}
	if m == nil {
		return f, nil
	}
	for _, k := range m.Keys() {
		v, _ := m.Get(k)
		if strings.EqualFold(k, "logic") {
			s, _ := phpform.LeafString(v)
			f.or = strings.EqualFold(s, "OR")
			continue
		}
		if sub, ok := v.(*phpform.Map); ok && (isIntKey(k) || ciHas(sub, "logic")) {
			sf, err := parseFilter(sub, resolve)
			if err != nil {
				return nil, err
			}
			f.subs = append(f.subs, sf)
			continue
		}
		op, name := splitOp(k)
		field, ok := resolve(name)
		if !ok {
			return nil, errf(400, "INVALID_ARG_VALUE", "Invalid filter: field '%s' is not allowed in filter", name)
		}
		f.conds = append(f.conds, cond{field: field, op: op, val: v})
	}
	return f, nil
}

func isIntKey(k string) bool {
	_, err := strconv.Atoi(k)
	return err == nil
}

func (f *filterExpr) empty() bool { return f == nil || len(f.conds) == 0 && len(f.subs) == 0 }

func (f *filterExpr) match(get func(string) any) bool {
	if f.empty() {
		return true
	}
	n := 0
	for _, c := range f.conds {
		if c.matches(get(c.field)) {
			if f.or {
				return true
			}
			n++
		} else if !f.or {
			return false
		}
	}
	for _, s := range f.subs {
		if s.match(get) {
			if f.or {
				return true
			}
		} else if !f.or {
			return false
		}
	}
	return !f.or
}

func (c cond) matches(item any) bool {
	if _, isList := item.([]any); isList {
		neg := strings.HasPrefix(c.op, "!")
		for _, e := range item.([]any) {
			m := cond{c.field, strings.TrimPrefix(c.op, "!"), c.val}.matches(e)
			if m {
				return !neg
			}
		}
		if len(item.([]any)) == 0 {
			return cond{c.field, c.op, c.val}.matches(nil)
		}
		return neg
	}
	fv := c.val
	switch c.op {
	case "", "=":
		if m, ok := fv.(*phpform.Map); ok {
			return inList(item, m)
		}
		return eqValues(item, fv)
	case "!", "!=":
		if m, ok := fv.(*phpform.Map); ok {
			return !inList(item, m)
		}
		return !eqValues(item, fv)
	case "@":
		return inList(item, fv)
	case "!@":
		return !inList(item, fv)
	case ">", ">=", "<", "<=":
		if _, ok := fv.(*phpform.Map); ok {
			return false
		}
		if item == nil {
			return false
		}
		r := cmpValues(item, fv)
		switch c.op {
		case ">":
			return r > 0
		case ">=":
			return r >= 0
		case "<":
			return r < 0
		default:
			return r <= 0
		}
	case "%":
		return strings.Contains(strings.ToLower(leafStr(item)), strings.ToLower(leafStr(fv)))
	case "!%":
		return !strings.Contains(strings.ToLower(leafStr(item)), strings.ToLower(leafStr(fv)))
	case "=%", "%=":
		return like(leafStr(item), leafStr(fv))
	case "!=%", "!%=":
		return !like(leafStr(item), leafStr(fv))
	}
	return false
}

func inList(item, list any) bool {
	for _, e := range listValues(list) {
		if eqValues(item, e) {
			return true
		}
	}
	return false
}

func eqValues(a, b any) bool {
	if fa, ok := toFloat(a); ok {
		if fb, ok := toFloat(b); ok {
			return fa == fb
		}
	}
	return strings.EqualFold(leafStr(a), leafStr(b))
}

func cmpValues(a, b any) int {
	if fa, ok := toFloat(a); ok {
		if fb, ok := toFloat(b); ok {
			switch {
			case fa < fb:
				return -1
			case fa > fb:
				return 1
			}
			return 0
		}
	}
	return strings.Compare(strings.ToLower(leafStr(a)), strings.ToLower(leafStr(b)))
}

func like(s, pattern string) bool {
	if !strings.Contains(pattern, "%") && !strings.Contains(pattern, "_") {
		return strings.EqualFold(s, pattern)
	}
	var b strings.Builder
	b.WriteString("(?is)^")
	for _, r := range pattern {
		switch r {
		case '%':
			b.WriteString(".*")
		case '_':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return false
	}
	return re.MatchString(s)
}

// ---- order and paging ----

type orderBy struct {
	field string
	desc  bool
}

func parseOrder(m *phpform.Map, resolve func(string) (string, bool)) ([]orderBy, *APIError) {
	var out []orderBy
	for _, k := range m.Keys() {
		v, _ := m.Get(k)
		dir, _ := phpform.LeafString(v)
		f, ok := resolve(k)
		if !ok {
			return nil, errf(400, "INVALID_ARG_VALUE", "Invalid order: field '%s' is not allowed in order", k)
		}
		out = append(out, orderBy{field: f, desc: strings.EqualFold(dir, "DESC")})
	}
	return out, nil
}

func sortRecords[T any](rs []T, order []orderBy, get func(T, string) any) {
	if len(order) == 0 {
		return
	}
	sort.SliceStable(rs, func(i, j int) bool {
		for _, o := range order {
			c := cmpValues(get(rs[i], o.field), get(rs[j], o.field))
			if c == 0 {
				continue
			}
			if o.desc {
				return c > 0
			}
			return c < 0
		}
		return false
	})
}

const pageSize = 50

// readStart returns the start parameter (removed from params) and whether
// counting is disabled (start < 0).
func readStart(params *phpform.Map) (offset int, noCount bool) {
	v, _ := params.Get("start")
	params.Delete("start")
	n := toInt(v)
	if n < 0 {
		return 0, true
	}
	return n / pageSize * pageSize, false
}

// page cuts one page out of n matching records and fills total/next.
func page(n, offset int, noCount bool) (from, to int, total, next *int) {
	from = min(offset, n)
	to = min(from+pageSize, n)
	if noCount {
		return from, to, nil, nil
	}
	total = intp(n)
	if to < n {
		next = intp(to)
	}
	return from, to, total, next
}

// classicPage is page for the classic list methods (crm.deal.list,
// lists.get, lists.element.get, ...): with start=-1 they answer total 0
// rather than no total (settings/performance/huge-data.md, "Result of the
// REST request execution without total count calculation": [total] => 0).
func classicPage(n, offset int, noCount bool) (from, to int, total, next *int) {
	from, to, total, next = page(n, offset, noCount)
	if noCount {
		total = intp(0)
	}
	return from, to, total, next
}
