package bitrix

import (
	"fmt"
	"io"
	"log/slog"
)

const redacted = "[REDACTED]"

// Secret is a credential: a webhook secret, an access or refresh token, a
// client secret or an application token. It prints as "[REDACTED]" through
// fmt (every verb, including %#v), log/slog and [Secret.String]; the only
// way to read the value is [Secret.Reveal].
//
// Secret marshals to JSON as its real value, so that token stores can persist
// it: never log the JSON of a value that holds a Secret.
type Secret string

// Reveal returns the secret value.
func (s Secret) Reveal() string { return string(s) }

// String returns "[REDACTED]", or "" for an empty secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString returns a redacted Go-syntax form.
func (s Secret) GoString() string { return fmt.Sprintf("bitrix.Secret(%q)", s.String()) }

// Format implements fmt.Formatter so that no verb can print the value.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = io.WriteString(f, s.GoString())
		return
	}
	_, _ = io.WriteString(f, s.String())
}

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }
