package bitrix_test

import (
	"errors"
	"testing"

	"github.com/b24go/sdk/bitrix"
)

func TestMemoryTokenStoreSaveLoadDelete(t *testing.T) {
	t.Parallel()
	var changes []string
	s := bitrix.NewMemoryTokenStore(func(key string, tok bitrix.Token) { changes = append(changes, key+":"+tok.Scope) })
	var _ bitrix.TokenDeleter = s
	ctx := t.Context()
	if _, err := s.LoadToken(ctx, "m1"); !errors.Is(err, bitrix.ErrTokenNotFound) {
		t.Fatalf("empty store: %v", err)
	}
	if err := s.SaveToken(ctx, "m1", bitrix.Token{AccessToken: "a", Scope: "crm"}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.LoadToken(ctx, "m1"); err != nil || got.AccessToken != "a" {
		t.Fatalf("LoadToken = %+v, %v", got, err)
	}
	for range 2 { // deleting a missing key is not an error
		if err := s.DeleteToken(ctx, "m1"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.LoadToken(ctx, "m1"); !errors.Is(err, bitrix.ErrTokenNotFound) {
		t.Errorf("after DeleteToken: %v, want ErrTokenNotFound", err)
	}
	if len(changes) != 1 || changes[0] != "m1:crm" {
		t.Errorf("onChange calls = %v, want [m1:crm]", changes)
	}
}
