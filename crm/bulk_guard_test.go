package crm_test

import (
	"errors"
	"testing"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/crm"
)

// TestAddManyAdoptsExistingMarkers: the portal already holds items with
// the markers of the call — one marker on several items (the oldest is
// adopted and reported), and one whose only item is on the second page of
// the marker lookup. After a request with an unknown outcome, AddMany
// takes both as added and sends only the missing item again.
func TestAddManyAdoptsExistingMarkers(t *testing.T) {
	t.Parallel()
	srv, c := newPortal(t)
	dup, err := srv.SeedCRMItems(crm.Deal, 52, map[string]any{"originatorId": crm.DefaultOriginatorID, "originId": "m-0"})
	if err != nil {
		t.Fatal(err)
	}
	late, err := srv.SeedCRMItems(crm.Deal, 1, map[string]any{"originatorId": crm.DefaultOriginatorID, "originId": "m-1"})
	if err != nil {
		t.Fatal(err)
	}
	in := dealsToAdd(3)
	for i := range in {
		in[i]["originId"] = []string{"m-0", "m-1", "m-2"}[i]
	}
	srv.DropBeforeProcessing(1) // the adds never run; the client cannot know
	res, err := c.Items(crm.Deal).AddMany(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	if r := res[0]; r.Err != nil || r.ID != dup[0] || !r.Recovered || r.Item == nil || r.Item.ID != dup[0] {
		t.Errorf("m-0 = %+v, want the oldest of the duplicates (id %d), recovered", r, dup[0])
	}
	if r := res[1]; r.Err != nil || r.ID != late[0] || !r.Recovered {
		t.Errorf("m-1 = %+v, want id %d found on the second lookup page", r, late[0])
	}
	if r := res[2]; r.Err != nil || r.ID == 0 || r.Recovered || r.Attempts != 2 {
		t.Errorf("m-2 = %+v, want added in the second round", r)
	}
	byMarker := storedByMarker(srv, crm.Deal)
	if n := len(byMarker[crm.DefaultOriginatorID+"/m-1"]); n != 1 {
		t.Errorf("m-1 stored %d times, want 1 (not sent again)", n)
	}
	if n := len(byMarker[crm.DefaultOriginatorID+"/m-0"]); n != 52 {
		t.Errorf("m-0 stored %d times, want the 52 seeded", n)
	}
	if n := len(byMarker[crm.DefaultOriginatorID+"/m-2"]); n != 1 {
		t.Errorf("m-2 stored %d times, want 1", n)
	}
}

// TestAddManyErrorClasses: which failures AddMany resolves by a marker
// lookup and a resend (the command may not have run) and which are final.
func TestAddManyErrorClasses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		inject func(srv *bitrixtest.Server)
		final  error // nil: looked up, sent again, added
	}{
		{"overload in batch is final", func(s *bitrixtest.Server) { s.FailMethod("crm.item.add", 1, 503, "OVERLOAD_LIMIT") }, bitrix.ErrOverloadLimit},
		{"query limit in batch is resent", func(s *bitrixtest.Server) { s.FailMethod("crm.item.add", 1, 503, "QUERY_LIMIT_EXCEEDED") }, nil},
		{"internal error in batch is resent", func(s *bitrixtest.Server) { s.FailMethod("crm.item.add", 1, 500, "INTERNAL_SERVER_ERROR") }, nil},
		{"request answered 500 with an unknown code is resent", func(s *bitrixtest.Server) { s.FailNext(1, 500, "ERROR_SOMETHING") }, nil},
		{"request answered 400 with an unknown code is final", func(s *bitrixtest.Server) { s.FailNext(1, 400, "ERROR_SOMETHING") }, errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c := newPortal(t)
			tt.inject(srv)
			res, err := c.Items(crm.Deal).AddMany(t.Context(), dealsToAdd(1))
			if err != nil {
				t.Fatal(err)
			}
			r := res[0]
			lookups := srv.CallCount("crm.item.list")
			if tt.final != nil {
				if r.Err == nil || (tt.final != errAny && !errors.Is(r.Err, tt.final)) || r.Attempts != 1 || lookups != 0 {
					t.Errorf("result %+v after %d lookups, want a final %v after one attempt and no lookup", r, lookups, tt.final)
				}
				if n := len(srv.CRMItems(crm.Deal)); n != 0 {
					t.Errorf("stored %d", n)
				}
				return
			}
			if r.Err != nil || r.ID == 0 || r.Attempts != 2 || lookups != 1 {
				t.Errorf("result %+v after %d lookups, want added on the second attempt after one lookup", r, lookups)
			}
			if n := len(srv.CRMItems(crm.Deal)); n != 1 {
				t.Errorf("stored %d, want 1", n)
			}
		})
	}
}

// errAny stands for "some final error" in TestAddManyErrorClasses.
var errAny = errors.New("any error")
