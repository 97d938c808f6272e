package lists

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
)

var knownKeys sync.Map // reflect.Type → map[string]bool

// jsonNames returns the json names of the fields of the struct type t.
func jsonNames(t reflect.Type) map[string]bool {
	if v, ok := knownKeys.Load(t); ok {
		return v.(map[string]bool)
	}
	names := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		names[name] = true
	}
	knownKeys.Store(t, names)
	return names
}

// decodeExtra decodes the JSON object data into w (a pointer to a struct)
// and returns the members that w's fields do not name. PHP's [] for an
// empty object decodes as an empty object.
func decodeExtra(data []byte, w any) (map[string]json.RawMessage, error) {
	trim := bytes.TrimSpace(data)
	if len(trim) == 0 || string(trim) == "null" || isEmptyArray(trim) {
		return nil, nil
	}
	if trim[0] != '{' {
		return nil, errors.New("not a JSON object")
	}
	if err := json.Unmarshal(trim, w); err != nil {
		return nil, err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(trim, &all); err != nil {
		return nil, err
	}
	known := jsonNames(reflect.TypeOf(w).Elem())
	for k := range all {
		if known[k] {
			delete(all, k)
		}
	}
	if len(all) == 0 {
		return nil, nil
	}
	return all, nil
}

func isEmptyArray(b []byte) bool {
	if len(b) < 2 || b[0] != '[' {
		return false
	}
	return len(bytes.TrimSpace(b[1:len(b)-1])) == 0 && b[len(b)-1] == ']'
}

// flexMap decodes an object, a JSON array (keys "0".."n-1"), [] or null.
func flexMap(raw json.RawMessage) (map[string]json.RawMessage, error) {
	trim := bytes.TrimSpace(raw)
	out := map[string]json.RawMessage{}
	if len(trim) == 0 || string(trim) == "null" {
		return out, nil
	}
	switch trim[0] {
	case '{':
		if err := json.Unmarshal(trim, &out); err != nil {
			return nil, err
		}
	case '[':
		var list []json.RawMessage
		if err := json.Unmarshal(trim, &list); err != nil {
			return nil, err
		}
		for i, v := range list {
			out[strconv.Itoa(i)] = v
		}
	default:
		return nil, errors.New("want an object keyed by id")
	}
	return out, nil
}

func sortInts(s []int) { sort.Ints(s) }
