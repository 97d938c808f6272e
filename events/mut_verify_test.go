package events

import (
	"context"
	"strings"
	"testing"

	"github.com/b24go/sdk/bitrix"
)

// TestVerifyInstallNames: ONAPPUPDATE is proven like ONAPPINSTALL; any
// other event is refused before the OAuth server is asked, even with a
// complete auth block.
func TestVerifyInstallNames(t *testing.T) {
	t.Parallel()
	install, err := ParseBody([]byte(fixtureBody(t, "event_ONAPPINSTALL.json")))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		ok   bool
	}{{OnAppInstall, true}, {OnAppUpdate, true}, {OnCRMDealAdd, false}, {OnAppUninstall, false}} {
		ev := *install
		ev.Name = c.name
		asked := false
		_, err := VerifyInstall(t.Context(), &ev, func(context.Context, bitrix.Secret) (bitrix.Token, error) {
			asked = true
			return refreshAnswer(member1, someClient), nil
		})
		if (err == nil) != c.ok || asked != c.ok {
			t.Errorf("%s: err %v, OAuth server asked %v", c.name, err, asked)
		}
	}
}

// TestVerifyInstallSays: each refusal of an install says what failed.
func TestVerifyInstallSays(t *testing.T) {
	t.Parallel()
	install, err := ParseBody([]byte(fixtureBody(t, "event_ONAPPINSTALL.json")))
	if err != nil {
		t.Fatal(err)
	}
	noAccess := refreshAnswer(member1, someClient)
	noAccess.AccessToken = ""
	for _, c := range []struct {
		answer bitrix.Token
		says   string
	}{
		{refreshAnswer("", someClient), "does not name the portal"},
		{refreshAnswer(member1, ""), "does not name the portal"},
		{refreshAnswer(member1, "not a URL"), "does not name the portal"},
		{refreshAnswer("ffffffffffffffffffffffffffffffff", someClient), "another portal (member id"},
		{refreshAnswer(member1, "https://evil.bitrix24.com/rest/"), `another portal ("evil.bitrix24.com"`},
		{noAccess, "has no access token"},
	} {
		_, err := VerifyInstall(t.Context(), install, func(context.Context, bitrix.Secret) (bitrix.Token, error) { return c.answer, nil })
		if err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("answer %+v: err %v, want it to say %q", c.answer, err, c.says)
		}
	}
	for _, c := range []struct {
		edit func(a *Auth)
		says string
	}{
		{func(a *Auth) { a.RefreshToken = "" }, "no auth[refresh_token]"},
		{func(a *Auth) { a.MemberID = "" }, "no auth[member_id]"},
		{func(a *Auth) { a.Domain = "" }, "no auth[domain]"},
		{func(a *Auth) { a.ApplicationToken = "" }, ErrMissingToken.Error()},
	} {
		ev := *install
		c.edit(&ev.Auth)
		_, err := VerifyInstall(t.Context(), &ev, func(context.Context, bitrix.Secret) (bitrix.Token, error) {
			return refreshAnswer(member1, someClient), nil
		})
		if err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("err %v, want it to say %q", err, c.says)
		}
	}
}
