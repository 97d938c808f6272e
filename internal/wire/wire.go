// Package wire holds the JSON helpers that the typed clients and the fake
// portal share: decoding an object into a struct while keeping the members
// the struct does not name, reading PHP's id-keyed maps, and the crm.item
// spelling of user-field names. Exported wire types live in package bitrix;
// this package is the machinery behind them.
package wire

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// DateLayouts are the date and date-time formats portals send: ISO 8601
// (crm.item.*), SQL-style, and the locale formats of lists and legacy
// methods (dd.mm.yyyy, mm/dd/yyyy with a 12- or 24-hour clock). Go's "pm"
// matches lower case only: callers try a lower-cased copy as well.
var DateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05-0700",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02",
	"02.01.2006 15:04:05",
	"02.01.2006 15:04",
	"02.01.2006",
	"01/02/2006 03:04:05 pm",
	"01/02/2006 03:04 pm",
	"01/02/2006 15:04:05",
	"01/02/2006",
}

var knownKeys sync.Map // reflect.Type → map[string]bool

// jsonNames returns the json names of the fields of the struct type t.
func jsonNames(t reflect.Type) map[string]bool {
	if v, ok := knownKeys.Load(t); ok {
		return v.(map[string]bool)
	}
	names := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
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

// DecodeExtra decodes the JSON object data into w (a pointer to a struct)
// and returns the members that w's fields do not name, so that nothing the
// portal sent is lost. Empty input, null and PHP's [] for an empty object
// decode as an empty object.
func DecodeExtra(data []byte, w any) (map[string]json.RawMessage, error) {
	trim := bytes.TrimSpace(data)
	if len(trim) == 0 || string(trim) == "null" || IsEmptyArray(trim) {
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

// IsEmptyArray reports whether b (trimmed) is a JSON empty array, which is
// how PHP writes an empty map.
func IsEmptyArray(b []byte) bool {
	if len(b) < 2 || b[0] != '[' || b[len(b)-1] != ']' {
		return false
	}
	return len(bytes.TrimSpace(b[1:len(b)-1])) == 0
}

// DecodeFlexMap decodes an id-keyed map the way the portal writes one: a
// JSON object ({"12": ...}), [] or a JSON array when the keys happen to be
// 0..n-1 (PHP's list rule; the array decodes with keys "0".."n-1"), or null.
// Empty input is an empty map; scalars are refused.
func DecodeFlexMap[V any](raw []byte) (map[string]V, error) {
	b := bytes.TrimSpace(raw)
	out := map[string]V{}
	switch {
	case len(b) == 0 || string(b) == "null":
	case b[0] == '[':
		var list []V
		if err := json.Unmarshal(b, &list); err != nil {
			return nil, err
		}
		for i, v := range list {
			out[strconv.Itoa(i)] = v
		}
	case b[0] == '{':
		if err := json.Unmarshal(b, &out); err != nil {
			return nil, err
		}
	default:
		return nil, errors.New("want an object keyed by id")
	}
	return out, nil
}

// IDKeyed decodes a list the way the portal writes one: a JSON array, an
// object keyed by integer ids or indexes ({"12": ..., "7": ...}: PHP
// writes an array whose keys are not 0..n-1 as an object), or [], null,
// false or nothing for an empty list. Object members come in ascending key
// order. A key that is not an integer is an error, as is any other JSON.
// setID, when not nil, is called for each object member with its key, so
// that a record can take its id from the key.
func IDKeyed[V any](raw []byte, setID func(id int, v *V)) ([]V, error) {
	b := bytes.TrimSpace(raw)
	switch {
	case len(b) == 0 || string(b) == "null" || string(b) == "false":
		return nil, nil
	case b[0] == '[':
		var list []V
		if err := json.Unmarshal(b, &list); err != nil {
			return nil, err
		}
		return list, nil
	case b[0] != '{':
		return nil, errors.New("want a list or an object keyed by id")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	type member struct {
		id  int
		raw json.RawMessage
	}
	members := make([]member, 0, len(m))
	for k, v := range m {
		id, err := strconv.Atoi(k)
		if err != nil {
			return nil, fmt.Errorf("key %.40q is not an id", k)
		}
		members = append(members, member{id, v})
	}
	slices.SortFunc(members, func(a, b member) int { return cmp.Compare(a.id, b.id) })
	out := make([]V, len(members))
	for i, mb := range members {
		if err := json.Unmarshal(mb.raw, &out[i]); err != nil {
			return nil, fmt.Errorf("%d: %w", mb.id, err)
		}
		if setID != nil {
			setID(mb.id, &out[i])
		}
	}
	return out, nil
}

// FlexMap is DecodeFlexMap for raw JSON values.
func FlexMap(raw json.RawMessage) (map[string]json.RawMessage, error) {
	return DecodeFlexMap[json.RawMessage](raw)
}

// UFCamelName converts an original user-field name to the spelling
// crm.item.* uses without useOriginalUfNames: UF_CRM_3_DIGIT → ufCrm3Digit,
// UF_CRM_3_1747309727 → ufCrm3_1747309727; names with a part that mixes
// letters and digits, or with only a number, keep their tail:
// UF_CRM_3_DIGIT10 → ufCrm_3_DIGIT10, UF_CRM_1747309879 → ufCrm_1747309879.
// The prefix is matched case-insensitively; other names are returned
// unchanged.
func UFCamelName(name string) string {
	const prefix = "UF_CRM_"
	if !strings.HasPrefix(strings.ToUpper(name), prefix) || len(name) == len(prefix) {
		return name
	}
	rest := name[len(prefix):]
	parts := strings.Split(rest, "_")
	simple := len(parts) == 1 && allDigits(parts[0])
	for _, p := range parts {
		if !allDigits(p) && !allLetters(p) {
			simple = true
		}
	}
	if simple {
		return "ufCrm_" + rest
	}
	var b strings.Builder
	b.WriteString("ufCrm")
	prevDigits := false
	for _, p := range parts {
		if allDigits(p) {
			if prevDigits {
				b.WriteByte('_')
			}
			b.WriteString(p)
			prevDigits = true
			continue
		}
		lp := strings.ToLower(p)
		b.WriteString(strings.ToUpper(lp[:1]) + lp[1:])
		prevDigits = false
	}
	return b.String()
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func allLetters(s string) bool {
	for _, r := range s {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return s != ""
}
