package crm_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/b24go/sdk/crm"
	"github.com/google/go-cmp/cmp"
)

// docResult reads the "result" of a docs sample of the REST corpus
// (testdata/rest at the module root; index.tsv names each file's docs page).
func docResult(t *testing.T, file string) json.RawMessage {
	t.Helper()
	b, err := os.ReadFile("../testdata/rest/" + file)
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return env.Result
}

func decodeInto(t *testing.T, file string, raw json.RawMessage, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

// TestDocsProductRowSamples decodes every crm.item.productrow.* sample
// (api-reference/crm/universal/product-rows/*.md) into ProductRow and
// checks the values.
func TestDocsProductRowSamples(t *testing.T) {
	t.Parallel()
	one := func(file string) crm.ProductRow {
		var r struct {
			ProductRow crm.ProductRow `json:"productRow"`
		}
		decodeInto(t, file, docResult(t, file), &r)
		return r.ProductRow
	}
	many := func(file string) []crm.ProductRow {
		var r struct {
			ProductRows []crm.ProductRow `json:"productRows"`
		}
		decodeInto(t, file, docResult(t, file), &r)
		return r.ProductRows
	}
	add := one("crm_item_productrow_add.json")
	if add.ID != 17647 || add.OwnerType != "D" || add.Price.String() != "80000" || add.PriceBrutto.String() != "100000.01" ||
		add.DiscountSum.String() != "16666.67" || !bool(add.TaxIncluded) || add.Type != crm.ProductTypeOffer || add.MeasureName != "pcs" || add.Sum().String() != "160000" {
		t.Errorf("add sample = %+v", add)
	}
	get := one("crm_item_productrow_get.json")
	if get.ID != 17622 || get.StoreID != 19 || get.XMLID != "sale_basket_8145" || get.TaxRate != nil || get.Quantity.String() != "11" {
		t.Errorf("get sample = %+v", get)
	}
	upd := one("crm_item_productrow_update.json")
	if upd.ID != 17649 || upd.TaxRate == nil || upd.TaxRate.String() != "10" || upd.PriceExclusive.String() != "81818.18" || upd.Sort != 20 {
		t.Errorf("update sample = %+v", upd)
	}
	for _, tc := range []struct {
		file  string
		ids   []int
		total string
	}{
		{"crm_item_productrow_list.json", []int{17649, 17650}, "275550"},
		{"crm_item_productrow_set.json", []int{17654, 17655}, "131799.99"},
		{"crm_item_productrow_getAvailableForPayment.json", nil, ""},
	} {
		rows := many(tc.file)
		if len(rows) == 0 {
			t.Errorf("%s: no rows", tc.file)
			continue
		}
		if tc.ids != nil {
			var ids []int
			for _, r := range rows {
				ids = append(ids, r.ID)
				if len(r.Extra) != 0 {
					t.Errorf("%s: row %d has unknown keys %v", tc.file, r.ID, r.Extra)
				}
			}
			if !cmp.Equal(ids, tc.ids) || crm.InvoiceTotal(rows).String() != tc.total {
				t.Errorf("%s: ids %v total %s, want %v %s", tc.file, ids, crm.InvoiceTotal(rows), tc.ids, tc.total)
			}
		}
	}
	var fields struct {
		Fields map[string]crm.FieldInfo `json:"fields"`
	}
	decodeInto(t, "crm_item_productrow_fields.json", docResult(t, "crm_item_productrow_fields.json"), &fields)
	if f := fields.Fields["storeId"]; !bool(f.IsReadOnly) || f.Type != "integer" {
		t.Errorf("fields.storeId = %+v", f)
	}
	if f := fields.Fields["ownerType"]; !bool(f.IsRequired) || !bool(f.IsImmutable) {
		t.Errorf("fields.ownerType = %+v", f)
	}
}

// TestDocsItemSamples decodes the crm.item.* samples
// (api-reference/crm/universal/crm-item-*.md) into Item.
func TestDocsItemSamples(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file, title, opportunity string
		id                       int
	}{
		{"crm_item_add.json", "New deal (specifically for rest method examples)", "999.99", 342},
		{"crm_item_update.json", "REST Deal #1", "10000", 351},
		{"crm_item_get.json", "Lead #250", "999.9", 250},
	} {
		var r struct {
			Item crm.Item `json:"item"`
		}
		decodeInto(t, tc.file, docResult(t, tc.file), &r)
		if r.Item.ID != tc.id || r.Item.Title != tc.title || r.Item.Opportunity.String() != tc.opportunity || r.Item.CreatedTime.IsZero() {
			t.Errorf("%s: item %d %q %s created %v", tc.file, r.Item.ID, r.Item.Title, r.Item.Opportunity, r.Item.CreatedTime)
		}
	}
	var list struct {
		Items []crm.Item `json:"items"`
	}
	decodeInto(t, "crm_item_list.json", docResult(t, "crm_item_list.json"), &list)
	if len(list.Items) != 4 || list.Items[0].ID != 253 || list.Items[0].Title != "Lead #253" {
		t.Errorf("list sample = %+v", list.Items)
	}
}

// TestDocsDealProductRowsSample decodes crm.deal.productrows.get
// (api-reference/crm/deals/crm-deal-productrows-get.md).
func TestDocsDealProductRowsSample(t *testing.T) {
	t.Parallel()
	var rows []crm.DealProductRow
	decodeInto(t, "crm_deal_productrows_get.json", docResult(t, "crm_deal_productrows_get.json"), &rows)
	if len(rows) == 0 || rows[0].ID != 5 || rows[0].Price.String() != "899.1" || rows[0].PriceAccount.String() != "899.1" || rows[0].XMLID != "sale_basket_651" {
		t.Errorf("rows = %+v", rows)
	}
}

// TestProductRowShapeMatchesDocs: bitrixtest's crm.item.productrow.get
// answer has exactly the keys of the docs' get sample
// (crm-item-productrow-get.md).
func TestProductRowShapeMatchesDocs(t *testing.T) {
	t.Parallel()
	srv, c := newPortal(t)
	ctx := t.Context()
	deal, err := c.Items(crm.Deal).Add(ctx, crm.Fields{"title": "Shape"})
	if err != nil {
		t.Fatal(err)
	}
	row, err := c.ProductRows().Add(ctx, crm.Owner{EntityTypeID: crm.Deal, ID: deal.ID}, crm.ProductRow{ProductName: "A", Price: dec("1")})
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.Post(srv.WebhookURL()+"crm.item.productrow.get", "application/json", strings.NewReader(fmt.Sprintf(`{"id":%d}`, row.ID)))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var fake struct {
		Result struct {
			ProductRow map[string]json.RawMessage `json:"productRow"`
		} `json:"result"`
	}
	if err := json.NewDecoder(res.Body).Decode(&fake); err != nil {
		t.Fatal(err)
	}
	var sample struct {
		ProductRow map[string]json.RawMessage `json:"productRow"`
	}
	decodeInto(t, "crm_item_productrow_get.json", docResult(t, "crm_item_productrow_get.json"), &sample)
	keys := func(m map[string]json.RawMessage) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	if diff := cmp.Diff(keys(sample.ProductRow), keys(fake.Result.ProductRow)); diff != "" {
		t.Errorf("fake productRow keys vs docs sample (-docs +fake):\n%s", diff)
	}
}
