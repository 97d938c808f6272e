package lists_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/lists"
)

func manyElements(prefix string, n int) []lists.NewElement {
	out := make([]lists.NewElement, n)
	for i := range out {
		out[i] = lists.NewElement{Code: fmt.Sprintf("%s-%03d", prefix, i), Fields: lists.Fields{Name: fmt.Sprintf("%s %d", prefix, i)}}
	}
	return out
}

func checkExactlyOnce(t *testing.T, stored []string, els []lists.NewElement, res []lists.BulkResult) {
	t.Helper()
	count := map[string]int{}
	for _, c := range stored {
		count[c]++
	}
	for i, el := range els {
		if count[el.Code] != 1 {
			t.Errorf("code %s stored %d times", el.Code, count[el.Code])
		}
		if res[i].Err != nil || res[i].ID == 0 {
			t.Errorf("item %d: %+v", i, res[i])
		}
	}
	if len(stored) != len(els) {
		t.Errorf("%d elements stored, want %d", len(stored), len(els))
	}
}

func TestAddManyExactlyOnceAfterLostAnswer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		fault func(s interface{ DropAfterProcessing(int) })
	}{{"drop after processing", func(s interface{ DropAfterProcessing(int) }) { s.DropAfterProcessing(1) }}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, lc, listID := newPortal(t)
			els := lc.Elements(lists.TypeLists, lists.ByID(listID))
			in := manyElements("drop", 120) // 3 batch requests
			tc.fault(srv)
			res, err := els.AddMany(t.Context(), in)
			if err != nil {
				t.Fatal(err)
			}
			var codes []string
			byID := map[int]string{}
			for _, e := range srv.ListElements(listID) {
				codes = append(codes, e.Code)
				byID[e.ID] = e.Code
			}
			checkExactlyOnce(t, codes, in, res)
			reconciled := 0
			for i, r := range res {
				if byID[r.ID] != in[i].Code {
					t.Errorf("item %d: id %d is element %q", i, r.ID, byID[r.ID])
				}
				if r.Recovered {
					reconciled++
				}
			}
			// The request that reached the portal first (of 50, 50 and 20
			// commands, sent in parallel) was processed and its answer lost.
			if reconciled != 50 && reconciled != 20 {
				t.Errorf("%d items reconciled, want one request's (50 or 20)", reconciled)
			}
			if n := srv.CallCount("lists.element.add"); n != 120 {
				t.Errorf("lists.element.add ran %d times, want 120 (no re-send of applied adds)", n)
			}
		})
	}
}

func TestAddManyResendsWhatWasNotApplied(t *testing.T) {
	t.Parallel()
	srv, lc, listID := newPortal(t)
	els := lc.Elements(lists.TypeLists, lists.ByID(listID))
	in := manyElements("before", 70)
	srv.DropBeforeProcessing(1)
	res, err := els.AddMany(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, e := range srv.ListElements(listID) {
		codes = append(codes, e.Code)
	}
	checkExactlyOnce(t, codes, in, res)
	if n := srv.CallCount("lists.element.add"); n != 70 {
		t.Errorf("lists.element.add ran %d times, want 70", n)
	}
}

func TestAddManyPerItemErrors(t *testing.T) {
	t.Parallel()
	srv, lc, listID := newPortal(t)
	els := lc.Elements(lists.TypeLists, lists.ByID(listID))
	if _, err := els.Add(t.Context(), lists.NewElement{Code: "taken", Fields: lists.Fields{Name: "x"}}); err != nil {
		t.Fatal(err)
	}
	in := []lists.NewElement{
		{Code: "a", Fields: lists.Fields{Name: "A"}},
		{Code: "taken", Fields: lists.Fields{Name: "dup"}},
		{Code: "c", Fields: lists.Fields{Name: "C", Properties: map[int]lists.FieldValue{propFile: lists.Value("12")}}},
		{Code: "d", Fields: lists.Fields{Name: "D"}},
	}
	res, err := els.AddMany(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil || res[3].Err != nil || res[0].ID == 0 || res[3].ID <= res[0].ID {
		t.Errorf("good items: %+v %+v", res[0], res[3])
	}
	if !errors.Is(res[1].Err, bitrix.ErrAlreadyExists) || res[1].Recovered {
		t.Errorf("taken code: %+v", res[1])
	}
	if !errors.Is(res[2].Err, bitrix.ErrInvalidArgument) {
		t.Errorf("file by id: %+v", res[2])
	}
	if n := len(srv.ListElements(listID)); n != 3 {
		t.Errorf("%d stored, want 3", n)
	}
}

func TestUpdateManyDeleteMany(t *testing.T) {
	t.Parallel()
	srv, lc, listID := newPortal(t)
	ctx := t.Context()
	els := lc.Elements(lists.TypeLists, lists.ByID(listID))
	res, err := els.AddMany(ctx, manyElements("u", 60))
	if err != nil {
		t.Fatal(err)
	}
	var ups []lists.Update
	for i, r := range res {
		ups = append(ups, lists.Update{Ref: lists.ByID(r.ID), Fields: lists.Fields{Name: fmt.Sprintf("updated %d", i)}})
	}
	ups = append(ups, lists.Update{Ref: lists.ByID(99999), Fields: lists.Fields{Name: "ghost"}})
	ures, err := els.UpdateMany(ctx, ups)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 60; i++ {
		if ures[i].Err != nil || ures[i].ID != res[i].ID {
			t.Fatalf("update %d: %+v", i, ures[i])
		}
	}
	if !errors.Is(ures[60].Err, bitrix.ErrNotFound) {
		t.Errorf("ghost update: %+v", ures[60])
	}
	for _, el := range srv.ListElements(listID) {
		if el.ID == res[59].ID && el.Name != "updated 59" {
			t.Errorf("stored name = %q", el.Name)
		}
	}

	var refs []lists.Ref
	for i, r := range res {
		if i%2 == 0 {
			refs = append(refs, lists.ByID(r.ID))
		} else {
			refs = append(refs, lists.ByCode(fmt.Sprintf("u-%03d", i)))
		}
	}
	srv.DropAfterProcessing(1)
	dres, err := els.DeleteMany(ctx, refs)
	if err != nil {
		t.Fatal(err)
	}
	reconciled := 0
	for i, r := range dres {
		if r.Err != nil {
			t.Errorf("delete %d: %v", i, r.Err)
		}
		if r.Recovered {
			reconciled++
		}
	}
	// The two requests (50 and 10 deletes) go out in parallel; the dropped
	// answer is whichever reached the portal first.
	if reconciled != 50 && reconciled != 10 {
		t.Errorf("%d deletes reconciled, want one request's (50 or 10)", reconciled)
	}
	if n := len(srv.ListElements(listID)); n != 0 {
		t.Errorf("%d elements left", n)
	}
}

func TestBulkRefusesBadInput(t *testing.T) {
	t.Parallel()
	srv, lc, listID := newPortal(t)
	els := lc.Elements(lists.TypeLists, lists.ByID(listID))
	before := srv.Requests()
	if _, err := els.AddMany(t.Context(), []lists.NewElement{{Code: "a", Fields: lists.Fields{Name: "A"}}, {Code: "a", Fields: lists.Fields{Name: "B"}}}); !errors.Is(err, bitrix.ErrInvalidArgument) {
		t.Errorf("repeated code: %v", err)
	}
	if _, err := els.AddMany(t.Context(), []lists.NewElement{{Code: "a", Fields: lists.Fields{Name: "A"}}, {Fields: lists.Fields{Name: "B"}}}); !errors.Is(err, bitrix.ErrInvalidArgument) {
		t.Errorf("missing code: %v", err)
	}
	if _, err := els.UpdateMany(t.Context(), []lists.Update{{Ref: lists.ByID(1)}}); !errors.Is(err, bitrix.ErrInvalidArgument) {
		t.Errorf("update without NAME: %v", err)
	}
	if _, err := els.DeleteMany(t.Context(), []lists.Ref{lists.ByID(1), {}}); !errors.Is(err, bitrix.ErrInvalidArgument) {
		t.Errorf("empty ref: %v", err)
	}
	if n := srv.Requests() - before; n != 0 {
		t.Errorf("%d requests sent", n)
	}
}
