package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/b24go/sdk/bitrix"
)

func TestTokenStoreRoundTrip(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	a := newTokenStore(t, srv.client(t))
	b := newTokenStore(t, srv.client(t))
	ctx := t.Context()
	if _, err := a.LoadToken(ctx, "m1"); !errors.Is(err, bitrix.ErrTokenNotFound) {
		t.Fatalf("LoadToken of an empty store = %v, want ErrTokenNotFound", err)
	}
	want := bitrix.Token{
		AccessToken:    "access-1",
		RefreshToken:   "refresh-1",
		Expires:        time.Unix(1_900_000_000, 0),
		MemberID:       "m1",
		Domain:         "portal.example",
		ClientEndpoint: "https://portal.example/rest/",
		ServerEndpoint: "https://oauth.bitrix.info/rest/",
		Scope:          "crm,imbot",
		Status:         "L",
		UserID:         7,
	}
	if err := a.SaveToken(ctx, "m1", want); err != nil {
		t.Fatal(err)
	}
	got, err := b.LoadToken(ctx, "m1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("token read by another replica (-want +got):\n%s", diff)
	}
	// Another prefix is another namespace.
	c := newTokenStore(t, srv.client(t), WithPrefix("other:"))
	if _, err := c.LoadToken(ctx, "m1"); !errors.Is(err, bitrix.ErrTokenNotFound) {
		t.Errorf("LoadToken under another prefix = %v, want ErrTokenNotFound", err)
	}
	// Deleting (uninstall) is seen by every replica; deleting again is fine.
	var _ bitrix.TokenDeleter = a
	for range 2 {
		if err := a.DeleteToken(ctx, "m1"); err != nil {
			t.Fatalf("DeleteToken: %v", err)
		}
	}
	if _, err := b.LoadToken(ctx, "m1"); !errors.Is(err, bitrix.ErrTokenNotFound) {
		t.Errorf("LoadToken after DeleteToken = %v, want ErrTokenNotFound", err)
	}
}

func TestTokenStoreCorruptValueKeepsSecrets(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	rdb := srv.client(t)
	s := newTokenStore(t, rdb)
	ctx := t.Context()
	const secret = "s3cr3t-refresh-value"
	if err := rdb.Set(ctx, s.tokenKey("m"), `{"access_token":"`+secret, 0).Err(); err != nil {
		t.Fatal(err)
	}
	_, err := s.LoadToken(ctx, "m")
	if err == nil {
		t.Fatal("LoadToken of a corrupt value succeeded")
	}
	if strings.Contains(fmt.Sprintf("%v %+v %#v", err, err, err), secret) {
		t.Errorf("error %v quotes the stored value", err)
	}
}

func TestRefreshLeaseIsExclusive(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	a := newTokenStore(t, srv.client(t), WithPollInterval(5*time.Millisecond))
	b := newTokenStore(t, srv.client(t), WithPollInterval(5*time.Millisecond))
	ctx := t.Context()
	unlockA, err := a.LockRefresh(ctx, "m")
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	_, err = b.LockRefresh(wctx, "m")
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second LockRefresh while the lease is held = %v, want DeadlineExceeded", err)
	}
	// Other portals have their own lease.
	unlockOther, err := b.LockRefresh(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	unlockOther()

	got := make(chan error, 1)
	go func() {
		unlock, err := b.LockRefresh(ctx, "m")
		if err == nil {
			unlock()
		}
		got <- err
	}()
	unlockA()
	unlockA() // a second call does nothing
	if err := <-got; err != nil {
		t.Fatalf("LockRefresh after the holder released = %v", err)
	}
}

// A holder that crashed (never releases) blocks the others only until its
// lease expires.
func TestRefreshLeaseExpiresAfterCrash(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	rdb := srv.client(t)
	const ttl = 300 * time.Millisecond
	s := newTokenStore(t, rdb, WithLeaseTTL(ttl), WithPollInterval(5*time.Millisecond))
	ctx := t.Context()
	start := time.Now()
	if err := rdb.SetNX(ctx, s.leaseKey("m"), "crashed-owner", ttl).Err(); err != nil {
		t.Fatal(err)
	}
	unlock, err := s.LockRefresh(ctx, "m")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if waited := time.Since(start); waited < ttl-20*time.Millisecond {
		t.Errorf("took the lease after %v, before the crashed holder's %v expired", waited, ttl)
	}
}

// A live holder renews its lease, and releasing never deletes a lease
// that another replica took after ours expired.
func TestRefreshLeaseRenewalAndSafeRelease(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	rdb := srv.client(t)
	// The holder renews every third of the TTL over a real Redis round
	// trip; a TTL of 1 s tolerates a renewal delayed by up to 2/3 s on a
	// loaded machine (150 ms left 100 ms: one late renewal and b got in).
	const ttl = time.Second
	a := newTokenStore(t, rdb, WithLeaseTTL(ttl), WithPollInterval(5*time.Millisecond))
	b := newTokenStore(t, srv.client(t), WithLeaseTTL(ttl), WithPollInterval(5*time.Millisecond))
	ctx := t.Context()
	unlockA, err := a.LockRefresh(ctx, "m")
	if err != nil {
		t.Fatal(err)
	}
	// Held for one and a half TTLs: still ours thanks to the renewal.
	wctx, cancel := context.WithTimeout(ctx, 3*ttl/2)
	_, err = b.LockRefresh(wctx, "m")
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("LockRefresh while a live holder renews = %v, want DeadlineExceeded", err)
	}
	// Simulate an expiry (e.g. a long pause): the lease vanishes and b
	// takes it.
	if err := rdb.Del(ctx, a.leaseKey("m")).Err(); err != nil {
		t.Fatal(err)
	}
	unlockB, err := b.LockRefresh(ctx, "m")
	if err != nil {
		t.Fatal(err)
	}
	unlockA() // must not delete b's lease
	if n, _ := rdb.Exists(ctx, a.leaseKey("m")).Result(); n != 1 {
		t.Fatal("the old holder's unlock deleted the new holder's lease")
	}
	unlockB()
	if n, _ := rdb.Exists(ctx, a.leaseKey("m")).Result(); n != 0 {
		t.Fatal("unlock left the lease behind")
	}
}

func TestTokenStoreRedisDown(t *testing.T) {
	t.Parallel()
	s := newTokenStore(t, deadClient(t))
	ctx := t.Context()
	if _, err := s.LoadToken(ctx, "m"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("LoadToken = %v, want ErrUnavailable", err)
	}
	if err := s.SaveToken(ctx, "m", bitrix.Token{AccessToken: "a"}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("SaveToken = %v, want ErrUnavailable", err)
	}
	if _, err := s.LockRefresh(ctx, "m"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("LockRefresh = %v, want ErrUnavailable", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.LoadToken(cctx, "m"); !errors.Is(err, context.Canceled) || errors.Is(err, ErrUnavailable) {
		t.Errorf("LoadToken with a cancelled context = %v, want context.Canceled only", err)
	}
}
