package redisstore

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
)

// hookStore runs hook once, when its first LoadToken finds no token,
// before that answer reaches the client.
type hookStore struct {
	*TokenStore
	once sync.Once
	hook func()
}

func (h *hookStore) LoadToken(ctx context.Context, key string) (bitrix.Token, error) {
	tok, err := h.TokenStore.LoadToken(ctx, key)
	if errors.Is(err, bitrix.ErrTokenNotFound) {
		h.once.Do(h.hook)
	}
	return tok, err
}

// Two replicas start with the same configured token and an empty store.
// Replica B finds the store empty; before it saves its configured token,
// replica A saves it, refreshes it at the portal and saves the new pair.
// B must not overwrite the new pair with the configured one (whose refresh
// token the portal has already rotated away), and its call must succeed
// without a second refresh.
func TestReplicaStartupDoesNotClobberRefreshedToken(t *testing.T) {
	t.Parallel()
	rs := startRedis(t)
	portal := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit(), bitrixtest.WithoutOperatingLimit())
	tok := replicaToken(portal.IssueToken(1))
	app := replicaApp(portal.App())
	portal.ExpireAccessTokens()
	ctx := t.Context()

	newClient := func(store bitrix.TokenStore) *bitrix.Client {
		c, err := bitrix.New(bitrix.OAuth(tok, app, store), bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a := newClient(newTokenStore(t, rs.client(t)))
	var aErr error
	b := newClient(&hookStore{TokenStore: newTokenStore(t, rs.client(t)), hook: func() {
		_, aErr = a.Call(ctx, "user.current", nil, nil)
	}})
	if _, err := b.Call(ctx, "user.current", nil, nil); err != nil {
		t.Errorf("replica B: %v", err)
	}
	if aErr != nil {
		t.Errorf("replica A: %v", aErr)
	}
	if got := portal.RefreshCount(); got != 1 {
		t.Errorf("the portal saw %d refreshes, want 1", got)
	}
	if _, err := a.Call(ctx, "user.current", nil, nil); err != nil {
		t.Errorf("replica A afterwards: %v", err)
	}
}
