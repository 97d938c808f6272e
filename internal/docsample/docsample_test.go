package docsample

import "testing"

func TestDiff(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		want, got string
		bad       int
	}{
		{"same", `{"a":1,"b":true,"c":"x","d":[1,2]}`, `{"a":1,"b":true,"c":"x","d":[1,2]}`, 0},
		{"spellings", `{"a":1,"b":true,"c":null,"d":false,"e":{}}`, `{"a":"1","b":"Y","d":"N"}`, 0},
		{"missing", `{"a":1,"b":{"c":"x"}}`, `{"a":1,"b":{}}`, 1},
		{"changed", `{"a":1,"b":"x"}`, `{"a":2,"b":"y"}`, 2},
		{"not empty", `{"a":null}`, `{"a":"x"}`, 1},
		{"list length", `{"a":[1,2]}`, `{"a":[1]}`, 1},
		{"false true", `{"a":true}`, `{"a":false}`, 1},
	} {
		got, err := Diff([]byte(tc.want), []byte(tc.got))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != tc.bad {
			t.Errorf("%s: %d differences %q, want %d", tc.name, len(got), got, tc.bad)
		}
	}
}
