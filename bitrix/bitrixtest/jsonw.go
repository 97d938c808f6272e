package bitrixtest

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/b24go/sdk/internal/phpform"
)

// obj is an ordered JSON object used for hot answers (CRM items), cheaper
// than *phpform.Map: no index map, and written by appendJSON without
// reflection.
type obj struct {
	keys []string
	vals []any
}

func newObj(n int) *obj { return &obj{keys: make([]string, 0, n), vals: make([]any, 0, n)} }

func (o *obj) set(k string, v any) {
	o.keys = append(o.keys, k)
	o.vals = append(o.vals, v)
}

func (o *obj) get(k string) (any, bool) {
	for i, key := range o.keys {
		if key == k {
			return o.vals[i], true
		}
	}
	return nil, false
}

// MarshalJSON writes the object in key order.
func (o *obj) MarshalJSON() ([]byte, error) { return appendJSON(nil, o), nil }

// appendJSON encodes the value shapes the handlers produce, PHP-style
// (*phpform.Map lists as arrays, empty maps as []), falling back to
// encoding/json for anything else.
func appendJSON(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, x)
	case string:
		return appendString(b, x)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case float64:
		return appendFloat(b, x)
	case json.Number:
		if x == "" {
			return append(b, '0')
		}
		return append(b, x...)
	case *obj:
		return appendObj(b, x)
	case *phpform.Map:
		return appendPHPMap(b, x)
	case keyedObject:
		return appendKeyed(b, x)
	case []any:
		return appendList(b, x)
	case map[string]any:
		return appendMap(b, x)

	}
	js, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, js...)
}

// appendObj writes an ordered object.
func appendObj(b []byte, x *obj) []byte {
	b = append(b, '{')
	for i, k := range x.keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = appendJSON(b, x.vals[i])
	}
	return append(b, '}')
}

// appendPHPMap writes a *phpform.Map: a list (an empty map too, PHP's []) as
// an array, anything else as an object.
func appendPHPMap(b []byte, x *phpform.Map) []byte {
	if x == nil {
		return append(b, "null"...)
	}
	list := x.IsList()
	if list {
		b = append(b, '[')
	} else {
		b = append(b, '{')
	}
	for i, k := range x.Keys() {
		if i > 0 {
			b = append(b, ',')
		}
		if !list {
			b = appendString(b, k)
			b = append(b, ':')
		}
		e, _ := x.Get(k)
		b = appendJSON(b, e)
	}
	if list {
		return append(b, ']')
	}
	return append(b, '}')
}

// appendKeyed writes the map as an object even when its keys are 0..n-1.
func appendKeyed(b []byte, x keyedObject) []byte {
	b = append(b, '{')
	for i, k := range x.m.Keys() {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		e, _ := x.m.Get(k)
		b = appendJSON(b, e)
	}
	return append(b, '}')
}

// appendList writes an array.
func appendList(b []byte, x []any) []byte {
	b = append(b, '[')
	for i, e := range x {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSON(b, e)
	}
	return append(b, ']')
}

// appendMap writes an object with sorted keys, as encoding/json does.
func appendMap(b []byte, x map[string]any) []byte {
	keys := make([]string, 0, len(x))
	for k := range x {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = appendJSON(b, x[k])
	}
	return append(b, '}')
}

func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		js, _ := json.Marshal(f)
		return append(b, js...)
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= utf8.RuneSelf {
			js, _ := json.Marshal(s)
			return append(b, js...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
