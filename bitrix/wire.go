package bitrix

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/b24go/sdk/internal/wire"
	"math"
	"strconv"
	"strings"
	"time"
)

// Int is an integer the portal may send as 123, "123", "", or null (the
// last two decode as 0). It marshals as a JSON number.
type Int int64

// UnmarshalJSON accepts numbers, numeric strings, "" and null.
func (n *Int) UnmarshalJSON(b []byte) error {
	s, isNull, err := scalarText(b)
	if err != nil {
		return fmt.Errorf("bitrix.Int: %w", err)
	}
	if isNull || s == "" {
		*n = 0
		return nil
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		*n = Int(v)
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<62 {
		return fmt.Errorf("bitrix.Int: cannot decode %.40q", s)
	}
	*n = Int(f)
	return nil
}

// Float is a number the portal may send as 1.5, "1.5", "", or null.
// It marshals as a JSON number.
type Float float64

// UnmarshalJSON accepts numbers, numeric strings, "" and null.
func (f *Float) UnmarshalJSON(b []byte) error {
	s, isNull, err := scalarText(b)
	if err != nil {
		return fmt.Errorf("bitrix.Float: %w", err)
	}
	if isNull || s == "" {
		*f = 0
		return nil
	}
	v, err := strconv.ParseFloat(strings.Replace(s, ",", ".", 1), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("bitrix.Float: cannot decode %.40q", s)
	}
	*f = Float(v)
	return nil
}

// Bool is a flag the portal sends as "Y"/"N", "1"/"0", 1/0, true/false
// ("" and null decode as false). It marshals as "Y" or "N", the spelling
// CRM fields expect.
type Bool bool

// UnmarshalJSON accepts every spelling above.
func (v *Bool) UnmarshalJSON(b []byte) error {
	s, isNull, err := scalarText(b)
	if err != nil {
		return fmt.Errorf("bitrix.Bool: %w", err)
	}
	if isNull {
		*v = false
		return nil
	}
	switch strings.ToLower(s) {
	case "y", "yes", "1", "true", "on":
		*v = true
	case "n", "no", "0", "false", "off", "":
		*v = false
	default:
		return fmt.Errorf("bitrix.Bool: cannot decode %.40q", s)
	}
	return nil
}

// MarshalJSON writes "Y" or "N".
func (v Bool) MarshalJSON() ([]byte, error) {
	if v {
		return []byte(`"Y"`), nil
	}
	return []byte(`"N"`), nil
}

// Time is a portal timestamp. It decodes ISO-8601 with an offset
// ("2024-08-29T10:34:19+03:00"), dates ("2024-08-29"), "2006-01-02 15:04:05",
// the Russian/European portal formats "29.08.2024" and "29.08.2024 10:34:19",
// and US "08/29/2024 10:34:19 am"; "" and null decode as the zero Time.
// Strings without an offset are read as UTC. It marshals as RFC 3339, or
// "" when zero.
type Time struct{ time.Time }

// ParseTime parses s with the layouts [Time] accepts.
func ParseTime(s string) (Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Time{}, nil
	}
	for _, cand := range []string{s, strings.ToLower(s)} {
		for _, l := range wire.DateLayouts {
			if t, err := time.Parse(l, cand); err == nil {
				return Time{t}, nil
			}
		}
	}
	return Time{}, fmt.Errorf("bitrix.Time: cannot parse %.40q", s)
}

// UnmarshalJSON accepts the formats listed on [Time].
func (t *Time) UnmarshalJSON(b []byte) error {
	s, isNull, err := scalarText(b)
	if err != nil {
		return fmt.Errorf("bitrix.Time: %w", err)
	}
	if isNull {
		*t = Time{}
		return nil
	}
	v, err := ParseTime(s)
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// MarshalJSON writes RFC 3339 ("" for the zero Time).
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte(`""`), nil
	}
	return json.Marshal(t.Format(time.RFC3339))
}

// scalarText returns the text of a JSON string or number, and whether b is
// null. false/true become "0"/"1".
func scalarText(b []byte) (string, bool, error) {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return "", true, nil
	case string(b) == "null":
		return "", true, nil
	case string(b) == "true":
		return "1", false, nil
	case string(b) == "false":
		return "0", false, nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", false, err
		}
		return strings.TrimSpace(s), false, nil
	case b[0] == '[' && isEmptyJSON(b):
		return "", true, nil // PHP's empty array for "nothing"
	case b[0] == '[' || b[0] == '{':
		return "", false, fmt.Errorf("want a scalar, got %.20s", b)
	}
	return string(b), false, nil
}

// Object holds a JSON object field that PHP sends as [] when it is empty.
// An empty array (or null) decodes as the zero T; anything else decodes into
// Value. It marshals as Value.
type Object[T any] struct {
	Value T
}

// UnmarshalJSON accepts [] and null as "empty".
func (o *Object[T]) UnmarshalJSON(b []byte) error {
	var zero T
	o.Value = zero
	if isEmptyJSON(b) && !bytes.Equal(bytes.TrimSpace(b), []byte(`""`)) {
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}

// MarshalJSON writes Value.
func (o Object[T]) MarshalJSON() ([]byte, error) { return json.Marshal(o.Value) }

// FlexMap is a map the portal sends as a JSON object keyed by ids
// ({"12": {...}}), as [] when empty, or as a JSON array when the keys happen
// to be 0..n-1 (PHP's list rule); an array decodes with keys "0".."n-1".
type FlexMap[V any] map[string]V

// UnmarshalJSON accepts an object, an array or null.
func (m *FlexMap[V]) UnmarshalJSON(b []byte) error {
	out, err := wire.DecodeFlexMap[V](b)
	if err != nil {
		return err
	}
	*m = out
	return nil
}
