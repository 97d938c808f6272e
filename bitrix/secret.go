package bitrix

import (
	"encoding/json"
	"errors"
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
// Secret marshals to JSON as "[REDACTED]" too, so that encoding/json and
// slog's JSON handler cannot leak it through a struct that holds it. Token
// stores persist a [Token] with [Token.MarshalBinary], the one wire form
// that carries the values; decoding "[REDACTED]" into a Secret is an error,
// so that a redacted form is never mistaken for a credential.
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

// MarshalJSON writes "[REDACTED]" ("" for an empty secret), never the value.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// errRedactedSecret is returned when a redacted form is decoded as a secret.
var errRedactedSecret = errors.New(`bitrix: refusing to decode "[REDACTED]" as a secret (JSON output of a Secret is redacted; persist tokens with Token.MarshalBinary)`)

// UnmarshalJSON reads a JSON string. It refuses "[REDACTED]", the JSON
// form of a secret, so that redacted output never becomes a credential.
func (s *Secret) UnmarshalJSON(b []byte) error {
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v == redacted {
		return errRedactedSecret
	}
	*s = Secret(v)
	return nil
}
