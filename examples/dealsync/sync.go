package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/crm"
	"github.com/b24go/sdk/lists"
)

// Property codes of the universal list that mirrors deal product rows.
// Create the list with these properties (symbolic codes) on the portal.
const (
	codeDealID    = "DEAL_ID"    // number: the deal
	codeRowID     = "ROW_ID"     // number: the product row
	codeProductID = "PRODUCT_ID" // number: the catalog product (0: free text)
	codePrice     = "PRICE"      // number: price per unit
	codeQuantity  = "QUANTITY"   // number
	codeSum       = "SUM"        // number: price × quantity, rounded to cents
)

var propertyCodes = []string{codeDealID, codeRowID, codeProductID, codePrice, codeQuantity, codeSum}

// elementCode is the list element's ELEMENT_CODE for a product row: unique
// per list, so a lost answer to an add can be reconciled and a duplicate is
// refused by the portal.
func elementCode(dealID, rowID int) string {
	return "deal-" + strconv.Itoa(dealID) + "-row-" + strconv.Itoa(rowID)
}

// Stats counts what one sync did.
type Stats struct {
	Added, Updated, Deleted, Unchanged int
}

// Writes is the number of list writes.
func (s Stats) Writes() int { return s.Added + s.Updated + s.Deleted }

func (s Stats) String() string {
	return fmt.Sprintf("%d added, %d updated, %d deleted, %d unchanged", s.Added, s.Updated, s.Deleted, s.Unchanged)
}

// syncer keeps the list in step with deals' product rows.
type syncer struct {
	crm   *crm.Client
	list  *lists.Elements
	props map[string]int // property code → property id

	locks sync.Map // deal id → *sync.Mutex: one sync per deal at a time
}

// newSyncer resolves the list's property ids by their codes
// (lists.field.get).
func newSyncer(ctx context.Context, c *bitrix.Client, iblockType lists.IBlockType, list lists.Ref) (*syncer, error) {
	lc, err := lists.New(c)
	if err != nil {
		return nil, err
	}
	els := lc.Elements(iblockType, list)
	fields, err := els.Fields(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the list's fields: %w", err)
	}
	props := map[string]int{}
	for _, f := range fields {
		if id := f.PropertyID(); id > 0 && f.Code != "" {
			props[strings.ToUpper(f.Code)] = id
		}
	}
	var missing []string
	for _, code := range propertyCodes {
		if props[code] == 0 {
			missing = append(missing, code)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("the list has no properties with the codes %s (create them as numbers)", strings.Join(missing, ", "))
	}
	cc, err := crm.New(c)
	if err != nil {
		return nil, err
	}
	return &syncer{crm: cc, list: els, props: props}, nil
}

// desired is what the list should hold for one row.
type desired struct {
	name  string
	props map[string]string // code → value
}

func rowElement(dealID int, r crm.ProductRow) desired {
	name := r.ProductName
	if name == "" {
		name = "Row " + strconv.Itoa(r.ID)
	}
	return desired{name: name, props: map[string]string{
		codeDealID:    strconv.Itoa(dealID),
		codeRowID:     strconv.Itoa(r.ID),
		codeProductID: strconv.Itoa(r.ProductID),
		codePrice:     r.Price.String(),
		codeQuantity:  r.Quantity.String(),
		codeSum:       r.Sum().String(),
	}}
}

func (s *syncer) fields(d desired) lists.Fields {
	f := lists.Fields{Name: d.name, Properties: map[int]lists.FieldValue{}}
	for code, v := range d.props {
		f.Properties[s.props[code]] = lists.Value(v)
	}
	return f
}

// same reports whether the element already holds d. Numbers compare by
// value ("12.50" equals "12.5").
func (s *syncer) same(el *lists.Element, d desired) bool {
	if el.Name != d.name {
		return false
	}
	for code, want := range d.props {
		got := el.Property(s.props[code]).String()
		if got == want {
			continue
		}
		a, err1 := crm.ParseDecimal(got)
		b, err2 := crm.ParseDecimal(want)
		if err1 != nil || err2 != nil || a.Cmp(b) != 0 {
			return false
		}
	}
	return true
}

// Sync makes the list hold exactly one element per product row of the deal
// (none when deleted is set or the deal is gone): it adds new rows, updates
// changed ones and removes vanished ones, each kind in batch requests.
// Unchanged data causes no writes.
func (s *syncer) Sync(ctx context.Context, dealID int, deleted bool) (Stats, error) {
	mu, _ := s.locks.LoadOrStore(dealID, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()

	want := map[string]desired{}
	var order []string // codes in the deal's row order
	if !deleted {
		for r, err := range s.crm.ProductRows().All(ctx, crm.Owner{EntityTypeID: crm.Deal, ID: dealID}, crm.RowQuery{}) {
			if errors.Is(err, bitrix.ErrNotFound) {
				want, order = map[string]desired{}, nil // deleted since the event: remove its rows
				break
			}
			if err != nil {
				return Stats{}, fmt.Errorf("read the deal's product rows: %w", err)
			}
			code := elementCode(dealID, r.ID)
			want[code] = rowElement(dealID, r)
			order = append(order, code)
		}
	}

	sel := []string{"ID", "CODE", "NAME"}
	for _, code := range propertyCodes {
		sel = append(sel, "PROPERTY_"+strconv.Itoa(s.props[code]))
	}
	have := map[string]lists.Element{}
	var haveOrder []string // codes in element id order
	q := lists.Query{Filter: bitrix.Params{"=PROPERTY_" + strconv.Itoa(s.props[codeDealID]): dealID}, Select: sel}
	for el, err := range s.list.All(ctx, q) {
		if err != nil {
			return Stats{}, fmt.Errorf("read the list: %w", err)
		}
		have[el.Code] = el
		haveOrder = append(haveOrder, el.Code)
	}

	var st Stats
	var adds []lists.NewElement
	var updates []lists.Update
	var deletes []lists.Ref
	for _, code := range order {
		d := want[code]
		el, ok := have[code]
		switch {
		case !ok:
			adds = append(adds, lists.NewElement{Code: code, Fields: s.fields(d)})
		case !s.same(&el, d):
			updates = append(updates, lists.Update{Ref: lists.ByID(el.ID), Fields: s.fields(d)})
		default:
			st.Unchanged++
		}
	}
	for _, code := range haveOrder {
		if _, ok := want[code]; !ok {
			deletes = append(deletes, lists.ByID(have[code].ID))
		}
	}

	var errs []error
	collect := func(what string, res []lists.BulkResult, err error, n *int) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
			return
		}
		for _, r := range res {
			if r.Err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", what, r.Err))
				continue
			}
			*n++
		}
	}
	if len(adds) > 0 {
		res, err := s.list.AddMany(ctx, adds)
		collect("add", res, err, &st.Added)
	}
	if len(updates) > 0 {
		res, err := s.list.UpdateMany(ctx, updates)
		collect("update", res, err, &st.Updated)
	}
	if len(deletes) > 0 {
		res, err := s.list.DeleteMany(ctx, deletes)
		collect("delete", res, err, &st.Deleted)
	}
	return st, errors.Join(errs...)
}
