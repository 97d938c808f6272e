package bitrix

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Credential-bearing keys in forms, JSON and URLs.
var (
	formSecretRe = regexp.MustCompile(`(?i)((?:^|[&?\s])[^=&?\s]*(?:auth|token|secret|password|refresh_id)[^=&\s]*=)[^&\s"]*`)
	// The value runs to its closing quote or, in a body cut short, to the
	// end of the text: a truncated token answer must not leak the new
	// refresh token for want of a closing quote.
	jsonSecretRe = regexp.MustCompile(`(?i)("[^"]*(?:auth|token|secret|password|refresh_id)[^"]*"\s*:\s*)"(?:[^"\\]|\\.)*\\?"?`)
	// The same inside a JSON string (a body quoted in an error text):
	// \"refresh_token\":\"value\", the value running to the next
	// backslash or quote, or to the end.
	escJSONSecretRe = regexp.MustCompile(`(?i)(\\"[^"\\]*(?:auth|token|secret|password|refresh_id)[^"\\]*\\"\s*:\s*\\")[^"\\]*`)
	// /rest/{user}/{secret}/ in URLs and echoed paths.
	webhookPathRe = regexp.MustCompile(`(/rest/\d+/)[A-Za-z0-9_\-]+`)
	bearerRe      = regexp.MustCompile(`(?i)(bearer\s+)[^\s"]+`)
)

// redactor removes credentials from text: every known secret value and
// anything that looks like a credential key's value.
type redactor struct {
	secrets func() []string
}

func (r redactor) text(s string) string {
	if r.secrets != nil {
		for _, sec := range r.secrets() {
			if len(sec) >= 4 {
				s = strings.ReplaceAll(s, sec, redacted)
			}
		}
	}
	s = webhookPathRe.ReplaceAllString(s, "${1}"+redacted)
	s = formSecretRe.ReplaceAllString(s, "${1}"+redacted)
	s = escJSONSecretRe.ReplaceAllString(s, "${1}"+redacted)
	s = jsonSecretRe.ReplaceAllString(s, `${1}"`+redacted+`"`)
	s = bearerRe.ReplaceAllString(s, "${1}"+redacted)
	return s
}

// snippet returns up to n bytes of body, redacted, on one line, in the
// form ResponseError prints it. A rune %q would escape becomes U+FFFD
// before the redactor runs: an escape such as \x7f in front of "uzz…"
// would otherwise spell a secret ("fuzz…") the redactor never saw
// (FuzzDecodeEnvelope found it).
func (r redactor) snippet(body []byte, n int) string {
	s := strings.Map(printable, strings.ToValidUTF8(string(body), "\uFFFD"))
	s = r.text(s)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		cut := n
		for cut > 0 && !utf8Start(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// printable keeps a rune %q prints as itself (and whitespace, which
// snippet folds to spaces); any other becomes U+FFFD.
func printable(r rune) rune {
	if strconv.IsPrint(r) || unicode.IsSpace(r) {
		return r
	}
	return utf8.RuneError
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
