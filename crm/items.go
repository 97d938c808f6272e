package crm

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"strings"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/internal/phpform"
)

// Items calls crm.item.* for one entity type. Get it from [Client.Items].
type Items struct {
	c   *Client
	typ int
	err error // an invalid entity type: every method fails with it, sending nothing
}

// Items returns the crm.item.* methods of an entity type: a constant such as
// [Deal] or [SmartInvoice], or a smart-process id ([IsSmartProcess]). An id
// that cannot be a CRM type makes every method fail with
// [ErrUnknownEntityType] without sending a request.
func (c *Client) Items(entityTypeID int) *Items {
	return &Items{c: c, typ: entityTypeID, err: checkType(entityTypeID)}
}

// EntityTypeID returns the entity type the methods address.
func (s *Items) EntityTypeID() int { return s.typ }

// base returns the common params: entityTypeId and useOriginalUfNames.
func (s *Items) base() bitrix.Params {
	p := bitrix.Params{"entityTypeId": s.typ}
	if s.c.origUF {
		p["useOriginalUfNames"] = "Y"
	}
	return p
}

func (s *Items) check(method string, id int, needID bool) error {
	if s.err != nil {
		return fmt.Errorf("crm: %s: %w (no request sent)", method, s.err)
	}
	if needID && id <= 0 {
		return invalid(method, "id", "must be a positive item id, got %d", id)
	}
	return nil
}

func checkFields(method string, f Fields, name string) error {
	if len(f) == 0 {
		return invalid(method, name, "no fields to write")
	}
	for k := range f {
		if strings.TrimSpace(k) == "" {
			return invalid(method, name, "empty field name")
		}
	}
	return nil
}

// callOne calls m and returns the one object its result wraps under key
// ({"item": {...}}, {"productRow": {...}}); byID says whether the call named
// an existing object, for mapErr.
func callOne[T any](ctx context.Context, c *bitrix.Client, m string, p bitrix.Params, byID bool, key string) (*T, error) {
	var r map[string]*T
	if _, err := c.Call(ctx, m, p, &r); err != nil {
		return nil, mapErr(err, byID)
	}
	if r[key] == nil {
		return nil, fmt.Errorf("crm: %s: answer has no %s", m, key)
	}
	return r[key], nil
}

type itemResult struct {
	Item *Item `json:"item"`
}

// Add creates an item (crm.item.add) and returns it as the portal stored it.
// Unknown fields are ignored by the portal.
//
// Bitrix24 method: [crm.item.add].
//
// [crm.item.add]: https://apidocs.bitrix24.com/api-reference/crm/universal/crm-item-add.html
func (s *Items) Add(ctx context.Context, fields Fields) (*Item, error) {
	const m = "crm.item.add"
	if err := s.check(m, 0, false); err != nil {
		return nil, err
	}
	if err := checkFields(m, fields, "fields"); err != nil {
		return nil, err
	}
	p := s.base()
	p["fields"] = fields.clone()
	return callOne[Item](ctx, s.c.c, m, p, false, "item")
}

// Get returns the item with the id (crm.item.get). A missing item fails
// with an error matching bitrix.ErrNotFound.
//
// Bitrix24 method: [crm.item.get].
//
// [crm.item.get]: https://apidocs.bitrix24.com/api-reference/crm/universal/crm-item-get.html
func (s *Items) Get(ctx context.Context, id int) (*Item, error) {
	const m = "crm.item.get"
	if err := s.check(m, id, true); err != nil {
		return nil, err
	}
	p := s.base()
	p["id"] = id
	return callOne[Item](ctx, s.c.c, m, p, true, "item")
}

// Update changes the given fields of an item (crm.item.update; fields not
// sent keep their values) and returns the updated item.
//
// Bitrix24 method: [crm.item.update].
//
// [crm.item.update]: https://apidocs.bitrix24.com/api-reference/crm/universal/crm-item-update.html
func (s *Items) Update(ctx context.Context, id int, fields Fields) (*Item, error) {
	const m = "crm.item.update"
	if err := s.check(m, id, true); err != nil {
		return nil, err
	}
	if err := checkFields(m, fields, "fields"); err != nil {
		return nil, err
	}
	p := s.base()
	p["id"] = id
	p["fields"] = fields.clone()
	return callOne[Item](ctx, s.c.c, m, p, true, "item")
}

// Delete deletes an item (crm.item.delete). A missing item fails with an
// error matching bitrix.ErrNotFound.
//
// Bitrix24 method: [crm.item.delete].
//
// [crm.item.delete]: https://apidocs.bitrix24.com/api-reference/crm/universal/crm-item-delete.html
func (s *Items) Delete(ctx context.Context, id int) error {
	const m = "crm.item.delete"
	if err := s.check(m, id, true); err != nil {
		return err
	}
	p := bitrix.Params{"entityTypeId": s.typ, "id": id}
	_, err := s.c.c.Call(ctx, m, p, nil)
	return mapErr(err, true)
}

// Order is one sort key of a list: Field is a crm.item field name ("id",
// "title", "ufCrm5_123"), Desc sorts descending.
type Order struct {
	Field string
	Desc  bool
}

// Query selects the items of [Items.List] and [Items.All].
type Query struct {
	// Select lists the fields to return ("id", "title", "ufCrm5_123", "*"
	// for all standard fields; multi-fields fm only via "*"). Empty: all.
	Select []string
	// Filter is crm.item.list's filter with operator prefixes:
	// {">=opportunity": 1000, "=stageId": "NEW", "@assignedById": []int{1, 6},
	// "%title": "shop"}. A boolean user field filters with 1/0, not Y/N.
	Filter map[string]any
	// Order is the sort order, most significant first. Empty: by id.
	Order []Order
}

func (s *Items) listParams(method string, q Query) (bitrix.Params, error) {
	p := s.base()
	if len(q.Select) > 0 {
		for i, f := range q.Select {
			if strings.TrimSpace(f) == "" {
				return nil, invalid(method, fmt.Sprintf("select[%d]", i), "empty field name")
			}
		}
		p["select"] = append([]string(nil), q.Select...)
	}
	if len(q.Filter) > 0 {
		f := bitrix.Params{}
		for k, v := range q.Filter {
			if strings.TrimSpace(k) == "" {
				return nil, invalid(method, "filter", "empty key")
			}
			f[k] = v
		}
		p["filter"] = f
	}
	if len(q.Order) > 0 {
		seen := map[string]bool{}
		if len(q.Order) == 1 {
			o := q.Order[0]
			if strings.TrimSpace(o.Field) == "" {
				return nil, invalid(method, "order[0]", "empty field name")
			}
			p["order"] = bitrix.Params{o.Field: dir(o.Desc)}
		} else {
			om := phpform.NewMap()
			for i, o := range q.Order {
				if strings.TrimSpace(o.Field) == "" || seen[o.Field] {
					return nil, invalid(method, fmt.Sprintf("order[%d]", i), "empty or repeated field %q", o.Field)
				}
				seen[o.Field] = true
				om.Set(o.Field, dir(o.Desc))
			}
			p["order"] = om
		}
	}
	return p, nil
}

func dir(desc bool) string {
	if desc {
		return "DESC"
	}
	return "ASC"
}

// List returns one page (up to 50 items) of crm.item.list starting at
// offset start (0, 50, 100, ...); the response's Next is the start of the
// next page (0 on the last page) and Total the number of matching items.
//
// Bitrix24 method: [crm.item.list].
//
// [crm.item.list]: https://apidocs.bitrix24.com/api-reference/crm/universal/crm-item-list.html
func (s *Items) List(ctx context.Context, q Query, start int) ([]*Item, *bitrix.Response, error) {
	const m = "crm.item.list"
	if err := s.check(m, 0, false); err != nil {
		return nil, nil, err
	}
	if start < 0 {
		return nil, nil, invalid(m, "start", "must be >= 0, got %d", start)
	}
	p, err := s.listParams(m, q)
	if err != nil {
		return nil, nil, err
	}
	rows, resp, err := bitrix.List[*Item](ctx, s.c.c, bitrix.Query{Method: m, Params: p, ItemsKey: "items", IDField: "id"}, start)
	return rows, resp, mapErr(err, false)
}

// All iterates over every matching item. Without an order (or ordered by id
// ascending only) it runs the fast ID scan of [bitrix.All]: order by id,
// filter ">id", no counting, 50 pages chained in one batch request, so each
// HTTP request brings up to 2,500 items; with another order it pages by
// offset. An error is yielded once, last.
//
// Bitrix24 method: [crm.item.list].
//
// [crm.item.list]: https://apidocs.bitrix24.com/api-reference/crm/universal/crm-item-list.html
func (s *Items) All(ctx context.Context, q Query) iter.Seq2[*Item, error] {
	const m = "crm.item.list"
	fail := func(err error) iter.Seq2[*Item, error] {
		return func(yield func(*Item, error) bool) { yield(nil, err) }
	}
	if err := s.check(m, 0, false); err != nil {
		return fail(err)
	}
	p, err := s.listParams(m, q)
	if err != nil {
		return fail(err)
	}
	seq := bitrix.All[*Item](ctx, s.c.c, bitrix.Query{Method: m, Params: p, ItemsKey: "items", IDField: "id"})
	return func(yield func(*Item, error) bool) {
		for it, err := range seq {
			if !yield(it, mapErr(err, false)) {
				return
			}
		}
	}
}

// FieldInfo describes one field of crm.item.fields or
// crm.item.productrow.fields.
type FieldInfo struct {
	Type         string                     `json:"type"` // integer, string, double, boolean, datetime, date, user, crm_status, crm_entity, ...
	IsRequired   bitrix.Bool                `json:"isRequired"`
	IsReadOnly   bitrix.Bool                `json:"isReadOnly"`
	IsImmutable  bitrix.Bool                `json:"isImmutable"`
	IsMultiple   bitrix.Bool                `json:"isMultiple"`
	IsDynamic    bitrix.Bool                `json:"isDynamic"` // a user field
	IsDeprecated bitrix.Bool                `json:"isDeprecated"`
	Title        string                     `json:"title"`
	UpperName    string                     `json:"upperName"`  // the classic UPPER_CASE name
	StatusType   string                     `json:"statusType"` // for crm_status fields
	Settings     map[string]json.RawMessage `json:"-"`          // type settings (parentEntityTypeId, ...)
	Extra        map[string]json.RawMessage `json:"-"`          // any other attribute
}

// UnmarshalJSON decodes a field description, keeping unknown attributes.
func (f *FieldInfo) UnmarshalJSON(b []byte) error {
	type plain FieldInfo
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*f = FieldInfo(p)
	for k, v := range m {
		switch k {
		case "type", "isRequired", "isReadOnly", "isImmutable", "isMultiple", "isDynamic", "isDeprecated", "title", "upperName", "statusType":
		case "settings":
			var s bitrix.Object[map[string]json.RawMessage]
			if err := json.Unmarshal(v, &s); err == nil {
				f.Settings = s.Value
			}
		default:
			if f.Extra == nil {
				f.Extra = map[string]json.RawMessage{}
			}
			f.Extra[k] = v
		}
	}
	return nil
}

type fieldsResult struct {
	Fields bitrix.Object[map[string]FieldInfo] `json:"fields"`
}

// Fields returns the field descriptions of the entity type
// (crm.item.fields), keyed by field name, user fields included.
//
// Bitrix24 method: [crm.item.fields].
//
// [crm.item.fields]: https://apidocs.bitrix24.com/api-reference/crm/universal/crm-item-fields.html
func (s *Items) Fields(ctx context.Context) (map[string]FieldInfo, error) {
	const m = "crm.item.fields"
	if err := s.check(m, 0, false); err != nil {
		return nil, err
	}
	var r fieldsResult
	if _, err := s.c.c.Call(ctx, m, s.base(), &r); err != nil {
		return nil, mapErr(err, false)
	}
	return r.Fields.Value, nil
}
