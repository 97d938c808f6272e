package crm

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/internal/phpform"
)

// Defaults of the bulk operations.
const (
	// DefaultOriginatorID is the originatorId [Items.AddMany] writes when the
	// item has none: it names the external system the items come from.
	DefaultOriginatorID = "b24go"
	// DefaultMaxRounds is how often a bulk operation sends an item whose
	// request failed before it gives up on it.
	DefaultMaxRounds = 5
)

// ErrNotAdded is matched by the error of an [Items.AddMany] item that is
// known not to be on the portal after every round failed. Unlike
// bitrix.ErrMaybeApplied, it is safe to add such an item again.
var ErrNotAdded = errors.New("crm: item not added")

// BulkResult is the outcome of one input item of [Items.AddMany],
// [Items.UpdateMany] or [Items.DeleteMany]; results come in input order.
type BulkResult struct {
	// ID is the item's id (0 when the item failed).
	ID int
	// Item is the item as the portal answered (AddMany, UpdateMany); for
	// an add recovered by marker lookup it is the item the lookup found.
	Item *Item
	// Marker is the value that identifies the item for reconciliation
	// (AddMany): the originId, or the caller's marker field.
	Marker string
	// Attempts is how many times the item was sent.
	Attempts int
	// Recovered reports that a request's outcome was unknown (connection
	// lost after sending, proxy error) and the SDK confirmed the result by
	// looking the item up (AddMany: found by marker; DeleteMany: gone).
	Recovered bool
	// Err is the item's error: a portal answer (*bitrix.APIError, matched
	// with errors.Is against the core sentinels), [ErrNotAdded], an error
	// matching bitrix.ErrMaybeApplied when the outcome could not be
	// confirmed, or the context's error.
	Err error
}

// BulkOption configures a bulk operation ([Items.AddMany],
// [Items.UpdateMany], [Items.DeleteMany]). Options validate their
// arguments; the method returns the first error before any request.
type BulkOption func(*bulkConfig) error

type bulkConfig struct {
	markerField string
	originator  string
	rounds      int
}

// WithMarkerField makes [Items.AddMany] identify items by a field of the
// caller's choice ("xmlId", "ufCrm5_ExternalKey", ...) instead of
// originatorId+originId. Every item must carry a non-empty value in it,
// unique within the call, and the field must be filterable. An empty name
// is an error.
func WithMarkerField(name string) BulkOption {
	return func(c *bulkConfig) error {
		if strings.TrimSpace(name) == "" {
			return &bitrix.ValidationError{Field: "WithMarkerField", Reason: "empty field name"}
		}
		c.markerField = name
		return nil
	}
}

// WithOriginatorID sets the originatorId that [Items.AddMany] writes into
// items that have none (default [DefaultOriginatorID]). An empty id is an
// error.
func WithOriginatorID(id string) BulkOption {
	return func(c *bulkConfig) error {
		if strings.TrimSpace(id) == "" {
			return &bitrix.ValidationError{Field: "WithOriginatorID", Reason: "empty originator id"}
		}
		c.originator = id
		return nil
	}
}

// WithMaxRounds sets how many times an item whose request failed is sent
// at most (default [DefaultMaxRounds]). n must be at least 1.
func WithMaxRounds(n int) BulkOption {
	return func(c *bulkConfig) error {
		if n < 1 {
			return &bitrix.ValidationError{Field: "WithMaxRounds", Reason: fmt.Sprintf("%d rounds, need at least 1", n)}
		}
		c.rounds = n
		return nil
	}
}

func newBulkConfig(method string, opts []BulkOption) (bulkConfig, error) {
	cfg := bulkConfig{originator: DefaultOriginatorID, rounds: DefaultMaxRounds}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			var ve *bitrix.ValidationError
			if errors.As(err, &ve) {
				cp := *ve
				cp.Method = method
				err = &cp
			}
			return bulkConfig{}, err
		}
	}
	return cfg, nil
}

// ambiguous reports whether a failed command may have been applied or was
// not run at all, so that only a lookup can tell: transport failures, bad
// answers (HTML 502), ErrMaybeApplied, ErrNotRun, server faults and the
// limits that stop a command before it runs. Other portal answers
// (validation, access, not found) are final.
func ambiguous(err error) bool {
	if errors.Is(err, bitrix.ErrMaybeApplied) {
		return true
	}
	var ae *bitrix.APIError
	if !errors.As(err, &ae) {
		return true
	}
	switch {
	case errors.Is(ae, bitrix.ErrOverloadLimit):
		return false
	case errors.Is(ae, bitrix.ErrInternal), errors.Is(ae, bitrix.ErrQueryLimitExceeded),
		errors.Is(ae, bitrix.ErrOperationTimeLimit), errors.Is(ae, bitrix.ErrBatchLengthExceeded):
		return true
	case ae.StatusCode >= 500:
		return true
	case ae.Code == "" && ae.Description == "":
		return true
	}
	return false
}

// notSent reports a command whose request was never sent because ctx ended
// (bitrix.Batch.Run marks it with ErrNotRun and the context's error).
func notSent(ctx context.Context, err error) bool {
	return ctx.Err() != nil && errors.Is(err, bitrix.ErrNotRun) && errors.Is(err, ctx.Err())
}

// uncertain wraps the last error of an item whose outcome stays unknown so
// that it matches bitrix.ErrMaybeApplied.
type uncertainError struct {
	msg  string
	last error
}

func (e *uncertainError) Error() string   { return e.msg }
func (e *uncertainError) Unwrap() []error { return []error{bitrix.ErrMaybeApplied, e.last} }

// addEntry is one item of an AddMany call.
type addEntry struct {
	fields     map[string]any
	originator string // default marker mode
	marker     string // originId or the marker field's value
}

func (e *addEntry) key() string { return e.originator + "\x00" + e.marker }

// AddMany adds items through batch requests (50 crm.item.add commands per
// request, several requests in flight: bitrix.WithParallelism) and returns
// one result per item, in input order. Requests run concurrently, so the
// portal may number the items in another order than the input's
// (bitrix.WithParallelism(1) keeps it). It adds each
// item exactly once, even when connections break:
//
// Every item carries a marker: by default originatorId (the item's own, or
// [WithOriginatorID], default "b24go") plus originId (the item's own, or a
// generated unique value). When a request's outcome is unknown — the
// connection dropped after sending, a proxy answered 502, the portal
// answered a server error — AddMany looks the markers up (crm.item.list
// filtered by marker, batched), takes the items it finds as added, and
// sends again only the items that are missing, for up to [WithMaxRounds]
// rounds. Items the portal rejected (validation, access) fail with its
// error and are not sent again. [WithMarkerField] uses a field of the caller's
// choice as the marker instead.
//
// The portal cannot enforce unique markers: reconciliation holds as long as
// no one else adds items with the same markers at the same time. A request
// that timed out on the client may still be running on the portal when the
// lookup is made; use a client timeout well above the portal's processing
// time for big batches. If a
// lookup fails, the affected items fail with an error matching
// bitrix.ErrMaybeApplied rather than risking a duplicate.
//
// Bad input (an empty item, a missing or repeated marker) fails the call
// before any request with a [bitrix.ValidationError]. The returned error is
// otherwise only the context's; per-item failures are in the results.
//
// Bitrix24 method: [crm.item.add].
//
// [crm.item.add]: https://apidocs.bitrix24.com/api-reference/crm/universal/crm-item-add.html
func (s *Items) AddMany(ctx context.Context, items []Fields, opts ...BulkOption) ([]BulkResult, error) {
	const m = "crm.item.add"
	if err := s.check(m, 0, false); err != nil {
		return nil, err
	}
	cfg, err := newBulkConfig(m, opts)
	if err != nil {
		return nil, err
	}
	entries, err := s.prepareAdds(m, items, cfg)
	if err != nil {
		return nil, err
	}
	res := make([]BulkResult, len(items))
	last := make([]error, len(items))
	for i, e := range entries {
		res[i].Marker = e.marker
	}
	send := make([]int, len(items))
	for i := range send {
		send[i] = i
	}
	for round := 1; len(send) > 0; round++ {
		var unknown []int
		// One batch per round: its requests go out in parallel (bitrix
		// WithParallelism) and a failed request does not stop the others.
		b := s.c.c.NewBatch()
		cmds := make([]*bitrix.BatchCmd, len(send))
		for j, i := range send {
			p := s.base()
			p["fields"] = entries[i].fields
			cmds[j] = b.Add("a"+strconv.Itoa(i), m, p)
		}
		_ = b.Run(ctx) // a failed request shows as its commands' Err
		for j, i := range send {
			var r itemResult
			err := cmds[j].Decode(&r)
			if notSent(ctx, err) {
				res[i].Err = fmt.Errorf("crm: %s: item %d not sent: %w", m, i, ctx.Err())
				continue
			}
			res[i].Attempts++
			switch {
			case err == nil && r.Item != nil:
				res[i].Item, res[i].ID, res[i].Err = r.Item, r.Item.ID, nil
			case err == nil:
				res[i].Err = fmt.Errorf("crm: %s: item %d: answer has no item", m, i)
			case ambiguous(err):
				last[i] = err
				unknown = append(unknown, i)
			default:
				res[i].Err = mapErr(err, false)
			}
		}
		if len(unknown) == 0 {
			break
		}
		found, lerr := s.lookupMarkers(ctx, cfg, entries, unknown)
		if lerr != nil {
			for _, i := range unknown {
				res[i].Err = &uncertainError{
					msg:  fmt.Sprintf("crm: %s: item %d (marker %q) may have been added: its request failed (%v) and the marker lookup failed (%v)", m, i, entries[i].marker, last[i], lerr),
					last: last[i],
				}
			}
			return res, ctx.Err()
		}
		send = send[:0]
		for _, i := range unknown {
			if it := found[entries[i].key()]; it != nil {
				res[i].Item, res[i].ID, res[i].Recovered, res[i].Err = it, it.ID, true, nil
				continue
			}
			if round >= cfg.rounds || ctx.Err() != nil {
				cause := last[i]
				if ctx.Err() != nil {
					cause = ctx.Err()
				}
				res[i].Err = fmt.Errorf("crm: %s: item %d (marker %q) is not on the portal after %d attempts (last error: %v): %w",
					m, i, entries[i].marker, res[i].Attempts, cause, ErrNotAdded)
				continue
			}
			send = append(send, i)
		}
	}
	return res, ctx.Err()
}

func (s *Items) prepareAdds(m string, items []Fields, cfg bulkConfig) ([]*addEntry, error) {
	entries := make([]*addEntry, len(items))
	seen := make(map[string]int, len(items))
	var prefix string
	for i, f := range items {
		field := fmt.Sprintf("items[%d]", i)
		if err := checkFields(m, f, field); err != nil {
			return nil, err
		}
		if err := checkEncodable(m, field, f); err != nil {
			return nil, err
		}
		e := &addEntry{fields: f.clone()}
		if cfg.markerField != "" {
			v, ok := markerValue(e.fields[cfg.markerField])
			if !ok {
				return nil, invalid(m, field+"."+cfg.markerField, "the marker field needs a non-empty string or number")
			}
			e.marker = v
		} else {
			e.originator = cfg.originator
			if v, present := e.fields["originatorId"]; present {
				s, ok := markerValue(v)
				if !ok {
					return nil, invalid(m, field+".originatorId", "must be a non-empty string")
				}
				e.originator = s
			}
			if e.originator == "" {
				return nil, invalid(m, field+".originatorId", "empty originator id")
			}
			e.fields["originatorId"] = e.originator
			if v, present := e.fields["originId"]; present {
				s, ok := markerValue(v)
				if !ok {
					return nil, invalid(m, field+".originId", "must be a non-empty string")
				}
				e.marker = s
			} else {
				if prefix == "" {
					prefix = newMarkerPrefix()
				}
				e.marker = prefix + "-" + strconv.Itoa(i)
				e.fields["originId"] = e.marker
			}
		}
		if j, dup := seen[e.key()]; dup {
			return nil, invalid(m, field, "marker %q repeats items[%d]'s", e.marker, j)
		}
		seen[e.key()] = i
		entries[i] = e
	}
	return entries, nil
}

// checkEncodable fails when fields cannot be sent as a form (a channel, a
// function, NaN), so that such an item is rejected before any request
// instead of failing in every round.
func checkEncodable(m, field string, f Fields) error {
	if _, err := phpform.Flatten(map[string]any{"fields": f.clone()}); err != nil {
		return invalid(m, field, "cannot be encoded: %v", err)
	}
	return nil
}

// newMarkerPrefix returns a random prefix for generated originIds.
func newMarkerPrefix() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "b24go-" + hex.EncodeToString(b)
}

// markerValue returns the text of a scalar marker value.
func markerValue(v any) (string, bool) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case int:
		s = strconv.Itoa(x)
	case int64:
		s = strconv.FormatInt(x, 10)
	case json.Number:
		s = string(x)
	case fmt.Stringer:
		s = x.String()
	default:
		return "", false
	}
	return s, s != ""
}

// lookupChunk is how many marker values one crm.item.list command filters by.
const lookupChunk = 50

// lookupMarkers finds the items carrying the markers of entries[idx], keyed
// by addEntry.key(). It batches crm.item.list commands (up to 50 markers
// each, up to 50 commands per request) and pages through a chunk that
// matches more than one page.
func (s *Items) lookupMarkers(ctx context.Context, cfg bulkConfig, entries []*addEntry, idx []int) (map[string]*Item, error) {
	const m = "crm.item.list"
	groups := map[string][]string{} // originator → markers
	var order []string
	for _, i := range idx {
		e := entries[i]
		if _, ok := groups[e.originator]; !ok {
			order = append(order, e.originator)
		}
		groups[e.originator] = append(groups[e.originator], e.marker)
	}
	type query struct {
		originator string
		filter     bitrix.Params
		cmd        *bitrix.BatchCmd
	}
	var queries []*query
	b := s.c.c.NewBatch()
	for _, o := range order {
		vals := groups[o]
		for start := 0; start < len(vals); start += lookupChunk {
			chunk := vals[start:min(start+lookupChunk, len(vals))]
			f := bitrix.Params{}
			if cfg.markerField != "" {
				f["@"+cfg.markerField] = append([]string(nil), chunk...)
			} else {
				f["=originatorId"] = o
				f["@originId"] = append([]string(nil), chunk...)
			}
			p := s.base()
			p["filter"] = f
			p["order"] = bitrix.Params{"id": "ASC"}
			q := &query{originator: o, filter: f}
			q.cmd = b.Add("", m, p)
			queries = append(queries, q)
		}
	}
	if err := b.Run(ctx); err != nil {
		return nil, err
	}
	found := map[string]*Item{}
	keep := func(o string, it *Item) {
		var v string
		if cfg.markerField != "" {
			v, _ = scalarString(it.Field(cfg.markerField))
		} else {
			v = it.OriginID
			if it.OriginatorID != o {
				return
			}
		}
		k := o + "\x00" + v
		if prev := found[k]; prev == nil || it.ID < prev.ID {
			found[k] = it
		}
	}
	for _, q := range queries {
		var r struct {
			Items []*Item `json:"items"`
		}
		if err := q.cmd.Decode(&r); err != nil {
			return nil, err
		}
		for _, it := range r.Items {
			keep(q.originator, it)
		}
		if resp := q.cmd.Response(); resp != nil && resp.Next > 0 {
			// More matches than one page: markers used more than once on the
			// portal. Read them all.
			for it, err := range s.All(ctx, Query{Filter: q.filter}) {
				if err != nil {
					return nil, err
				}
				keep(q.originator, it)
			}
		}
	}
	return found, nil
}

// Update is one change of [Items.UpdateMany]: the fields to set on item ID.
type Update struct {
	ID     int
	Fields Fields
}

// UpdateMany updates items through batch requests (50 crm.item.update
// commands per request, sent in parallel like AddMany's) and returns one result per update, in input order.
// An update whose outcome is unknown (connection lost, proxy error, server
// fault) is sent again, up to [WithMaxRounds] times: setting the same values
// twice gives the same item. (Do not use it for changes that are not
// idempotent, such as appending to the fm multi-field with a list.)
// Bad input fails the call before any request with a [bitrix.ValidationError].
//
// Bitrix24 method: [crm.item.update].
//
// [crm.item.update]: https://apidocs.bitrix24.com/api-reference/crm/universal/crm-item-update.html
func (s *Items) UpdateMany(ctx context.Context, updates []Update, opts ...BulkOption) ([]BulkResult, error) {
	const m = "crm.item.update"
	if err := s.check(m, 0, false); err != nil {
		return nil, err
	}
	for i, u := range updates {
		if u.ID <= 0 {
			return nil, invalid(m, fmt.Sprintf("updates[%d].id", i), "must be a positive item id, got %d", u.ID)
		}
		if err := checkFields(m, u.Fields, fmt.Sprintf("updates[%d].fields", i)); err != nil {
			return nil, err
		}
		if err := checkEncodable(m, fmt.Sprintf("updates[%d].fields", i), u.Fields); err != nil {
			return nil, err
		}
	}
	cfg, err := newBulkConfig(m, opts)
	if err != nil {
		return nil, err
	}
	return s.runMany(ctx, m, len(updates), cfg, func(i int) bitrix.Params {
		p := s.base()
		p["id"] = updates[i].ID
		p["fields"] = updates[i].Fields.clone()
		return p
	}, func(i int, cmd *bitrix.BatchCmd, res *BulkResult, retried bool) error {
		var r itemResult
		if err := cmd.Decode(&r); err != nil {
			return err
		}
		if r.Item == nil {
			return fmt.Errorf("crm: %s: update %d: answer has no item", m, i)
		}
		res.Item, res.ID = r.Item, r.Item.ID
		return nil
	})
}

// DeleteMany deletes items through batch requests (50 crm.item.delete
// commands per request, sent in parallel like AddMany's) and returns one result per id, in input order. A
// delete whose outcome is unknown is sent again; if the item is then gone
// (NOT_FOUND), the earlier request deleted it and the result is a success
// with Recovered set. Ids that are not positive fail the call before any
// request with a [bitrix.ValidationError].
//
// Bitrix24 method: [crm.item.delete].
//
// [crm.item.delete]: https://apidocs.bitrix24.com/api-reference/crm/universal/crm-item-delete.html
func (s *Items) DeleteMany(ctx context.Context, ids []int, opts ...BulkOption) ([]BulkResult, error) {
	const m = "crm.item.delete"
	if err := s.check(m, 0, false); err != nil {
		return nil, err
	}
	for i, id := range ids {
		if id <= 0 {
			return nil, invalid(m, fmt.Sprintf("ids[%d]", i), "must be a positive item id, got %d", id)
		}
	}
	cfg, err := newBulkConfig(m, opts)
	if err != nil {
		return nil, err
	}
	return s.runMany(ctx, m, len(ids), cfg, func(i int) bitrix.Params {
		return bitrix.Params{"entityTypeId": s.typ, "id": ids[i]}
	}, func(i int, cmd *bitrix.BatchCmd, res *BulkResult, retried bool) error {
		err := cmd.Err()
		if err != nil && retried && errors.Is(err, bitrix.ErrNotFound) {
			res.ID, res.Recovered = ids[i], true
			return nil
		}
		if err != nil {
			return err
		}
		res.ID = ids[i]
		return nil
	})
}

// runMany sends n idempotent commands in batches, re-sending those with an
// ambiguous outcome for up to cfg.rounds rounds.
func (s *Items) runMany(ctx context.Context, method string, n int, cfg bulkConfig,
	params func(i int) bitrix.Params,
	done func(i int, cmd *bitrix.BatchCmd, res *BulkResult, retried bool) error,
) ([]BulkResult, error) {
	res := make([]BulkResult, n)
	retried := make([]bool, n)
	send := make([]int, n)
	for i := range send {
		send[i] = i
	}
	for round := 1; len(send) > 0; round++ {
		var again []int
		b := s.c.c.NewBatch() // one batch per round, sent in parallel
		cmds := make([]*bitrix.BatchCmd, len(send))
		for j, i := range send {
			cmds[j] = b.Add("c"+strconv.Itoa(i), method, params(i))
		}
		_ = b.Run(ctx)
		for j, i := range send {
			if notSent(ctx, cmds[j].Err()) {
				if retried[i] {
					res[i].Err = &uncertainError{msg: fmt.Sprintf("crm: %s: item %d: outcome unknown (%v); stopped: %v", method, i, res[i].Err, ctx.Err()), last: res[i].Err}
				} else {
					res[i].Err = fmt.Errorf("crm: %s: item %d not sent: %w", method, i, ctx.Err())
				}
				continue
			}
			res[i].Attempts++
			err := done(i, cmds[j], &res[i], retried[i])
			switch {
			case err == nil:
				res[i].Err = nil
			case ambiguous(err) && round < cfg.rounds:
				res[i].Err = err
				retried[i] = true
				again = append(again, i)
			case ambiguous(err):
				res[i].Err = &uncertainError{msg: fmt.Sprintf("crm: %s: item %d: outcome unknown after %d attempts: %v", method, i, res[i].Attempts, err), last: err}
			default:
				res[i].Err = mapErr(err, true)
			}
		}
		sort.Ints(again)
		send = again
	}
	return res, ctx.Err()
}
