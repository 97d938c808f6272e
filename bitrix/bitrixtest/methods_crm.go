package bitrixtest

import "github.com/b24go/sdk/internal/phpform"

var crmMethods = []method{
	{"crm.item.fields", "crm", crmItemFields},
	{"crm.item.add", "crm", crmItemAdd},
	{"crm.item.get", "crm", crmItemGet},
	{"crm.item.update", "crm", crmItemUpdate},
	{"crm.item.delete", "crm", crmItemDelete},
	{"crm.item.list", "crm", crmItemList},
	{"crm.lead.fields", "crm", crmLeadFields},
	{"crm.lead.add", "crm", crmLeadAdd},
	{"crm.lead.get", "crm", crmLeadGet},
	{"crm.lead.update", "crm", crmLeadUpdate},
	{"crm.lead.delete", "crm", crmLeadDelete},
	{"crm.lead.list", "crm", crmLeadList},
	{"crm.deal.fields", "crm", crmDealFields},
	{"crm.deal.add", "crm", crmDealAdd},
	{"crm.deal.get", "crm", crmDealGet},
	{"crm.deal.update", "crm", crmDealUpdate},
	{"crm.deal.delete", "crm", crmDealDelete},
	{"crm.deal.list", "crm", crmDealList},
	{"crm.contact.fields", "crm", crmContactFields},
	{"crm.contact.add", "crm", crmContactAdd},
	{"crm.contact.get", "crm", crmContactGet},
	{"crm.contact.update", "crm", crmContactUpdate},
	{"crm.contact.delete", "crm", crmContactDelete},
	{"crm.contact.list", "crm", crmContactList},
	{"crm.company.fields", "crm", crmCompanyFields},
	{"crm.company.add", "crm", crmCompanyAdd},
	{"crm.company.get", "crm", crmCompanyGet},
	{"crm.company.update", "crm", crmCompanyUpdate},
	{"crm.company.delete", "crm", crmCompanyDelete},
	{"crm.company.list", "crm", crmCompanyList},
	{"crm.quote.fields", "crm", crmQuoteFields},
	{"crm.quote.add", "crm", crmQuoteAdd},
	{"crm.quote.get", "crm", crmQuoteGet},
	{"crm.quote.update", "crm", crmQuoteUpdate},
	{"crm.quote.delete", "crm", crmQuoteDelete},
	{"crm.quote.list", "crm", crmQuoteList},
}

// crmItemFields implements crm.item.fields.
func crmItemFields(c *Request) (Result, error) {
	t, e := c.s.crmType(c.params)
	if e != nil {
		return Result{}, e
	}
	fields := phpform.NewMap()
	for _, d := range t.fields {
		fm := phpform.NewMap()
		fm.Set("type", d.typ)
		fm.Set("isRequired", d.required)
		fm.Set("isReadOnly", d.ro)
		fm.Set("isImmutable", false)
		fm.Set("isMultiple", d.multiple)
		fm.Set("isDynamic", false)
		fm.Set("title", d.title)
		fm.Set("upperName", d.upper)
		fields.Set(d.name, fm)
	}
	for _, uf := range t.ufOrder {
		fm := phpform.NewMap()
		fm.Set("type", "string")
		fm.Set("isRequired", false)
		fm.Set("isReadOnly", false)
		fm.Set("isImmutable", false)
		fm.Set("isMultiple", false)
		fm.Set("isDynamic", true)
		fm.Set("title", t.ufs[uf])
		fm.Set("upperName", t.ufs[uf])
		name := uf
		if origUF(c.params) {
			name = t.ufs[uf]
		}
		fields.Set(name, fm)
	}
	res := phpform.NewMap()
	res.Set("fields", fields)
	return ok(res)
}

// crmItemAdd implements crm.item.add.
func crmItemAdd(c *Request) (Result, error) {
	t, e := c.s.crmType(c.params)
	if e != nil {
		return Result{}, e
	}
	if ciMap(c.params, "fields") == nil {
		return Result{}, errf(400, "INVALID_ARG_VALUE", "Required fields: fields")
	}
	item := c.s.addItem(t, c.itemFields(t), c.auth.userID, false)
	c.s.fireCRM(c, t, "ADD", int(item["id"].(int64)))
	return ok(map[string]any{"item": t.itemView(item, nil, origUF(c.params))})
}

// crmItemGet implements crm.item.get.
func crmItemGet(c *Request) (Result, error) {
	t, e := c.s.crmType(c.params)
	if e != nil {
		return Result{}, e
	}
	item := t.items[ciInt(c.params, "id")]
	if item == nil {
		return Result{}, errf(400, "NOT_FOUND", "Item not found")
	}
	return ok(map[string]any{"item": t.itemView(item, nil, origUF(c.params))})
}

// crmItemUpdate implements crm.item.update.
func crmItemUpdate(c *Request) (Result, error) {
	t, e := c.s.crmType(c.params)
	if e != nil {
		return Result{}, e
	}
	id := ciInt(c.params, "id")
	item := t.items[id]
	if item == nil {
		return Result{}, errf(400, "NOT_FOUND", "Item not found")
	}
	c.s.updateItem(t, item, c.itemFields(t), c.auth.userID, false)
	c.s.fireCRM(c, t, "UPDATE", id)
	return ok(map[string]any{"item": t.itemView(item, nil, origUF(c.params))})
}

// crmItemDelete implements crm.item.delete.
func crmItemDelete(c *Request) (Result, error) {
	t, e := c.s.crmType(c.params)
	if e != nil {
		return Result{}, e
	}
	id := ciInt(c.params, "id")
	if t.items[id] == nil {
		return Result{}, errf(400, "NOT_FOUND", "Item not found")
	}
	c.s.deleteItem(t, id)
	c.s.fireCRM(c, t, "DELETE", id)
	return ok(phpform.NewMap()) // PHP's empty array: "result": []
}

// crmItemList implements crm.item.list.
func crmItemList(c *Request) (Result, error) {
	t, e := c.s.crmType(c.params)
	if e != nil {
		return Result{}, e
	}
	items, total, next, e := c.s.listItems(c, t, false)
	if e != nil {
		return Result{}, e
	}
	res := phpform.NewMap()
	res.Set("items", items)
	return Result{Value: res, Total: total, Next: next}, nil
}

// crmLeadFields implements crm.lead.fields.
func crmLeadFields(c *Request) (Result, error) { return c.classicFields(EntityLead) }

// crmLeadAdd implements crm.lead.add.
func crmLeadAdd(c *Request) (Result, error) { return c.classicAdd(EntityLead) }

// crmLeadGet implements crm.lead.get.
func crmLeadGet(c *Request) (Result, error) { return c.classicGet(EntityLead) }

// crmLeadUpdate implements crm.lead.update.
func crmLeadUpdate(c *Request) (Result, error) { return c.classicUpdate(EntityLead) }

// crmLeadDelete implements crm.lead.delete.
func crmLeadDelete(c *Request) (Result, error) { return c.classicDelete(EntityLead) }

// crmLeadList implements crm.lead.list.
func crmLeadList(c *Request) (Result, error) { return c.classicList(EntityLead) }

// crmDealFields implements crm.deal.fields.
func crmDealFields(c *Request) (Result, error) { return c.classicFields(EntityDeal) }

// crmDealAdd implements crm.deal.add.
func crmDealAdd(c *Request) (Result, error) { return c.classicAdd(EntityDeal) }

// crmDealGet implements crm.deal.get.
func crmDealGet(c *Request) (Result, error) { return c.classicGet(EntityDeal) }

// crmDealUpdate implements crm.deal.update.
func crmDealUpdate(c *Request) (Result, error) { return c.classicUpdate(EntityDeal) }

// crmDealDelete implements crm.deal.delete.
func crmDealDelete(c *Request) (Result, error) { return c.classicDelete(EntityDeal) }

// crmDealList implements crm.deal.list.
func crmDealList(c *Request) (Result, error) { return c.classicList(EntityDeal) }

// crmContactFields implements crm.contact.fields.
func crmContactFields(c *Request) (Result, error) { return c.classicFields(EntityContact) }

// crmContactAdd implements crm.contact.add.
func crmContactAdd(c *Request) (Result, error) { return c.classicAdd(EntityContact) }

// crmContactGet implements crm.contact.get.
func crmContactGet(c *Request) (Result, error) { return c.classicGet(EntityContact) }

// crmContactUpdate implements crm.contact.update.
func crmContactUpdate(c *Request) (Result, error) { return c.classicUpdate(EntityContact) }

// crmContactDelete implements crm.contact.delete.
func crmContactDelete(c *Request) (Result, error) { return c.classicDelete(EntityContact) }

// crmContactList implements crm.contact.list.
func crmContactList(c *Request) (Result, error) { return c.classicList(EntityContact) }

// crmCompanyFields implements crm.company.fields.
func crmCompanyFields(c *Request) (Result, error) { return c.classicFields(EntityCompany) }

// crmCompanyAdd implements crm.company.add.
func crmCompanyAdd(c *Request) (Result, error) { return c.classicAdd(EntityCompany) }

// crmCompanyGet implements crm.company.get.
func crmCompanyGet(c *Request) (Result, error) { return c.classicGet(EntityCompany) }

// crmCompanyUpdate implements crm.company.update.
func crmCompanyUpdate(c *Request) (Result, error) { return c.classicUpdate(EntityCompany) }

// crmCompanyDelete implements crm.company.delete.
func crmCompanyDelete(c *Request) (Result, error) { return c.classicDelete(EntityCompany) }

// crmCompanyList implements crm.company.list.
func crmCompanyList(c *Request) (Result, error) { return c.classicList(EntityCompany) }

// crmQuoteFields implements crm.quote.fields.
func crmQuoteFields(c *Request) (Result, error) { return c.classicFields(EntityQuote) }

// crmQuoteAdd implements crm.quote.add.
func crmQuoteAdd(c *Request) (Result, error) { return c.classicAdd(EntityQuote) }

// crmQuoteGet implements crm.quote.get.
func crmQuoteGet(c *Request) (Result, error) { return c.classicGet(EntityQuote) }

// crmQuoteUpdate implements crm.quote.update.
func crmQuoteUpdate(c *Request) (Result, error) { return c.classicUpdate(EntityQuote) }

// crmQuoteDelete implements crm.quote.delete.
func crmQuoteDelete(c *Request) (Result, error) { return c.classicDelete(EntityQuote) }

// crmQuoteList implements crm.quote.list.
func crmQuoteList(c *Request) (Result, error) { return c.classicList(EntityQuote) }

// classicFields implements crm.{lead,deal,contact,company,quote}.fields for typeID: its
// fields under their upper-case names.
func (c *Request) classicFields(typeID int) (Result, error) {
	t := c.s.crm.types[typeID]
	res := phpform.NewMap()
	for _, d := range t.fields {
		if t.classicKeys != nil && !t.classicKeys[d.upper] {
			continue
		}
		fm := phpform.NewMap()
		fm.Set("type", d.typ)
		fm.Set("isRequired", d.required)
		fm.Set("isReadOnly", d.ro)
		fm.Set("isImmutable", false)
		fm.Set("isMultiple", d.multiple)
		fm.Set("isDynamic", false)
		fm.Set("title", d.upper)
		res.Set(d.upper, fm)
	}
	return ok(res)
}

// classicAdd implements crm.{lead,deal,contact,company,quote}.add for typeID: the new
// item's id.
func (c *Request) classicAdd(typeID int) (Result, error) {
	t := c.s.crm.types[typeID]
	f := ciMap(c.params, "fields")
	if f == nil {
		return Result{}, &APIError{StatusCode: 400, Code: "", Description: "Invalid data."}
	}
	item := c.s.addItem(t, f, c.auth.userID, true)
	id := int(item["id"].(int64))
	c.s.fireCRM(c, t, "ADD", id)
	return ok(id)
}

// classicItem finds the item the id parameter of crm.{lead,deal,...}.get,
// .update and .delete names, with their documented errors
// (api-reference/crm/deals/crm-deal-get.md, crm-deal-update.md,
// crm-deal-delete.md: "ID is not defined or invalid.", "Not found").
func (c *Request) classicItem(typeID int) (*crmType, int, map[string]any, error) {
	t := c.s.crm.types[typeID]
	id := ciInt(c.params, "id")
	if id <= 0 {
		return nil, 0, nil, &APIError{StatusCode: 400, Code: "", Description: "ID is not defined or invalid."}
	}
	item := t.items[id]
	if item == nil {
		return nil, 0, nil, &APIError{StatusCode: 400, Code: "", Description: "Not found"}
	}
	return t, id, item, nil
}

// classicGet implements crm.{lead,deal,contact,company,quote}.get for typeID: the item
// with every field, in the classic shape.
func (c *Request) classicGet(typeID int) (Result, error) {
	t, _, item, err := c.classicItem(typeID)
	if err != nil {
		return Result{}, err
	}
	all := map[string]bool{"PHONE": true, "EMAIL": true, "uf_*": true}
	for _, d := range t.fields {
		all[d.name] = true
	}
	return ok(t.classicView(item, all))
}

// classicUpdate implements crm.{lead,deal,contact,company,quote}.update for typeID.
func (c *Request) classicUpdate(typeID int) (Result, error) {
	t, id, item, err := c.classicItem(typeID)
	if err != nil {
		return Result{}, err
	}
	f := ciMap(c.params, "fields")
	if f == nil {
		f = phpform.NewMap()
	}
	c.s.updateItem(t, item, f, c.auth.userID, true)
	c.s.fireCRM(c, t, "UPDATE", id)
	return ok(true)
}

// classicDelete implements crm.{lead,deal,contact,company,quote}.delete for typeID.
func (c *Request) classicDelete(typeID int) (Result, error) {
	t, id, _, err := c.classicItem(typeID)
	if err != nil {
		return Result{}, err
	}
	c.s.deleteItem(t, id)
	c.s.fireCRM(c, t, "DELETE", id)
	return ok(true)
}

// classicList implements crm.{lead,deal,contact,company,quote}.list for typeID.
func (c *Request) classicList(typeID int) (Result, error) {
	t := c.s.crm.types[typeID]
	items, total, next, e := c.s.listItems(c, t, true)
	if e != nil {
		return Result{}, e
	}
	return Result{Value: items, Total: total, Next: next}, nil
}
