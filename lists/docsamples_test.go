package lists_test

import (
	"testing"

	"github.com/b24go/sdk/internal/docsample"
	"github.com/b24go/sdk/lists"
)

// sampleClient answers every call with a docs sample of the REST corpus
// (testdata/rest at the module root; index.tsv names its docs page).
func sampleClient(t *testing.T, file string) *lists.Client {
	t.Helper()
	c, err := lists.New(docsample.Client(t, "../testdata/rest/"+file))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestDocsSamples decodes the lists docs samples (api-reference/lists/**)
// through the typed methods.
func TestDocsSamples(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	ls, err := sampleClient(t, "lists_get.json").Lists(ctx, lists.TypeGroupLists, 0)
	if err != nil || len(ls) == 0 || ls[0].ID != 89 || ls[0].Name != "Group List" || !ls[0].Active || ls[0].Sort != 500 {
		t.Errorf("Lists = %+v, %v", ls, err)
	}
	els := sampleClient(t, "lists_element_get.json").Elements(lists.TypeLists, lists.ByID(47))
	got, _, err := els.List(ctx, lists.Query{}, 0)
	if err != nil || len(got) != 1 || got[0].ID != 6999 || got[0].Code != "test_element" || got[0].CreatedBy != 1269 {
		t.Fatalf("Elements.List = %+v, %v", got, err)
	}
	if p := got[0].Property(951); len(p.Values) != 2 {
		t.Errorf("PROPERTY_951 = %+v", p)
	}
	id, err := sampleClient(t, "lists_element_add.json").Elements(lists.TypeLists, lists.ByID(47)).Add(ctx, lists.NewElement{Code: "c", Fields: lists.Fields{Name: "n"}})
	if err != nil || id != 6999 {
		t.Errorf("Elements.Add = %d, %v", id, err)
	}
	f, err := sampleClient(t, "lists_field_get.json").Field(ctx, lists.TypeLists, lists.ByID(47), "PROPERTY_1151")
	if err != nil || f.ID != 1151 || f.Name != "Task Status" || f.Type != "L" || f.DefaultValue != "1685" {
		t.Errorf("Field = %+v, %v", f, err)
	}
}
