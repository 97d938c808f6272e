package phpform

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// Pair is one form field: a bracket key (not escaped) and its value.
type Pair struct {
	Key, Value string
}

// Encode renders v as PHP's http_build_query does: nested maps and slices
// become bracket keys with numeric indexes for lists, true/false become
// "1"/"0", nil values and empty collections are left out (a form cannot carry
// them), and keys and values are escaped as application/x-www-form-urlencoded.
//
// v is a map (map[string]any, map[string]string, *Map, url.Values) or any
// value encoding/json turns into an object, such as a struct with json tags.
// Maps with Go's unordered keys are written in sorted key order.
func Encode(v any) (string, error) {
	pairs, err := Flatten(v)
	if err != nil {
		return "", err
	}
	return Join(pairs), nil
}

// Join escapes and joins pairs into a query string.
func Join(pairs []Pair) string {
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(p.Key))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(p.Value))
	}
	return b.String()
}

// Flatten returns the form fields Encode would write, in order, unescaped.
func Flatten(v any) ([]Pair, error) {
	var f flattener
	if err := f.top(v); err != nil {
		return nil, err
	}
	return f.pairs, nil
}

type flattener struct {
	pairs []Pair
	depth int
}

func (f *flattener) top(v any) error {
	switch x := v.(type) {
	case nil:
		return nil
	case url.Values:
		keys := sortedKeys(x)
		for _, k := range keys {
			for _, s := range x[k] {
				f.pairs = append(f.pairs, Pair{k, s})
			}
		}
		return nil
	}
	if isScalar(v) {
		return fmt.Errorf("phpform: cannot encode %T as a form: need a map or struct", v)
	}
	return f.walk("", v)
}

func isScalar(v any) bool {
	switch v.(type) {
	case string, bool, json.Number, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return true
	}
	return false
}

func key(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "[" + k + "]"
}

func (f *flattener) leaf(prefix, s string) error {
	if prefix == "" {
		return fmt.Errorf("phpform: cannot encode a bare value %q as a form", s)
	}
	f.pairs = append(f.pairs, Pair{prefix, s})
	return nil
}

func (f *flattener) walk(prefix string, v any) error {
	f.depth++
	defer func() { f.depth-- }()
	// depth counts the root map and the top-level name too; what Parse
	// limits is the brackets after the name, so allow those two on top.
	if f.depth > DefaultLimits.MaxDepth+2 {
		return fmt.Errorf("%w while encoding %.40q", ErrTooDeep, prefix)
	}
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return f.leaf(prefix, x)
	case bool:
		if x {
			return f.leaf(prefix, "1")
		}
		return f.leaf(prefix, "0")
	case json.Number:
		return f.leaf(prefix, string(x))
	case int:
		return f.leaf(prefix, strconv.Itoa(x))
	case int64:
		return f.leaf(prefix, strconv.FormatInt(x, 10))
	case int32:
		return f.leaf(prefix, strconv.FormatInt(int64(x), 10))
	case uint:
		return f.leaf(prefix, strconv.FormatUint(uint64(x), 10))
	case uint64:
		return f.leaf(prefix, strconv.FormatUint(x, 10))
	case float64:
		return f.float(prefix, x)
	case float32:
		return f.float(prefix, float64(x))
	case *Map:
		if x == nil {
			return nil
		}
		for i, k := range x.keys {
			if err := f.walk(key(prefix, k), x.ents[i].get()); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		for _, k := range sortedKeys(x) {
			if err := f.walk(key(prefix, k), x[k]); err != nil {
				return err
			}
		}
		return nil
	case map[string]string:
		for _, k := range sortedKeys(x) {
			if err := f.leaf(key(prefix, k), x[k]); err != nil {
				return err
			}
		}
		return nil
	case []any:
		for i, e := range x {
			if err := f.walk(key(prefix, strconv.Itoa(i)), e); err != nil {
				return err
			}
		}
		return nil
	case []string:
		for i, e := range x {
			if err := f.leaf(key(prefix, strconv.Itoa(i)), e); err != nil {
				return err
			}
		}
		return nil
	case []int:
		for i, e := range x {
			if err := f.leaf(key(prefix, strconv.Itoa(i)), strconv.Itoa(e)); err != nil {
				return err
			}
		}
		return nil
	}
	// Nil pointers and nil interfaces inside structs are "not set".
	if rv := reflect.ValueOf(v); (rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface) && rv.IsNil() {
		return nil
	}
	// Anything else (structs, typed maps and slices, json.Marshaler types)
	// goes through encoding/json so that tags and custom encodings apply.
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("phpform: encoding %T: %w", v, err)
	}
	tree, err := ParseJSON(b)
	if err != nil {
		return err
	}
	f.depth-- // the JSON tree stands in for v at the same depth
	defer func() { f.depth++ }()
	return f.walk(prefix, tree)
}

func (f *flattener) float(prefix string, x float64) error {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return fmt.Errorf("phpform: cannot encode %v in %q", x, prefix)
	}
	return f.leaf(prefix, strconv.FormatFloat(x, 'f', -1, 64))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
