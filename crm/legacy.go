package crm

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/b24go/sdk/bitrix"
)

// DealProductRow is a row of the legacy crm.deal.productrows.get/set
// methods (UPPER_CASE fields; deprecated by the portal in favour of
// crm.item.productrow.*, see [ProductRows]). Price fields mean the same as
// in [ProductRow].
type DealProductRow struct {
	ID                  bitrix.Int  `json:"ID"`
	OwnerID             bitrix.Int  `json:"OWNER_ID"`
	OwnerType           string      `json:"OWNER_TYPE"`
	ProductID           bitrix.Int  `json:"PRODUCT_ID"`
	ProductName         string      `json:"PRODUCT_NAME"`
	OriginalProductName string      `json:"ORIGINAL_PRODUCT_NAME"`
	ProductDescription  string      `json:"PRODUCT_DESCRIPTION"`
	Price               Decimal     `json:"PRICE"`
	PriceExclusive      Decimal     `json:"PRICE_EXCLUSIVE"`
	PriceNetto          Decimal     `json:"PRICE_NETTO"`
	PriceBrutto         Decimal     `json:"PRICE_BRUTTO"`
	PriceAccount        Decimal     `json:"PRICE_ACCOUNT"`
	Quantity            Decimal     `json:"QUANTITY"`
	DiscountTypeID      bitrix.Int  `json:"DISCOUNT_TYPE_ID"`
	DiscountRate        Decimal     `json:"DISCOUNT_RATE"`
	DiscountSum         Decimal     `json:"DISCOUNT_SUM"`
	TaxRate             *Decimal    `json:"TAX_RATE"` // nil: no tax
	TaxIncluded         bitrix.Bool `json:"TAX_INCLUDED"`
	Customized          bitrix.Bool `json:"CUSTOMIZED"`
	MeasureCode         bitrix.Int  `json:"MEASURE_CODE"`
	MeasureName         string      `json:"MEASURE_NAME"`
	Sort                bitrix.Int  `json:"SORT"`
	XMLID               string      `json:"XML_ID"`
	Type                bitrix.Int  `json:"TYPE"`
	StoreID             bitrix.Int  `json:"STORE_ID"`
	ReserveID           bitrix.Int  `json:"RESERVE_ID"`
	DateReserveEnd      string      `json:"DATE_RESERVE_END"` // "2024-12-26"
	ReserveQuantity     Decimal     `json:"RESERVE_QUANTITY"`

	// Extra keeps every other field as raw JSON.
	Extra map[string]json.RawMessage `json:"-"`
}

var dealRowKeys = map[string]bool{
	"ID": true, "OWNER_ID": true, "OWNER_TYPE": true, "PRODUCT_ID": true, "PRODUCT_NAME": true, "ORIGINAL_PRODUCT_NAME": true,
	"PRODUCT_DESCRIPTION": true, "PRICE": true, "PRICE_EXCLUSIVE": true, "PRICE_NETTO": true, "PRICE_BRUTTO": true,
	"PRICE_ACCOUNT": true, "QUANTITY": true, "DISCOUNT_TYPE_ID": true, "DISCOUNT_RATE": true, "DISCOUNT_SUM": true,
	"TAX_RATE": true, "TAX_INCLUDED": true, "CUSTOMIZED": true, "MEASURE_CODE": true, "MEASURE_NAME": true, "SORT": true,
	"XML_ID": true, "TYPE": true, "STORE_ID": true, "RESERVE_ID": true, "DATE_RESERVE_END": true, "RESERVE_QUANTITY": true,
}

// UnmarshalJSON decodes a legacy row (null strings become "") and keeps
// unknown fields in Extra.
func (r *DealProductRow) UnmarshalJSON(b []byte) error {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return fmt.Errorf("crm: decoding deal product row: %w", err)
	}
	// Strings may be null; numbers may be strings (handled by the types).
	clean := make(map[string]json.RawMessage, len(all))
	for k, v := range all {
		if !dealRowKeys[k] {
			continue
		}
		if string(v) == "null" && k != "TAX_RATE" {
			continue
		}
		clean[k] = v
	}
	cb, _ := json.Marshal(clean)
	type plain DealProductRow
	var p plain
	if err := json.Unmarshal(cb, &p); err != nil {
		return fmt.Errorf("crm: decoding deal product row: %w", err)
	}
	*r = DealProductRow(p)
	for k, v := range all {
		if !dealRowKeys[k] {
			if r.Extra == nil {
				r.Extra = map[string]json.RawMessage{}
			}
			r.Extra[k] = v
		}
	}
	return nil
}

// Sum returns PRICE × QUANTITY rounded once to 2 places.
func (r DealProductRow) Sum() Decimal { return r.Price.MulRound(r.Quantity, 2) }

// writeFields returns the fields crm.deal.productrows.set accepts, leaving
// out zero values (the portal's defaults apply). With a discount type,
// DISCOUNT_RATE and DISCOUNT_SUM are always sent, which the portal
// requires. PRICE_EXCLUSIVE, PRICE_NETTO and PRICE_BRUTTO are sent when set:
// zero them when you change PRICE of a row you have read, or the portal
// may keep the old derived prices.
func (r DealProductRow) writeFields(method, field string) (map[string]any, error) {
	if r.DiscountTypeID != 0 && r.DiscountTypeID != DiscountAbsolute && r.DiscountTypeID != DiscountPercent {
		return nil, invalid(method, field+".DISCOUNT_TYPE_ID", "must be 1 (absolute) or 2 (percent), got %d", r.DiscountTypeID)
	}
	if r.Quantity.Sign() < 0 {
		return nil, invalid(method, field+".QUANTITY", "must not be negative, got %s", r.Quantity)
	}
	f := map[string]any{}
	set := func(k string, v any, nonZero bool) {
		if nonZero {
			f[k] = v
		}
	}
	set("PRODUCT_ID", int64(r.ProductID), r.ProductID != 0)
	set("PRODUCT_NAME", r.ProductName, r.ProductName != "")
	set("PRICE", r.Price, !r.Price.IsZero())
	set("PRICE_EXCLUSIVE", r.PriceExclusive, !r.PriceExclusive.IsZero())
	set("PRICE_NETTO", r.PriceNetto, !r.PriceNetto.IsZero())
	set("PRICE_BRUTTO", r.PriceBrutto, !r.PriceBrutto.IsZero())
	set("QUANTITY", r.Quantity, !r.Quantity.IsZero())
	if r.DiscountTypeID != 0 {
		f["DISCOUNT_TYPE_ID"] = int64(r.DiscountTypeID)
		f["DISCOUNT_RATE"] = r.DiscountRate
		f["DISCOUNT_SUM"] = r.DiscountSum
	} else {
		set("DISCOUNT_RATE", r.DiscountRate, !r.DiscountRate.IsZero())
		set("DISCOUNT_SUM", r.DiscountSum, !r.DiscountSum.IsZero())
	}
	if r.TaxRate != nil {
		f["TAX_RATE"] = *r.TaxRate
	}
	set("TAX_INCLUDED", r.TaxIncluded, bool(r.TaxIncluded))
	set("MEASURE_CODE", int64(r.MeasureCode), r.MeasureCode != 0)
	set("MEASURE_NAME", r.MeasureName, r.MeasureName != "")
	set("SORT", int64(r.Sort), r.Sort != 0)
	return f, nil
}

// DealProductRows returns the product rows of a deal with the legacy
// crm.deal.productrows.get. For a deal that does not exist the portal
// answers with an empty error code and "The parameter id is invalid or not
// defined."; the error matches both bitrix.ErrInvalidArgument and
// bitrix.ErrNotFound.
//
// Bitrix24 method: [crm.deal.productrows.get].
//
// [crm.deal.productrows.get]: https://apidocs.bitrix24.com/api-reference/crm/deals/crm-deal-productrows-get.html
func (c *Client) DealProductRows(ctx context.Context, dealID int) ([]DealProductRow, error) {
	const m = "crm.deal.productrows.get"
	if dealID <= 0 {
		return nil, invalid(m, "id", "must be a positive deal id, got %d", dealID)
	}
	var rows bitrix.Object[[]DealProductRow]
	if _, err := c.c.Call(ctx, m, bitrix.Params{"id": dealID}, &rows); err != nil {
		return nil, mapErr(err, true)
	}
	return rows.Value, nil
}

// SetDealProductRows replaces the product rows of a deal with the legacy
// crm.deal.productrows.set: rows not passed are deleted, an empty list
// deletes them all. Validation answers of the portal (ERROR_CORE "... is
// required ...") match bitrix.ErrInvalidArgument.
//
// Bitrix24 method: [crm.deal.productrows.set].
//
// [crm.deal.productrows.set]: https://apidocs.bitrix24.com/api-reference/crm/deals/crm-deal-productrows-set.html
func (c *Client) SetDealProductRows(ctx context.Context, dealID int, rows []DealProductRow) error {
	const m = "crm.deal.productrows.set"
	if dealID <= 0 {
		return invalid(m, "id", "must be a positive deal id, got %d", dealID)
	}
	list := make([]any, len(rows))
	for i, r := range rows {
		f, err := r.writeFields(m, fmt.Sprintf("rows[%d]", i))
		if err != nil {
			return err
		}
		list[i] = f
	}
	var err error
	if len(list) == 0 {
		// A form cannot carry an empty list; send JSON.
		b, _ := json.Marshal(map[string]any{"id": dealID, "rows": []any{}})
		_, err = c.c.Call(ctx, m, json.RawMessage(b), nil)
	} else {
		_, err = c.c.Call(ctx, m, bitrix.Params{"id": dealID, "rows": list}, nil)
	}
	return mapErr(err, true)
}
