package bitrixtest

import (
	"strconv"
	"strings"

	"github.com/b24go/sdk/internal/phpform"
)

var productRowMethods = []method{
	{"crm.item.productrow.fields", "crm", crmItemProductrowFields},
	{"crm.item.productrow.add", "crm", crmItemProductrowAdd},
	{"crm.item.productrow.get", "crm", crmItemProductrowGet},
	{"crm.item.productrow.update", "crm", crmItemProductrowUpdate},
	{"crm.item.productrow.delete", "crm", crmItemProductrowDelete},
	{"crm.item.productrow.list", "crm", crmItemProductrowList},
	{"crm.item.productrow.set", "crm", crmItemProductrowSet},
	{"crm.item.productrow.getavailableforpayment", "crm", crmItemProductrowGetavailableforpayment},
	{"crm.deal.productrows.get", "crm", crmDealProductrowsGet},
	{"crm.deal.productrows.set", "crm", crmDealProductrowsSet},
	{"crm.lead.productrows.get", "crm", crmLeadProductrowsGet},
	{"crm.lead.productrows.set", "crm", crmLeadProductrowsSet},
	{"crm.quote.productrows.get", "crm", crmQuoteProductrowsGet},
	{"crm.quote.productrows.set", "crm", crmQuoteProductrowsSet},
}

// crmItemProductrowFields implements crm.item.productrow.fields.
func crmItemProductrowFields(c *Request) (Result, error) {
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
}

// crmItemProductrowAdd implements crm.item.productrow.add.
func crmItemProductrowAdd(c *Request) (Result, error) {
	f := ciMap(c.params, "fields")
	if f == nil {
		return Result{}, errf(400, "INVALID_ARG_VALUE", "Required fields: fields")
	}
	ot, oid := ciString(f, "ownerType"), ciInt(f, "ownerId")
	t, e := c.s.owner(ot, oid)
	if e != nil {
		return Result{}, e
	}
	r := c.s.crm.newRow(t.abbr, oid)
	setRowFields(r, f, false)
	c.s.crm.rows[r.ID] = r
	return ok(map[string]any{"productRow": r.view()})
}

// crmItemProductrowGet implements crm.item.productrow.get.
func crmItemProductrowGet(c *Request) (Result, error) {
	r, e := c.rowByID()
	if e != nil {
		return Result{}, e
	}
	return ok(map[string]any{"productRow": r.view()})
}

// crmItemProductrowUpdate implements crm.item.productrow.update.
func crmItemProductrowUpdate(c *Request) (Result, error) {
	r, e := c.rowByID()
	if e != nil {
		return Result{}, e
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
			return Result{}, errf(400, "INVALID_ARG_VALUE", "Unknown field or the provided field is not available for update")
		}
	}
	setRowFields(r, f, false)
	return ok(map[string]any{"productRow": r.view()})
}

// crmItemProductrowDelete implements crm.item.productrow.delete.
func crmItemProductrowDelete(c *Request) (Result, error) {
	r, e := c.rowByID()
	if e != nil {
		return Result{}, e
	}
	delete(c.s.crm.rows, r.ID)
	// crm-item-productrow-delete.md: "The value is always null".
	return ok(nil)
}

// crmItemProductrowList implements crm.item.productrow.list.
func crmItemProductrowList(c *Request) (Result, error) {
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
		return Result{}, errf(400, "INVALID_ARG_VALUE", "Filter must contain =ownerType and =ownerId")
	}
	if _, e := c.s.owner(ot, oid); e != nil {
		return Result{}, e
	}
	resolve := func(n string) (string, bool) { return strings.ToLower(n), true }
	filter, e := parseFilter(fm, resolve)
	if e != nil {
		return Result{}, e
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
	return Result{Value: map[string]any{"productRows": out}, Total: total, Next: next}, nil
}

// crmItemProductrowSet implements crm.item.productrow.set.
func crmItemProductrowSet(c *Request) (Result, error) {
	ot, oid := ciString(c.params, "ownerType"), ciInt(c.params, "ownerId")
	t, e := c.s.owner(ot, oid)
	if e != nil {
		return Result{}, e
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
}

// crmItemProductrowGetavailableforpayment implements crm.item.productrow.getavailableforpayment.
func crmItemProductrowGetavailableforpayment(c *Request) (Result, error) {
	ot, oid := ciString(c.params, "ownerType"), ciInt(c.params, "ownerId")
	t, e := c.s.owner(ot, oid)
	if e != nil {
		return Result{}, e
	}
	out := []any{}
	for _, r := range c.s.crm.ownerRows(t.abbr, oid) {
		out = append(out, r.view())
	}
	return ok(map[string]any{"productRows": out})
}

// rowByID finds the product row of the id parameter.
func (c *Request) rowByID() (*productRow, *APIError) {
	r := c.s.crm.rows[ciInt(c.params, "id")]
	if r == nil {
		// crm-item-productrow-get.md (and -update, -delete): the
		// error sample.
		return nil, errf(400, "NOT_FOUND", "Item not found")
	}
	return r, nil
}

// crmDealProductrowsGet implements crm.deal.productrows.get.
func crmDealProductrowsGet(c *Request) (Result, error) { return c.classicRowsGet("D") }

// crmLeadProductrowsGet implements crm.lead.productrows.get.
func crmLeadProductrowsGet(c *Request) (Result, error) { return c.classicRowsGet("L") }

// crmQuoteProductrowsGet implements crm.quote.productrows.get.
func crmQuoteProductrowsGet(c *Request) (Result, error) { return c.classicRowsGet("Q") }

// crmDealProductrowsSet implements crm.deal.productrows.set.
func crmDealProductrowsSet(c *Request) (Result, error) { return c.classicRowsSet("D") }

// crmLeadProductrowsSet implements crm.lead.productrows.set.
func crmLeadProductrowsSet(c *Request) (Result, error) { return c.classicRowsSet("L") }

// crmQuoteProductrowsSet implements crm.quote.productrows.set.
func crmQuoteProductrowsSet(c *Request) (Result, error) { return c.classicRowsSet("Q") }

// classicRowsGet implements crm.{deal,lead,quote}.productrows.get for the
// owner type abbr.
func (c *Request) classicRowsGet(abbr string) (Result, error) {
	id := ciInt(c.params, "id")
	t := c.s.crm.byAbbr[abbr]
	if id <= 0 || t.items[id] == nil {
		return Result{}, &APIError{StatusCode: 400, Code: "", Description: "The parameter id is invalid or not defined."}
	}
	out := []any{}
	for _, r := range c.s.crm.ownerRows(abbr, id) {
		out = append(out, r.classicView())
	}
	return ok(out)
}

// classicRowsSet implements crm.{deal,lead,quote}.productrows.set for the
// owner type abbr.
func (c *Request) classicRowsSet(abbr string) (Result, error) {
	id := ciInt(c.params, "id")
	t := c.s.crm.byAbbr[abbr]
	if id <= 0 || t.items[id] == nil {
		return Result{}, &APIError{StatusCode: 400, Code: "", Description: "The parameter id is invalid or not defined."}
	}
	var rows []*productRow
	for _, v := range listValues(ciGet(c.params, "rows")) {
		f, _ := v.(*phpform.Map)
		if f == nil {
			continue
		}
		dt := ciInt(f, "DISCOUNT_TYPE_ID")
		if dt == 2 && ciHas(f, "DISCOUNT_TYPE_ID") && !ciHas(f, "DISCOUNT_RATE") {
			return Result{}, errf(400, "ERROR_CORE", "Discount Rate (DISCOUNT_RATE) is required if Percentage Discount Type (DISCOUNT_TYPE_ID) is defined<br>")
		}
		if dt == 2 && toInt(ciGet(f, "DISCOUNT_RATE")) == 100 && !ciHas(f, "DISCOUNT_SUM") {
			return Result{}, errf(400, "ERROR_CORE", "Discount Sum (DISCOUNT_SUM) is required if Percentage Discount Type (DISCOUNT_TYPE_ID) is defined and Discount Rate (DISCOUNT_RATE) is 100%%<br>")
		}
		if dt == 1 && !ciHas(f, "DISCOUNT_SUM") {
			return Result{}, errf(400, "ERROR_CORE", "Discount Sum (DISCOUNT_SUM) is required if Monetary Discount Type (DISCOUNT_TYPE_ID) is defined<br>")
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
}
