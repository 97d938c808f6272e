package crm_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/crm"
	"github.com/google/go-cmp/cmp"
)

func dealsToAdd(n int) []crm.Fields {
	out := make([]crm.Fields, n)
	for i := range out {
		out[i] = crm.Fields{"title": fmt.Sprintf("Deal %03d", i), "opportunity": crm.NewDecimal(int64(i)*100+5, 2)}
	}
	return out
}

// storedByMarker returns the stored deals grouped by originatorId+originId.
func storedByMarker(srv *bitrixtest.Server, typ int) map[string][]int {
	out := map[string][]int{}
	for _, it := range srv.CRMItems(typ) {
		k := fmt.Sprint(it["originatorId"], "/", it["originId"])
		out[k] = append(out[k], int(it["id"].(int64)))
	}
	return out
}

func TestAddManyInOrder(t *testing.T) {
	t.Parallel()
	srv, c := newPortal(t)
	in := dealsToAdd(120)
	in[7]["originId"] = "erp-7" // the caller's own marker is kept
	res, err := c.Items(crm.Deal).AddMany(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 120 {
		t.Fatalf("results = %d", len(res))
	}
	for i, r := range res {
		if r.Err != nil || r.Item == nil || r.Item.Title != fmt.Sprintf("Deal %03d", i) || r.ID != r.Item.ID || r.Attempts != 1 || r.Recovered {
			t.Fatalf("result %d = %+v", i, r)
		}
		if r.Item.OriginatorID != crm.DefaultOriginatorID || r.Item.OriginID != r.Marker {
			t.Errorf("result %d marker: item %q/%q, result %q", i, r.Item.OriginatorID, r.Item.OriginID, r.Marker)
		}
	}
	if res[7].Marker != "erp-7" {
		t.Errorf("caller's originId replaced: %q", res[7].Marker)
	}
	if _, ok := in[0]["originId"]; ok {
		t.Error("AddMany modified the caller's Fields")
	}
	if got := srv.CallCount("batch"); got != 3 {
		t.Errorf("batch requests = %d, want 3 (50 per request)", got)
	}
	if got := srv.CallCount("crm.item.list"); got != 0 {
		t.Errorf("lookups without failures: %d", got)
	}
}

// TestAddManyExactlyOnce injects random faults (seeded) into a few hundred
// adds: every item must exist exactly once at the end.
func TestAddManyExactlyOnce(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		kinds []bitrixtest.FaultKind
	}{
		{"drop after processing", []bitrixtest.FaultKind{bitrixtest.FaultDropAfter}},
		{"drop before processing", []bitrixtest.FaultKind{bitrixtest.FaultDropBefore}},
		{"5xx", []bitrixtest.FaultKind{bitrixtest.FaultError}},
		{"html 502", []bitrixtest.FaultKind{bitrixtest.FaultHTML502}},
		{"all kinds", []bitrixtest.FaultKind{bitrixtest.FaultDropAfter, bitrixtest.FaultDropBefore, bitrixtest.FaultError, bitrixtest.FaultHTML502}},
	}
	for ci, tc := range cases {
		name, ks, seed := tc.name, tc.kinds, int64(100+ci)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			const n = 300
			srv, c := newPortal(t)
			srv.FaultRate(0.5, seed, ks...)
			res, err := c.Items(crm.Deal).AddMany(t.Context(), dealsToAdd(n), crm.WithMaxRounds(30))
			if err != nil {
				t.Fatal(err)
			}
			srv.ClearFaults()
			if srv.FaultsInjected() < 3 {
				t.Fatalf("only %d faults were injected; pick another seed", srv.FaultsInjected())
			}
			stored := storedByMarker(srv, crm.Deal)
			if len(srv.CRMItems(crm.Deal)) != n {
				t.Errorf("stored %d deals, want %d", len(srv.CRMItems(crm.Deal)), n)
			}
			recovered, resent := 0, 0
			for i, r := range res {
				if r.Err != nil {
					t.Errorf("item %d: %v", i, r.Err)
					continue
				}
				ids := stored[crm.DefaultOriginatorID+"/"+r.Marker]
				if diff := cmp.Diff([]int{r.ID}, ids); diff != "" {
					t.Errorf("item %d stored ids (-want +got):\n%s", i, diff)
				}
				if r.Item == nil || r.Item.Title != fmt.Sprintf("Deal %03d", i) {
					t.Errorf("item %d = %+v", i, r.Item)
				}
				if r.Recovered {
					recovered++
				}
				if r.Attempts > 1 {
					resent++
				}
			}
			switch name {
			case "drop after processing":
				if recovered == 0 {
					t.Error("no item was recovered by lookup although answers were dropped after processing")
				}
			case "drop before processing", "5xx", "html 502":
				if recovered != 0 {
					t.Errorf("%d items recovered, but these faults never apply a request", recovered)
				}
				if resent == 0 {
					t.Error("no item was re-sent")
				}
			}
			if srv.CallCount("crm.item.list") == 0 {
				t.Error("no marker lookups were made")
			}
		})
	}
}

func TestAddManyPortalRejectsOneItem(t *testing.T) {
	t.Parallel()
	srv, c := newPortal(t)
	srv.FailMethod("crm.item.add", 1, 400, "ACCESS_DENIED") // the first command inside the batch
	res, err := c.Items(crm.Deal).AddMany(t.Context(), dealsToAdd(5))
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(res[0].Err, bitrix.ErrAccessDenied) || res[0].Attempts != 1 {
		t.Errorf("item 0 = %+v, want ACCESS_DENIED after one attempt", res[0])
	}
	for i, r := range res[1:] {
		if r.Err != nil || r.ID == 0 {
			t.Errorf("item %d = %+v", i+1, r)
		}
	}
	if n := len(srv.CRMItems(crm.Deal)); n != 4 {
		t.Errorf("stored %d, want 4", n)
	}
	if srv.CallCount("crm.item.list") != 0 {
		t.Error("a final error should not cause a lookup")
	}
}

func TestAddManyLookupFailsReportsMaybeApplied(t *testing.T) {
	t.Parallel()
	srv, c := newPortal(t)
	srv.DropAfterProcessing(1)            // the adds run, the answer is lost
	srv.FailNext(1, 403, "ACCESS_DENIED") // and the lookup is refused
	res, err := c.Items(crm.Deal).AddMany(t.Context(), dealsToAdd(3))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if !errors.Is(r.Err, bitrix.ErrMaybeApplied) || r.Attempts != 1 {
			t.Errorf("item %d = %+v, want ErrMaybeApplied", i, r)
		}
	}
	if n := len(srv.CRMItems(crm.Deal)); n != 3 {
		t.Errorf("stored %d, want 3 (added once, never re-sent)", n)
	}
}

func TestAddManyGivesUp(t *testing.T) {
	t.Parallel()
	srv, c := newPortal(t)
	srv.FailMethod("crm.item.add", 0, 500, "INTERNAL_SERVER_ERROR") // every command fails
	res, err := c.Items(crm.Deal).AddMany(t.Context(), dealsToAdd(2), crm.WithMaxRounds(3))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if !errors.Is(r.Err, crm.ErrNotAdded) || errors.Is(r.Err, bitrix.ErrMaybeApplied) || r.Attempts != 3 {
			t.Errorf("item %d = %+v (%v)", i, r, r.Err)
		}
	}
	if got := srv.CallCount("crm.item.list"); got != 3 {
		t.Errorf("lookups = %d, want one per round", got)
	}
}

// extKey is a deal user field holding the caller's marker. Deals have no
// xmlId (api-reference/crm/universal/object-fields.md lists it for smart
// invoices and smart processes only), so a user field is what a deal
// marker field is.
const extKey = "ufCrm_1733222000001"

func TestAddManyMarkerField(t *testing.T) {
	t.Parallel()
	srv, c := newPortal(t)
	in := dealsToAdd(60)
	for i := range in {
		in[i][extKey] = fmt.Sprintf("ext-%d", i)
	}
	srv.DropAfterProcessing(1)
	res, err := c.Items(crm.Deal).AddMany(t.Context(), in, crm.WithMarkerField(extKey))
	if err != nil {
		t.Fatal(err)
	}
	recovered := make([]bool, len(res))
	for i, r := range res {
		if r.Err != nil || r.Marker != fmt.Sprintf("ext-%d", i) || r.Item == nil || string(r.Item.Field(extKey)) != fmt.Sprintf("%q", r.Marker) {
			t.Errorf("item %d = %+v", i, r)
		}
		recovered[i] = r.Recovered
	}
	if !oneRequest(recovered) {
		t.Errorf("recovered items %v, want exactly those of the dropped request", recovered)
	}
	if n := len(srv.CRMItems(crm.Deal)); n != 60 {
		t.Errorf("stored %d, want 60", n)
	}
	for _, it := range srv.CRMItems(crm.Deal) {
		if it["originId"] != nil {
			t.Errorf("originId written in marker-field mode: %v", it["originId"])
		}
	}
}

func TestAddManyBadInputSendsNothing(t *testing.T) {
	t.Parallel()
	srv, c := newPortal(t)
	ctx := t.Context()
	deals := c.Items(crm.Deal)
	cases := []struct {
		name  string
		items []crm.Fields
		opts  []crm.BulkOption
		field string
	}{
		{"empty item", []crm.Fields{{"title": "a"}, {}}, nil, "items[1]"},
		{"repeated originId", []crm.Fields{{"title": "a", "originId": "x"}, {"title": "b", "originId": "x"}}, nil, "items[1]"},
		{"empty originId", []crm.Fields{{"title": "a", "originId": ""}}, nil, "items[0].originId"},
		{"bad originatorId", []crm.Fields{{"title": "a", "originatorId": []int{1}}}, nil, "items[0].originatorId"},
		{"missing marker field", []crm.Fields{{"title": "a", extKey: "1"}, {"title": "b"}}, []crm.BulkOption{crm.WithMarkerField(extKey)}, "items[1]." + extKey},
		{"unencodable value", []crm.Fields{{"title": "a"}, {"title": make(chan int)}}, nil, "items[1]"},
		{"repeated marker field", []crm.Fields{{extKey: 7}, {extKey: "7"}}, []crm.BulkOption{crm.WithMarkerField(extKey)}, "items[1]"},
	}
	for _, tc := range cases {
		_, err := deals.AddMany(ctx, tc.items, tc.opts...)
		var ve *bitrix.ValidationError
		if !errors.As(err, &ve) || ve.Field != tc.field || !errors.Is(err, bitrix.ErrInvalidArgument) {
			t.Errorf("%s: err = %v, want a ValidationError for %s", tc.name, err, tc.field)
		}
	}
	if _, err := deals.UpdateMany(ctx, []crm.Update{{ID: 1, Fields: crm.Fields{"title": "x"}}, {ID: 0, Fields: crm.Fields{"title": "y"}}}); !errors.Is(err, bitrix.ErrInvalidArgument) || !strings.Contains(err.Error(), "updates[1].id") {
		t.Errorf("UpdateMany bad id: %v", err)
	}
	if _, err := deals.UpdateMany(ctx, []crm.Update{{ID: 1}}); !errors.Is(err, bitrix.ErrInvalidArgument) {
		t.Errorf("UpdateMany no fields: %v", err)
	}
	if _, err := deals.DeleteMany(ctx, []int{3, -1}); !errors.Is(err, bitrix.ErrInvalidArgument) || !strings.Contains(err.Error(), "ids[1]") {
		t.Errorf("DeleteMany bad id: %v", err)
	}
	if _, err := c.Items(0).AddMany(ctx, dealsToAdd(1)); !errors.Is(err, crm.ErrUnknownEntityType) {
		t.Errorf("bad type: %v", err)
	}
	if res, err := deals.AddMany(ctx, nil); err != nil || len(res) != 0 {
		t.Errorf("empty AddMany = %v, %v", res, err)
	}
	noCalls(t, srv)
}

func TestUpdateManyAndDeleteManyUnderFaults(t *testing.T) {
	t.Parallel()
	srv, c := newPortal(t)
	ctx := t.Context()
	ids, err := srv.SeedCRMItems(crm.Deal, 140, nil)
	if err != nil {
		t.Fatal(err)
	}
	deals := c.Items(crm.Deal)
	ups := make([]crm.Update, len(ids))
	for i, id := range ids {
		ups[i] = crm.Update{ID: id, Fields: crm.Fields{"title": fmt.Sprintf("Updated %d", i)}}
	}
	ups[3].ID = 999999 // does not exist: a final per-item error
	srv.FaultRate(0.3, 7, bitrixtest.FaultDropAfter, bitrixtest.FaultHTML502, bitrixtest.FaultDropBefore)
	res, err := deals.UpdateMany(ctx, ups, crm.WithMaxRounds(30))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if i == 3 {
			if !errors.Is(r.Err, bitrix.ErrNotFound) {
				t.Errorf("update 3: %v, want ErrNotFound", r.Err)
			}
			continue
		}
		if r.Err != nil || r.ID != ids[i] || r.Item.Title != fmt.Sprintf("Updated %d", i) {
			t.Errorf("update %d = %+v", i, r)
		}
		if got := srv.CRMItem(crm.Deal, ids[i])["title"]; got != fmt.Sprintf("Updated %d", i) {
			t.Errorf("stored title %d = %v", i, got)
		}
	}

	if srv.FaultsInjected() == 0 {
		t.Fatal("no faults were injected")
	}
	srv.ClearFaults()
	srv.DropAfterProcessing(1) // one request's deletes run, their answer is lost
	dres, err := deals.DeleteMany(ctx, ids, crm.WithMaxRounds(30))
	if err != nil {
		t.Fatal(err)
	}
	srv.ClearFaults()
	recovered := make([]bool, len(dres))
	for i, r := range dres {
		if r.Err != nil || r.ID != ids[i] {
			t.Errorf("delete %d = %+v", i, r)
		}
		recovered[i] = r.Recovered
	}
	if !oneRequest(recovered) {
		t.Errorf("deletes confirmed after the dropped answer: %v, want exactly those of one request", recovered)
	}
	if n := len(srv.CRMItems(crm.Deal)); n != 0 {
		t.Errorf("%d deals left", n)
	}
	// Deleting again: each id fails with NOT_FOUND at once.
	dres, err = deals.DeleteMany(ctx, ids[:2])
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range dres {
		if !errors.Is(r.Err, bitrix.ErrNotFound) || r.Attempts != 1 {
			t.Errorf("second delete %d = %+v", i, r)
		}
	}
}

// oneRequest reports whether the marked items are exactly those of one
// batch request (50 consecutive items from a multiple of 50): requests run
// in parallel, so which one a fault hits first is not fixed.
func oneRequest(marked []bool) bool {
	first := -1
	for i, m := range marked {
		if m {
			first = i
			break
		}
	}
	if first < 0 || first%bitrix.MaxBatchCommands != 0 {
		return false
	}
	end := min(first+bitrix.MaxBatchCommands, len(marked))
	for i, m := range marked {
		if m != (i >= first && i < end) {
			return false
		}
	}
	return true
}
