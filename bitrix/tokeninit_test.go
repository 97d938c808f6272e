package bitrix_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
)

// initStore is a shared store with an atomic save-if-absent, whose first
// "not found" answer runs hook (without holding the lock) before it
// reaches the client.
type initStore struct {
	*bitrix.MemoryTokenStore
	mu   sync.Mutex
	hook func() // run once, on the first "not found"
}

func (s *initStore) LoadToken(ctx context.Context, key string) (bitrix.Token, error) {
	s.mu.Lock()
	tok, err := s.MemoryTokenStore.LoadToken(ctx, key)
	var hook func()
	if errors.Is(err, bitrix.ErrTokenNotFound) {
		hook, s.hook = s.hook, nil
	}
	s.mu.Unlock()
	if hook != nil {
		hook()
	}
	return tok, err
}

func (s *initStore) SaveTokenIfAbsent(ctx context.Context, key string, tok bitrix.Token) (bitrix.Token, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, err := s.MemoryTokenStore.LoadToken(ctx, key)
	if err == nil {
		return cur, false, nil
	}
	return bitrix.Token{}, true, s.MemoryTokenStore.SaveToken(ctx, key, tok)
}

// A replica that starts while another one refreshes must not overwrite the
// refreshed pair with the pair it was configured with (whose refresh token
// the portal has rotated away): with a TokenInitializer it adopts the
// stored pair instead, and the fleet refreshes once.
func TestOAuthStartupSavesOnlyIfAbsent(t *testing.T) {
	t.Parallel()
	portal := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit(), bitrixtest.WithoutOperatingLimit())
	tk := portal.IssueToken(1)
	tok := bitrix.Token{AccessToken: bitrix.Secret(tk.AccessToken), RefreshToken: bitrix.Secret(tk.RefreshToken),
		Expires: tk.Expires, MemberID: tk.MemberID, Domain: tk.Domain, ClientEndpoint: tk.ClientEndpoint}
	pa := portal.App()
	app := bitrix.App{ClientID: pa.ClientID, ClientSecret: bitrix.Secret(pa.ClientSecret), TokenURL: pa.TokenURL}
	portal.ExpireAccessTokens()
	ctx := t.Context()

	store := &initStore{MemoryTokenStore: bitrix.NewMemoryTokenStore(nil)}
	newClient := func() *bitrix.Client {
		c, err := bitrix.New(bitrix.OAuth(tok, app, store), bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a, b := newClient(), newClient()
	var aErr error
	// B finds the store empty; before B saves, A saves, refreshes and
	// saves the new pair.
	store.hook = func() { _, aErr = a.Call(ctx, "user.current", nil, nil) }
	if _, err := b.Call(ctx, "user.current", nil, nil); err != nil {
		t.Errorf("replica B: %v", err)
	}
	if aErr != nil {
		t.Errorf("replica A: %v", aErr)
	}
	if got := portal.RefreshCount(); got != 1 {
		t.Errorf("refreshes = %d, want 1", got)
	}
	stored, err := store.MemoryTokenStore.LoadToken(ctx, tk.MemberID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.AccessToken == tok.AccessToken {
		t.Error("the store holds the configured (expired) pair again; the refreshed one was overwritten")
	}
}
