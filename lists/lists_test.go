package lists_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/lists"
)

func TestElementLifecycle(t *testing.T) {
	t.Parallel()
	srv, lc, listID := newPortal(t)
	ctx := t.Context()
	els := lc.Elements(lists.TypeLists, lists.ByCode("deals"))
	due := time.Date(2024, 12, 31, 23, 59, 59, 0, time.UTC)
	id, err := els.Add(ctx, lists.NewElement{
		Code: "deal-1",
		Fields: lists.Fields{Name: "First deal", Properties: map[int]lists.FieldValue{
			propColor: lists.Value("green"),
			propTags:  lists.Values("1269", "1271"),
			propDue:   lists.DateTime(due),
			propFile:  lists.File("a.txt", []byte("hello")),
			propQty:   lists.Value(7),
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	add := srv.Calls()[len(srv.Calls())-1]
	fields := add.Params["FIELDS"].(map[string]any)
	want := map[string]any{
		"NAME": "First deal", "PROPERTY_501": "green", "PROPERTY_502": []any{"1269", "1271"},
		"PROPERTY_503": "12/31/2024 11:59:59 pm", "PROPERTY_504": []any{"a.txt", "aGVsbG8="}, "PROPERTY_505": "7",
	}
	if diff := cmp.Diff(want, fields); diff != "" {
		t.Errorf("FIELDS sent (-want +got):\n%s", diff)
	}
	if add.Params["ELEMENT_CODE"] != "deal-1" || add.Params["IBLOCK_CODE"] != "deals" || add.Params["IBLOCK_TYPE_ID"] != "lists" {
		t.Errorf("identity params: %v", add.Params)
	}

	// Get by id and by code give the same element with typed values.
	byID, err := lc.Elements(lists.TypeLists, lists.ByID(listID)).Get(ctx, lists.ByID(id))
	if err != nil {
		t.Fatal(err)
	}
	byCode, err := els.Get(ctx, lists.ByCode("deal-1"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(byID, byCode, cmpopts.IgnoreUnexported(lists.Property{})); diff != "" {
		t.Errorf("by id vs by code (-id +code):\n%s", diff)
	}
	el := byID
	if el.ID != id || el.Name != "First deal" || el.Code != "deal-1" || el.IBlockID != listID {
		t.Errorf("element = %+v", el)
	}
	if got := el.Property(propColor).String(); got != "green" {
		t.Errorf("colour = %q", got)
	}
	tags := el.Property(propTags)
	if diff := cmp.Diff([]string{"1269", "1271"}, tags.Strings()); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	if ids := tags.ValueIDs(); len(ids) != 2 || ids[0] == "" || ids[0] == ids[1] {
		t.Errorf("value ids = %v", ids)
	}
	if n, err := el.Property(propQty).Int(); err != nil || n != 7 {
		t.Errorf("qty = %d, %v", n, err)
	}
	if got, err := el.Property(propDue).Time(); err != nil || !got.Equal(due) {
		t.Errorf("due = %v, %v", got, err)
	}
	if el.DateCreate.IsZero() || el.DateCreateText == "" {
		t.Errorf("DATE_CREATE not parsed: %q", el.DateCreateText)
	}
	if _, ok := el.Extra["BP_PUBLISHED"]; !ok {
		t.Errorf("Extra lost BP_PUBLISHED: %v", el.Extra)
	}

	urls, err := els.FileURLs(ctx, lists.ByID(id), propFile)
	if err != nil || len(urls) != 1 || !strings.Contains(urls[0], "PROPERTY_504") {
		t.Errorf("FileURLs = %v, %v", urls, err)
	}

	// Update clears what is not sent (but files stay).
	if err := els.Update(ctx, lists.ByID(id), lists.Fields{Name: "Renamed", Properties: map[int]lists.FieldValue{propQty: lists.Value(8)}}); err != nil {
		t.Fatal(err)
	}
	el, _ = els.Get(ctx, lists.ByID(id))
	if el.Name != "Renamed" || !el.Property(propColor).IsEmpty() || !el.Property(propTags).IsEmpty() || el.Property(propFile).IsEmpty() {
		t.Errorf("after Update: %+v", el.Properties)
	}

	// Patch keeps the unsent fields.
	if err := els.Update(ctx, lists.ByID(id), lists.Fields{Name: "Full", Properties: map[int]lists.FieldValue{
		propColor: lists.Value("green"), propTags: lists.Values("1269", "1271"), propDue: lists.DateTime(due), propQty: lists.Value(8),
	}}); err != nil {
		t.Fatal(err)
	}
	srv.ResetCalls()
	if err := els.Patch(ctx, lists.ByCode("deal-1"), lists.Fields{Properties: map[int]lists.FieldValue{propQty: lists.Value(9)}}); err != nil {
		t.Fatal(err)
	}
	el, _ = els.Get(ctx, lists.ByID(id))
	if el.Name != "Full" || el.Property(propColor).String() != "green" || len(el.Property(propTags).Values) != 2 ||
		el.Property(propDue).String() != "12/31/2024 11:59:59 pm" || el.Property(propQty).String() != "9" || el.Property(propFile).IsEmpty() {
		t.Errorf("after Patch: name %q props %+v", el.Name, el.Properties)
	}
	var methods []string
	for _, c := range srv.Calls() {
		methods = append(methods, c.Method)
	}
	if diff := cmp.Diff([]string{"lists.field.get", "lists.element.get", "lists.element.update", "lists.element.get"}, methods); diff != "" {
		t.Errorf("Patch calls (-want +got):\n%s", diff)
	}
	for _, c := range srv.Calls() {
		if c.Method == "lists.element.update" {
			if _, sent := c.Params["FIELDS"].(map[string]any)["PROPERTY_504"]; sent {
				t.Error("Patch re-sent the file property")
			}
		}
	}

	if err := els.Delete(ctx, lists.ByID(id)); err != nil {
		t.Fatal(err)
	}
	if _, err := els.Get(ctx, lists.ByID(id)); !errors.Is(err, bitrix.ErrNotFound) {
		t.Errorf("Get after Delete: %v, want ErrNotFound", err)
	}
	if err := els.Delete(ctx, lists.ByID(id)); !errors.Is(err, bitrix.ErrNotFound) {
		t.Errorf("second Delete: %v, want ErrNotFound", err)
	}
	if _, err := lc.Elements(lists.TypeLists, lists.ByID(listID+50)).Get(ctx, lists.ByID(1)); !errors.Is(err, bitrix.ErrNotFound) {
		t.Errorf("unknown list: %v, want ErrNotFound", err)
	}
}

func TestAddDuplicateCode(t *testing.T) {
	t.Parallel()
	_, lc, _ := newPortal(t)
	els := lc.Elements(lists.TypeLists, lists.ByCode("deals"))
	el := lists.NewElement{Code: "dup", Fields: lists.Fields{Name: "x"}}
	if _, err := els.Add(t.Context(), el); err != nil {
		t.Fatal(err)
	}
	if _, err := els.Add(t.Context(), el); !errors.Is(err, bitrix.ErrAlreadyExists) {
		t.Errorf("second add: %v, want ErrAlreadyExists", err)
	}
}

func TestAddReconcilesLostAnswer(t *testing.T) {
	t.Parallel()
	srv, lc, listID := newPortal(t)
	els := lc.Elements(lists.TypeLists, lists.ByID(listID))
	srv.DropAfterProcessing(1)
	id, err := els.Add(t.Context(), lists.NewElement{Code: "lost", Fields: lists.Fields{Name: "Lost answer"}})
	if err != nil {
		t.Fatal(err)
	}
	stored := srv.ListElements(listID)
	if len(stored) != 1 || stored[0].ID != id {
		t.Fatalf("stored = %+v, id %d", stored, id)
	}
	if n := srv.CallCount("lists.element.add"); n != 1 {
		t.Errorf("lists.element.add sent %d times, want 1 (found by lookup)", n)
	}

	// Lost before processing: the lookup finds nothing and the add is sent again.
	srv.DropBeforeProcessing(1)
	id2, err := els.Add(t.Context(), lists.NewElement{Code: "lost2", Fields: lists.Fields{Name: "Never arrived"}})
	if err != nil {
		t.Fatal(err)
	}
	if stored := srv.ListElements(listID); len(stored) != 2 || stored[1].ID != id2 {
		t.Fatalf("stored = %+v", stored)
	}
}

func TestListAndAll(t *testing.T) {
	t.Parallel()
	srv, lc, listID := newPortal(t)
	ctx := t.Context()
	els := lc.Elements(lists.TypeLists, lists.ByID(listID))
	var batch []lists.NewElement
	for i := 1; i <= 130; i++ {
		color := "red"
		if i%2 == 0 {
			color = "blue"
		}
		batch = append(batch, lists.NewElement{Code: fmt.Sprintf("e%03d", i), Fields: lists.Fields{
			Name: fmt.Sprintf("Element %d", i), Properties: map[int]lists.FieldValue{propColor: lists.Value(color), propQty: lists.Value(i)}}})
	}
	res, err := els.AddMany(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil || r.ID == 0 {
			t.Fatalf("item %d: %+v", i, r)
		}
	}
	page, resp, err := els.List(ctx, lists.Query{Filter: bitrix.Params{"=PROPERTY_501": "blue"}, Select: []string{"NAME", "PROPERTY_505"},
		Order: []lists.Order{{Field: "ID", Desc: true}}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 50 || resp.Total != 65 || resp.Next != 50 {
		t.Fatalf("page: %d rows, total %d next %d", len(page), resp.Total, resp.Next)
	}
	// AddMany sends its requests in parallel, so ids need not follow the
	// input order: the first row is the blue element with the highest id.
	top := 0
	for i, r := range res {
		if (i+1)%2 == 0 && (top == 0 || r.ID > res[top-1].ID) {
			top = i + 1
		}
	}
	if page[0].Name != fmt.Sprintf("Element %d", top) || page[0].Property(propQty).String() != fmt.Sprint(top) || !page[0].Property(propColor).IsEmpty() {
		t.Errorf("first row = %+v", page[0])
	}
	call := srv.Calls()[len(srv.Calls())-1]
	if diff := cmp.Diff([]any{"NAME", "PROPERTY_505", "ID"}, call.Params["SELECT"]); diff != "" {
		t.Errorf("SELECT (-want +got):\n%s", diff)
	}

	// All: the fast scan, ID order, every row once.
	srv.ResetCalls()
	var ids []int
	for el, err := range els.All(ctx, lists.Query{Filter: bitrix.Params{"=PROPERTY_501": "red"}}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, el.ID)
	}
	if len(ids) != 65 {
		t.Fatalf("All returned %d rows, want 65", len(ids))
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			t.Fatalf("ids not ascending at %d: %v", i, ids[i-1:i+1])
		}
	}
	for _, c := range srv.Calls() {
		if c.InBatch {
			f, _ := c.Params["FILTER"].(map[string]any)
			if f["=PROPERTY_501"] != "red" {
				t.Errorf("scan lost the caller's filter: %v", c.Params)
			}
		}
	}
	// Offset paging when ordered by something else; stopping early stops requests.
	n := 0
	for _, err := range els.All(ctx, lists.Query{Order: []lists.Order{{Field: "NAME"}}}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if n == 3 {
			break
		}
	}
	if n != 3 {
		t.Errorf("early stop: %d", n)
	}
}

func TestListsAndFields(t *testing.T) {
	t.Parallel()
	srv, lc, listID := newPortal(t)
	ctx := t.Context()
	srv.AddList("lists", "second", "Second")
	all, err := lc.Lists(ctx, lists.TypeLists, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].ID != listID || all[0].Code != "deals" || all[0].Name != "Deals" || !all[0].Active {
		t.Fatalf("Lists = %+v", all)
	}
	got, err := lc.Get(ctx, lists.TypeLists, lists.ByCode("second"))
	if err != nil || got.Name != "Second" {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	if _, err := lc.Get(ctx, lists.TypeLists, lists.ByCode("nope")); !errors.Is(err, bitrix.ErrNotFound) {
		t.Errorf("Get missing: %v", err)
	}
	fields, err := lc.Fields(ctx, lists.TypeLists, lists.ByID(listID))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range fields {
		names = append(names, f.FieldID)
	}
	if diff := cmp.Diff([]string{"NAME", "PROPERTY_501", "PROPERTY_502", "PROPERTY_503", "PROPERTY_504", "PROPERTY_505"}, names); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	tags, err := lc.Field(ctx, lists.TypeLists, lists.ByID(listID), "PROPERTY_502")
	if err != nil {
		t.Fatal(err)
	}
	if tags.PropertyID() != propTags || !tags.Multiple || tags.Type != "L" || tags.DisplayValues["1271"] != "blue" || tags.IsFile() {
		t.Errorf("tags field = %+v", tags)
	}
	if f := fields[4]; !f.IsFile() {
		t.Errorf("file field not detected: %+v", f)
	}
	if f := fields[3]; f.UserType != "DateTime" || f.PropertyType != "S" {
		t.Errorf("date field = %+v", f)
	}
}
