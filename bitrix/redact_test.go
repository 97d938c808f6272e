package bitrix

import (
	"strings"
	"testing"
)

// TestRedactorCutBodies: a value of a secret-named key is redacted however
// the text around it ends, so a token answer cut mid-body cannot leak the
// new refresh token, which the client does not know yet.
func TestRedactorCutBodies(t *testing.T) {
	t.Parallel()
	const secret = "nrtD8jLEAK"
	tests := []struct{ name, in string }{
		{"json whole", `{"access_token":"a1","refresh_token":"nrtD8jLEAK","expires_in":3600}`},
		{"json cut inside the value", `{"access_token":"a1","refresh_token":"nrtD8jLEAK`},
		{"json cut after an escape", `{"refresh_token":"nrtD8jLEAK\`},
		{"json with escapes", `{"refresh_token":"x\"nrtD8jLEAK\\nrtD8jLEAK"}`},
		{"json spaced", "{\"client_secret\" :\n \"nrtD8jLEAK"},
		{"json quoted in a string", `{"error_description":"bad answer {\"refresh_token\":\"nrtD8jLEAK\",\"x\":1}"}`},
		{"json quoted and cut", `invalid JSON: {\"access_token\":\"nrtD8jLEAK`},
		{"form whole", "grant_type=refresh_token&refresh_token=nrtD8jLEAK&client_id=app"},
		{"form cut", "grant_type=refresh_token&client_secret=nrtD8jLEAK"},
		{"auth param", "auth=nrtD8jLEAK"},
		{"bearer", "Authorization: Bearer nrtD8jLEAK"},
		{"webhook path", "POST https://p.bitrix24.com/rest/1/nrtD8jLEAK/crm.deal.get"},
	}
	var r redactor
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := r.text(tt.in); strings.Contains(got, secret) || !strings.Contains(got, redacted) {
				t.Errorf("text(%q) = %q", tt.in, got)
			}
			if got := r.snippet([]byte(tt.in), 200); strings.Contains(got, secret) {
				t.Errorf("snippet(%q) = %q", tt.in, got)
			}
		})
	}
	// Values of other keys are kept.
	if got := r.text(`{"member_id":"m1","expires_in":3600,"domain":"oauth.bitrix.info"}`); !strings.Contains(got, "m1") || !strings.Contains(got, "oauth.bitrix.info") {
		t.Errorf("over-redaction: %s", got)
	}
}

// TestSnippetEscapesCannotSpellASecret: ResponseError quotes its snippet
// with %q, and an escape ending in a letter (\x7f, \x8f for a byte that is
// not UTF-8, \u200f) in front of a secret's tail would spell the secret in
// the error text though the body never held it. The snippet replaces what
// %q would escape before the redactor runs. Found by FuzzDecodeEnvelope
// (testdata/fuzz/FuzzDecodeEnvelope/1e95880e8961f6ac).
func TestSnippetEscapesCannotSpellASecret(t *testing.T) {
	t.Parallel()
	const secret = "fuzzSecret123"
	r := redactor{secrets: func() []string { return []string{secret} }}
	for _, body := range []string{
		"\x7fuzzSecret123",
		"x \x1fuzzSecret123 y",
		"\x8fuzzSecret123",
		"\u200fuzzSecret123",
		"\x00\x7fuzzSecret123",
	} {
		e := &ResponseError{Method: "m.get", StatusCode: 502, Snippet: r.snippet([]byte(body), 200)}
		if msg := e.Error(); strings.Contains(msg, secret) {
			t.Errorf("body %q: error %q spells the secret", body, msg)
		}
		if !strings.Contains(e.Snippet, "uzzSecret123") {
			t.Errorf("body %q: snippet %q lost the text around the control character", body, e.Snippet)
		}
	}
	// Printable text and whitespace are kept as they were (folded to one line).
	if got := r.snippet([]byte("a\tb\n  «c» \"d\"\\"), 200); got != "a b «c» \"d\"\\" {
		t.Errorf("snippet = %q", got)
	}
}
