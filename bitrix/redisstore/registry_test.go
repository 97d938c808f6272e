package redisstore

import (
	"errors"
	"testing"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/events"
)

func TestRegistry(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	a := newRegistry(t, srv.client(t))
	b := newRegistry(t, srv.client(t))
	ctx := t.Context()
	const member = "0123456789abcdef0123456789abcdef"
	if _, err := a.Lookup(ctx, member); !errors.Is(err, events.ErrUnknownPortal) {
		t.Fatalf("Lookup of an unknown portal = %v, want ErrUnknownPortal", err)
	}
	if err := a.Store(ctx, member, "app-token-1"); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Lookup(ctx, member); err != nil || got != "app-token-1" {
		t.Errorf("Lookup on another replica = %q, %v; want the stored token", got.Reveal(), err)
	}
	if err := b.Store(ctx, member, "app-token-2"); err != nil {
		t.Fatal(err)
	}
	if got, _ := a.Lookup(ctx, member); got != "app-token-2" {
		t.Errorf("after ONAPPUPDATE the token is %q, want app-token-2", got.Reveal())
	}
	for _, bad := range [][2]string{{"", "t"}, {member, ""}} {
		if err := a.Store(ctx, bad[0], bitrix.Secret(bad[1])); err == nil {
			t.Errorf("Store(%q, %q) accepted an empty value", bad[0], bad[1])
		}
	}
	if err := a.Delete(ctx, member); err != nil {
		t.Fatal(err)
	}
	if err := a.Delete(ctx, member); err != nil {
		t.Errorf("deleting an unknown member = %v, want nil", err)
	}
	if _, err := b.Lookup(ctx, member); !errors.Is(err, events.ErrUnknownPortal) {
		t.Errorf("Lookup after Delete = %v, want ErrUnknownPortal", err)
	}
}

// A Verifier over the Redis registry accepts the token stored by another
// replica, and reports Redis failures as such (not as a token mismatch).
func TestRegistryWithVerifier(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := t.Context()
	const member = "0123456789abcdef0123456789abcdef"
	if err := newRegistry(t, srv.client(t)).Store(ctx, member, "app-token"); err != nil {
		t.Fatal(err)
	}
	v := events.NewVerifier(newRegistry(t, srv.client(t)))
	ev := &events.Event{}
	ev.Auth.MemberID = member
	ev.Auth.ApplicationToken = "app-token"
	if err := v.Verify(ctx, ev); err != nil {
		t.Errorf("Verify with the registered token = %v", err)
	}
	ev.Auth.ApplicationToken = "forged"
	if err := v.Verify(ctx, ev); !errors.Is(err, events.ErrTokenMismatch) {
		t.Errorf("Verify with a wrong token = %v, want ErrTokenMismatch", err)
	}
	down := events.NewVerifier(newRegistry(t, deadClient(t)))
	ev.Auth.ApplicationToken = "app-token"
	err := down.Verify(ctx, ev)
	if !errors.Is(err, ErrUnavailable) || errors.Is(err, events.ErrTokenMismatch) {
		t.Errorf("Verify with Redis down = %v, want ErrUnavailable (not a mismatch)", err)
	}
}
