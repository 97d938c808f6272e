package crm_test

import (
	"testing"

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
