package bitrix

import (
	"strings"
	"testing"
	"time"
)

// Tests for mutants of retry.go and redact.go (issue 19, docs/TESTING.md
// "Mutation testing").

// TestBackoffBounds: retry n waits BaseDelay·2^(n-1), capped at MaxDelay,
// jittered to between half and all of it; delays too short to halve are
// used as they are.
func TestBackoffBounds(t *testing.T) {
	t.Parallel()
	p := RetryPolicy{BaseDelay: time.Second, MaxDelay: 5 * time.Second}.withDefaults()
	for n, want := range []time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 5 * time.Second, 5: 5 * time.Second} {
		if n == 0 {
			continue
		}
		lo, hi := want, time.Duration(0)
		for range 200 {
			d := p.backoff(n)
			lo, hi = min(lo, d), max(hi, d)
		}
		// 200 draws from half+[0, half]: the chance that all of them fall
		// in one half of the range is 2^-199.
		if lo < want/2 || hi > want || lo >= want*3/4 || hi <= want*3/4 {
			t.Errorf("backoff(%d) in [%v, %v], want spread over [%v, %v]", n, lo, hi, want/2, want)
		}
	}
	for _, tt := range []struct {
		base     time.Duration
		from, to time.Duration
	}{{time.Nanosecond, time.Nanosecond, time.Nanosecond}, {2 * time.Nanosecond, time.Nanosecond, 2 * time.Nanosecond}} {
		p := RetryPolicy{BaseDelay: tt.base, MaxDelay: tt.base}.withDefaults()
		seen := map[time.Duration]bool{}
		for range 200 {
			seen[p.backoff(1)] = true
		}
		for d := range seen {
			if d < tt.from || d > tt.to {
				t.Errorf("base %v: backoff %v, want in [%v, %v]", tt.base, d, tt.from, tt.to)
			}
		}
		if len(seen) != int(tt.to-tt.from)+1 {
			t.Errorf("base %v: backoffs %v, want every value in [%v, %v]", tt.base, seen, tt.from, tt.to)
		}
	}
}

// TestSnippetCut: a snippet is the redacted text on one line, cut to at
// most n bytes at a character boundary, with "…" when cut.
func TestSnippetCut(t *testing.T) {
	t.Parallel()
	var r redactor
	for _, tt := range []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 3, "abc"},
		{"abcd", 3, "abc…"},
		{"a \n\t b", 3, "a b"},
		{"aéb", 2, "a…"},         // é is 2 bytes: not cut inside it
		{"aéb", 3, "aé…"},        // cut right after it
		{"é", 1, "…"},            // nothing fits
		{"\x80\x80\x80", 1, "…"}, // not UTF-8: nothing to cut at
	} {
		if got := r.snippet([]byte(tt.in), tt.n); got != tt.want {
			t.Errorf("snippet(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

// TestWithAuthLongToken: withAuth with a token of a real one's length
// (about 70 bytes) longer than the body.
func TestWithAuthLongToken(t *testing.T) {
	t.Parallel()
	tok := Secret(strings.Repeat("a1b2c3d4e5", 7))
	for _, tt := range []struct{ body, ctype, want string }{
		{"{}", ctypeJSON, `{"auth":"` + string(tok) + `"}`},
		{"", ctypeForm, "auth=" + string(tok)},
	} {
		if got := string(withAuth([]byte(tt.body), tt.ctype, tok)); got != tt.want {
			t.Errorf("withAuth(%q, %s) = %s, want %s", tt.body, tt.ctype, got, tt.want)
		}
	}
}

// TestIsServerFault: the server-fault codes outside ErrInternal's class
// (any case) are faults a retry may fix; other codes are not.
func TestIsServerFault(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]bool{
		"SERVICE_UNAVAILABLE": true, "service_unavailable": true,
		"TEMPORARY_UNAVAILABLE": true, "Temporary_Unavailable": true,
		"INTERNAL_SERVER_ERROR": true, "ERROR_UNEXPECTED_ANSWER": true, "": true,
		"ACCESS_DENIED": false, "SERVICE_UNAVAILABLE_X": false,
	} {
		if got := isServerFault(&APIError{Code: code, StatusCode: 503}); got != want {
			t.Errorf("isServerFault(%q) = %v, want %v", code, got, want)
		}
	}
}
