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
func (s *Server) owner(ownerType string, ownerID int) (*crmType, *apiError) {
	t := s.crm.byAbbr[strings.ToUpper(ownerType)]
	if t == nil || t.id == EntityContact || t.id == EntityCompany {
		return nil, errf(400, "ENTITY_TYPE_NOT_SUPPORTED", "Entity type %s is not supported", ownerType)
	}
	if t.items[ownerID] == nil {
		return nil, errf(400, "OWNER_NOT_FOUND", "Owner was not found")
	}
	return t, nil
}

func registerProductRows() {
	register("crm.item.productrow.fields", "crm", func(c *call) (reply, *apiError) {
		fields := phpform.NewMap()
		for _, f := range productRowFields {
			d := phpform.NewMap()
			d.Set("type", f.typ)
			d.Set("isRequired", f.required)
			d.Set("isReadOnly", f.readOnly)
			d.Set("isImmutable", f.immutable)
			d.Set("isMultiple", false)
			d.Set("isDynamic", false)
			d.Set("title", f.title)
			fields.Set(f.name, d)
		}
		return ok(map[string]any{"fields": fields})
	})
	register("crm.item.productrow.add", "crm", func(c *call) (reply, *apiError) {
		f := ciMap(c.params, "fields")
		if f == nil {
			return reply{}, errf(400, "INVALID_ARG_VALUE", "Required fields: fields")
		}
		ot, oid := ciString(f, "ownerType"), ciInt(f, "ownerId")
		t, e := c.s.owner(ot, oid)
		if e != nil {
			return reply{}, e
		}
		r := c.s.crm.newRow(t.abbr, oid)
		setRowFields(r, f, false)
		c.s.crm.rows[r.ID] = r
		return ok(map[string]any{"productRow": r.view()})
	})
	rowByID := func(c *call) (*productRow, *apiError) {
		r := c.s.crm.rows[ciInt(c.params, "id")]
		if r == nil {
			// crm-item-productrow-get.md (and -update, -delete): the
			// error sample.
			return nil, errf(400, "NOT_FOUND", "Item not found")
		}
		return r, nil
	}
	register("crm.item.productrow.get", "crm", func(c *call) (reply, *apiError) {
		r, e := rowByID(c)
		if e != nil {
			return reply{}, e
		}
		return ok(map[string]any{"productRow": r.view()})
	})
	register("crm.item.productrow.update", "crm", func(c *call) (reply, *apiError) {
		r, e := rowByID(c)
		if e != nil {
			return reply{}, e
		}
		f := ciMap(c.params, "fields")
		if f == nil {
			f = phpform.NewMap()
		}
		// crm-item-productrow-update.md: INVALID_ARG_VALUE "Unknown field
		// or the provided field is not available for update".
		for _, k := range f.Keys() {
			d := productRowField(k)
			if d == nil || d.readOnly || d.immutable {
				return reply{}, errf(400, "INVALID_ARG_VALUE", "Unknown field or the provided field is not available for update")
			}
		}
		setRowFields(r, f, false)
		return ok(map[string]any{"productRow": r.view()})
	})
	register("crm.item.productrow.delete", "crm", func(c *call) (reply, *apiError) {
		r, e := rowByID(c)
		if e != nil {
			return reply{}, e
		}
		delete(c.s.crm.rows, r.ID)
		// crm-item-productrow-delete.md: "The value is always null".
		return ok(nil)
	})
	register("crm.item.productrow.list", "crm", func(c *call) (reply, *apiError) {
		offset, noCount := readStart(c.params)
		fm := ciMap(c.params, "filter")
		var ot string
		var oid int
		hasOT, hasOID := false, false
		for _, k := range fm.Keys() {
			op, name := splitOp(k)
			if op != "=" && op != "" {
				continue
			}
			switch strings.ToLower(name) {
			case "ownertype":
				ot, hasOT = fm.String(k), true
			case "ownerid":
				oid, hasOID = toInt(ciGet(fm, k)), true
			}
		}
		if !hasOT || !hasOID {
			return reply{}, errf(400, "INVALID_ARG_VALUE", "Filter must contain =ownerType and =ownerId")
		}
		if _, e := c.s.owner(ot, oid); e != nil {
			return reply{}, e
		}
		resolve := func(n string) (string, bool) { return strings.ToLower(n), true }
		filter, e := parseFilter(fm, resolve)
		if e != nil {
			return reply{}, e
		}
		rows := c.s.crm.ownerRows(ot, oid)
		var views []*phpform.Map
		for _, r := range rows {
			v := r.view()
			get := func(f string) any {
				for _, k := range v.Keys() {
					if strings.ToLower(k) == f {
						x, _ := v.Get(k)
						return x
					}
				}
				return nil
			}
			if filter.match(get) {
				views = append(views, v)
			}
		}
		if om := ciMap(c.params, "order"); om != nil {
			order, _ := parseOrder(om, resolve)
			sortRecords(views, order, func(v *phpform.Map, f string) any { return ciGet(v, f) })
		}
		from, to, total, next := page(len(views), offset, noCount)
		out := make([]any, 0, to-from)
		for _, v := range views[from:to] {
			out = append(out, v)
		}
		return reply{result: map[string]any{"productRows": out}, total: total, next: next}, nil
	})
	register("crm.item.productrow.set", "crm", func(c *call) (reply, *apiError) {
		ot, oid := ciString(c.params, "ownerType"), ciInt(c.params, "ownerId")
		t, e := c.s.owner(ot, oid)
		if e != nil {
			return reply{}, e
		}
		c.s.crm.deleteRows(t.abbr, oid)
		out := []any{}
		for _, v := range listValues(ciGet(c.params, "productRows")) {
			f, _ := v.(*phpform.Map)
			r := c.s.crm.newRow(t.abbr, oid)
			setRowFields(r, f, false)
			c.s.crm.rows[r.ID] = r
			out = append(out, r.view())
		}
		return ok(map[string]any{"productRows": out})
	})
	register("crm.item.productrow.getavailableforpayment", "crm", func(c *call) (reply, *apiError) {
		ot, oid := ciString(c.params, "ownerType"), ciInt(c.params, "ownerId")
		t, e := c.s.owner(ot, oid)
		if e != nil {
			return reply{}, e
		}
		out := []any{}
		for _, r := range c.s.crm.ownerRows(t.abbr, oid) {
			out = append(out, r.view())
		}
		return ok(map[string]any{"productRows": out})
	})

	for _, typ := range []struct{ name, abbr string }{{"deal", "D"}, {"lead", "L"}, {"quote", "Q"}} {
		abbr := typ.abbr
		register("crm."+typ.name+".productrows.get", "crm", func(c *call) (reply, *apiError) {
			id := ciInt(c.params, "id")
			t := c.s.crm.byAbbr[abbr]
			if id <= 0 || t.items[id] == nil {
				return reply{}, &apiError{status: 400, code: "", desc: "The parameter id is invalid or not defined."}
			}
			out := []any{}
			for _, r := range c.s.crm.ownerRows(abbr, id) {
				out = append(out, r.classicView())
			}
			return ok(out)
		})
		register("crm."+typ.name+".productrows.set", "crm", func(c *call) (reply, *apiError) {
			id := ciInt(c.params, "id")
			t := c.s.crm.byAbbr[abbr]
			if id <= 0 || t.items[id] == nil {
				return reply{}, &apiError{status: 400, code: "", desc: "The parameter id is invalid or not defined."}
			}
			var rows []*productRow
			for _, v := range listValues(ciGet(c.params, "rows")) {
				f, _ := v.(*phpform.Map)
				if f == nil {
					continue
				}
				dt := ciInt(f, "DISCOUNT_TYPE_ID")
				if dt == 2 && ciHas(f, "DISCOUNT_TYPE_ID") && !ciHas(f, "DISCOUNT_RATE") {
					return reply{}, errf(400, "ERROR_CORE", "Discount Rate (DISCOUNT_RATE) is required if Percentage Discount Type (DISCOUNT_TYPE_ID) is defined<br>")
				}
				if dt == 2 && toInt(ciGet(f, "DISCOUNT_RATE")) == 100 && !ciHas(f, "DISCOUNT_SUM") {
					return reply{}, errf(400, "ERROR_CORE", "Discount Sum (DISCOUNT_SUM) is required if Percentage Discount Type (DISCOUNT_TYPE_ID) is defined and Discount Rate (DISCOUNT_RATE) is 100%%<br>")
				}
				if dt == 1 && !ciHas(f, "DISCOUNT_SUM") {
					return reply{}, errf(400, "ERROR_CORE", "Discount Sum (DISCOUNT_SUM) is required if Monetary Discount Type (DISCOUNT_TYPE_ID) is defined<br>")
				}
				r := &productRow{OwnerID: id, OwnerType: abbr, Quantity: 1, DiscountTypeID: 2, TaxIncluded: "N", MeasureCode: 796, MeasureName: "pcs", Type: 1}
				setRowFields(r, f, true)
				rows = append(rows, r)
			}
			c.s.crm.deleteRows(abbr, id)
			for _, r := range rows {
				c.s.crm.nextRow++
				r.ID = c.s.crm.nextRow
				if r.ProductName == "" {
					r.ProductName = "[" + strconv.Itoa(r.ID) + "]"
				}
				c.s.crm.rows[r.ID] = r
			}
			return ok(true)
		})
	}
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
