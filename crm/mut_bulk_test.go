package crm_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/crm"
)

// Tests written for mutants of bulk.go that the other tests let live
// (scripts/mutants.py; docs/TESTING.md, "Mutation testing").

// TestWithMaxRoundsOne: one round is the smallest budget and is allowed:
// an add that keeps failing is sent once, looked up once, and given up.
func TestWithMaxRoundsOne(t *testing.T) {
	t.Parallel()
	srv, c := newPortal(t)
	srv.FailMethod("crm.item.add", 0, 500, "INTERNAL_SERVER_ERROR")
	res, err := c.Items(crm.Deal).AddMany(t.Context(), dealsToAdd(1), crm.WithMaxRounds(1))
	if err != nil {
		t.Fatalf("WithMaxRounds(1): %v", err)
	}
	if r := res[0]; !errors.Is(r.Err, crm.ErrNotAdded) || r.Attempts != 1 {
		t.Errorf("result %+v (%v), want ErrNotAdded after one attempt", r, r.Err)
	}
	if n := srv.CallCount("crm.item.add"); n != 1 {
		t.Errorf("crm.item.add sent %d times, want 1", n)
	}
}

// TestBulkCancelledSendsNothing: with its context already ended, AddMany
// and UpdateMany send nothing and report each item not sent, with no
// attempt spent and the context's error (not a maybe-applied outcome).
func TestBulkCancelledSendsNothing(t *testing.T) {
	t.Parallel()
	srv, c := newPortal(t)
	ids, err := srv.SeedCRMItems(crm.Deal, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	deals := c.Items(crm.Deal)
	added, err := deals.AddMany(ctx, dealsToAdd(2))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("AddMany error %v, want context.Canceled", err)
	}
	updated, err := deals.UpdateMany(ctx, []crm.Update{{ID: ids[0], Fields: crm.Fields{"title": "x"}}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("UpdateMany error %v, want context.Canceled", err)
	}
	for i, r := range append(added, updated...) {
		if r.Attempts != 0 || !errors.Is(r.Err, context.Canceled) || errors.Is(r.Err, bitrix.ErrMaybeApplied) || !strings.Contains(r.Err.Error(), "not sent") {
			t.Errorf("result %d = %+v (%v), want not sent, no attempt", i, r, r.Err)
		}
	}
	if n := srv.CallCount("batch"); n != 0 {
		t.Errorf("%d batch requests sent with an ended context", n)
	}
}

// TestAddManyGivingUpNamesTheLastError: an item given up after its rounds
// reports the portal's last error, not only ErrNotAdded.
func TestAddManyGivingUpNamesTheLastError(t *testing.T) {
	t.Parallel()
	srv, c := newPortal(t)
	srv.FailMethod("crm.item.add", 0, 500, "INTERNAL_SERVER_ERROR")
	res, err := c.Items(crm.Deal).AddMany(t.Context(), dealsToAdd(1), crm.WithMaxRounds(2))
	if err != nil {
		t.Fatal(err)
	}
	if r := res[0]; !errors.Is(r.Err, crm.ErrNotAdded) || !strings.Contains(r.Err.Error(), "INTERNAL_SERVER_ERROR") {
		t.Errorf("result error %v, want ErrNotAdded naming the last error INTERNAL_SERVER_ERROR", r.Err)
	}
}

// TestAddManyGeneratedMarkers: items without originId get
// "b24go-<random>-<index>", one random prefix per call, a new one for the
// next call.
func TestAddManyGeneratedMarkers(t *testing.T) {
	t.Parallel()
	_, c := newPortal(t)
	deals := c.Items(crm.Deal)
	var prefixes []string
	for range 2 {
		res, err := deals.AddMany(t.Context(), dealsToAdd(2))
		if err != nil {
			t.Fatal(err)
		}
		p, ok := strings.CutSuffix(res[0].Marker, "-0")
		if !ok || !strings.HasPrefix(p, "b24go-") || len(p) <= len("b24go-") || res[1].Marker != p+"-1" {
			t.Fatalf("markers %q, %q: want b24go-<random>-0 and -1 with one prefix", res[0].Marker, res[1].Marker)
		}
		prefixes = append(prefixes, p)
	}
	if prefixes[0] == prefixes[1] {
		t.Errorf("two calls share the marker prefix %q", prefixes[0])
	}
}

// TestAddManyLookupChunks: the markers of 50 items whose request failed
// are looked up with one crm.item.list command (a chunk holds 50), not
// two.
func TestAddManyLookupChunks(t *testing.T) {
	t.Parallel()
	srv, c := newPortal(t)
	srv.DropBeforeProcessing(1) // the one request of 50 adds
	res, err := c.Items(crm.Deal).AddMany(t.Context(), dealsToAdd(50))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil || r.Attempts != 2 {
			t.Fatalf("item %d = %+v, want added on the second attempt", i, r)
		}
	}
	if n := srv.CallCount("crm.item.list"); n != 1 {
		t.Errorf("%d crm.item.list commands for 50 markers, want 1", n)
	}
}

// TestDeleteManyRefusesIDZero: 0 is no item id; the call fails before any
// request.
func TestDeleteManyRefusesIDZero(t *testing.T) {
	t.Parallel()
	srv, c := newPortal(t)
	if _, err := c.Items(crm.Deal).DeleteMany(t.Context(), []int{0}); !errors.Is(err, bitrix.ErrInvalidArgument) || !strings.Contains(err.Error(), "ids[0]") {
		t.Errorf("DeleteMany id 0: %v, want a ValidationError for ids[0]", err)
	}
	noCalls(t, srv)
}
