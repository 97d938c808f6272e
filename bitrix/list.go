package bitrix

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strings"
	"sync"
	"time"
)

// PageSize is the portal's fixed page size for list methods.
const PageSize = 50

// Progress reports the state of a long operation or a wait. It is passed
// to the function given to [WithProgress].
type Progress struct {
	// Method is the REST method (the list method for scans).
	Method string
	// Rows is the number of rows delivered so far by a scan.
	Rows int
	// Total is the number of rows expected (0 when unknown: fast scans do
	// not count).
	Total int
	// Requests is the number of HTTP requests a scan has sent so far.
	Requests int
	// Waited is the length of the wait being reported (0 for page reports).
	Waited time.Duration
	// Reason says what happened: ReasonPage, ReasonRateLimit,
	// ReasonOperatingLimit or ReasonRetry.
	Reason string
}

// Progress reasons.
const (
	ReasonPage           = "page"
	ReasonRateLimit      = "rate limit"
	ReasonOperatingLimit = "operating time limit"
	ReasonRetry          = "retry backoff"
)

// Query describes a list method for [List] and [All].
type Query struct {
	// Method is the list method, e.g. "crm.deal.list" or "crm.item.list".
	Method string
	// Params are the method's parameters in its own spelling (filter,
	// select, order, entityTypeId, IBLOCK_ID ...). They are not modified.
	Params Params
	// ItemsKey is the key of the rows inside "result": "" when the result
	// is the array itself (crm.deal.list), "items" for crm.item.list.
	ItemsKey string
	// IDField is the rows' id field: "ID" (default) or "id" (crm.item.list).
	IDField string
	// FilterKey is the filter parameter: "filter" (default) or "FILTER"
	// (lists.element.get).
	FilterKey string
	// OrderKey is the order parameter: "order" (default) or "ELEMENT_ORDER"
	// (lists.element.get).
	OrderKey string
}

func (q Query) withDefaults() Query {
	if q.IDField == "" {
		q.IDField = "ID"
	}
	if q.FilterKey == "" {
		q.FilterKey = "filter"
	}
	if q.OrderKey == "" {
		q.OrderKey = "order"
	}
	return q
}

// List fetches one page (up to 50 rows) of a list method starting at
// start (0, then Response.Next while it is not 0) and decodes its rows.
func List[T any](ctx context.Context, c *Client, q Query, start int) ([]T, *Response, error) {
	q = q.withDefaults()
	p := q.Params.clone()
	p["start"] = start
	raw, resp, err := c.CallRaw(ctx, q.Method, p)
	if err != nil {
		return nil, resp, err
	}
	rows, err := splitRows(raw, q.ItemsKey)
	if err != nil {
		return nil, resp, fmt.Errorf("bitrix: %s: %w", q.Method, err)
	}
	out := make([]T, 0, len(rows))
	for _, r := range rows {
		var v T
		if err := json.Unmarshal(r, &v); err != nil {
			return nil, resp, fmt.Errorf("bitrix: %s: decoding row into %T: %w", q.Method, v, err)
		}
		out = append(out, v)
	}
	return out, resp, nil
}

// All returns an iterator over every row of a list method. Stopping the
// loop stops the requests; an error is yielded once, as the last element.
//
// When the query has no order, or orders by the id field ascending only,
// All runs the fast scan: order by id, filter ">id" after the last row seen,
// start=-1 (no counting), up to 50 pages chained inside one batch request
// through references, so that one HTTP request delivers up to 2,500 rows.
// The first request also fetches the last page (order by id descending),
// which tells the scan where the data ends. The id range in between is
// then split into shards that likely hold a little less than one
// request's rows (from the density of the ids the first request saw),
// scanned concurrently with chained requests, at most the client's
// [WithParallelism] shards ahead of the loop; rows still arrive in id
// order, shard after shard. A scan of n rows takes at most ceil(n/2,500) +
// shards + 1 requests; with evenly spread ids, about ceil(n/2,400) + 1. When the portal reports that pages take long
// (time.duration), fewer pages are chained per request, so that a request
// stays well inside the cloud's 60 s.
//
// With any other order, All pages by offset (start=0, 50, ...), up to 50
// pages per batch request after the first page; rows inserted or deleted
// during such a scan can shift pages.
//
// Memory: the offset scan holds one request's rows (up to 2,500) at a
// time; the fast scan up to twice parallelism requests' rows (shards read
// ahead while earlier ones are yielded). Stopping the loop cancels every
// request in flight and returns once the shards have stopped.
func All[T any](ctx context.Context, c *Client, q Query) iter.Seq2[T, error] {
	q = q.withDefaults()
	return func(yield func(T, error) bool) {
		s := &scan[T]{c: c, q: q, yield: yield}
		var err error
		if fastOrder(q) {
			err = s.fast(ctx)
		} else {
			err = s.offset(ctx)
		}
		if err != nil && !s.stopped {
			var zero T
			yield(zero, err)
		}
	}
}

// fastOrder reports whether q has no order or orders by the id ascending only.
func fastOrder(q Query) bool {
	o, ok := q.Params[q.OrderKey]
	if !ok || o == nil {
		return true
	}
	var m map[string]any
	switch x := o.(type) {
	case Params:
		m = x
	case map[string]any:
		m = x
	case map[string]string:
		m = map[string]any{}
		for k, v := range x {
			m[k] = v
		}
	default:
		return false
	}
	if len(m) == 0 {
		return true
	}
	if len(m) != 1 {
		return false
	}
	for k, v := range m {
		s, _ := v.(string)
		return strings.EqualFold(k, q.IDField) && strings.EqualFold(s, "ASC")
	}
	return false
}

type scan[T any] struct {
	c        *Client
	q        Query
	yield    func(T, error) bool
	stopped  bool
	rows     int
	total    int
	requests int
}

// emit decodes and yields one row; false means stop.
func (s *scan[T]) emit(raw json.RawMessage) (bool, error) {
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		return false, fmt.Errorf("bitrix: %s: decoding row into %T: %w", s.q.Method, v, err)
	}
	s.rows++
	if !s.yield(v, nil) {
		s.stopped = true
		return false, nil
	}
	return true, nil
}

func (s *scan[T]) report() {
	s.c.report(Progress{Method: s.q.Method, Rows: s.rows, Total: s.total, Requests: s.requests, Reason: ReasonPage})
}

// base returns the query's params with select extended by the id field and
// the order and start of the fast scan, plus the filter map to extend.
func (s *scan[T]) base(dir string) (Params, Params) {
	p := s.q.Params.clone()
	p[s.q.OrderKey] = Params{s.q.IDField: dir}
	p["start"] = -1
	filter := Params{}
	switch f := p[s.q.FilterKey].(type) {
	case Params: // clone has made any map[string]any a Params
		filter = f
	case map[string]string:
		for k, v := range f {
			filter[k] = v
		}
	}
	p[s.q.FilterKey] = filter
	if sel, ok := p["select"]; ok {
		p["select"] = withIDSelected(sel, s.q.IDField)
	}
	return p, filter
}

func withIDSelected(sel any, id string) any {
	switch x := sel.(type) {
	case []string:
		for _, f := range x {
			if strings.EqualFold(f, id) || f == "*" {
				return x
			}
		}
		return append(append([]string{}, x...), id)
	case []any:
		for _, f := range x {
			if fs, _ := f.(string); strings.EqualFold(fs, id) || fs == "*" {
				return x
			}
		}
		return append(append([]any{}, x...), id)
	}
	return sel
}

// lower returns the id the scan starts after: the caller's own ">ID" filter, or 0.
func (s *scan[T]) lower() (int64, error) {
	p, _ := s.base("ASC")
	f := p[s.q.FilterKey].(Params)
	for k, v := range f {
		if strings.EqualFold(k, ">"+s.q.IDField) {
			var n Int
			b, _ := json.Marshal(v)
			if err := n.UnmarshalJSON(b); err != nil {
				return 0, fmt.Errorf("bitrix: %s: filter %s must be a number for a full scan", s.q.Method, k)
			}
			delete(f, k)
			return int64(n), nil
		}
	}
	return 0, nil
}

func (s *scan[T]) itemsPath(idx int) []any {
	if s.q.ItemsKey != "" {
		return []any{s.q.ItemsKey, idx, s.q.IDField}
	}
	return []any{idx, s.q.IDField}
}

// cleanFilter removes the caller's keys that the scan sets itself.
func cleanFilter(f Params, id string) {
	for k := range f {
		if strings.EqualFold(k, ">"+id) {
			delete(f, k)
		}
	}
}

// chainBudget is the server time a chained scan request aims at: a third of
// the 60 s a cloud request may run (settings/performance/limits.md: "one
// REST request must finish within 60 seconds ... check the duration field
// in the response time object"). Pages are chained while the time the
// portal reports for them fits.
const chainBudget = 20 * time.Second

// chainPages returns how many pages the next chained request carries,
// given the server time one page took (0: unknown).
func chainPages(perPage time.Duration) int {
	if perPage <= 0 {
		return MaxBatchCommands
	}
	return min(max(int(chainBudget/perPage), 1), MaxBatchCommands)
}

// chain is the answer of one chained request over (lo, hi): its rows below
// hi in id order, the last id, whether the range is exhausted and the
// server time per page.
type chain struct {
	rows    []json.RawMessage
	last    int64
	done    bool
	perPage time.Duration
	err     error
}

// addChain adds n pages chained by reference: ids after lo and (when hi
// is not nil) below hi.
func (s *scan[T]) addChain(b *Batch, lo int64, hi any, n int) []*BatchCmd {
	cmds := make([]*BatchCmd, 0, n)
	for i := 0; i < n; i++ {
		p, f := s.base("ASC")
		cleanFilter(f, s.q.IDField)
		if i == 0 {
			f[">"+s.q.IDField] = lo
		} else {
			f[">"+s.q.IDField] = cmds[i-1].Ref(s.itemsPath(PageSize - 1)...)
		}
		if hi != nil {
			f["<"+s.q.IDField] = hi
		}
		cmds = append(cmds, b.Add(fmt.Sprintf("p%d", i), s.q.Method, p))
	}
	return cmds
}

// readChain collects the rows of chained pages after lo and below hi.
func (s *scan[T]) readChain(cmds []*BatchCmd, lo, hi int64) (*chain, error) {
	ch := &chain{last: lo}
	var spent time.Duration
	for _, cmd := range cmds {
		if err := cmd.Err(); err != nil {
			return nil, err
		}
		if r := cmd.Response(); r != nil {
			spent += r.Time.Duration
		}
		rows, err := splitRows(cmd.Result(), s.q.ItemsKey)
		if err != nil {
			return nil, fmt.Errorf("bitrix: %s: %w", s.q.Method, err)
		}
		for _, r := range rows {
			id, err := rowID(r, s.q.IDField)
			if err != nil {
				return nil, fmt.Errorf("bitrix: %s: %w", s.q.Method, err)
			}
			if id >= hi {
				ch.done = true // the range ends here
				break
			}
			if id <= ch.last {
				return nil, fmt.Errorf("bitrix: %s: the portal returned id %d, not after %d: the method does not support the id cursor; set an order to page by offset", s.q.Method, id, ch.last)
			}
			ch.last = id
			ch.rows = append(ch.rows, r)
		}
		if ch.done || len(rows) < PageSize {
			ch.done = true
			break
		}
	}
	if ch.last+1 >= hi {
		ch.done = true
	}
	if len(cmds) > 0 {
		ch.perPage = spent / time.Duration(len(cmds))
	}
	return ch, nil
}

// fast runs the ID-cursor scan. The first request fetches the last page
// (by descending id, which tells where the data ends) and the first pages
// chained after it. The rest of the id range is then split into shards
// scanned concurrently (see shards); rows are yielded shard by shard, so
// in id order.
func (s *scan[T]) fast(ctx context.Context) error {
	after, err := s.lower()
	if err != nil {
		return err
	}
	first := after
	b := s.c.NewBatch()
	p, f := s.base("DESC")
	cleanFilter(f, s.q.IDField)
	if after > 0 {
		f[">"+s.q.IDField] = after
	}
	tailCmd := b.Add("tail", s.q.Method, p)
	pages := max(chainPages(s.c.callCost(s.q.Method))-1, 1) // cost known from earlier calls, if any
	cmds := s.addChain(b, after, tailCmd.Ref(s.itemsPath(PageSize-1)...), pages)
	if err := b.Run(ctx); err != nil {
		return err
	}
	s.requests++
	if err := tailCmd.Err(); err != nil {
		return err
	}
	tail, err := splitRows(tailCmd.Result(), s.q.ItemsKey)
	if err != nil {
		return fmt.Errorf("bitrix: %s: %w", s.q.Method, err)
	}
	if len(tail) < PageSize {
		// Everything is in the tail page.
		err := s.emitReversed(tail)
		s.report()
		return err
	}
	upper, err := rowID(tail[PageSize-1], s.q.IDField)
	if err != nil {
		return fmt.Errorf("bitrix: %s: %w", s.q.Method, err)
	}
	head, err := s.readChain(cmds, after, upper)
	if err != nil {
		return err
	}
	for _, r := range head.rows {
		if ok, err := s.emit(r); !ok {
			return err
		}
	}
	s.report()
	if !head.done {
		if err := s.shards(ctx, head, first, upper); err != nil || s.stopped {
			return err
		}
	}
	err = s.emitReversed(tail)
	s.report()
	return err
}

// shard is one id range (lo, hi) of a sharded scan.
type shard struct {
	lo, hi int64
	out    chan *chain // the shard's requests, in order; closed at its end
}

// shards scans the ids after head.last and below upper. The range is cut
// into shards that likely hold a little less than one request's rows (from
// the density of the ids the first request saw), so that a shard usually
// takes one request. Shards start in id order, at most parallelism of them
// not yet yielded at a time (a sliding window): that many requests are in
// flight, and at most that many shards' rows wait to be yielded.
func (s *scan[T]) shards(ctx context.Context, head *chain, first, upper int64) error {
	par := s.c.cfg.parallelism
	lo := head.last
	span := upper - lo - 1
	n := int64(1)
	if seen := head.last - first; par > 1 && seen > 0 && span > 0 {
		perShard := int64(chainPages(head.perPage) * PageSize * 24 / 25)
		est := int64(len(head.rows)) * span / seen // rows likely in the range
		n = min(max(1, (est+perShard-1)/perShard), span)
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	list := make([]*shard, n)
	for i := range list {
		list[i] = &shard{lo: lo + span*int64(i)/n, hi: lo + span*int64(i+1)/n + 1, out: make(chan *chain, 1)}
	}
	list[n-1].hi = upper
	window := make(chan struct{}, par)
	wg.Go(func() { // starts the shards in order as the window allows
		for _, sh := range list {
			select {
			case window <- struct{}{}:
			case <-ctx.Done():
				return
			}
			wg.Go(func() { s.runShard(ctx, sh, head.perPage) })
		}
	})
	for i, sh := range list {
		for ch := range sh.out {
			if ch.err != nil {
				return ch.err
			}
			s.requests++
			for _, r := range ch.rows {
				if ok, err := s.emit(r); !ok {
					return err
				}
			}
			if !ch.done || i < len(list)-1 { // the caller reports the end, after the tail
				s.report()
			}
		}
		<-window
	}
	return nil
}

// runShard scans one shard with chained requests, one after another.
func (s *scan[T]) runShard(ctx context.Context, sh *shard, perPage time.Duration) {
	defer close(sh.out)
	cur := sh.lo
	for {
		b := s.c.NewBatch()
		cmds := s.addChain(b, cur, sh.hi, chainPages(perPage))
		err := b.Run(ctx)
		var ch *chain
		if err == nil {
			ch, err = s.readChain(cmds, cur, sh.hi)
		}
		if err != nil {
			ch = &chain{err: err}
		}
		select {
		case sh.out <- ch:
		case <-ctx.Done():
			return
		}
		if ch.err != nil || ch.done {
			return
		}
		cur, perPage = ch.last, ch.perPage
	}
}

func (s *scan[T]) emitReversed(rows []json.RawMessage) error {
	for i := len(rows) - 1; i >= 0; i-- {
		if ok, err := s.emit(rows[i]); !ok {
			return err
		}
	}
	return nil
}

// offset pages with start=0, 50, ...: the first page alone (it tells the
// total), then up to 50 pages per batch request.
func (s *scan[T]) offset(ctx context.Context) error {
	raw, resp, err := s.c.CallRaw(ctx, s.q.Method, s.page(0))
	if err != nil {
		return err
	}
	s.requests++
	s.total = resp.Total
	rows, err := splitRows(raw, s.q.ItemsKey)
	if err != nil {
		return fmt.Errorf("bitrix: %s: %w", s.q.Method, err)
	}
	for _, r := range rows {
		if ok, err := s.emit(r); !ok {
			return err
		}
	}
	s.report()
	next := resp.Next
	for next > 0 {
		b := s.c.NewBatch()
		var cmds []*BatchCmd
		for i := 0; i < MaxBatchCommands; i++ {
			start := next + i*PageSize
			if s.total > 0 && start >= s.total {
				break
			}
			cmds = append(cmds, b.Add("", s.q.Method, s.page(start)))
			if s.total <= 0 {
				break // unknown total: one page at a time
			}
		}
		if err := b.Run(ctx); err != nil {
			return err
		}
		s.requests++
		next = 0
		for _, cmd := range cmds {
			if err := cmd.Err(); err != nil {
				return err
			}
			rows, err := splitRows(cmd.Result(), s.q.ItemsKey)
			if err != nil {
				return fmt.Errorf("bitrix: %s: %w", s.q.Method, err)
			}
			for _, r := range rows {
				if ok, err := s.emit(r); !ok {
					return err
				}
			}
			next = cmd.Response().Next
			if next == 0 {
				break
			}
		}
		s.report()
	}
	return nil
}

func (s *scan[T]) page(start int) Params {
	p := s.q.Params.clone()
	p["start"] = start
	return p
}

// splitRows returns the rows of a list result: the array itself or the
// array under itemsKey; an object keyed by ids yields its values in order;
// [] or null yield none.
func splitRows(raw json.RawMessage, itemsKey string) ([]json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if itemsKey != "" {
		if len(raw) > 0 && raw[0] == '[' && isEmptyJSON(raw) {
			return nil, nil
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("result is not an object with %q: %w", itemsKey, err)
		}
		raw = bytes.TrimSpace(m[itemsKey])
	}
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	switch raw[0] {
	case '[':
		var rows []json.RawMessage
		if err := json.Unmarshal(raw, &rows); err != nil {
			return nil, err
		}
		return rows, nil
	case '{':
		dec := json.NewDecoder(bytes.NewReader(raw))
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		var rows []json.RawMessage
		for dec.More() {
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			var r json.RawMessage
			if err := dec.Decode(&r); err != nil {
				return nil, err
			}
			rows = append(rows, r)
		}
		return rows, nil
	}
	return nil, errors.New("list result is not an array")
}

// rowID reads the integer id field of a row.
func rowID(row json.RawMessage, field string) (int64, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(row, &m); err != nil {
		return 0, fmt.Errorf("row is not an object: %w", err)
	}
	v, ok := m[field]
	if !ok {
		for k, x := range m {
			if strings.EqualFold(k, field) {
				v, ok = x, true
				break
			}
		}
	}
	if !ok {
		return 0, fmt.Errorf("row has no %q field (needed for the id cursor)", field)
	}
	var n Int
	if err := n.UnmarshalJSON(v); err != nil {
		return 0, fmt.Errorf("row field %q: %w", field, err)
	}
	return int64(n), nil
}
