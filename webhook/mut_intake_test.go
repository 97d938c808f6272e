package webhook

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/events"
)

// countingRegistry counts Lookups.
type countingRegistry struct {
	events.Registry
	lookups atomic.Int32
}

func (r *countingRegistry) Lookup(ctx context.Context, memberID string) (bitrix.Secret, error) {
	r.lookups.Add(1)
	return r.Registry.Lookup(ctx, memberID)
}

// TestDeliveryVerifiedOnce: an accepted delivery is verified once, on its
// envelope, before its data is decoded: one registry lookup, not a second
// one after the decode (intake.go keeps the envelope's verification when
// the decoded event has the same name, token and member id).
func TestDeliveryVerifiedOnce(t *testing.T) {
	t.Parallel()
	reg := &countingRegistry{Registry: events.NewMemoryRegistry()}
	if err := reg.Store(t.Context(), testMember, testToken); err != nil {
		t.Fatal(err)
	}
	h, err := New(WithRegistry(reg))
	if err != nil {
		t.Fatal(err)
	}
	var ran atomic.Int32
	h.OnDealAdd(func(context.Context, *events.Event, *events.CRMEntity) error { ran.Add(1); return nil })
	if st := serve(h, dealBody(1, testToken)); st != 200 || ran.Load() != 1 {
		t.Fatalf("status %d, %d runs", st, ran.Load())
	}
	if n := reg.lookups.Load(); n != 1 {
		t.Errorf("%d registry lookups for one delivery, want 1", n)
	}
}
