package lists_test

import (
	"testing"

	"github.com/b24go/sdk/lists"
)

// Tests written for mutants of bulk.go that the other tests let live
// (scripts/mutants.py; docs/TESTING.md, "Mutation testing").

// TestAddManyRefusesIDZero: an add answered with id 0 did not add an
// element: the item fails ("no id"), it is not reported added.
func TestAddManyRefusesIDZero(t *testing.T) {
	t.Parallel()
	srv, lc, listID := newPortal(t)
	srv.On("lists.element.add").Return(0)
	res, err := lc.Elements(lists.TypeLists, lists.ByID(listID)).AddMany(t.Context(), manyElements("zero", 1))
	if err != nil {
		t.Fatal(err)
	}
	if r := res[0]; r.Err == nil || r.ID != 0 {
		t.Errorf("result %+v, want an error for the answer id 0", r)
	}
}

// TestAddManyLookupIgnoresIDZero: after a lost request, a lookup row
// with id 0 does not count as the element: it is sent again and added.
func TestAddManyLookupIgnoresIDZero(t *testing.T) {
	t.Parallel()
	srv, lc, listID := newPortal(t)
	srv.On("lists.element.get").Return([]map[string]any{{"ID": "0", "CODE": "ghost-000", "NAME": "ghost 0"}})
	srv.DropBeforeProcessing(1)
	res, err := lc.Elements(lists.TypeLists, lists.ByID(listID)).AddMany(t.Context(), manyElements("ghost", 1))
	if err != nil {
		t.Fatal(err)
	}
	stored := srv.ListElements(listID)
	if r := res[0]; r.Err != nil || r.Recovered || len(stored) != 1 || r.ID != stored[0].ID {
		t.Errorf("result %+v, stored %+v: want added on the second round, not recovered as id 0", r, stored)
	}
}

// TestAddManyResentIsNotRecovered: an element whose first request was
// lost before the portal ran it is looked up, not found, sent again and
// added by that request: its id comes from the add's answer, not from the
// lookup, so it is not Recovered (the AddMany doc: elements that exist are
// reported Recovered, the missing ones are sent again). crm's AddMany
// reports the same.
func TestAddManyResentIsNotRecovered(t *testing.T) {
	t.Parallel()
	srv, lc, listID := newPortal(t)
	srv.DropBeforeProcessing(1)
	res, err := lc.Elements(lists.TypeLists, lists.ByID(listID)).AddMany(t.Context(), manyElements("resent", 2))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil || r.ID == 0 || r.Recovered {
			t.Errorf("item %d = %+v, want added by the second request, not recovered", i, r)
		}
	}
	if n := srv.CallCount("lists.element.get"); n != 1 {
		t.Errorf("%d lookups, want 1", n)
	}
}
