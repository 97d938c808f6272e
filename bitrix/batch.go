package bitrix

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/b24go/sdk/internal/phpform"
)

// MaxBatchCommands is the most commands the portal runs in one batch request.
const MaxBatchCommands = 50

// Batch collects commands to send with the "batch" method. Build it with
// [Client.NewBatch], add commands with [Batch.Add], send with [Batch.Run],
// then read each command's result from its [BatchCmd]. A Batch is not safe
// for concurrent use and runs once.
type Batch struct {
	c     *Client
	halt  bool
	cmds  []*BatchCmd
	names map[string]*BatchCmd
	err   error
	ran   bool
}

// BatchCmd is one command of a Batch.
type BatchCmd struct {
	b      *Batch
	index  int
	name   string
	method string
	query  string
	deps   []string
	result json.RawMessage
	resp   *Response
	err    error
}

// Ref is a reference to (part of) the result of an earlier command in the
// same batch: $result[name][p0][p1]... Put it anywhere inside the params of a
// later command, as a value; the portal substitutes the referenced value.
type Ref struct {
	kind string // result, next, total, time, error
	name string
	path []string
}

// NewBatch returns an empty batch that runs on c.
func (c *Client) NewBatch() *Batch {
	return &Batch{c: c, names: map[string]*BatchCmd{}}
}

// Halt makes the portal stop at the first failing command (halt=1);
// commands after it fail with ErrNotRun.
func (b *Batch) Halt() *Batch {
	b.halt = true
	return b
}

// Len returns the number of commands.
func (b *Batch) Len() int { return len(b.cmds) }

var batchNameRe = regexp.MustCompile(`^[A-Za-z0-9_\-]{1,64}$`)

// Add appends a command. name "" generates one ("cmd_0", "cmd_1", ...).
// params are encoded like [Client.Call]'s (json.RawMessage is not allowed
// here: batch commands are form strings). Errors (a duplicate or invalid
// name, params that cannot be encoded) are reported by Run.
func (b *Batch) Add(name, method string, params any) *BatchCmd {
	cmd := &BatchCmd{b: b, index: len(b.cmds), name: name, method: method}
	if name == "" {
		for i := len(b.cmds); ; i++ {
			name = "cmd_" + strconv.Itoa(i)
			if b.names[name] == nil {
				break
			}
		}
		cmd.name = name
	}
	b.cmds = append(b.cmds, cmd)
	fail := func(err error) *BatchCmd {
		if b.err == nil {
			b.err = err
		}
		cmd.err = err
		return cmd
	}
	if !batchNameRe.MatchString(name) {
		return fail(fmt.Errorf("bitrix: batch command name %.40q: use letters, digits, _ and - only", name))
	}
	if b.names[name] != nil {
		return fail(fmt.Errorf("bitrix: duplicate batch command name %q", name))
	}
	b.names[name] = cmd
	if err := checkMethod(method); err != nil {
		return fail(err)
	}
	if strings.EqualFold(method, "batch") {
		return fail(errors.New("bitrix: a batch cannot contain a batch"))
	}
	q, deps, err := encodeCommand(params)
	if err != nil {
		return fail(fmt.Errorf("bitrix: batch command %q (%s): %w", name, method, err))
	}
	cmd.query, cmd.deps = q, deps
	return cmd
}

var refRe = regexp.MustCompile(`\$(?i:result|next|total|time|error)\[([^\]]*)\]`)

// encodeCommand returns the http_build_query string of params and the names
// of the commands it references.
func encodeCommand(params any) (string, []string, error) {
	switch params.(type) {
	case nil:
		return "", nil, nil
	case json.RawMessage:
		return "", nil, errors.New("json.RawMessage params cannot be used in a batch")
	}
	pairs, err := phpform.Flatten(plainValue(params))
	if err != nil {
		return "", nil, err
	}
	var deps []string
	seen := map[string]bool{}
	for _, p := range pairs {
		for _, m := range refRe.FindAllStringSubmatch(p.Value, -1) {
			if !seen[m[1]] {
				seen[m[1]] = true
				deps = append(deps, m[1])
			}
		}
	}
	return phpform.Join(pairs), deps, nil
}

// Name returns the command's name in the batch.
func (cmd *BatchCmd) Name() string { return cmd.name }

// Method returns the command's REST method.
func (cmd *BatchCmd) Method() string { return cmd.method }

// Ref returns a reference to the command's result, or to a part of it:
// cmd.Ref("ID") is $result[name][ID], cmd.Ref("items", 49, "id") is
// $result[name][items][49][id].
func (cmd *BatchCmd) Ref(path ...any) Ref {
	return Ref{kind: "result", name: cmd.name, path: refPath(path)}
}

// NextRef returns $next[name], the command's next-page start.
func (cmd *BatchCmd) NextRef() Ref { return Ref{kind: "next", name: cmd.name} }

// TotalRef returns $total[name], the command's total.
func (cmd *BatchCmd) TotalRef() Ref { return Ref{kind: "total", name: cmd.name} }

func refPath(path []any) []string {
	out := make([]string, len(path))
	for i, p := range path {
		out[i] = fmt.Sprint(p)
	}
	return out
}

// String returns the reference syntax, e.g. "$result[deal][ID]".
func (r Ref) String() string {
	var b strings.Builder
	b.WriteString("$")
	b.WriteString(r.kind)
	b.WriteString("[")
	b.WriteString(r.name)
	b.WriteString("]")
	for _, p := range r.path {
		b.WriteString("[")
		b.WriteString(p)
		b.WriteString("]")
	}
	return b.String()
}

// MarshalJSON writes the reference string, so Refs work inside structs too.
func (r Ref) MarshalJSON() ([]byte, error) { return json.Marshal(r.String()) }

// MarshalText writes the reference string.
func (r Ref) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// Err returns the command's error: nil after success, an *APIError from
// result_error, ErrNotRun when it did not run (halted batch, batch not run),
// or the batch request's failure.
func (cmd *BatchCmd) Err() error {
	if cmd.err == nil && !cmd.b.ran {
		return ErrNotRun
	}
	return cmd.err
}

// Result returns the command's raw result (nil if it failed).
func (cmd *BatchCmd) Result() json.RawMessage { return cmd.result }

// Response returns the command's total, next and time (nil if it failed).
func (cmd *BatchCmd) Response() *Response { return cmd.resp }

// Decode decodes the command's result into out, or returns its Err.
func (cmd *BatchCmd) Decode(out any) error {
	if err := cmd.Err(); err != nil {
		return err
	}
	if err := json.Unmarshal(cmd.result, out); err != nil {
		return fmt.Errorf("bitrix: batch command %q (%s): decoding result into %T: %w", cmd.name, cmd.method, out, err)
	}
	return nil
}

// plan splits the commands into requests of at most MaxBatchCommands,
// keeping every command in the same request as the commands it references.
func (b *Batch) plan() ([][]*BatchCmd, error) {
	parent := make([]int, len(b.cmds))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	for _, cmd := range b.cmds {
		for _, d := range cmd.deps {
			dep := b.names[d]
			if dep == nil {
				return nil, fmt.Errorf("bitrix: batch command %q references unknown command %q", cmd.name, d)
			}
			if dep.index >= cmd.index {
				return nil, fmt.Errorf("bitrix: batch command %q references %q, which is not an earlier command", cmd.name, d)
			}
			parent[find(cmd.index)] = find(dep.index)
		}
	}
	groups := map[int][]*BatchCmd{}
	var order []int
	for _, cmd := range b.cmds {
		r := find(cmd.index)
		if groups[r] == nil {
			order = append(order, r)
		}
		groups[r] = append(groups[r], cmd)
	}
	var chunks [][]*BatchCmd
	var cur []*BatchCmd
	for _, r := range order {
		g := groups[r]
		if len(g) > MaxBatchCommands {
			return nil, fmt.Errorf("bitrix: %d batch commands reference each other (starting with %q); at most %d fit in one request",
				len(g), g[0].name, MaxBatchCommands)
		}
		if len(cur)+len(g) > MaxBatchCommands {
			chunks = append(chunks, cur)
			cur = nil
		}
		cur = append(cur, g...)
	}
	if len(cur) > 0 {
		chunks = append(chunks, cur)
	}
	for _, ch := range chunks {
		sort.Slice(ch, func(i, j int) bool { return ch[i].index < ch[j].index })
	}
	return chunks, nil
}

// Run sends the commands (in several requests when there are more than
// MaxBatchCommands) and records each command's result. Per-command failures
// are in each BatchCmd's Err.
//
// The requests of a batch are independent (commands that reference each
// other travel in the same request), so Run sends them concurrently: at
// most [WithParallelism] requests in flight (default
// [DefaultParallelism]), each through the client's rate limiter. A request
// that fails does not stop the others: its commands get its error (one
// matching [ErrMaybeApplied] when a write's outcome is unknown; a request
// that never reached the portal is first retried under the [RetryPolicy]),
// and the other requests are still sent. Run returns the error of the first
// failed request in command order, or nil.
//
// With [Batch.Halt], Run sends one request at a time and stops at the first
// failed command or request; the commands after it get [ErrNotRun].
//
// Commands of a request that was never sent because ctx ended get an error
// matching both ErrNotRun and the context's error.
func (b *Batch) Run(ctx context.Context) error {
	if b.ran {
		return errors.New("bitrix: batch already run")
	}
	if b.err != nil {
		return b.err
	}
	chunks, err := b.plan()
	if err != nil {
		return err
	}
	b.ran = true
	for _, cmd := range b.cmds {
		cmd.err = ErrNotRun
	}
	if b.halt {
		for _, ch := range chunks {
			if ctx.Err() != nil {
				b.notSent(ctx, ch)
				continue
			}
			failed, err := b.runChunk(ctx, ch)
			if err != nil {
				for _, cmd := range ch {
					cmd.err = err
				}
				return err
			}
			if failed {
				return nil
			}
		}
		return nil
	}
	errs := make([]error, len(chunks))
	b.c.parallel(len(chunks), func(i int) {
		if ctx.Err() != nil {
			b.notSent(ctx, chunks[i])
			return
		}
		if _, err := b.runChunk(ctx, chunks[i]); err != nil {
			for _, cmd := range chunks[i] {
				cmd.err = err
			}
			errs[i] = err
		}
	})
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// DefaultParallelism is how many requests one [Batch.Run], bulk operation
// or full scan keeps in flight unless [WithParallelism] says otherwise. The
// portal's rate limit counts requests, not requests in flight, and its
// bucket lets a burst of 50 arrive at once ([request limits]: "several
// calls arrive simultaneously"); 8 in flight send the 20 requests of 1,000
// adds in three round trips.
//
// [request limits]: https://apidocs.bitrix24.com/settings/performance/limits.html
const DefaultParallelism = 8

// parallel runs fn(0) ... fn(n-1), starting them in order, at most the
// client's parallelism at a time, and returns when all have returned.
func (c *Client) parallel(n int, fn func(i int)) {
	workers := min(c.cfg.parallelism, n)
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
}

// notSent marks the commands of a request that was not sent because ctx ended.
func (b *Batch) notSent(ctx context.Context, ch []*BatchCmd) {
	err := &notSentError{ctx.Err()}
	for _, cmd := range ch {
		cmd.err = err
	}
}

// notSentError is the error of a command whose request was never sent.
type notSentError struct{ cause error }

func (e *notSentError) Error() string   { return "bitrix: batch command not sent: " + e.cause.Error() }
func (e *notSentError) Unwrap() []error { return []error{ErrNotRun, e.cause} }

func (b *Batch) runChunk(ctx context.Context, ch []*BatchCmd) (failed bool, err error) {
	cmds := phpform.NewMap()
	readOnly := true
	for _, cmd := range ch {
		s := cmd.method
		if cmd.query != "" {
			s += "?" + cmd.query
		}
		cmds.Set(cmd.name, s)
		if !b.c.retry.ReadOnly(cmd.method) {
			readOnly = false
		}
	}
	top := phpform.NewMap()
	if b.halt {
		top.Set("halt", "1")
	} else {
		top.Set("halt", "0")
	}
	top.Set("cmd", cmds)
	form, err := phpform.Encode(top)
	if err != nil {
		return false, err
	}
	calls := map[string]int{}
	for _, cmd := range ch {
		calls[strings.ToLower(cmd.method)]++
	}
	release, err := b.c.paceOperating(ctx, calls)
	if err != nil {
		return false, err
	}
	defer release()
	ctx, call := b.c.startCall(ctx, "batch", len(ch), readOnly)
	defer func() { b.c.endCall(ctx, call, err) }()
	env, err := b.c.do(ctx, "batch", len(ch), []byte(form), ctypeForm, readOnly)
	if err != nil {
		return false, err
	}
	res, err := decodeBatchResult(env.Result)
	if err != nil {
		return false, &ResponseError{StatusCode: env.status, Method: "batch", Snippet: b.c.red.snippet(env.Result, 200), Err: err}
	}
	for _, cmd := range ch {
		if raw, ok := res.Errors[cmd.name]; ok {
			e := b.c.redactAPI(batchError(cmd.method, raw))
			if errors.Is(e, ErrOperationTimeLimit) {
				b.c.blockMethod(ctx, cmd.method)
			}
			cmd.err = e
			failed = true
			b.c.observeCommand(ctx, cmd)
			continue
		}
		raw, ok := res.Results[cmd.name]
		if !ok {
			cmd.err = ErrNotRun
			b.c.observeCommand(ctx, cmd)
			continue
		}
		r := &Response{StatusCode: env.status}
		if v, ok := res.Totals[cmd.name]; ok {
			var n Int
			_ = n.UnmarshalJSON(v)
			r.Total = int(n)
		}
		if v, ok := res.Nexts[cmd.name]; ok {
			var n Int
			_ = n.UnmarshalJSON(v)
			r.Next = int(n)
		}
		if v, ok := res.Times[cmd.name]; ok {
			_ = r.Time.UnmarshalJSON(v)
			if !r.Time.OperatingResetAt.IsZero() {
				b.c.resetAt.Store(strings.ToLower(cmd.method), r.Time.OperatingResetAt)
			}
			b.c.op.observe(cmd.method, r.Time)
			b.c.observeTiming(ctx, cmd.method, r.Time)
		}
		cmd.result, cmd.resp, cmd.err = raw, r, nil
		b.c.observeCommand(ctx, cmd)
	}
	return failed, nil
}

func batchError(method string, raw json.RawMessage) *APIError {
	var w struct {
		Error            json.RawMessage `json:"error"`
		ErrorDescription json.RawMessage `json:"error_description"`
		Argument         json.RawMessage `json:"argument"`
	}
	if json.Unmarshal(raw, &w) != nil || w.Error == nil {
		// A bare string or an unexpected shape: keep it as the description.
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return &APIError{Method: method, Description: s}
		}
		return &APIError{Method: method, Description: string(raw)}
	}
	return apiErrorFrom(method, 0, w.Error, w.ErrorDescription, w.Argument)
}

// batchResult is the "result" of a batch answer.
type batchResult struct {
	Results, Errors, Totals, Nexts, Times map[string]json.RawMessage
}

// decodeBatchResult parses {"result":..., "result_error":..., ...}; each
// map may be an object, a JSON array (numeric keys) or [] when empty.
func decodeBatchResult(raw json.RawMessage) (*batchResult, error) {
	var w struct {
		Result json.RawMessage `json:"result"`
		Error  json.RawMessage `json:"result_error"`
		Total  json.RawMessage `json:"result_total"`
		Next   json.RawMessage `json:"result_next"`
		Time   json.RawMessage `json:"result_time"`
	}
	trim := bytes.TrimSpace(raw)
	if len(trim) == 0 || trim[0] != '{' {
		return nil, errors.New("batch result is not an object")
	}
	if err := json.Unmarshal(trim, &w); err != nil {
		return nil, err
	}
	out := &batchResult{}
	var err error
	for _, f := range []struct {
		raw json.RawMessage
		dst *map[string]json.RawMessage
	}{{w.Result, &out.Results}, {w.Error, &out.Errors}, {w.Total, &out.Totals}, {w.Next, &out.Nexts}, {w.Time, &out.Times}} {
		if *f.dst, err = flexObject(f.raw); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// flexObject decodes an object, an array (keys "0".."n-1"), [] or null.
func flexObject(raw json.RawMessage) (map[string]json.RawMessage, error) {
	trim := bytes.TrimSpace(raw)
	out := map[string]json.RawMessage{}
	if len(trim) == 0 || string(trim) == "null" {
		return out, nil
	}
	switch trim[0] {
	case '[':
		var list []json.RawMessage
		if err := json.Unmarshal(trim, &list); err != nil {
			return nil, err
		}
		for i, v := range list {
			out[strconv.Itoa(i)] = v
		}
	case '{':
		if err := json.Unmarshal(trim, &out); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("want an object or array, got %.20s", trim)
	}
	return out, nil
}
