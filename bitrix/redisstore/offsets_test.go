package redisstore

import (
	"errors"
	"testing"
)

func TestOffsetStore(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	a := newOffsetStore(t, srv.client(t))
	b := newOffsetStore(t, srv.client(t)) // a replacement worker
	ctx := t.Context()
	if n, err := a.LoadOffset(ctx, "p/imbotv2/7"); n != 0 || err != nil {
		t.Fatalf("empty store: %d, %v", n, err)
	}
	if err := a.SaveOffset(ctx, "p/imbotv2/7", 1002); err != nil {
		t.Fatal(err)
	}
	if n, err := b.LoadOffset(ctx, "p/imbotv2/7"); n != 1002 || err != nil {
		t.Fatalf("replacement sees %d, %v", n, err)
	}
	// A stale worker cannot move the offset back.
	if err := b.SaveOffset(ctx, "p/imbotv2/7", 1001); err != nil {
		t.Fatal(err)
	}
	if n, _ := a.LoadOffset(ctx, "p/imbotv2/7"); n != 1002 {
		t.Fatalf("offset moved back to %d", n)
	}
	if err := b.SaveOffset(ctx, "p/imbotv2/7", 1010); err != nil {
		t.Fatal(err)
	}
	if n, _ := a.LoadOffset(ctx, "p/imbotv2/7"); n != 1010 {
		t.Fatalf("offset %d, want 1010", n)
	}
	if n, _ := a.LoadOffset(ctx, "p/imbotv2/8"); n != 0 {
		t.Fatalf("other bot's offset %d", n)
	}
	if err := a.SaveOffset(ctx, "k", -1); err == nil {
		t.Fatal("negative offset saved")
	}
}

func TestOffsetStoreUnavailable(t *testing.T) {
	t.Parallel()
	s := newOffsetStore(t, deadClient(t))
	if _, err := s.LoadOffset(t.Context(), "k"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("load: %v", err)
	}
	if err := s.SaveOffset(t.Context(), "k", 3); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("save: %v", err)
	}
}
