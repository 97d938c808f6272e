package crm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"strings"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/internal/phpform"
)

// Discount types of a product row (discountTypeId / DISCOUNT_TYPE_ID).
const (
	DiscountAbsolute = 1 // discountSum is an amount per unit
	DiscountPercent  = 2 // discountRate is a percentage (the portal's default)
)

// Product row types (type / TYPE; read-only, the portal takes it from the
// catalog). The values are the documented ones of crm_item_product_row.type
// in https://apidocs.bitrix24.com/api-reference/crm/data-types.html.
const (
	ProductTypeSimple              = 1 // simple product
	ProductTypeBundle              = 2 // bundle
	ProductTypeWithOffers          = 3 // product with trade offers
	ProductTypeOffer               = 4 // a trade offer / variation
	ProductTypeOfferWithoutProduct = 5 // trade offer without a product (not specified or deleted)
	ProductTypeInvalidWithOffers   = 6 // invalid product with trade offers
	ProductTypeService             = 7 // service
)

// ProductRow is a product row of crm.item.productrow.* for any owner
// (lead, deal, quote, smart invoice, smart process).
//
// Money fields are exact [Decimal]s. Price is the final price of one unit,
// after the discount and including tax; the portal derives PriceExclusive
// (after discount, before tax), PriceNetto (before discount and tax),
// PriceBrutto (before discount, with tax), PriceAccount (Price in the
// report currency) and, for percent discounts, DiscountSum. The derived
// fields, XMLID, Type and StoreID are read-only
// (https://apidocs.bitrix24.com/api-reference/crm/universal/product-rows/crm-item-productrow-fields.html):
// writes send only productId, productName, price, quantity, discountTypeId,
// discountRate, discountSum, taxRate, taxIncluded, measureCode, measureName
// and sort, and leave out the ones that are zero — so a zero Quantity means
// the portal's default, 1. A row read from the portal can be edited and
// passed to [ProductRows.Set] as it is.
type ProductRow struct {
	ID             int         `json:"id"`
	OwnerID        int         `json:"ownerId"`
	OwnerType      string      `json:"ownerType"` // "D", "L", "Q", "SI", "T80", ... (see [OwnerType])
	ProductID      int         `json:"productId"` // catalog product, 0 for a free-text row
	ProductName    string      `json:"productName"`
	Price          Decimal     `json:"price"`
	PriceAccount   Decimal     `json:"priceAccount"`
	PriceExclusive Decimal     `json:"priceExclusive"`
	PriceNetto     Decimal     `json:"priceNetto"`
	PriceBrutto    Decimal     `json:"priceBrutto"`
	Quantity       Decimal     `json:"quantity"`
	DiscountTypeID int         `json:"discountTypeId"` // DiscountAbsolute or DiscountPercent
	DiscountRate   Decimal     `json:"discountRate"`   // percent
	DiscountSum    Decimal     `json:"discountSum"`    // per unit
	TaxRate        *Decimal    `json:"taxRate"`        // percent; nil: no tax (null)
	TaxIncluded    bitrix.Bool `json:"taxIncluded"`
	Customized     bitrix.Bool `json:"customized"`
	MeasureCode    int         `json:"measureCode"` // 796 = pieces
	MeasureName    string      `json:"measureName"`
	Sort           int         `json:"sort"`
	XMLID          string      `json:"xmlId"`
	Type           int         `json:"type"` // ProductTypeSimple, ProductTypeOffer, ProductTypeService
	StoreID        int         `json:"storeId"`

	// Extra keeps every other field as raw JSON.
	Extra map[string]json.RawMessage `json:"-"`
}

var productRowKeys = map[string]bool{
	"id": true, "ownerId": true, "ownerType": true, "productId": true, "productName": true, "price": true,
	"priceAccount": true, "priceExclusive": true, "priceNetto": true, "priceBrutto": true, "quantity": true,
	"discountTypeId": true, "discountRate": true, "discountSum": true, "taxRate": true, "taxIncluded": true,
	"customized": true, "measureCode": true, "measureName": true, "sort": true, "xmlId": true, "type": true, "storeId": true,
}

// UnmarshalJSON decodes a row, tolerating numbers sent as strings, and
// keeps unknown fields in Extra.
func (r *ProductRow) UnmarshalJSON(b []byte) error {
	var w struct {
		ID             bitrix.Int  `json:"id"`
		OwnerID        bitrix.Int  `json:"ownerId"`
		OwnerType      string      `json:"ownerType"`
		ProductID      bitrix.Int  `json:"productId"`
		ProductName    *string     `json:"productName"`
		Price          Decimal     `json:"price"`
		PriceAccount   Decimal     `json:"priceAccount"`
		PriceExclusive Decimal     `json:"priceExclusive"`
		PriceNetto     Decimal     `json:"priceNetto"`
		PriceBrutto    Decimal     `json:"priceBrutto"`
		Quantity       Decimal     `json:"quantity"`
		DiscountTypeID bitrix.Int  `json:"discountTypeId"`
		DiscountRate   Decimal     `json:"discountRate"`
		DiscountSum    Decimal     `json:"discountSum"`
		TaxRate        *Decimal    `json:"taxRate"`
		TaxIncluded    bitrix.Bool `json:"taxIncluded"`
		Customized     bitrix.Bool `json:"customized"`
		MeasureCode    bitrix.Int  `json:"measureCode"`
		MeasureName    *string     `json:"measureName"`
		Sort           bitrix.Int  `json:"sort"`
		XMLID          *string     `json:"xmlId"`
		Type           bitrix.Int  `json:"type"`
		StoreID        bitrix.Int  `json:"storeId"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("crm: decoding product row: %w", err)
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return fmt.Errorf("crm: decoding product row: %w", err)
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	*r = ProductRow{
		ID: int(w.ID), OwnerID: int(w.OwnerID), OwnerType: w.OwnerType, ProductID: int(w.ProductID),
		ProductName: str(w.ProductName), Price: w.Price, PriceAccount: w.PriceAccount, PriceExclusive: w.PriceExclusive,
		PriceNetto: w.PriceNetto, PriceBrutto: w.PriceBrutto, Quantity: w.Quantity, DiscountTypeID: int(w.DiscountTypeID),
		DiscountRate: w.DiscountRate, DiscountSum: w.DiscountSum, TaxRate: w.TaxRate, TaxIncluded: w.TaxIncluded,
		Customized: w.Customized, MeasureCode: int(w.MeasureCode), MeasureName: str(w.MeasureName), Sort: int(w.Sort),
		XMLID: str(w.XMLID), Type: int(w.Type), StoreID: int(w.StoreID),
	}
	if w.TaxRate != nil && bytes.Equal(bytes.TrimSpace(all["taxRate"]), []byte("null")) {
		r.TaxRate = nil
	}
	for k, v := range all {
		if !productRowKeys[k] {
			if r.Extra == nil {
				r.Extra = map[string]json.RawMessage{}
			}
			r.Extra[k] = v
		}
	}
	return nil
}

// Sum returns the row's total: Price × Quantity, rounded once to 2 places
// (half away from zero).
func (r ProductRow) Sum() Decimal { return r.Price.MulRound(r.Quantity, 2) }

// SumExclusive returns PriceExclusive × Quantity rounded to 2 places: the
// row's total before tax.
func (r ProductRow) SumExclusive() Decimal { return r.PriceExclusive.MulRound(r.Quantity, 2) }

// Summer is a product row with a total: [ProductRow] and [DealProductRow].
type Summer interface{ Sum() Decimal }

// InvoiceTotal returns the sum of the rows' totals (each Price × Quantity
// rounded to 2 places, then added exactly): the amount of an invoice or
// deal made of these rows.
func InvoiceTotal[R Summer](rows []R) Decimal {
	var t Decimal
	for _, r := range rows {
		t = t.Add(r.Sum())
	}
	return t
}

// writeFields returns the writable fields of r (zero values left out).
func (r ProductRow) writeFields(method, field string) (map[string]any, error) {
	if r.DiscountTypeID != 0 && r.DiscountTypeID != DiscountAbsolute && r.DiscountTypeID != DiscountPercent {
		return nil, invalid(method, field+".discountTypeId", "must be 1 (absolute) or 2 (percent), got %d", r.DiscountTypeID)
	}
	if r.Quantity.Sign() < 0 {
		return nil, invalid(method, field+".quantity", "must not be negative, got %s", r.Quantity)
	}
	if r.TaxRate != nil && (r.TaxRate.Sign() < 0 || r.TaxRate.Cmp(DecimalFromInt(100)) > 0) {
		return nil, invalid(method, field+".taxRate", "must be between 0 and 100, got %s", r.TaxRate)
	}
	if r.DiscountTypeID == DiscountPercent && (r.DiscountRate.Sign() < 0 || r.DiscountRate.Cmp(DecimalFromInt(100)) > 0) {
		return nil, invalid(method, field+".discountRate", "must be between 0 and 100, got %s", r.DiscountRate)
	}
	f := map[string]any{}
	if r.ProductID != 0 {
		f["productId"] = r.ProductID
	}
	if r.ProductName != "" {
		f["productName"] = r.ProductName
	}
	if !r.Price.IsZero() {
		f["price"] = r.Price
	}
	if !r.Quantity.IsZero() {
		f["quantity"] = r.Quantity
	}
	if r.DiscountTypeID != 0 {
		f["discountTypeId"] = r.DiscountTypeID
		f["discountRate"] = r.DiscountRate
		f["discountSum"] = r.DiscountSum
	} else {
		if !r.DiscountRate.IsZero() {
			f["discountRate"] = r.DiscountRate
		}
		if !r.DiscountSum.IsZero() {
			f["discountSum"] = r.DiscountSum
		}
	}
	if r.TaxRate != nil {
		f["taxRate"] = *r.TaxRate
	}
	if r.TaxIncluded {
		f["taxIncluded"] = r.TaxIncluded
	}
	if r.MeasureCode != 0 {
		f["measureCode"] = r.MeasureCode
	}
	// measureName: the parameter tables of add, update and set do not
	// list it, but crm-item-productrow-fields.md marks it writable
	// (isReadOnly false); it is sent so that a name set is not lost.
	if r.MeasureName != "" {
		f["measureName"] = r.MeasureName
	}
	if r.Sort != 0 {
		f["sort"] = r.Sort
	}
	return f, nil
}

// Owner identifies the CRM item product rows belong to.
type Owner struct {
	EntityTypeID int // Lead, Deal, Quote, SmartInvoice or a smart process
	ID           int // the item id
}

// code validates the owner and returns its owner-type code.
func (o Owner) code(method, field string) (string, error) {
	if o.EntityTypeID == Contact || o.EntityTypeID == Company {
		return "", invalid(method, field+".entityTypeId", "contacts and companies have no product rows")
	}
	s, err := OwnerType(o.EntityTypeID)
	if err != nil {
		return "", invalid(method, field+".entityTypeId", "%v", err)
	}
	if o.ID <= 0 {
		return "", invalid(method, field+".id", "must be a positive item id, got %d", o.ID)
	}
	return s, nil
}

// ProductRows calls crm.item.productrow.*. Get it from [Client.ProductRows].
type ProductRows struct{ c *Client }

// ProductRows returns the crm.item.productrow.* methods.
func (c *Client) ProductRows() *ProductRows { return &ProductRows{c: c} }

type rowsResult struct {
	ProductRows []ProductRow `json:"productRows"`
}

// Add adds a product row to owner (crm.item.productrow.add) and returns it
// with the prices the portal derived.
//
// Bitrix24 method: [crm.item.productrow.add].
//
// [crm.item.productrow.add]: https://apidocs.bitrix24.com/api-reference/crm/universal/product-rows/crm-item-productrow-add.html
func (p *ProductRows) Add(ctx context.Context, owner Owner, row ProductRow) (*ProductRow, error) {
	const m = "crm.item.productrow.add"
	code, err := owner.code(m, "owner")
	if err != nil {
		return nil, err
	}
	f, err := row.writeFields(m, "fields")
	if err != nil {
		return nil, err
	}
	f["ownerType"], f["ownerId"] = code, owner.ID
	return callOne[ProductRow](ctx, p.c.c, m, bitrix.Params{"fields": f}, false, "productRow")
}

// Get returns the product row with the id (crm.item.productrow.get).
//
// Bitrix24 method: [crm.item.productrow.get].
//
// [crm.item.productrow.get]: https://apidocs.bitrix24.com/api-reference/crm/universal/product-rows/crm-item-productrow-get.html
func (p *ProductRows) Get(ctx context.Context, id int) (*ProductRow, error) {
	const m = "crm.item.productrow.get"
	if id <= 0 {
		return nil, invalid(m, "id", "must be a positive row id, got %d", id)
	}
	return callOne[ProductRow](ctx, p.c.c, m, bitrix.Params{"id": id}, true, "productRow")
}

// readOnlyRowFields are the crm.item.productrow fields no write takes
// (crm-item-productrow-fields.md isReadOnly or isImmutable; priceAccount
// and xmlId are in no parameter table).
var readOnlyRowFields = []string{"id", "ownerId", "ownerType", "priceAccount", "priceExclusive", "priceNetto",
	"priceBrutto", "xmlId", "type", "storeId"}

// Update changes fields of a product row (crm.item.productrow.update) and
// returns the row. fields use the crm.item.productrow names ("price",
// "quantity", "discountRate", ...); the read-only ones (id, ownerId,
// ownerType, the derived prices, xmlId, type, storeId) are refused before
// anything is sent. The portal answers INVALID_ARG_VALUE for a name it does
// not know.
//
// Bitrix24 method: [crm.item.productrow.update].
//
// [crm.item.productrow.update]: https://apidocs.bitrix24.com/api-reference/crm/universal/product-rows/crm-item-productrow-update.html
func (p *ProductRows) Update(ctx context.Context, id int, fields Fields) (*ProductRow, error) {
	const m = "crm.item.productrow.update"
	if id <= 0 {
		return nil, invalid(m, "id", "must be a positive row id, got %d", id)
	}
	if err := checkFields(m, fields, "fields"); err != nil {
		return nil, err
	}
	for k := range fields {
		for _, ro := range readOnlyRowFields {
			if strings.EqualFold(k, ro) {
				return nil, invalid(m, "fields."+k, "is read-only and cannot be changed")
			}
		}
	}
	return callOne[ProductRow](ctx, p.c.c, m, bitrix.Params{"id": id, "fields": fields.clone()}, true, "productRow")
}

// Delete deletes a product row (crm.item.productrow.delete).
//
// Bitrix24 method: [crm.item.productrow.delete].
//
// [crm.item.productrow.delete]: https://apidocs.bitrix24.com/api-reference/crm/universal/product-rows/crm-item-productrow-delete.html
func (p *ProductRows) Delete(ctx context.Context, id int) error {
	const m = "crm.item.productrow.delete"
	if id <= 0 {
		return invalid(m, "id", "must be a positive row id, got %d", id)
	}
	_, err := p.c.c.Call(ctx, m, bitrix.Params{"id": id}, nil)
	return mapErr(err, true)
}

// RowQuery narrows [ProductRows.List]: Filter holds more conditions on row
// fields with operator prefixes ({">price": 100, "%productName": "phone"});
// the owner condition is added by List. Order sorts (Desc per field).
type RowQuery struct {
	Filter map[string]any
	Order  []Order
}

func (p *ProductRows) listParams(m string, owner Owner, q RowQuery) (bitrix.Params, error) {
	code, err := owner.code(m, "owner")
	if err != nil {
		return nil, err
	}
	f := bitrix.Params{}
	for k, v := range q.Filter {
		lk := strings.ToLower(strings.TrimLeft(k, "=!<>@%"))
		if lk == "ownertype" || lk == "ownerid" || strings.TrimSpace(k) == "" {
			return nil, invalid(m, "filter."+k, "the owner is set by the owner argument")
		}
		f[k] = v
	}
	f["=ownerType"], f["=ownerId"] = code, owner.ID
	params := bitrix.Params{"filter": f}
	if len(q.Order) > 0 {
		o := bitrix.Params{}
		for i, x := range q.Order {
			if strings.TrimSpace(x.Field) == "" {
				return nil, invalid(m, fmt.Sprintf("order[%d]", i), "empty field name")
			}
			o[x.Field] = strings.ToLower(dir(x.Desc))
		}
		params["order"] = o
	}
	return params, nil
}

// List returns one page (up to 50 rows) of an owner's product rows
// (crm.item.productrow.list; the filter always contains =ownerType and
// =ownerId) starting at offset start.
//
// Bitrix24 method: [crm.item.productrow.list].
//
// [crm.item.productrow.list]: https://apidocs.bitrix24.com/api-reference/crm/universal/product-rows/crm-item-productrow-list.html
func (p *ProductRows) List(ctx context.Context, owner Owner, q RowQuery, start int) ([]ProductRow, *bitrix.Response, error) {
	const m = "crm.item.productrow.list"
	if start < 0 {
		return nil, nil, invalid(m, "start", "must be >= 0, got %d", start)
	}
	params, err := p.listParams(m, owner, q)
	if err != nil {
		return nil, nil, err
	}
	rows, resp, err := bitrix.List[ProductRow](ctx, p.c.c, bitrix.Query{Method: m, Params: params, ItemsKey: "productRows", IDField: "id"}, start)
	return rows, resp, mapErr(err, false)
}

// All iterates over every product row of an owner (see [ProductRows.List]).
//
// Bitrix24 method: [crm.item.productrow.list].
//
// [crm.item.productrow.list]: https://apidocs.bitrix24.com/api-reference/crm/universal/product-rows/crm-item-productrow-list.html
func (p *ProductRows) All(ctx context.Context, owner Owner, q RowQuery) iter.Seq2[ProductRow, error] {
	const m = "crm.item.productrow.list"
	params, err := p.listParams(m, owner, q)
	if err != nil {
		return func(yield func(ProductRow, error) bool) { yield(ProductRow{}, err) }
	}
	if len(q.Order) == 0 {
		// Offset paging in a stable order (an owner has few rows; the ID
		// cursor of bitrix.All is for big tables).
		o := phpform.NewMap()
		o.Set("sort", "asc")
		o.Set("id", "asc")
		params["order"] = o
	}
	seq := bitrix.All[ProductRow](ctx, p.c.c, bitrix.Query{Method: m, Params: params, ItemsKey: "productRows", IDField: "id"})
	return func(yield func(ProductRow, error) bool) {
		for r, err := range seq {
			if !yield(r, mapErr(err, false)) {
				return
			}
		}
	}
}

// Set replaces all product rows of owner with rows
// (crm.item.productrow.set; rows not in the list are deleted, an empty list
// deletes them all) and returns the new rows.
//
// Bitrix24 method: [crm.item.productrow.set].
//
// [crm.item.productrow.set]: https://apidocs.bitrix24.com/api-reference/crm/universal/product-rows/crm-item-productrow-set.html
func (p *ProductRows) Set(ctx context.Context, owner Owner, rows []ProductRow) ([]ProductRow, error) {
	const m = "crm.item.productrow.set"
	code, err := owner.code(m, "owner")
	if err != nil {
		return nil, err
	}
	list := make([]any, len(rows))
	for i, r := range rows {
		f, err := r.writeFields(m, fmt.Sprintf("productRows[%d]", i))
		if err != nil {
			return nil, err
		}
		list[i] = f
	}
	var raw json.RawMessage
	if len(list) == 0 {
		// A form cannot carry an empty list; send JSON.
		b, _ := json.Marshal(map[string]any{"ownerType": code, "ownerId": owner.ID, "productRows": []any{}})
		raw = b
	}
	var r rowsResult
	var cerr error
	if raw != nil {
		_, cerr = p.c.c.Call(ctx, m, raw, &r)
	} else {
		_, cerr = p.c.c.Call(ctx, m, bitrix.Params{"ownerType": code, "ownerId": owner.ID, "productRows": list}, &r)
	}
	if cerr != nil {
		return nil, mapErr(cerr, false)
	}
	return r.ProductRows, nil
}

// Fields returns the product row field descriptions
// (crm.item.productrow.fields).
//
// Bitrix24 method: [crm.item.productrow.fields].
//
// [crm.item.productrow.fields]: https://apidocs.bitrix24.com/api-reference/crm/universal/product-rows/crm-item-productrow-fields.html
func (p *ProductRows) Fields(ctx context.Context) (map[string]FieldInfo, error) {
	const m = "crm.item.productrow.fields"
	var r fieldsResult
	if _, err := p.c.c.Call(ctx, m, nil, &r); err != nil {
		return nil, mapErr(err, false)
	}
	return r.Fields.Value, nil
}
