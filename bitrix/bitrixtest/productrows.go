package bitrixtest

import (
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/b24go/sdk/internal/phpform"
)

type productRow struct {
	ID             int
	OwnerID        int
	OwnerType      string
	ProductID      int
	ProductName    string
	Price          float64
	Quantity       float64
	DiscountTypeID int
	DiscountRate   float64
	DiscountSum    float64
	TaxRate        *float64
	TaxIncluded    string
	MeasureCode    int
	MeasureName    string
	Sort           int
	XMLID          string
	Type           int
	StoreID        int
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

// derived prices: price is the final per-unit price (after discount, incl.
// tax when taxIncluded).
func (r *productRow) exclusive() float64 {
	if r.TaxRate != nil && r.TaxIncluded == "Y" {
		return round2(r.Price / (1 + *r.TaxRate/100))
	}
	return round2(r.Price)
}

func (r *productRow) netto() float64 {
	ex := r.exclusive()
	if r.DiscountTypeID == 1 {
		return round2(ex + r.DiscountSum)
	}
	if r.DiscountRate >= 100 {
		return round2(ex + r.DiscountSum)
	}
	return round2(ex / (1 - r.DiscountRate/100))
}

func (r *productRow) brutto() float64 {
	if r.TaxRate != nil {
		return round2(r.netto() * (1 + *r.TaxRate/100))
	}
	return r.netto()
}

func (r *productRow) discountSum() float64 {
	if r.DiscountTypeID == 1 {
		return round2(r.DiscountSum)
	}
	return round2(r.netto() - r.exclusive())
}

func (r *productRow) view() *phpform.Map {
	m := phpform.NewMap()
	m.Set("id", r.ID)
	m.Set("ownerId", r.OwnerID)
	m.Set("ownerType", r.OwnerType)
	m.Set("productId", r.ProductID)
	m.Set("productName", r.ProductName)
	m.Set("price", r.Price)
	m.Set("priceAccount", r.Price)
	m.Set("priceExclusive", r.exclusive())
	m.Set("priceNetto", r.netto())
	m.Set("priceBrutto", r.brutto())
	m.Set("quantity", r.Quantity)
	m.Set("discountTypeId", r.DiscountTypeID)
	m.Set("discountRate", r.DiscountRate)
	m.Set("discountSum", r.discountSum())
	if r.TaxRate != nil {
		m.Set("taxRate", *r.TaxRate)
	} else {
		m.Set("taxRate", nil)
	}
	m.Set("taxIncluded", r.TaxIncluded)
	m.Set("customized", "Y")
	m.Set("measureCode", r.MeasureCode)
	m.Set("measureName", r.MeasureName)
	m.Set("sort", r.Sort)
	m.Set("xmlId", r.XMLID)
	m.Set("type", r.Type)
	m.Set("storeId", r.StoreID)
	return m
}

func (r *productRow) classicView() *phpform.Map {
	m := phpform.NewMap()
	m.Set("ID", strconv.Itoa(r.ID))
	m.Set("OWNER_ID", strconv.Itoa(r.OwnerID))
	m.Set("OWNER_TYPE", r.OwnerType)
	m.Set("PRODUCT_ID", r.ProductID)
	m.Set("PRODUCT_NAME", r.ProductName)
	m.Set("ORIGINAL_PRODUCT_NAME", r.ProductName)
	m.Set("PRODUCT_DESCRIPTION", nil)
	m.Set("PRICE", r.Price)
	m.Set("PRICE_EXCLUSIVE", r.exclusive())
	m.Set("PRICE_NETTO", r.netto())
	m.Set("PRICE_BRUTTO", r.brutto())
	m.Set("PRICE_ACCOUNT", strconv.FormatFloat(r.Price, 'f', 2, 64))
	m.Set("QUANTITY", r.Quantity)
	m.Set("DISCOUNT_TYPE_ID", r.DiscountTypeID)
	m.Set("DISCOUNT_RATE", r.DiscountRate)
	m.Set("DISCOUNT_SUM", r.discountSum())
	if r.TaxRate != nil {
		m.Set("TAX_RATE", *r.TaxRate)
	} else {
		m.Set("TAX_RATE", nil)
	}
	m.Set("TAX_INCLUDED", r.TaxIncluded)
	m.Set("CUSTOMIZED", "Y")
	m.Set("MEASURE_CODE", r.MeasureCode)
	m.Set("MEASURE_NAME", r.MeasureName)
	m.Set("SORT", r.Sort)
	m.Set("XML_ID", r.XMLID)
	m.Set("TYPE", r.Type)
	m.Set("STORE_ID", r.StoreID)
	m.Set("RESERVE_ID", nil)
	m.Set("DATE_RESERVE_END", nil)
	m.Set("RESERVE_QUANTITY", nil)
	return m
}

// setRowFields applies fields in camelCase (classic=false) or UPPER_CASE.
func setRowFields(r *productRow, f *phpform.Map, classic bool) {
	name := func(camel, upper string) string {
		if classic {
			return upper
		}
		return camel
	}
	has := func(k string) bool { return ciHas(f, k) }
	if k := name("productId", "PRODUCT_ID"); has(k) {
		r.ProductID = ciInt(f, k)
	}
	if k := name("productName", "PRODUCT_NAME"); has(k) {
		r.ProductName = ciString(f, k)
	}
	if k := name("price", "PRICE"); has(k) {
		r.Price, _ = toFloat(ciGet(f, k))
	}
	if k := name("quantity", "QUANTITY"); has(k) {
		r.Quantity, _ = toFloat(ciGet(f, k))
	}
	if k := name("discountTypeId", "DISCOUNT_TYPE_ID"); has(k) {
		r.DiscountTypeID = ciInt(f, k)
	}
	if k := name("discountRate", "DISCOUNT_RATE"); has(k) {
		r.DiscountRate, _ = toFloat(ciGet(f, k))
	}
	if k := name("discountSum", "DISCOUNT_SUM"); has(k) {
		r.DiscountSum, _ = toFloat(ciGet(f, k))
	}
	if k := name("taxRate", "TAX_RATE"); has(k) {
		if v, ok := toFloat(ciGet(f, k)); ok {
			r.TaxRate = &v
		} else {
			r.TaxRate = nil
		}
	}
	if k := name("taxIncluded", "TAX_INCLUDED"); has(k) {
		if strings.EqualFold(ciString(f, k), "Y") {
			r.TaxIncluded = "Y"
		} else {
			r.TaxIncluded = "N"
		}
	}
	if k := name("measureCode", "MEASURE_CODE"); has(k) {
		r.MeasureCode = ciInt(f, k)
	}
	if k := name("measureName", "MEASURE_NAME"); has(k) {
		r.MeasureName = ciString(f, k)
	}
	if k := name("sort", "SORT"); has(k) {
		r.Sort = ciInt(f, k)
	}
	if !classic {
		// xmlId, type and storeId are read-only in crm.item.productrow.*
		// (crm-item-productrow-fields.md); add and set leave them alone.
		return
	}
	if has("XML_ID") {
		r.XMLID = ciString(f, "XML_ID")
	}
	if has("TYPE") {
		r.Type = ciInt(f, "TYPE")
	}
	if has("STORE_ID") {
		r.StoreID = ciInt(f, "STORE_ID")
	}
}

// rowField describes one crm.item.productrow field.
type rowField struct {
	name, typ, title              string
	required, readOnly, immutable bool
}

// productRowFields is crm.item.productrow.fields as the docs' sample
// answers it (api-reference/crm/universal/product-rows/crm-item-productrow-fields.md),
// in its order, plus priceAccount and xmlId, which add, get, list and set
// return (crm-item-productrow-add.md sample, data-types.md
// crm_item_product_row) but the fields sample omits: they are listed
// read-only (no write page takes them), titled in the style of the other
// untranslated titles (PRICE_NETTO, STORE_ID). See docs/CONFORMANCE.md.
var productRowFields = []rowField{
	{name: "id", typ: "integer", title: "ID", readOnly: true},
	{name: "ownerId", typ: "integer", title: "Owner ID", required: true, immutable: true},
	{name: "ownerType", typ: "string", title: "Owner Type", required: true, immutable: true},
	{name: "productId", typ: "integer", title: "Product", required: true},
	{name: "productName", typ: "string", title: "Product Name"},
	{name: "price", typ: "double", title: "Price"},
	{name: "priceAccount", typ: "double", title: "PRICE_ACCOUNT", readOnly: true},
	{name: "priceExclusive", typ: "double", title: "Discounted price excluding tax", readOnly: true},
	{name: "priceNetto", typ: "double", title: "PRICE_NETTO", readOnly: true},
	{name: "priceBrutto", typ: "double", title: "PRICE_BRUTTO", readOnly: true},
	{name: "quantity", typ: "double", title: "Quantity"},
	{name: "discountTypeId", typ: "integer", title: "Discount Type"},
	{name: "discountRate", typ: "double", title: "Discount Amount"},
	{name: "discountSum", typ: "double", title: "Discount Total"},
	{name: "taxRate", typ: "double", title: "Tax"},
	{name: "taxIncluded", typ: "char", title: "Tax included in price"},
	{name: "customized", typ: "char", title: "Modified"},
	{name: "measureCode", typ: "integer", title: "Unit of Measure Code"},
	{name: "measureName", typ: "string", title: "Unit of Measure"},
	{name: "sort", typ: "integer", title: "Sorting"},
	{name: "xmlId", typ: "string", title: "XML_ID", readOnly: true},
	{name: "type", typ: "integer", title: "TYPE", readOnly: true},
	{name: "storeId", typ: "integer", title: "STORE_ID", readOnly: true},
}

// productRowField returns the description of a field name, or nil.
func productRowField(name string) *rowField {
	for i := range productRowFields {
		if strings.EqualFold(productRowFields[i].name, name) {
			return &productRowFields[i]
		}
	}
	return nil
}

func (st *crmStore) newRow(ownerType string, ownerID int) *productRow {
	st.nextRow++
	return &productRow{ID: st.nextRow, OwnerID: ownerID, OwnerType: ownerType, Quantity: 1, DiscountTypeID: 2,
		TaxIncluded: "N", MeasureCode: 796, MeasureName: "pcs", Type: 1}
}

func (st *crmStore) ownerRows(ownerType string, ownerID int) []*productRow {
	var out []*productRow
	for _, r := range st.rows {
		if r.OwnerID == ownerID && strings.EqualFold(r.OwnerType, ownerType) {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Sort != out[j].Sort {
			return out[i].Sort < out[j].Sort
		}
		return out[i].ID < out[j].ID
	})
	return out
}

func (st *crmStore) deleteRows(ownerType string, ownerID int) {
	for id, r := range st.rows {
		if r.OwnerID == ownerID && strings.EqualFold(r.OwnerType, ownerType) {
			delete(st.rows, id)
		}
	}
}

// owner resolves an owner type abbreviation and id.
func (s *Server) owner(ownerType string, ownerID int) (*crmType, *APIError) {
	t := s.crm.byAbbr[strings.ToUpper(ownerType)]
	if t == nil || t.id == EntityContact || t.id == EntityCompany {
		return nil, errf(400, "ENTITY_TYPE_NOT_SUPPORTED", "Entity type %s is not supported", ownerType)
	}
	if t.items[ownerID] == nil {
		return nil, errf(400, "OWNER_NOT_FOUND", "Owner was not found")
	}
	return t, nil
}

// ProductRow is a product row as the fake stores it (see
// [Server.ProductRows]).
type ProductRow struct {
	ID          int
	OwnerType   string
	OwnerID     int
	ProductID   int
	ProductName string
	Price       float64
	Quantity    float64
}

// ProductRows returns the product rows of an owner ("D", "L", "SI", "T80"...).
func (s *Server) ProductRows(ownerType string, ownerID int) []ProductRow {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ProductRow
	for _, r := range s.crm.ownerRows(ownerType, ownerID) {
		out = append(out, ProductRow{ID: r.ID, OwnerType: r.OwnerType, OwnerID: r.OwnerID, ProductID: r.ProductID, ProductName: r.ProductName, Price: r.Price, Quantity: r.Quantity})
	}
	return out
}
