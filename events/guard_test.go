package events

import (
	"encoding/json"
	"testing"
)

// TestTaskFieldsJSONStrings: on the JSON path (UnmarshalJSON), "" and
// "undefined" mean "no fields"; any other string is an error.
func TestTaskFieldsJSONStrings(t *testing.T) {
	t.Parallel()
	for _, in := range []string{`""`, `"undefined"`} {
		tf := TaskFields{ID: 7}
		if err := json.Unmarshal([]byte(in), &tf); err != nil || !tf.Undefined || tf.ID != 0 {
			t.Errorf("%s: %+v %v, want Undefined", in, tf, err)
		}
	}
	var tf TaskFields
	if err := json.Unmarshal([]byte(`"other"`), &tf); err == nil {
		t.Errorf(`"other": %+v, want an error`, tf)
	}
	if err := json.Unmarshal([]byte(`{"ID":"12"}`), &tf); err != nil || tf.ID != 12 || tf.Undefined {
		t.Errorf("object: %+v %v", tf, err)
	}
}
