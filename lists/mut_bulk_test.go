package lists_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
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

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// interceptedElements returns the elements of srv's list listID through a
// client whose transport answers the first request whose path ends in
// suffix with body (status 200) instead of sending it.
func interceptedElements(t *testing.T, srv *bitrixtest.Server, listID int, suffix, body string) *lists.Elements {
	t.Helper()
	var done atomic.Bool
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if strings.HasSuffix(strings.TrimSuffix(r.URL.Path, ".json"), suffix) && !done.Swap(true) {
			return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
				Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
		}
		return http.DefaultTransport.RoundTrip(r)
	})
	c, err := bitrix.New(bitrix.WebhookURL(srv.WebhookURL()), bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit(), bitrix.WithTransport(rt))
	if err != nil {
		t.Fatal(err)
	}
	lc, err := lists.New(c)
	if err != nil {
		t.Fatal(err)
	}
	return lc.Elements(lists.TypeLists, lists.ByID(listID))
}

// TestAddManyResendsCommandsNotRun: a batch answer that names none of its
// commands (the portal did not run them) makes AddMany send them again,
// without a lookup: they were not applied.
func TestAddManyResendsCommandsNotRun(t *testing.T) {
	t.Parallel()
	srv, _, listID := newPortal(t)
	els := interceptedElements(t, srv, listID, "/batch",
		`{"result":{"result":[],"result_error":[],"result_total":[],"result_next":[],"result_time":[]},"time":{"start":1,"finish":1}}`)
	res, err := els.AddMany(t.Context(), manyElements("notrun", 2))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil || r.ID == 0 || r.Recovered {
			t.Errorf("item %d = %+v, want added by the second request", i, r)
		}
	}
	if n := srv.CallCount("lists.element.get"); n != 0 {
		t.Errorf("%d lookups, want none", n)
	}
	if n := len(srv.ListElements(listID)); n != 2 {
		t.Errorf("%d stored, want 2", n)
	}
}

// TestAddManyFinalErrorSentOnce: an element the portal refuses for good
// (its code is taken, no unknown outcome before) is sent once.
func TestAddManyFinalErrorSentOnce(t *testing.T) {
	t.Parallel()
	srv, lc, listID := newPortal(t)
	els := lc.Elements(lists.TypeLists, lists.ByID(listID))
	if _, err := els.Add(t.Context(), lists.NewElement{Code: "taken", Fields: lists.Fields{Name: "x"}}); err != nil {
		t.Fatal(err)
	}
	res, err := els.AddMany(t.Context(), []lists.NewElement{{Code: "taken", Fields: lists.Fields{Name: "dup"}}})
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(res[0].Err, bitrix.ErrAlreadyExists) {
		t.Errorf("result %+v, want ErrAlreadyExists", res[0])
	}
	if n := srv.CallCount("lists.element.add"); n != 2 {
		t.Errorf("lists.element.add ran %d times, want 2 (the Add, then AddMany once)", n)
	}
}

// TestAddManyAlreadyExistsAfterUnknownOutcome: the first request is
// applied and its answer lost; the lookup misses the element (answered
// empty here), so it is sent again and refused as a duplicate code. After
// an unknown outcome that refusal is looked up again, and the element
// found is the result (Recovered), not an error.
func TestAddManyAlreadyExistsAfterUnknownOutcome(t *testing.T) {
	t.Parallel()
	srv, _, listID := newPortal(t)
	els := interceptedElements(t, srv, listID, "/lists.element.get", `{"result":[],"total":0,"time":{"start":1,"finish":1}}`)
	srv.DropAfterProcessing(1)
	res, err := els.AddMany(t.Context(), manyElements("exists", 1))
	if err != nil {
		t.Fatal(err)
	}
	stored := srv.ListElements(listID)
	if r := res[0]; r.Err != nil || !r.Recovered || len(stored) != 1 || r.ID != stored[0].ID {
		t.Errorf("result %+v (stored %+v), want the stored element, recovered", r, stored)
	}
	if n := srv.CallCount("lists.element.get"); n != 1 {
		t.Errorf("%d lookups reached the portal, want 1 (after the refused resend)", n)
	}
}

// TestDeleteManyResendsWhatWasNotApplied: a delete request lost before the
// portal ran it: the elements (by id and by code) are looked up, found,
// deleted again, and reported deleted but not Recovered.
func TestDeleteManyResendsWhatWasNotApplied(t *testing.T) {
	t.Parallel()
	srv, lc, listID := newPortal(t)
	els := lc.Elements(lists.TypeLists, lists.ByID(listID))
	added, err := els.AddMany(t.Context(), manyElements("del", 4))
	if err != nil {
		t.Fatal(err)
	}
	refs := []lists.Ref{lists.ByID(added[0].ID), lists.ByCode("del-001"), lists.ByID(added[2].ID), lists.ByCode("del-003")}
	srv.DropBeforeProcessing(1)
	res, err := els.DeleteMany(t.Context(), refs)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil || r.Recovered || r.ID != refs[i].ID() {
			t.Errorf("delete %d = %+v, want deleted by the second request", i, r)
		}
	}
	if n := len(srv.ListElements(listID)); n != 0 {
		t.Errorf("%d elements left", n)
	}
	if n := srv.CallCount("lists.element.delete"); n != 4 {
		t.Errorf("lists.element.delete ran %d times, want 4", n)
	}
}

// TestDeleteManyGivesUpAfterItsRounds: when every batch request is lost
// before the portal runs it, DeleteMany looks the elements up, finds them,
// sends again, and stops after 3 rounds with ErrMaybeApplied per element.
func TestDeleteManyGivesUpAfterItsRounds(t *testing.T) {
	t.Parallel()
	srv, lc, listID := newPortal(t)
	els := lc.Elements(lists.TypeLists, lists.ByID(listID))
	added, err := els.AddMany(t.Context(), manyElements("keep", 2))
	if err != nil {
		t.Fatal(err)
	}
	srv.InjectFault(bitrixtest.Fault{Kind: bitrixtest.FaultDropBefore, Method: "batch"}) // every batch, forever
	res, err := els.DeleteMany(t.Context(), []lists.Ref{lists.ByID(added[0].ID), lists.ByCode("keep-001")})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if !errors.Is(r.Err, bitrix.ErrMaybeApplied) || r.Recovered {
			t.Errorf("delete %d = %+v, want ErrMaybeApplied", i, r)
		}
	}
	if n := srv.FaultsInjected(); n != 3 {
		t.Errorf("batch requests = %d, want 3 (one per round)", n)
	}
	if n := len(srv.ListElements(listID)); n != 2 {
		t.Errorf("%d elements left, want 2", n)
	}
}

// TestDeleteManyResendsCommandsNotRun: deletes the portal did not run
// (missing from the batch answer) are sent again without a lookup.
func TestDeleteManyResendsCommandsNotRun(t *testing.T) {
	t.Parallel()
	srv, lc, listID := newPortal(t)
	added, err := lc.Elements(lists.TypeLists, lists.ByID(listID)).AddMany(t.Context(), manyElements("gone", 2))
	if err != nil {
		t.Fatal(err)
	}
	els := interceptedElements(t, srv, listID, "/batch",
		`{"result":{"result":[],"result_error":[],"result_total":[],"result_next":[],"result_time":[]},"time":{"start":1,"finish":1}}`)
	res, err := els.DeleteMany(t.Context(), []lists.Ref{lists.ByID(added[0].ID), lists.ByCode("gone-001")})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil || r.Recovered {
			t.Errorf("delete %d = %+v, want deleted by the second request", i, r)
		}
	}
	if n := srv.CallCount("lists.element.get"); n != 0 {
		t.Errorf("%d lookups, want none", n)
	}
	if n := len(srv.ListElements(listID)); n != 0 {
		t.Errorf("%d elements left", n)
	}
}
