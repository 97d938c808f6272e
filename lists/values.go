package lists

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// PropertyValue is one value of a property as the portal returned it.
type PropertyValue struct {
	// ID is the property-value id (the key of the {valueId: value} map);
	// "" when the portal sent a plain value.
	ID string
	// Text is the value as text ("" for a structured value).
	Text string
	// Raw is the value's JSON.
	Raw json.RawMessage
}

// Property is the value of a PROPERTY_<id> field of an element: the values
// in the portal's order, with typed accessors. The portal answers
// {valueId: value} maps ({"3743":"1269","3745":"1271"}); plain values and
// arrays are read as well.
type Property struct {
	Values []PropertyValue
	dates  *DateFormat
}

// ErrNoValue is returned by the single-value accessors of an empty property.
var ErrNoValue = errors.New("lists: property has no value")

// Len returns the number of values.
func (p Property) Len() int { return len(p.Values) }

// IsEmpty reports a property without values.
func (p Property) IsEmpty() bool { return len(p.Values) == 0 }

// String returns the first value as text ("" when empty).
func (p Property) String() string {
	if len(p.Values) == 0 {
		return ""
	}
	return p.Values[0].Text
}

// Strings returns every value as text.
func (p Property) Strings() []string {
	out := make([]string, len(p.Values))
	for i, v := range p.Values {
		out[i] = v.Text
	}
	return out
}

// ValueIDs returns the property-value ids ("" for plain values).
func (p Property) ValueIDs() []string {
	out := make([]string, len(p.Values))
	for i, v := range p.Values {
		out[i] = v.ID
	}
	return out
}

// Int returns the first value as an integer (list-type properties hold
// enum ids, link properties element ids).
func (p Property) Int() (int, error) {
	if len(p.Values) == 0 {
		return 0, ErrNoValue
	}
	return atoi(p.Values[0].Text)
}

// Ints returns every value as an integer.
func (p Property) Ints() ([]int, error) {
	out := make([]int, len(p.Values))
	for i, v := range p.Values {
		n, err := atoi(v.Text)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

// Float returns the first value as a number ("12.5" or "12,5").
func (p Property) Float() (float64, error) {
	if len(p.Values) == 0 {
		return 0, ErrNoValue
	}
	return atof(p.Values[0].Text)
}

// Floats returns every value as a number.
func (p Property) Floats() ([]float64, error) {
	out := make([]float64, len(p.Values))
	for i, v := range p.Values {
		f, err := atof(v.Text)
		if err != nil {
			return nil, err
		}
		out[i] = f
	}
	return out, nil
}

// Time returns the first value as a time, parsed with the client's
// [DateFormat] ("12/31/2024 11:59:59 pm", "31.12.2024 23:59:59", ...).
func (p Property) Time() (time.Time, error) {
	if len(p.Values) == 0 {
		return time.Time{}, ErrNoValue
	}
	return p.format().Parse(p.Values[0].Text)
}

// Times returns every value as a time.
func (p Property) Times() ([]time.Time, error) {
	out := make([]time.Time, len(p.Values))
	for i, v := range p.Values {
		t, err := p.format().Parse(v.Text)
		if err != nil {
			return nil, err
		}
		out[i] = t
	}
	return out, nil
}

func (p Property) format() DateFormat {
	if p.dates != nil {
		return *p.dates
	}
	return DefaultDateFormat()
}

func atoi(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("lists: value %.40q is not an integer", s)
	}
	return n, nil
}

func atof(s string) (float64, error) {
	s = strings.ReplaceAll(strings.TrimSpace(s), " ", "")
	if strings.Count(s, ",") == 1 && !strings.Contains(s, ".") {
		s = strings.Replace(s, ",", ".", 1)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("lists: value %.40q is not a number", s)
	}
	return f, nil
}

// decodeProperty reads a property's JSON: a {valueId: value} map (in key
// order), an array, a scalar, or null / [] / "" / false (no value).
func decodeProperty(raw json.RawMessage, dates *DateFormat) (Property, error) {
	p := Property{dates: dates}
	trim := bytes.TrimSpace(raw)
	if len(trim) == 0 {
		return p, nil
	}
	switch trim[0] {
	case '{':
		dec := json.NewDecoder(bytes.NewReader(trim))
		dec.UseNumber()
		if _, err := dec.Token(); err != nil {
			return p, err
		}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return p, err
			}
			key, _ := tok.(string)
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				return p, err
			}
			if pv, ok := valueOf(key, v); ok {
				p.Values = append(p.Values, pv)
			}
		}
	case '[':
		var list []json.RawMessage
		if err := json.Unmarshal(trim, &list); err != nil {
			return p, err
		}
		for _, v := range list {
			if pv, ok := valueOf("", v); ok {
				p.Values = append(p.Values, pv)
			}
		}
	default:
		if pv, ok := valueOf("", trim); ok {
			p.Values = append(p.Values, pv)
		}
	}
	return p, nil
}

// valueOf turns one JSON value into a PropertyValue; null, "" and false
// are no value.
func valueOf(id string, v json.RawMessage) (PropertyValue, bool) {
	v = bytes.TrimSpace(v)
	switch {
	case len(v) == 0, string(v) == "null", string(v) == "false", string(v) == `""`:
		return PropertyValue{}, false
	case v[0] == '"':
		var s string
		_ = json.Unmarshal(v, &s)
		return PropertyValue{ID: id, Text: s, Raw: v}, true
	case v[0] == '{' || v[0] == '[':
		// A structured value such as {"TEXT": "...", "TYPE": "html"}:
		// Text is its TEXT or VALUE member when it has one.
		var m map[string]json.RawMessage
		text := ""
		if json.Unmarshal(v, &m) == nil {
			for _, k := range []string{"TEXT", "VALUE"} {
				var s string
				if json.Unmarshal(m[k], &s) == nil && s != "" {
					text = s
					break
				}
			}
		}
		return PropertyValue{ID: id, Text: text, Raw: v}, true
	default: // number, true
		return PropertyValue{ID: id, Text: string(v), Raw: v}, true
	}
}

// FieldValue is a value to write to a field of an element: build it with
// [Value], [Values], [Date], [DateTime], [File] or [Keep].
type FieldValue struct {
	kind  int // valScalar, valList, valDate, valDateTime, valFile
	vals  []any
	times []time.Time
	name  string
	data  []byte
	list  bool
}

const (
	valScalar = iota + 1
	valList
	valDate
	valDateTime
	valFile
)

// Value writes a single value (a string or a number); with several
// values it writes a multiple property as an array.
func Value(v ...any) FieldValue {
	if len(v) > 1 {
		return FieldValue{kind: valList, vals: v}
	}
	return FieldValue{kind: valScalar, vals: v}
}

// Values writes a multiple property as an array (the shape the portal
// documents, "PROPERTY_951": ["1269", "1271"]), even for one value. No
// values clears the property.
func Values(v ...any) FieldValue { return FieldValue{kind: valList, vals: v} }

// Date writes dates (a date property) in the client's date layout.
func Date(t ...time.Time) FieldValue { return FieldValue{kind: valDate, times: t, list: len(t) > 1} }

// DateTime writes date-times in the client's date-time layout.
func DateTime(t ...time.Time) FieldValue {
	return FieldValue{kind: valDateTime, times: t, list: len(t) > 1}
}

// File writes a new file to a file property as [name, base64 content].
// Existing files of the property are kept by the portal; delete one by
// sending its property-value id in PROPERTY_<id>_DEL (Fields.Extra).
func File(name string, content []byte) FieldValue {
	return FieldValue{kind: valFile, name: name, data: content}
}

// Keep writes back the values of a property that was read, so that
// Update does not clear them (what [Elements.Patch] does for every field).
func Keep(p Property) FieldValue {
	vals := make([]any, 0, len(p.Values))
	for _, v := range p.Values {
		vals = append(vals, v.Text)
	}
	if len(vals) == 1 {
		return FieldValue{kind: valScalar, vals: vals}
	}
	return FieldValue{kind: valList, vals: vals}
}

// wire returns the form value for a field.
func (v FieldValue) wire(field string, dates DateFormat, method string) (any, error) {
	scalar := func(x any) (any, error) {
		switch y := x.(type) {
		case string, int, int64, int32, float64, float32, uint, uint64, json.Number:
			return y, nil
		case bool:
			if y {
				return "Y", nil
			}
			return "N", nil
		case time.Time:
			return dates.FormatDateTime(y), nil
		case fmt.Stringer:
			return y.String(), nil
		case nil:
			return "", nil
		}
		return nil, invalid(method, field, "unsupported value type %T (use strings or numbers)", x)
	}
	switch v.kind {
	case valScalar:
		if len(v.vals) == 0 {
			return "", nil
		}
		return scalar(v.vals[0])
	case valList:
		out := make([]any, 0, len(v.vals))
		for _, x := range v.vals {
			s, err := scalar(x)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		if len(out) == 0 {
			return "", nil // a form cannot send an empty array; "" clears the value
		}
		return out, nil
	case valDate, valDateTime:
		out := make([]any, 0, len(v.times))
		for _, t := range v.times {
			if t.IsZero() {
				return nil, invalid(method, field, "zero time")
			}
			if v.kind == valDate {
				out = append(out, dates.FormatDate(t))
			} else {
				out = append(out, dates.FormatDateTime(t))
			}
		}
		switch {
		case len(out) == 0:
			return "", nil
		case !v.list:
			return out[0], nil
		}
		return out, nil
	case valFile:
		if v.name == "" {
			return nil, invalid(method, field, "file name is empty")
		}
		if len(v.data) == 0 {
			return nil, invalid(method, field, "file %q is empty", v.name)
		}
		return []any{v.name, base64.StdEncoding.EncodeToString(v.data)}, nil
	}
	return nil, invalid(method, field, "zero FieldValue (build it with lists.Value, Values, Date, DateTime, File or Keep)")
}
