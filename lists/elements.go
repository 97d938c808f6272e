package lists

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strings"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/internal/wire"
)

// Query selects elements for [Elements.List] and [Elements.All].
type Query struct {
	// Filter is FILTER in the portal's syntax: field names with optional
	// operator prefixes, {"=PROPERTY_12": "5", ">=DATE_CREATE": "01/01/2025
	// 00:00:00 am", "%NAME": "acme"}. Numeric fields need "=" to match
	// exactly; a list value matches any of its values.
	Filter bitrix.Params
	// Select is SELECT: the fields to return ("ID" is always added). Empty
	// leaves it to the portal, which (depending on its version) returns
	// every field or only ID.
	Select []string
	// Order is ELEMENT_ORDER. Keys are sent in alphabetical order, so give
	// one key when the priority of several matters. Multiple properties,
	// files and a few system fields cannot be sorted on.
	Order []Order
}

// Order is one key of ELEMENT_ORDER.
type Order struct {
	Field string
	Desc  bool
}

func (q Query) params(method string, base bitrix.Params) (bitrix.Params, error) {
	p := base
	if len(q.Filter) > 0 {
		p["FILTER"] = q.Filter
	}
	if len(q.Select) > 0 {
		sel := make([]string, 0, len(q.Select)+1)
		hasID := false
		for _, s := range q.Select {
			if strings.TrimSpace(s) == "" {
				return nil, invalid(method, "SELECT", "empty field name")
			}
			if strings.EqualFold(s, "ID") {
				hasID = true
			}
			sel = append(sel, s)
		}
		if !hasID {
			sel = append(sel, "ID")
		}
		p["SELECT"] = sel
	}
	if len(q.Order) > 0 {
		o := bitrix.Params{}
		for _, s := range q.Order {
			if strings.TrimSpace(s.Field) == "" {
				return nil, invalid(method, "ELEMENT_ORDER", "empty field name")
			}
			dir := "ASC"
			if s.Desc {
				dir = "DESC"
			}
			o[s.Field] = dir
		}
		p["ELEMENT_ORDER"] = o
	}
	return p, nil
}

func (e *Elements) query(method string, q Query) (bitrix.Query, error) {
	base, err := e.base(method)
	if err != nil {
		return bitrix.Query{}, err
	}
	p, err := q.params(method, base)
	if err != nil {
		return bitrix.Query{}, err
	}
	return bitrix.Query{Method: method, Params: p, IDField: "ID", FilterKey: "FILTER", OrderKey: "ELEMENT_ORDER"}, nil
}

// List returns one page (up to 50 elements) of lists.element.get, starting
// at start (0, then the returned Response.Next while it is not 0).
//
// Bitrix24 method: [lists.element.get].
//
// [lists.element.get]: https://apidocs.bitrix24.com/api-reference/lists/elements/lists-element-get.html
func (e *Elements) List(ctx context.Context, q Query, start int) ([]Element, *bitrix.Response, error) {
	const method = "lists.element.get"
	bq, err := e.query(method, q)
	if err != nil {
		return nil, nil, err
	}
	if start < 0 {
		return nil, nil, invalid(method, "start", "negative start")
	}
	rows, resp, err := bitrix.List[json.RawMessage](ctx, e.c.c, bq, start)
	if err != nil {
		return nil, resp, err
	}
	out := make([]Element, 0, len(rows))
	for _, r := range rows {
		el, err := decodeElement(r, e.c.dates)
		if err != nil {
			return nil, resp, err
		}
		out = append(out, el)
	}
	return out, resp, nil
}

// All iterates over every element matching q (lists.element.get through
// [bitrix.All]): without an Order, or ordered by ID ascending, it runs the
// fast ID scan (filter >ID, start=-1, pages chained in batches of up to
// 2,500 rows); otherwise it pages by offset. An error is yielded once, last.
//
// Bitrix24 method: [lists.element.get].
//
// [lists.element.get]: https://apidocs.bitrix24.com/api-reference/lists/elements/lists-element-get.html
func (e *Elements) All(ctx context.Context, q Query) iter.Seq2[Element, error] {
	const method = "lists.element.get"
	bq, err := e.query(method, q)
	return func(yield func(Element, error) bool) {
		if err != nil {
			yield(Element{}, err)
			return
		}
		for raw, err := range bitrix.All[json.RawMessage](ctx, e.c.c, bq) {
			if err != nil {
				yield(Element{}, err)
				return
			}
			el, err := decodeElement(raw, e.c.dates)
			if err != nil {
				yield(Element{}, err)
				return
			}
			if !yield(el, nil) {
				return
			}
		}
	}
}

func (e *Elements) elementParams(method string, ref Ref) (bitrix.Params, error) {
	p, err := e.base(method)
	if err != nil {
		return nil, err
	}
	if err := ref.check(method, "ELEMENT"); err != nil {
		return nil, err
	}
	ref.set(p, "ELEMENT")
	return p, nil
}

// Get returns one element by id or code (lists.element.get with
// ELEMENT_ID or ELEMENT_CODE). fields, when given, is the SELECT list. A
// missing element is an error matching [bitrix.ErrNotFound].
//
// Bitrix24 method: [lists.element.get].
//
// [lists.element.get]: https://apidocs.bitrix24.com/api-reference/lists/elements/lists-element-get.html
func (e *Elements) Get(ctx context.Context, ref Ref, fields ...string) (*Element, error) {
	const method = "lists.element.get"
	p, err := e.elementParams(method, ref)
	if err != nil {
		return nil, err
	}
	p, err = Query{Select: fields}.params(method, p)
	if err != nil {
		return nil, err
	}
	raw, _, err := e.c.c.CallRaw(ctx, method, p)
	if err != nil {
		return nil, err
	}
	rows, err := splitList(raw)
	if err != nil {
		return nil, fmt.Errorf("lists: %s: %w", method, err)
	}
	if len(rows) == 0 {
		return nil, notFound(method, "element "+ref.String())
	}
	el, err := decodeElement(rows[0], e.c.dates)
	if err != nil {
		return nil, err
	}
	return &el, nil
}

// splitList reads a JSON array (or an object keyed by index, or [] / null).
func splitList(raw json.RawMessage) ([]json.RawMessage, error) {
	rows, err := wire.IDKeyed[json.RawMessage](raw, nil)
	if err != nil {
		return nil, fmt.Errorf("result is not a list: %w", err)
	}
	return rows, nil
}

// Add creates an element (lists.element.add) and returns its id.
//
// If the answer is lost after the request was sent ([bitrix.ErrMaybeApplied]),
// Add looks the element up by its code: when it exists, its id is returned
// as a success; when it does not, the add is sent once more, which the
// portal's unique codes make safe (a duplicate is refused with
// ERROR_ELEMENT_ALREADY_EXISTS and then looked up again). An add is never
// replayed blindly.
//
// Bitrix24 method: [lists.element.add].
//
// [lists.element.add]: https://apidocs.bitrix24.com/api-reference/lists/elements/lists-element-add.html
func (e *Elements) Add(ctx context.Context, el NewElement) (int, error) {
	const method = "lists.element.add"
	p, err := e.addParams(method, el)
	if err != nil {
		return 0, err
	}
	ambiguous := false
	for attempt := 0; ; attempt++ {
		var id bitrix.Int
		_, err := e.c.c.Call(ctx, method, p, &id)
		switch {
		case err == nil:
			if id <= 0 {
				return 0, fmt.Errorf("lists: %s: the portal answered no id", method)
			}
			return int(id), nil
		case errors.Is(err, bitrix.ErrMaybeApplied) || (ambiguous && errors.Is(err, bitrix.ErrAlreadyExists)):
			ambiguous = true
			found, lerr := e.lookupCodes(ctx, []string{el.Code})
			if lerr != nil {
				return 0, fmt.Errorf("lists: %s: outcome unknown and the lookup of code %q failed: %w (first error: %w)", method, el.Code, lerr, err)
			}
			if id, ok := found[el.Code]; ok {
				return id, nil
			}
			if attempt >= maxAddRounds-1 {
				return 0, err
			}
		default:
			return 0, err
		}
	}
}

// maxAddRounds bounds the sends of one add after ambiguous failures.
const maxAddRounds = 3

func (e *Elements) addParams(method string, el NewElement) (bitrix.Params, error) {
	p, err := e.base(method)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(el.Code) == "" {
		return nil, invalid(method, "ELEMENT_CODE", "required (unique within the list)")
	}
	if strings.TrimSpace(el.Code) != el.Code {
		return nil, invalid(method, "ELEMENT_CODE", "code %q has surrounding white space", el.Code)
	}
	fields, err := el.Fields.wire(method, *e.c.dates)
	if err != nil {
		return nil, err
	}
	if el.SectionID < 0 {
		return nil, invalid(method, "IBLOCK_SECTION_ID", "negative id")
	}
	p["ELEMENT_CODE"] = el.Code
	p["FIELDS"] = fields
	if el.SectionID > 0 {
		p["IBLOCK_SECTION_ID"] = el.SectionID
	}
	if el.ListElementURL != "" {
		p["LIST_ELEMENT_URL"] = el.ListElementURL
	}
	return p, nil
}

// Update replaces an element's fields (lists.element.update).
//
// The portal clears every field that is not sent (file properties keep
// their files). To change some fields and keep the others, use
// [Elements.Patch], or send the old values with [Keep].
//
// Bitrix24 method: [lists.element.update].
//
// [lists.element.update]: https://apidocs.bitrix24.com/api-reference/lists/elements/lists-element-update.html
func (e *Elements) Update(ctx context.Context, ref Ref, f Fields) error {
	const method = "lists.element.update"
	p, err := e.updateParams(method, ref, f)
	if err != nil {
		return err
	}
	return e.c.callTrue(ctx, method, p)
}

func (e *Elements) updateParams(method string, ref Ref, f Fields) (bitrix.Params, error) {
	p, err := e.elementParams(method, ref)
	if err != nil {
		return nil, err
	}
	fields, err := f.wire(method, *e.c.dates)
	if err != nil {
		return nil, err
	}
	p["FIELDS"] = fields
	return p, nil
}

// patchKeep are the writable system fields Patch carries over.
var patchKeep = []string{"SORT", "ACTIVE_FROM", "ACTIVE_TO", "PREVIEW_TEXT", "DETAIL_TEXT"}

// Patch changes the given fields of an element and keeps the others: it
// reads the list's fields (lists.field.get) and the element, merges f
// over the element's current values and sends the result with
// lists.element.update. f.Name may be empty to keep the name.
//
// Patch is a read-modify-write, not atomic: a change made by someone else
// between the read and the write is overwritten. File properties
// (F, S:DiskFile) are not re-sent: the portal keeps them on update.
//
// Bitrix24 methods: [lists.field.get], [lists.element.get], [lists.element.update].
//
// [lists.field.get]: https://apidocs.bitrix24.com/api-reference/lists/fields/lists-field-get.html
// [lists.element.get]: https://apidocs.bitrix24.com/api-reference/lists/elements/lists-element-get.html
// [lists.element.update]: https://apidocs.bitrix24.com/api-reference/lists/elements/lists-element-update.html
func (e *Elements) Patch(ctx context.Context, ref Ref, f Fields) error {
	const method = "lists.element.update"
	if _, err := e.elementParams(method, ref); err != nil {
		return err
	}
	probe := f
	if probe.Name == "" {
		probe.Name = "-" // checked below after the merge
	}
	if _, err := probe.wire(method, *e.c.dates); err != nil {
		return err
	}
	fields, err := e.Fields(ctx)
	if err != nil {
		return err
	}
	sel := []string{"ID", "NAME", "CODE"}
	props := map[int]bool{}
	keep := map[string]bool{}
	for _, fd := range fields {
		switch {
		case fd.IsFile():
		case fd.PropertyID() > 0:
			props[fd.PropertyID()] = true
			sel = append(sel, fd.FieldID)
		default:
			for _, k := range patchKeep {
				if strings.EqualFold(fd.FieldID, k) {
					keep[k] = true
					sel = append(sel, k)
				}
			}
		}
	}
	cur, err := e.Get(ctx, ref, sel...)
	if err != nil {
		return err
	}
	merged := Fields{Name: cur.Name, Properties: map[int]FieldValue{}, Extra: map[string]any{}}
	if f.Name != "" {
		merged.Name = f.Name
	}
	for id, p := range cur.Properties {
		if props[id] {
			merged.Properties[id] = Keep(p)
		}
	}
	for k := range keep {
		raw, ok := cur.Extra[k]
		if !ok {
			continue
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			merged.Extra[k] = s
		} else if n := strings.TrimSpace(string(raw)); n != "null" {
			merged.Extra[k] = n
		}
	}
	for id, v := range f.Properties {
		merged.Properties[id] = v
	}
	for k, v := range f.Extra {
		if id, ok := propertyID(k); ok {
			delete(merged.Properties, id)
		}
		merged.Extra[strings.ToUpper(k)] = v
	}
	return e.Update(ctx, ref, merged)
}

// Delete deletes an element (lists.element.delete).
//
// Bitrix24 method: [lists.element.delete].
//
// [lists.element.delete]: https://apidocs.bitrix24.com/api-reference/lists/elements/lists-element-delete.html
func (e *Elements) Delete(ctx context.Context, ref Ref) error {
	const method = "lists.element.delete"
	p, err := e.elementParams(method, ref)
	if err != nil {
		return err
	}
	return e.c.callTrue(ctx, method, p)
}

// FileURLs returns the download URLs (relative to the portal) of the files
// in a file property of an element (lists.element.get.file.url).
//
// Bitrix24 method: [lists.element.get.file.url].
//
// [lists.element.get.file.url]: https://apidocs.bitrix24.com/api-reference/lists/elements/lists-element-get-file-url.html
func (e *Elements) FileURLs(ctx context.Context, ref Ref, propertyID int) ([]string, error) {
	const method = "lists.element.get.file.url"
	p, err := e.elementParams(method, ref)
	if err != nil {
		return nil, err
	}
	if propertyID <= 0 {
		return nil, invalid(method, "FIELD_ID", "must be a positive property id (the n of PROPERTY_n), got %d", propertyID)
	}
	p["FIELD_ID"] = propertyID
	raw, _, err := e.c.c.CallRaw(ctx, method, p)
	if err != nil {
		return nil, err
	}
	rows, err := splitList(raw)
	if err != nil {
		return nil, fmt.Errorf("lists: %s: %w", method, err)
	}
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		var s string
		if err := json.Unmarshal(r, &s); err != nil {
			return nil, fmt.Errorf("lists: %s: %w", method, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// Fields returns the list's fields (lists.field.get); see [Client.Fields].
//
// Bitrix24 method: [lists.field.get].
//
// [lists.field.get]: https://apidocs.bitrix24.com/api-reference/lists/fields/lists-field-get.html
func (e *Elements) Fields(ctx context.Context) ([]Field, error) {
	return e.c.fields(ctx, e.typ, e.list, e.socnet, "")
}
