package crm_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/crm"
	"github.com/google/go-cmp/cmp"
)

func dec(s string) crm.Decimal { return crm.MustDecimal(s) }

func decp(s string) *crm.Decimal { d := crm.MustDecimal(s); return &d }

func TestProductRowsLifecycle(t *testing.T) {
	t.Parallel()
	srv, c := newPortal(t)
	ctx := t.Context()
	deal, err := c.Items(crm.Deal).Add(ctx, crm.Fields{"title": "With rows"})
	if err != nil {
		t.Fatal(err)
	}
	owner := crm.Owner{EntityTypeID: crm.Deal, ID: deal.ID}
	pr := c.ProductRows()

	row, err := pr.Add(ctx, owner, crm.ProductRow{ProductName: "iphone 14", Price: dec("80000"), Quantity: dec("2"),
		DiscountTypeID: crm.DiscountPercent, DiscountRate: dec("20"), TaxRate: decp("20"), TaxIncluded: true})
	if err != nil {
		t.Fatal(err)
	}
	if row.ID == 0 || row.OwnerType != "D" || row.OwnerID != deal.ID || row.PriceExclusive.String() != "66666.67" || row.Sum().String() != "160000" {
		t.Errorf("added row = %+v", row)
	}
	calls := srv.Calls()
	fields, _ := calls[len(calls)-1].Params["fields"].(map[string]any)
	if fields["ownerType"] != "D" || fields["price"] != "80000" || fields["taxIncluded"] != "Y" || fields["discountTypeId"] != "2" {
		t.Errorf("sent fields = %v", fields)
	}
	if _, sent := fields["priceExclusive"]; sent {
		t.Error("derived price sent")
	}

	got, err := pr.Get(ctx, row.ID)
	if err != nil || got.ProductName != "iphone 14" || got.TaxRate == nil || got.TaxRate.String() != "20" {
		t.Fatalf("get = %+v, %v", got, err)
	}
	upd, err := pr.Update(ctx, row.ID, crm.Fields{"quantity": dec("3")})
	if err != nil || upd.Quantity.String() != "3" {
		t.Fatalf("update = %+v, %v", upd, err)
	}

	rows, err := pr.Set(ctx, owner, []crm.ProductRow{
		{ProductName: "A", Price: dec("0.10"), Quantity: dec("3")},
		{ProductName: "B", Price: dec("0.20"), Quantity: dec("1"), Sort: 20},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].ProductName != "A" {
		t.Fatalf("set rows = %+v", rows)
	}
	if _, err := pr.Get(ctx, row.ID); !errors.Is(err, bitrix.ErrNotFound) {
		t.Errorf("the replaced row: %v, want ErrNotFound", err)
	}
	if total := crm.InvoiceTotal(rows); total.String() != "0.5" {
		t.Errorf("total = %s, want 0.5", total)
	}

	page, resp, err := pr.List(ctx, owner, crm.RowQuery{Filter: map[string]any{"%productName": "B"}}, 0)
	if err != nil || len(page) != 1 || page[0].ProductName != "B" || resp.Total != 1 {
		t.Errorf("list = %+v, %+v, %v", page, resp, err)
	}
	var names []string
	for r, err := range pr.All(ctx, owner, crm.RowQuery{}) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, r.ProductName)
	}
	if diff := cmp.Diff([]string{"A", "B"}, names); diff != "" {
		t.Errorf("all (-want +got):\n%s", diff)
	}

	if err := pr.Delete(ctx, rows[0].ID); err != nil {
		t.Fatal(err)
	}
	if got := srv.ProductRows("D", deal.ID); len(got) != 1 || got[0].ProductName != "B" {
		t.Errorf("stored rows = %+v", got)
	}
	if err := pr.Delete(ctx, rows[0].ID); !errors.Is(err, bitrix.ErrNotFound) {
		t.Errorf("delete twice: %v", err)
	}
	// An empty set deletes all rows.
	if rows, err := pr.Set(ctx, owner, nil); err != nil || len(rows) != 0 {
		t.Errorf("empty set = %v, %v", rows, err)
	}
	if got := srv.ProductRows("D", deal.ID); len(got) != 0 {
		t.Errorf("rows left: %+v", got)
	}

	f, err := pr.Fields(ctx)
	if err != nil || f["price"].Type != "double" || !bool(f["ownerId"].IsRequired) {
		t.Errorf("fields = %v, %v", f["price"], err)
	}
}

func TestProductRowsSmartProcessOwner(t *testing.T) {
	t.Parallel()
	srv, c := newPortal(t)
	ctx := t.Context()
	it, err := c.Items(128).Add(ctx, crm.Fields{"title": "SPA item"})
	if err != nil {
		t.Fatal(err)
	}
	row, err := c.ProductRows().Add(ctx, crm.Owner{EntityTypeID: 128, ID: it.ID}, crm.ProductRow{ProductName: "x", Price: dec("1.5")})
	if err != nil {
		t.Fatal(err)
	}
	if row.OwnerType != "T80" || len(srv.ProductRows("T80", it.ID)) != 1 {
		t.Errorf("row = %+v", row)
	}
	// The owner does not exist: OWNER_NOT_FOUND matches ErrNotFound.
	_, err = c.ProductRows().Add(ctx, crm.Owner{EntityTypeID: crm.Deal, ID: 424242}, crm.ProductRow{ProductName: "x"})
	var ae *bitrix.APIError
	if !errors.Is(err, bitrix.ErrNotFound) || !errors.As(err, &ae) || ae.Code != "OWNER_NOT_FOUND" {
		t.Errorf("missing owner: %v", err)
	}
}

func TestProductRowsBadInputSendsNothing(t *testing.T) {
	t.Parallel()
	srv, c := newPortal(t)
	ctx := t.Context()
	pr := c.ProductRows()
	deal := crm.Owner{EntityTypeID: crm.Deal, ID: 1}
	cases := []struct {
		name  string
		run   func() error
		field string
	}{
		{"add to contact", func() error {
			_, err := pr.Add(ctx, crm.Owner{EntityTypeID: crm.Contact, ID: 1}, crm.ProductRow{})
			return err
		}, "owner.entityTypeId"},
		{"add to unknown type", func() error { _, err := pr.Add(ctx, crm.Owner{EntityTypeID: 5, ID: 1}, crm.ProductRow{}); return err }, "owner.entityTypeId"},
		{"add owner id 0", func() error { _, err := pr.Add(ctx, crm.Owner{EntityTypeID: crm.Deal}, crm.ProductRow{}); return err }, "owner.id"},
		{"bad discount type", func() error { _, err := pr.Add(ctx, deal, crm.ProductRow{DiscountTypeID: 3}); return err }, "fields.discountTypeId"},
		{"percent over 100", func() error {
			_, err := pr.Add(ctx, deal, crm.ProductRow{DiscountTypeID: crm.DiscountPercent, DiscountRate: dec("101")})
			return err
		}, "fields.discountRate"},
		{"negative quantity", func() error { _, err := pr.Add(ctx, deal, crm.ProductRow{Quantity: dec("-1")}); return err }, "fields.quantity"},
		{"tax over 100", func() error { _, err := pr.Add(ctx, deal, crm.ProductRow{TaxRate: decp("120")}); return err }, "fields.taxRate"},
		{"get id 0", func() error { _, err := pr.Get(ctx, 0); return err }, "id"},
		{"update id 0", func() error { _, err := pr.Update(ctx, 0, crm.Fields{"price": 1}); return err }, "id"},
		{"update no fields", func() error { _, err := pr.Update(ctx, 1, nil); return err }, "fields"},
		{"update owner", func() error { _, err := pr.Update(ctx, 1, crm.Fields{"ownerId": 2}); return err }, "fields.ownerId"},
		{"delete id 0", func() error { return pr.Delete(ctx, -1) }, "id"},
		{"list owner in filter", func() error {
			_, _, err := pr.List(ctx, deal, crm.RowQuery{Filter: map[string]any{"=ownerId": 2}}, 0)
			return err
		}, "filter.=ownerId"},
		{"list negative start", func() error { _, _, err := pr.List(ctx, deal, crm.RowQuery{}, -50); return err }, "start"},
		{"all bad owner", func() error {
			for _, err := range pr.All(ctx, crm.Owner{EntityTypeID: crm.Company, ID: 1}, crm.RowQuery{}) {
				return err
			}
			return nil
		}, "owner.entityTypeId"},
		{"set bad row", func() error {
			_, err := pr.Set(ctx, deal, []crm.ProductRow{{}, {DiscountTypeID: 9}})
			return err
		}, "productRows[1].discountTypeId"},
		{"legacy get id 0", func() error { _, err := c.DealProductRows(ctx, 0); return err }, "id"},
		{"legacy set id 0", func() error { return c.SetDealProductRows(ctx, 0, nil) }, "id"},
		{"legacy bad row", func() error {
			return c.SetDealProductRows(ctx, 1, []crm.DealProductRow{{DiscountTypeID: 5}})
		}, "rows[0].DISCOUNT_TYPE_ID"},
	}
	for _, tc := range cases {
		err := tc.run()
		var ve *bitrix.ValidationError
		if !errors.As(err, &ve) || ve.Field != tc.field || !errors.Is(err, bitrix.ErrInvalidArgument) {
			t.Errorf("%s: err = %v, want a ValidationError for %q", tc.name, err, tc.field)
		}
	}
	noCalls(t, srv)
}

func TestDealProductRowsLegacy(t *testing.T) {
	t.Parallel()
	srv, c := newPortal(t)
	ctx := t.Context()
	deal, err := c.Items(crm.Deal).Add(ctx, crm.Fields{"title": "Legacy"})
	if err != nil {
		t.Fatal(err)
	}
	err = c.SetDealProductRows(ctx, deal.ID, []crm.DealProductRow{
		{ProductName: "Product #2", Price: dec("899.1"), Quantity: dec("1"), DiscountTypeID: crm.DiscountPercent, DiscountRate: dec("10"), TaxIncluded: true, Sort: 10},
		{ProductName: "Product #1", Price: dec("100"), Quantity: dec("2.5"), DiscountTypeID: crm.DiscountAbsolute, DiscountSum: dec("5"), Sort: 20},
	})
	if err != nil {
		t.Fatal(err)
	}
	calls := srv.Calls()
	rows := calls[len(calls)-1].Params["rows"].([]any)
	r1 := rows[1].(map[string]any)
	if r1["DISCOUNT_SUM"] != "5" || r1["DISCOUNT_TYPE_ID"] != "1" || r1["QUANTITY"] != "2.5" {
		t.Errorf("sent row = %v", r1)
	}
	got, err := c.DealProductRows(ctx, deal.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ProductName != "Product #2" || got[0].OwnerType != "D" || int(got[0].OwnerID) != deal.ID || got[1].Quantity.String() != "2.5" {
		t.Fatalf("rows = %+v", got)
	}
	if total := crm.InvoiceTotal(got); total.String() != "1149.1" {
		t.Errorf("total = %s, want 1149.1", total)
	}
	if err := c.SetDealProductRows(ctx, deal.ID, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := c.DealProductRows(ctx, deal.ID); err != nil || len(got) != 0 {
		t.Errorf("after clearing: %v, %v", got, err)
	}
	// The legacy methods answer a missing deal with an empty error code.
	_, err = c.DealProductRows(ctx, 987654)
	var ae *bitrix.APIError
	if !errors.Is(err, bitrix.ErrNotFound) || !errors.Is(err, bitrix.ErrInvalidArgument) || !errors.As(err, &ae) || ae.Code != "" {
		t.Errorf("missing deal: %v", err)
	}
	if err := c.SetDealProductRows(ctx, 987654, []crm.DealProductRow{{ProductName: "x"}}); !errors.Is(err, bitrix.ErrNotFound) {
		t.Errorf("set on missing deal: %v", err)
	}
}

func TestFixtureProductRows(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	owner := crm.Owner{EntityTypeID: crm.Deal, ID: 13142}
	t.Run("add", func(t *testing.T) {
		c, methods := fixtureClient(t, 200, "resp_crm_item_productrow_add.json")
		r, err := c.ProductRows().Add(ctx, owner, crm.ProductRow{ProductID: 9621, Price: dec("80000"), Quantity: dec("2")})
		if err != nil {
			t.Fatal(err)
		}
		want := crm.ProductRow{ID: 17647, OwnerID: 13142, OwnerType: "D", ProductID: 9621, ProductName: "iphone 14",
			Price: dec("80000"), PriceAccount: dec("80000"), PriceExclusive: dec("66666.67"), PriceNetto: dec("83333.34"),
			PriceBrutto: dec("100000.01"), Quantity: dec("2"), DiscountTypeID: 2, DiscountRate: dec("20"), DiscountSum: dec("16666.67"),
			TaxRate: decp("20"), TaxIncluded: true, Customized: true, MeasureCode: 796, MeasureName: "pcs", Sort: 10, Type: 4}
		if diff := cmp.Diff(want, *r, cmp.AllowUnexported(crm.Decimal{})); diff != "" {
			t.Errorf("row (-want +got):\n%s", diff)
		}
		if r.Sum().String() != "160000" || r.SumExclusive().String() != "133333.34" {
			t.Errorf("sum %s, exclusive %s", r.Sum(), r.SumExclusive())
		}
		if diff := cmp.Diff([]string{"crm.item.productrow.add"}, *methods); diff != "" {
			t.Error(diff)
		}
	})
	t.Run("set", func(t *testing.T) {
		c, _ := fixtureClient(t, 200, "resp_crm_item_productrow_set.json")
		rows, err := c.ProductRows().Set(ctx, owner, []crm.ProductRow{{ProductID: 9621}})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 || rows[0].TaxRate != nil || rows[1].Quantity.String() != "2" || rows[0].Price.String() != "99999.99" {
			t.Fatalf("rows = %+v", rows)
		}
		if total := crm.InvoiceTotal(rows); total.String() != "131799.99" {
			t.Errorf("total = %s", total)
		}
	})
	t.Run("owner not found", func(t *testing.T) {
		c, _ := fixtureClient(t, http.StatusBadRequest, "error_crm_item_productrow_owner_not_found.json")
		_, err := c.ProductRows().Add(ctx, owner, crm.ProductRow{})
		if !errors.Is(err, bitrix.ErrNotFound) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("legacy get", func(t *testing.T) {
		c, _ := fixtureClient(t, 200, "resp_crm_deal_productrows_get.json")
		rows, err := c.DealProductRows(ctx, 5)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 {
			t.Fatalf("rows = %d", len(rows))
		}
		r := rows[0]
		if r.ID != 5 || r.OwnerID != 5 || r.OwnerType != "D" || r.ProductID != 450 || r.Price.String() != "899.1" ||
			r.PriceAccount.StringFixed(2) != "899.10" || r.PriceNetto.String() != "999" || r.DiscountSum.String() != "99.9" ||
			r.TaxRate != nil || !bool(r.TaxIncluded) || r.MeasureCode != 796 || r.ReserveID != 31 || r.DateReserveEnd != "2024-12-26" ||
			r.ProductDescription != "" || r.XMLID != "sale_basket_651" {
			t.Errorf("row 0 = %+v", r)
		}
		if rows[1].ProductDescription != "Detailed description" || rows[1].StoreID != 1 {
			t.Errorf("row 1 = %+v", rows[1])
		}
		if total := crm.InvoiceTotal(rows); total.String() != "999.1" {
			t.Errorf("total = %s", total)
		}
	})
	t.Run("legacy set", func(t *testing.T) {
		c, _ := fixtureClient(t, 200, "resp_crm_deal_productrows_set.json")
		if err := c.SetDealProductRows(ctx, 5, []crm.DealProductRow{{ProductName: "x"}}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("legacy set validation", func(t *testing.T) {
		c, _ := fixtureClient(t, http.StatusBadRequest, "error_crm_deal_productrows_set.json")
		err := c.SetDealProductRows(ctx, 5, []crm.DealProductRow{{DiscountTypeID: crm.DiscountPercent, DiscountRate: dec("100")}})
		if !errors.Is(err, bitrix.ErrInvalidArgument) || !errors.Is(err, bitrix.ErrInternal) {
			t.Errorf("err = %v", err)
		}
	})
}
