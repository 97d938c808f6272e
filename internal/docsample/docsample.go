// Package docsample checks that a typed decode of a documentation sample
// kept the sample's values. Tests decode a sample into the SDK's types,
// marshal the result back to JSON and ask [Diff] whether every value of the
// sample survived, allowing for the portal's alternative spellings: a
// boolean as "Y"/"N" or "1"/"0", a number as a numeric string, and null,
// "", false, 0, {} or [] for "nothing" (webhook deliveries drop or
// stringify those).
package docsample

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
)

// Diff returns one line per value of want (JSON) missing or different in
// got (JSON), with its path; nil when got covers want.
func Diff(want, got []byte) ([]string, error) {
	var w, g any
	if err := json.Unmarshal(want, &w); err != nil {
		return nil, fmt.Errorf("docsample: want: %w", err)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		return nil, fmt.Errorf("docsample: got: %w", err)
	}
	var out []string
	walk("$", w, g, true, &out)
	return out, nil
}

// isEmpty reports a value that means "nothing".
func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == "" || x == "N" || x == "0"
	case bool:
		return !x
	case float64:
		return x == 0
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}

func walk(path string, want, got any, present bool, out *[]string) {
	if isEmpty(want) {
		if present && !isEmpty(got) {
			*out = append(*out, fmt.Sprintf("%s: want empty (%v), got %v", path, want, got))
		}
		return
	}
	if !present {
		*out = append(*out, fmt.Sprintf("%s: missing, want %v", path, want))
		return
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			*out = append(*out, fmt.Sprintf("%s: want object, got %T", path, got))
			return
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			gv, ok := g[k]
			walk(path+"."+k, w[k], gv, ok, out)
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			if m, isMap := got.(map[string]any); isMap && len(m) == len(w) { // PHP list as object
				g = make([]any, len(w))
				for i := range w {
					g[i] = m[strconv.Itoa(i)]
				}
			} else {
				*out = append(*out, fmt.Sprintf("%s: want array, got %T", path, got))
				return
			}
		}
		if len(g) != len(w) {
			*out = append(*out, fmt.Sprintf("%s: want %d items, got %d", path, len(w), len(g)))
			return
		}
		for i := range w {
			walk(fmt.Sprintf("%s[%d]", path, i), w[i], g[i], true, out)
		}
	case bool: // true
		switch g := got.(type) {
		case bool:
			if g {
				return
			}
		case string:
			if g == "Y" || g == "1" || g == "true" {
				return
			}
		}
		*out = append(*out, fmt.Sprintf("%s: want true, got %v", path, got))
	case float64:
		switch g := got.(type) {
		case float64:
			if g == w {
				return
			}
		case string:
			if f, err := strconv.ParseFloat(g, 64); err == nil && f == w {
				return
			}
		}
		*out = append(*out, fmt.Sprintf("%s: want %v, got %v", path, w, got))
	case string:
		switch g := got.(type) {
		case string:
			if g == w {
				return
			}
		case float64:
			if strconv.FormatFloat(g, 'f', -1, 64) == w {
				return
			}
		case bool:
			if g && (w == "Y" || w == "1") {
				return
			}
		}
		*out = append(*out, fmt.Sprintf("%s: want %q, got %v", path, w, got))
	}
}
