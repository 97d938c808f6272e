package lists_test

import (
	"errors"
	"testing"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/lists"
)

// TestAddManyGivesUpAfterItsRounds: when every batch request is lost
// before the portal runs it, AddMany looks the codes up, sends again, and
// stops after its 3 rounds with an error per element, like crm's AddMany.
func TestAddManyGivesUpAfterItsRounds(t *testing.T) {
	t.Parallel()
	srv, lc, listID := newPortal(t)
	els := lc.Elements(lists.TypeLists, lists.ByID(listID))
	srv.InjectFault(bitrixtest.Fault{Kind: bitrixtest.FaultDropBefore, Method: "batch"}) // every batch, forever
	in := manyElements("lost", 3)
	res, err := els.AddMany(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err == nil || r.ID != 0 || r.Recovered {
			t.Errorf("item %d = %+v, want an error", i, r)
		}
		if !errors.Is(r.Err, bitrix.ErrMaybeApplied) {
			t.Errorf("item %d: %v, want the lost request's ErrMaybeApplied", i, r.Err)
		}
	}
	if n := srv.FaultsInjected(); n != 3 {
		t.Errorf("batch requests = %d, want 3 (one per round)", n)
	}
	if n := len(srv.ListElements(listID)); n != 0 {
		t.Errorf("%d elements stored", n)
	}
}
