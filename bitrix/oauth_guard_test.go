package bitrix_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/b24go/sdk/bitrix"
)

// TestOAuthExpiryFields: the token answer's expires_in counts from the
// request on our clock; the absolute expires counts only without
// expires_in; with neither the expiry stays unknown (zero).
func TestOAuthExpiryFields(t *testing.T) {
	t.Parallel()
	abs := time.Now().Add(2 * time.Hour).Truncate(time.Second)
	for _, tt := range []struct {
		name   string
		fields string
		want   func(before, after time.Time, got time.Time) bool
	}{
		{"expires_in only", `"expires_in":600`, func(b, a, got time.Time) bool {
			return !got.Before(b.Add(10*time.Minute)) && !got.After(a.Add(10*time.Minute))
		}},
		{"both", fmt.Sprintf(`"expires_in":600,"expires":%d`, abs.Unix()), func(b, a, got time.Time) bool {
			return !got.Before(b.Add(10*time.Minute)) && !got.After(a.Add(10*time.Minute))
		}},
		{"expires only", fmt.Sprintf(`"expires_in":0,"expires":%d`, abs.Unix()), func(_, _, got time.Time) bool { return got.Equal(abs) }},
		{"neither", `"expires":0`, func(_, _, got time.Time) bool { return got.IsZero() }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := newOAuthPortal(t)
			o.raw = &rawAnswer{status: 200, ctype: "application/json",
				body: `{"access_token":"access-9-aaaaaaaa","refresh_token":"refresh-9-bbbbbbbb",` + tt.fields + `}`}
			store := bitrix.NewMemoryTokenStore(nil)
			tok := o.token()
			tok.Expires = time.Now().Add(-time.Minute) // refreshed before the first call
			c := newOAuthClient(t, o, tok, store)
			before := time.Now()
			_, _ = c.Call(t.Context(), "crm.deal.get", nil, nil) // the portal does not know the new token: only the refresh matters
			after := time.Now()
			saved, err := store.LoadToken(t.Context(), c.PortalKey())
			if err != nil {
				t.Fatal(err)
			}
			if saved.AccessToken != "access-9-aaaaaaaa" {
				t.Fatalf("no refresh: saved %v", saved.AccessToken)
			}
			if !tt.want(before, after, saved.Expires) {
				t.Errorf("Expires = %v (abs %v, request at %v)", saved.Expires, abs, before)
			}
		})
	}
}

// flakyStore is a MemoryTokenStore whose LoadToken can be made to fail.
type flakyStore struct {
	*bitrix.MemoryTokenStore
	loadErr error
}

func (s *flakyStore) LoadToken(ctx context.Context, key string) (bitrix.Token, error) {
	if s.loadErr != nil {
		return bitrix.Token{}, s.loadErr
	}
	return s.MemoryTokenStore.LoadToken(ctx, key)
}

// TestOAuthRefreshReload: before refreshing, the client reloads the token
// from the store; a store that lost it (ErrTokenNotFound) does not stop
// the refresh, a store that fails does, with ErrRefresh.
func TestOAuthRefreshReload(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		loadErr error
		ok      bool
	}{
		{"store lost the token", bitrix.ErrTokenNotFound, true},
		{"store fails", errors.New("store down"), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := newOAuthPortal(t)
			store := &flakyStore{MemoryTokenStore: bitrix.NewMemoryTokenStore(nil)}
			c := newOAuthClient(t, o, o.token(), store)
			if _, err := c.Call(t.Context(), "crm.deal.get", nil, nil); err != nil { // loads (and saves) the token
				t.Fatal(err)
			}
			o.expire()
			store.loadErr = tt.loadErr
			_, err := c.Call(t.Context(), "crm.deal.get", nil, nil)
			if tt.ok && (err != nil || o.refreshes.Load() != 1) {
				t.Errorf("err %v after %d refreshes; want success after 1", err, o.refreshes.Load())
			}
			if !tt.ok && (!errors.Is(err, bitrix.ErrRefresh) || o.refreshes.Load() != 0) {
				t.Errorf("err %v after %d refreshes; want ErrRefresh and no refresh", err, o.refreshes.Load())
			}
		})
	}
}
