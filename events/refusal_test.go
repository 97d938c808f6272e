package events

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/b24go/sdk/bitrix"
)

// TestRefusalReason: each refusal of Verify and VerifyInstall maps to its
// code; other errors to "".
func TestRefusalReason(t *testing.T) {
	reg := NewMemoryRegistry()
	if err := reg.Store(t.Context(), "m1", "registered"); err != nil {
		t.Fatal(err)
	}
	v := NewVerifier(reg, "static")
	verify := func(member, token string) error {
		return v.Verify(t.Context(), &Event{Name: "ONCRMDEALADD", Auth: Auth{MemberID: member, ApplicationToken: bitrix.Secret(token)}})
	}
	install := func(refresh string, fail error) error {
		ev := &Event{Name: OnAppInstall, Auth: Auth{MemberID: "m1", Domain: "p.example", ApplicationToken: "a", RefreshToken: bitrix.Secret(refresh)}}
		_, err := VerifyInstall(t.Context(), ev, func(context.Context, bitrix.Secret) (bitrix.Token, error) { return bitrix.Token{}, fail })
		return err
	}
	for _, c := range []struct {
		err  error
		want string
	}{
		{verify("m1", ""), RefusedMissingToken},
		{verify("m1", "wrong"), RefusedTokenMismatch},
		{verify("m2", "wrong"), RefusedUnknownPortal},
		{verify("", "wrong"), RefusedNoMemberID},
		{install("", nil), RefusedInstallProof},
		{install("r", errors.New("invalid_grant")), RefusedInstallProof},
		{verify("m1", "registered"), ""},
		{verify("m1", "static"), ""},
		{fmt.Errorf("events: looking up the application token: %w", errors.New("redis down")), ""},
	} {
		if got := RefusalReason(c.err); got != c.want {
			t.Errorf("RefusalReason(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}
