package lists

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/b24go/sdk/bitrix"
)

// BulkResult is the outcome of one item of a bulk operation, in input order.
type BulkResult struct {
	// ID is the element's id (for adds: the new element's id).
	ID int
	// Err is the item's error: an *bitrix.APIError from the portal, or an
	// error matching bitrix.ErrMaybeApplied when the outcome stayed unknown.
	Err error
	// Recovered reports that the answer was lost and the outcome was
	// established by looking the element up.
	Recovered bool
}

// Update is one item of [Elements.UpdateMany].
type Update struct {
	Ref    Ref
	Fields Fields
}

// AddMany adds elements through batch requests (50 commands each, several
// in flight: bitrix.WithParallelism) and returns one [BulkResult] per element, in
// input order. Requests run concurrently, so the portal may number the
// elements in another order than the input's (bitrix.WithParallelism(1)
// keeps it). Invalid input (a
// missing or repeated ELEMENT_CODE, a missing NAME, ...) fails the whole
// call before anything is sent.
//
// Exactly once: when a batch's answer is lost after it was sent
// ([bitrix.ErrMaybeApplied]), AddMany looks the codes of its elements up
// (lists.element.get with FILTER =CODE). Elements that exist are reported
// with their ids (Recovered); only the missing ones are sent again, and
// the portal's unique codes refuse a duplicate if one slips through
// (ERROR_ELEMENT_ALREADY_EXISTS after an unknown outcome is looked up too).
// Commands the portal did not run (missing from its answer) are sent
// again. This is repeated at most 3 times.
//
// Bitrix24 method: [lists.element.add].
//
// [lists.element.add]: https://apidocs.bitrix24.com/api-reference/lists/elements/lists-element-add.html
func (e *Elements) AddMany(ctx context.Context, els []NewElement) ([]BulkResult, error) {
	const method = "lists.element.add"
	params := make([]bitrix.Params, len(els))
	seen := map[string]int{}
	for i, el := range els {
		p, err := e.addParams(method, el)
		if err != nil {
			return nil, fmt.Errorf("element %d: %w", i, err)
		}
		if j, dup := seen[el.Code]; dup {
			return nil, fmt.Errorf("element %d: %w", i, invalid(method, "ELEMENT_CODE", "code %q repeats element %d", el.Code, j))
		}
		seen[el.Code] = i
		params[i] = p
	}
	results := make([]BulkResult, len(els))
	ambiguous := make([]bool, len(els))
	pending := make([]int, len(els))
	for i := range pending {
		pending[i] = i
	}
	for round := 0; len(pending) > 0; round++ {
		b := e.c.c.NewBatch()
		cmds := make([]*bitrix.BatchCmd, len(pending))
		for k, idx := range pending {
			cmds[k] = b.Add("", method, params[idx])
		}
		_ = b.Run(ctx) // a failed request marks its commands; they are handled below
		var unknown, resend []int
		for k, idx := range pending {
			err := cmds[k].Err()
			switch {
			case err == nil:
				var id bitrix.Int
				if derr := cmds[k].Decode(&id); derr != nil || id <= 0 {
					results[idx] = BulkResult{Err: fmt.Errorf("lists: %s: the portal answered no id", method)}
					continue
				}
				results[idx] = BulkResult{ID: int(id)} // added by this request: not Recovered
			case errors.Is(err, bitrix.ErrMaybeApplied), ambiguous[idx] && errors.Is(err, bitrix.ErrAlreadyExists):
				ambiguous[idx] = true
				results[idx] = BulkResult{Err: err}
				unknown = append(unknown, idx)
			case errors.Is(err, bitrix.ErrNotRun):
				results[idx] = BulkResult{Err: err}
				resend = append(resend, idx)
			default:
				results[idx] = BulkResult{Err: err}
			}
		}
		if len(unknown) > 0 {
			codes := make([]string, len(unknown))
			for k, idx := range unknown {
				codes[k] = els[idx].Code
			}
			found, lerr := e.lookupCodes(ctx, codes)
			for _, idx := range unknown {
				switch id, ok := found[els[idx].Code]; {
				case lerr != nil:
					results[idx].Err = fmt.Errorf("lists: outcome unknown and the lookup failed: %w (first error: %w)", lerr, results[idx].Err)
				case ok:
					results[idx] = BulkResult{ID: id, Recovered: true}
				default:
					resend = append(resend, idx)
				}
			}
		}
		if round+1 >= maxAddRounds || ctx.Err() != nil {
			break
		}
		pending = sortedCopy(resend)
	}
	return results, nil
}

func sortedCopy(s []int) []int {
	out := append([]int(nil), s...)
	sort.Ints(out)
	return out
}

// lookupCodes finds elements by code; it returns code → id for those that
// exist.
func (e *Elements) lookupCodes(ctx context.Context, codes []string) (map[string]int, error) {
	vals := make([]any, len(codes))
	want := make(map[string]bool, len(codes))
	for i, c := range codes {
		vals[i], want[c] = c, true
	}
	found := map[string]int{}
	err := e.lookup(ctx, "CODE", vals, func(el Element) {
		if want[el.Code] && el.ID > 0 {
			found[el.Code] = el.ID
		}
	})
	return found, err
}

// lookupIDs returns the ids among ids that exist.
func (e *Elements) lookupIDs(ctx context.Context, ids []int) (map[int]bool, error) {
	vals := make([]any, len(ids))
	for i, id := range ids {
		vals[i] = id
	}
	found := map[int]bool{}
	err := e.lookup(ctx, "ID", vals, func(el Element) { found[el.ID] = true })
	return found, err
}

// lookup reads, a page at a time, the elements whose field (ID or CODE)
// equals one of vals, and hands each to found.
func (e *Elements) lookup(ctx context.Context, field string, vals []any, found func(Element)) error {
	const method = "lists.element.get"
	for len(vals) > 0 {
		chunk := vals[:min(len(vals), bitrix.PageSize)]
		vals = vals[len(chunk):]
		base, err := e.base(method)
		if err != nil {
			return err
		}
		base["FILTER"] = bitrix.Params{"=" + field: chunk}
		base["SELECT"] = []string{"ID", "CODE"}
		rows, _, err := bitrix.List[json.RawMessage](ctx, e.c.c, bitrix.Query{Method: method, Params: base}, 0)
		if err != nil {
			return err
		}
		for _, r := range rows {
			el, err := decodeElement(r, e.c.dates)
			if err != nil {
				return err
			}
			found(el)
		}
	}
	return nil
}

// UpdateMany updates elements through batch requests (sent in parallel
// like AddMany's) and returns one
// [BulkResult] per item, in input order (ID is the element id for id
// references). Like [Elements.Update] it replaces all fields of each
// element. An update whose answer was lost keeps an error matching
// [bitrix.ErrMaybeApplied]: an update sends the whole element, so repeating
// it is harmless, but the SDK leaves that decision to the caller.
//
// Bitrix24 method: [lists.element.update].
//
// [lists.element.update]: https://apidocs.bitrix24.com/api-reference/lists/elements/lists-element-update.html
func (e *Elements) UpdateMany(ctx context.Context, items []Update) ([]BulkResult, error) {
	const method = "lists.element.update"
	params := make([]bitrix.Params, len(items))
	for i, it := range items {
		p, err := e.updateParams(method, it.Ref, it.Fields)
		if err != nil {
			return nil, fmt.Errorf("item %d: %w", i, err)
		}
		params[i] = p
	}
	b := e.c.c.NewBatch()
	cmds := make([]*bitrix.BatchCmd, len(items))
	for i := range items {
		cmds[i] = b.Add("", method, params[i])
	}
	_ = b.Run(ctx)
	results := make([]BulkResult, len(items))
	for i, cmd := range cmds {
		results[i] = BulkResult{ID: items[i].Ref.ID(), Err: cmd.Err()}
	}
	return results, nil
}

// DeleteMany deletes elements through batch requests (sent in parallel
// like AddMany's) and returns one
// [BulkResult] per reference, in input order. When the answer of a request is
// lost, the elements are looked up: those that are gone are reported as
// deleted (Recovered), those that still exist are deleted again (at most
// 3 rounds).
//
// Bitrix24 method: [lists.element.delete].
//
// [lists.element.delete]: https://apidocs.bitrix24.com/api-reference/lists/elements/lists-element-delete.html
func (e *Elements) DeleteMany(ctx context.Context, refs []Ref) ([]BulkResult, error) {
	const method = "lists.element.delete"
	params := make([]bitrix.Params, len(refs))
	for i, r := range refs {
		p, err := e.elementParams(method, r)
		if err != nil {
			return nil, fmt.Errorf("item %d: %w", i, err)
		}
		params[i] = p
	}
	results := make([]BulkResult, len(refs))
	pending := make([]int, len(refs))
	for i := range pending {
		pending[i] = i
	}
	for round := 0; len(pending) > 0; round++ {
		b := e.c.c.NewBatch()
		cmds := make([]*bitrix.BatchCmd, len(pending))
		for k, idx := range pending {
			cmds[k] = b.Add("", method, params[idx])
		}
		_ = b.Run(ctx)
		var unknown, resend []int
		for k, idx := range pending {
			err := cmds[k].Err()
			results[idx] = BulkResult{ID: refs[idx].ID(), Err: err}
			switch {
			case err == nil:
			case errors.Is(err, bitrix.ErrMaybeApplied):
				unknown = append(unknown, idx)
			case errors.Is(err, bitrix.ErrNotRun):
				resend = append(resend, idx)
			}
		}
		if len(unknown) > 0 {
			var ids []int
			var codes []string
			for _, idx := range unknown {
				if c := refs[idx].Code(); c != "" {
					codes = append(codes, c)
				} else {
					ids = append(ids, refs[idx].ID())
				}
			}
			byID, lerr := e.lookupIDs(ctx, ids)
			var byCode map[string]int
			if lerr == nil {
				byCode, lerr = e.lookupCodes(ctx, codes)
			}
			for _, idx := range unknown {
				r := refs[idx]
				exists := byID[r.ID()]
				if r.Code() != "" {
					_, exists = byCode[r.Code()]
				}
				switch {
				case lerr != nil:
					results[idx].Err = fmt.Errorf("lists: outcome unknown and the lookup failed: %w (first error: %w)", lerr, results[idx].Err)
				case !exists:
					results[idx] = BulkResult{ID: r.ID(), Recovered: true}
				default:
					resend = append(resend, idx)
				}
			}
		}
		if round+1 >= maxAddRounds || ctx.Err() != nil {
			break
		}
		pending = sortedCopy(resend)
	}
	return results, nil
}
