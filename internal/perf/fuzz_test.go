package perf_test

import (
	"encoding/json"
	"testing"

	"github.com/b24go/sdk/bitrix"
)

// FuzzWireTypes: the portal-quirk wire types never panic on any JSON value,
// and what they accept they write back in a form they accept again.
func FuzzWireTypes(f *testing.F) {
	for _, s := range []string{`123`, `"123"`, `""`, `null`, `"Y"`, `"N"`, `true`, `"1"`, `0`, `1.5`, `"12.50"`,
		`"2024-03-01T10:00:00+03:00"`, `"2024-03-01"`, `"01.03.2024 10:00:00"`, `[]`, `{}`, `{"a":1}`, `[1,2]`,
		`{"start":1,"operating_reset_at":1700000000,"date_start":"2024-03-01T10:00:00+03:00"}`, `1e400`, `"\u0000"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var n bitrix.Int
		if n.UnmarshalJSON(b) == nil {
			roundTrip(t, &n, new(bitrix.Int))
		}
		var fl bitrix.Float
		if fl.UnmarshalJSON(b) == nil {
			roundTrip(t, &fl, new(bitrix.Float))
		}
		var bo bitrix.Bool
		if bo.UnmarshalJSON(b) == nil {
			roundTrip(t, &bo, new(bitrix.Bool))
		}
		var tm bitrix.Time
		if tm.UnmarshalJSON(b) == nil {
			roundTrip(t, &tm, new(bitrix.Time))
		}
		var fm bitrix.FlexMap[json.RawMessage]
		_ = fm.UnmarshalJSON(b)
		var ob bitrix.Object[map[string]any]
		_ = ob.UnmarshalJSON(b)
		var tg bitrix.Timing
		_ = tg.UnmarshalJSON(b)
	})
}

// roundTrip marshals v and unmarshals the result into fresh.
func roundTrip(t *testing.T, v any, fresh json.Unmarshaler) {
	t.Helper()
	out, err := json.Marshal(v)
	if err != nil {
		return // values JSON cannot represent (NaN, out-of-range times) may refuse to marshal
	}
	if err := fresh.UnmarshalJSON(out); err != nil {
		t.Fatalf("%T wrote %s, which it does not read back: %v", v, out, err)
	}
}
