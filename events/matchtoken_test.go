package events

import (
	"context"
	"errors"
	"testing"

	"github.com/b24go/sdk/bitrix"
)

// TestMatchTokenLengths: tokens are compared whole; a candidate that is a
// prefix or an extension of the token, or of another length, does not
// match, and a match among candidates of other lengths is found wherever
// it stands.
func TestMatchTokenLengths(t *testing.T) {
	t.Parallel()
	const tok = "51856fefc120afa4b628cc82d3935cce"
	for _, c := range []struct {
		got        bitrix.Secret
		candidates []bitrix.Secret
		want       bool
	}{
		{tok, []bitrix.Secret{tok}, true},
		{tok, []bitrix.Secret{"short", tok, tok + "x"}, true},
		{tok, []bitrix.Secret{tok + "x", "short"}, false},
		{tok, []bitrix.Secret{bitrix.Secret(tok[:31])}, false},
		{bitrix.Secret(tok[:31]), []bitrix.Secret{tok}, false},
		{tok, []bitrix.Secret{"61856fefc120afa4b628cc82d3935cce", "51856fefc120afa4b628cc82d3935ccf"}, false},
		{tok, nil, false},
		{"", []bitrix.Secret{""}, false},
		{tok, []bitrix.Secret{""}, false},
	} {
		if got := MatchToken(c.got, c.candidates...); got != c.want {
			t.Errorf("MatchToken(%d chars, %d candidates) = %v, want %v", len(c.got), len(c.candidates), got, c.want)
		}
	}
	// The registry's token is compared the same way.
	reg := NewMemoryRegistry()
	if err := reg.Store(context.Background(), "m", tok); err != nil {
		t.Fatal(err)
	}
	v := NewVerifier(reg, "static-token")
	for got, want := range map[bitrix.Secret]error{tok: nil, tok + "x": ErrTokenMismatch, bitrix.Secret(tok[:31]): ErrTokenMismatch, "static-token": nil, "static-toke": ErrTokenMismatch} {
		err := v.Verify(context.Background(), &Event{Auth: Auth{ApplicationToken: got, MemberID: "m"}})
		if !errors.Is(err, want) || want == nil && err != nil {
			t.Errorf("Verify(%d chars) = %v, want %v", len(got), err, want)
		}
	}
}
