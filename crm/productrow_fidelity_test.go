package crm_test

import (
	"errors"
	"testing"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/crm"
)

// writableRowFields are the fields the write pages take
// (api-reference/crm/universal/product-rows/crm-item-productrow-add.md,
// -set.md, -update.md parameter tables) plus measureName, which
// crm-item-productrow-fields.md marks writable.
var writableRowFields = map[string]bool{
	"productId": true, "productName": true, "price": true, "quantity": true, "discountTypeId": true,
	"discountRate": true, "discountSum": true, "taxRate": true, "taxIncluded": true, "measureCode": true,
	"measureName": true, "sort": true,
}

// TestProductRowRoundTripSendsWritableOnly reads rows (with the read-only
// xmlId, type and storeId the docs' samples carry), edits them and sets
// them back: only writable fields go out.
func TestProductRowRoundTripSendsWritableOnly(t *testing.T) {
	t.Parallel()
	srv, c := newPortal(t)
	ctx := t.Context()
	deal, err := c.Items(crm.Deal).Add(ctx, crm.Fields{"title": "Round trip"})
	if err != nil {
		t.Fatal(err)
	}
	owner := crm.Owner{EntityTypeID: crm.Deal, ID: deal.ID}
	pr := c.ProductRows()
	if _, err := pr.Add(ctx, owner, crm.ProductRow{ProductName: "A", Price: dec("10"), MeasureName: "kg",
		XMLID: "sale_basket_1", Type: crm.ProductTypeService, StoreID: 19}); err != nil {
		t.Fatal(err)
	}
	rows, _, err := pr.List(ctx, owner, crm.RowQuery{}, 0)
	if err != nil || len(rows) != 1 {
		t.Fatalf("list = %v, %v", rows, err)
	}
	// As the portal answers them (crm-item-productrow-get.md sample).
	rows[0].XMLID, rows[0].Type, rows[0].StoreID = "sale_basket_8145", crm.ProductTypeOffer, 19
	rows[0].Quantity = dec("3")
	srv.ResetCalls()
	if _, err := pr.Set(ctx, owner, rows); err != nil {
		t.Fatal(err)
	}
	calls := srv.Calls()
	if len(calls) != 1 {
		t.Fatalf("calls = %+v", calls)
	}
	list, _ := calls[0].Params["productRows"].([]any)
	if len(list) != 1 {
		t.Fatalf("sent productRows = %#v", calls[0].Params["productRows"])
	}
	sent, _ := list[0].(map[string]any)
	for k := range sent {
		if !writableRowFields[k] {
			t.Errorf("Set sent %s=%v, which is not writable", k, sent[k])
		}
	}
	if sent["quantity"] != "3" || sent["measureName"] != "kg" || sent["productName"] != "A" {
		t.Errorf("sent = %v", sent)
	}
	// Add sends the same set (plus the owner).
	srv.ResetCalls()
	if _, err := pr.Add(ctx, owner, rows[0]); err != nil {
		t.Fatal(err)
	}
	fields, _ := srv.Calls()[0].Params["fields"].(map[string]any)
	for k := range fields {
		if !writableRowFields[k] && k != "ownerId" && k != "ownerType" {
			t.Errorf("Add sent %s", k)
		}
	}
}

// TestProductRowUpdateReadOnly: Update refuses the read-only fields before
// sending, and the portal answers INVALID_ARG_VALUE for a name it does not
// know (crm-item-productrow-update.md error table).
func TestProductRowUpdateReadOnly(t *testing.T) {
	t.Parallel()
	srv, c := newPortal(t)
	ctx := t.Context()
	deal, err := c.Items(crm.Deal).Add(ctx, crm.Fields{"title": "Update"})
	if err != nil {
		t.Fatal(err)
	}
	pr := c.ProductRows()
	row, err := pr.Add(ctx, crm.Owner{EntityTypeID: crm.Deal, ID: deal.ID}, crm.ProductRow{ProductName: "A", Price: dec("1")})
	if err != nil {
		t.Fatal(err)
	}
	srv.ResetCalls()
	for _, k := range []string{"xmlId", "type", "storeId", "priceNetto", "ownerId"} {
		_, err := pr.Update(ctx, row.ID, crm.Fields{k: "1"})
		var ve *bitrix.ValidationError
		if !errors.As(err, &ve) || !errors.Is(err, bitrix.ErrInvalidArgument) {
			t.Errorf("Update %s: %v, want a ValidationError", k, err)
		}
	}
	if n := len(srv.Calls()); n != 0 {
		t.Errorf("%d calls sent for refused updates", n)
	}
	_, err = pr.Update(ctx, row.ID, crm.Fields{"colour": "red"})
	var ae *bitrix.APIError
	if !errors.As(err, &ae) || ae.Code != "INVALID_ARG_VALUE" || !errors.Is(err, bitrix.ErrInvalidArgument) {
		t.Errorf("Update of an unknown field: %v", err)
	}
	if upd, err := pr.Update(ctx, row.ID, crm.Fields{"measureName": "kg"}); err != nil || upd.MeasureName != "kg" {
		t.Errorf("Update measureName: %+v, %v", upd, err)
	}
	// crm-item-productrow-delete.md: result null; then NOT_FOUND.
	if err := pr.Delete(ctx, row.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := pr.Get(ctx, row.ID); !errors.Is(err, bitrix.ErrNotFound) {
		t.Errorf("Get after Delete: %v", err)
	}
}

// TestProductTypeValues: the documented values of crm_item_product_row.type
// (api-reference/crm/data-types.md).
func TestProductTypeValues(t *testing.T) {
	t.Parallel()
	got := []int{crm.ProductTypeSimple, crm.ProductTypeBundle, crm.ProductTypeWithOffers, crm.ProductTypeOffer,
		crm.ProductTypeOfferWithoutProduct, crm.ProductTypeInvalidWithOffers, crm.ProductTypeService}
	for i, v := range got {
		if v != i+1 {
			t.Errorf("constant %d = %d, want %d", i, v, i+1)
		}
	}
}
