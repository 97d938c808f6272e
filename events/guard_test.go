package events

import (
	"encoding/json"
	"fmt"
	"strings"
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

// TestVerifierFormat: %v shows how the verifier is configured, never a token.
func TestVerifierFormat(t *testing.T) {
	t.Parallel()
	const tok = "appTokenValue1234"
	if got, want := fmt.Sprintf("%v", NewVerifier(nil, tok)), "events.Verifier{tokens: 1, registry: false}"; got != want {
		t.Errorf("%%v = %s, want %s", got, want)
	}
	got := fmt.Sprintf("%+v", NewVerifier(NewMemoryRegistry(), tok, "other"))
	if want := "events.Verifier{tokens: 2, registry: true}"; got != want {
		t.Errorf("%%+v = %s, want %s", got, want)
	}
	if strings.Contains(got, tok) {
		t.Errorf("token in %s", got)
	}
}
