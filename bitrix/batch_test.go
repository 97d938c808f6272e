package bitrix_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/internal/phpform"
	"github.com/google/go-cmp/cmp"
)

func TestBatchReferencesOnFakePortal(t *testing.T) {
	t.Parallel()
	srv, c := fakePortalClient(t, 0)
	b := c.NewBatch()
	add := b.Add("add", "crm.deal.add", bitrix.Params{"fields": bitrix.Params{"TITLE": "From batch", "OPPORTUNITY": 250}})
	type getParams struct {
		ID bitrix.Ref `json:"id"`
	}
	get := b.Add("get", "crm.deal.get", getParams{ID: add.Ref()})
	list := b.Add("", "crm.deal.list", bitrix.Params{"filter": bitrix.Params{"ID": add.Ref()}, "select": []string{"ID", "TITLE"}})
	if err := b.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	var id int
	if err := add.Decode(&id); err != nil || id == 0 {
		t.Fatalf("add: %v %d", err, id)
	}
	var deal struct {
		ID    bitrix.Int `json:"ID"`
		Title string     `json:"TITLE"`
	}
	if err := get.Decode(&deal); err != nil {
		t.Fatal(err)
	}
	if int(deal.ID) != id || deal.Title != "From batch" {
		t.Errorf("deal = %+v", deal)
	}
	var rows []dealRow
	if err := list.Decode(&rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || int(rows[0].ID) != id || list.Response().Total != 1 || list.Name() != "cmd_2" {
		t.Errorf("list = %+v total %d name %q", rows, list.Response().Total, list.Name())
	}
	if srv.Requests() != 1 {
		t.Errorf("requests = %d", srv.Requests())
	}
}

func TestBatchHaltOnFakePortal(t *testing.T) {
	t.Parallel()
	_, c := fakePortalClient(t, 1)
	b := c.NewBatch().Halt()
	first := b.Add("", "crm.deal.get", bitrix.Params{"id": 1})
	bad := b.Add("", "crm.deal.get", bitrix.Params{"id": 999})
	after := b.Add("", "crm.deal.get", bitrix.Params{"id": 1})
	if err := b.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	if first.Err() != nil {
		t.Errorf("first: %v", first.Err())
	}
	if !errors.Is(bad.Err(), bitrix.ErrNotFound) {
		t.Errorf("bad: %v", bad.Err())
	}
	var ae *bitrix.APIError
	if !errors.As(bad.Err(), &ae) || ae.Method != "crm.deal.get" {
		t.Errorf("bad: %#v", bad.Err())
	}
	if !errors.Is(after.Err(), bitrix.ErrNotRun) {
		t.Errorf("after halt: %v", after.Err())
	}
	var v any
	if err := after.Decode(&v); !errors.Is(err, bitrix.ErrNotRun) {
		t.Errorf("Decode: %v", err)
	}
}

// batchPortal records each batch request's commands and answers with
// results named after the commands. Batch.Run sends its requests in
// parallel, so the records are kept under the portal's mutex.
type batchPortal struct {
	*portal
	requests [][]string // command names per request
	cmds     map[string]string
}

// sent returns the command names of each request so far.
func (bp *batchPortal) sent() [][]string {
	bp.mu.Lock()
	defer bp.mu.Unlock()
	return append([][]string(nil), bp.requests...)
}

// cmd returns the encoded command sent under name.
func (bp *batchPortal) cmd(name string) string {
	bp.mu.Lock()
	defer bp.mu.Unlock()
	return bp.cmds[name]
}

func newBatchPortal(t *testing.T) *batchPortal {
	bp := &batchPortal{portal: newPortal(t), cmds: map[string]string{}}
	bp.handle("batch", func(w http.ResponseWriter, r recorded) {
		cmd := r.Form.Map("cmd")
		var names []string
		res := map[string]any{}
		bp.mu.Lock()
		for _, k := range cmd.Keys() {
			names = append(names, k)
			bp.cmds[k] = cmd.String(k)
			res[k] = "ok:" + k
		}
		bp.requests = append(bp.requests, names)
		bp.mu.Unlock()
		ok(map[string]any{"result": res, "result_error": []any{}, "result_total": []any{}, "result_next": []any{}, "result_time": []any{}})(w, r)
	})
	return bp
}

func TestBatchSplitKeepsReferenceGroups(t *testing.T) {
	t.Parallel()
	bp := newBatchPortal(t)
	c := newWebhookClient(t, bp.portal)
	b := c.NewBatch()
	groups := map[string]string{} // command -> group
	var chain *bitrix.BatchCmd
	for i := 0; i < 120; i++ {
		switch {
		case i%4 == 0: // a chain of 30 commands, each referencing the previous
			var p bitrix.Params
			if chain != nil {
				p = bitrix.Params{"id": chain.Ref("ID"), "nested": bitrix.Params{"x": []any{chain.Ref(0, "ID")}}}
			}
			chain = b.Add(fmt.Sprintf("chain%d", i), "crm.deal.get", p)
			groups[chain.Name()] = "chain"
		case i%4 == 1 && i > 100: // pairs referencing a root
			root := b.Add(fmt.Sprintf("root%d", i), "crm.deal.get", nil)
			ref := b.Add(fmt.Sprintf("ref%d", i), "crm.deal.get", bitrix.Params{"filter": bitrix.Params{"=ID": root.Ref()}})
			groups[root.Name()], groups[ref.Name()] = root.Name(), root.Name()
			i++
		default:
			cmd := b.Add("", "crm.deal.get", bitrix.Params{"id": i})
			groups[cmd.Name()] = cmd.Name()
		}
	}
	if err := b.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	where := map[string]int{}
	total := 0
	for i, req := range bp.sent() {
		if len(req) > bitrix.MaxBatchCommands {
			t.Errorf("request %d has %d commands", i, len(req))
		}
		for _, n := range req {
			where[n] = i
		}
		total += len(req)
	}
	if total != b.Len() || len(bp.sent()) != 3 {
		t.Errorf("sent %d commands in %d requests, want %d in 3", total, len(bp.sent()), b.Len())
	}
	byGroup := map[string]int{}
	for name, g := range groups {
		if req, seen := byGroup[g]; seen && req != where[name] {
			t.Errorf("group %s split across requests %d and %d", g, req, where[name])
		}
		byGroup[g] = where[name]
	}
	// The reference strings are double-decoded correctly by the portal side.
	// Commands are http_build_query strings; the portal's parse_str decodes them.
	if got := bp.cmd("chain4"); got != "crm.deal.get?id=%24result%5Bchain0%5D%5BID%5D&nested%5Bx%5D%5B0%5D=%24result%5Bchain0%5D%5B0%5D%5BID%5D" {
		t.Errorf("chain4 command = %q", got)
	}
	// Every command got its result.
	var s string
	if err := chain.Decode(&s); err != nil || s != "ok:"+chain.Name() {
		t.Errorf("chain result %q %v", s, err)
	}
}

func TestBatchBuildErrors(t *testing.T) {
	t.Parallel()
	bp := newBatchPortal(t)
	c := newWebhookClient(t, bp.portal)
	tests := []struct {
		name  string
		build func(b *bitrix.Batch)
		want  string
	}{
		{"group over 50", func(b *bitrix.Batch) {
			prev := b.Add("", "crm.deal.get", nil)
			for i := 0; i < 50; i++ {
				prev = b.Add("", "crm.deal.get", bitrix.Params{"id": prev.Ref("ID")})
			}
		}, "51 batch commands reference each other"},
		{"unknown reference", func(b *bitrix.Batch) {
			b.Add("a", "crm.deal.get", bitrix.Params{"id": "$result[zzz][ID]"})
		}, `references unknown command "zzz"`},
		{"forward reference", func(b *bitrix.Batch) {
			b.Add("a", "crm.deal.get", bitrix.Params{"id": "$result[b][ID]"})
			b.Add("b", "crm.deal.get", nil)
		}, "not an earlier command"},
		{"duplicate name", func(b *bitrix.Batch) {
			b.Add("a", "crm.deal.get", nil)
			b.Add("a", "crm.deal.get", nil)
		}, "duplicate batch command name"},
		{"bad name", func(b *bitrix.Batch) { b.Add("a[b]", "crm.deal.get", nil) }, "letters, digits"},
		{"nested batch", func(b *bitrix.Batch) { b.Add("", "batch", nil) }, "cannot contain a batch"},
		{"raw json", func(b *bitrix.Batch) { b.Add("", "x.get", json.RawMessage(`{}`)) }, "cannot be used in a batch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := c.NewBatch()
			tt.build(b)
			err := b.Run(t.Context())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	if len(bp.sent()) != 0 {
		t.Errorf("invalid batches sent %d requests", len(bp.sent()))
	}
	// An empty batch sends nothing.
	if err := c.NewBatch().Run(t.Context()); err != nil || len(bp.sent()) != 0 {
		t.Errorf("empty batch: %v, %d requests", err, len(bp.sent()))
	}
}

// TestBatchAnswerShapes decodes the documented batch answers.
func TestBatchAnswerShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file  string
		names []string
		check func(t *testing.T, cmds []*bitrix.BatchCmd)
	}{
		{"resp_batch.json", []string{"get_user", "get_department"}, func(t *testing.T, cmds []*bitrix.BatchCmd) {
			var user struct {
				ID   bitrix.Int `json:"ID"`
				NAME string     `json:"NAME"`
			}
			if err := cmds[0].Decode(&user); err != nil || user.ID != 1 {
				t.Errorf("user %+v %v", user, err)
			}
			if cmds[1].Response().Total != 1 || cmds[0].Response().Time.Duration <= 0 || cmds[0].Response().Time.DateStart == "" {
				t.Errorf("meta: %+v / %+v", cmds[1].Response(), cmds[0].Response())
			}
		}},
		{"resp_batch_error_halt1.json", []string{"get_user", "get_department"}, func(t *testing.T, cmds []*bitrix.BatchCmd) {
			if !errors.Is(cmds[0].Err(), bitrix.ErrInsufficientScope) {
				t.Errorf("get_user: %v", cmds[0].Err())
			}
			if !errors.Is(cmds[1].Err(), bitrix.ErrNotRun) {
				t.Errorf("get_department: %v", cmds[1].Err())
			}
		}},
		{"resp_batch_short.json", []string{"get_user"}, func(t *testing.T, cmds []*bitrix.BatchCmd) {
			if cmds[0].Err() != nil || !strings.Contains(string(cmds[0].Result()), "Klaus") {
				t.Errorf("short: %v %s", cmds[0].Err(), cmds[0].Result())
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			body, err := os.ReadFile("testdata/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			p := newPortal(t)
			p.handle("batch", func(w http.ResponseWriter, _ recorded) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(body)
			})
			c := newWebhookClient(t, p)
			b := c.NewBatch()
			var cmds []*bitrix.BatchCmd
			for _, n := range tt.names {
				cmds = append(cmds, b.Add(n, "user.current", nil))
			}
			if err := b.Run(t.Context()); err != nil {
				t.Fatal(err)
			}
			tt.check(t, cmds)
		})
	}
}

func TestBatchNumericNamesArrayResult(t *testing.T) {
	t.Parallel()
	p := newPortal(t)
	p.handle("batch", ok(map[string]any{
		"result":       []any{map[string]any{"ID": "5"}, []any{}},
		"result_error": map[string]any{"2": map[string]any{"error": "OPERATION_TIME_LIMIT", "error_description": "Method is blocked due to operation time limit."}},
		"result_total": []any{}, "result_next": []any{}, "result_time": []any{},
	}))
	c := newWebhookClient(t, p)
	b := c.NewBatch()
	c0 := b.Add("0", "crm.deal.get", nil)
	c1 := b.Add("1", "crm.item.delete", nil)
	c2 := b.Add("2", "crm.deal.list", nil)
	if err := b.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	if string(c0.Result()) != `{"ID":"5"}` || string(c1.Result()) != `[]` {
		t.Errorf("results %s %s", c0.Result(), c1.Result())
	}
	if !errors.Is(c2.Err(), bitrix.ErrOperationTimeLimit) {
		t.Errorf("c2 = %v", c2.Err())
	}
}

func TestBatchRequestFailureMarksCommands(t *testing.T) {
	t.Parallel()
	p := newPortal(t)
	p.handle("batch", func(w http.ResponseWriter, _ recorded) {
		w.WriteHeader(502)
		_, _ = w.Write([]byte(html502))
	})
	c := newWebhookClient(t, p, bitrix.WithRetryPolicy(bitrix.NoRetries()))
	b := c.NewBatch()
	w := b.Add("", "crm.deal.add", bitrix.Params{"fields": bitrix.Params{"TITLE": "x"}})
	var gets []*bitrix.BatchCmd
	for i := 0; i < 60; i++ {
		gets = append(gets, b.Add("", "crm.deal.get", bitrix.Params{"id": i}))
	}
	err := b.Run(t.Context())
	if !errors.Is(err, bitrix.ErrMaybeApplied) {
		t.Fatalf("err = %v: a batch with a write and no answer may have been applied", err)
	}
	if !errors.Is(w.Err(), bitrix.ErrMaybeApplied) {
		t.Errorf("write cmd err = %v", w.Err())
	}
	// The second request was still sent (it does not depend on the first);
	// its reads failed with the proxy's answer, not as maybe applied.
	if n := len(p.recorded()); n != 2 {
		t.Errorf("requests = %d, want 2", n)
	}
	if g := gets[59].Err(); !errors.Is(g, bitrix.ErrBadResponse) || errors.Is(g, bitrix.ErrMaybeApplied) {
		t.Errorf("read in the second request: err = %v, want the bad answer (not maybe applied)", g)
	}
	if err := b.Run(t.Context()); err == nil {
		t.Error("second Run: want an error")
	}
}

func TestBatchEncodesFormWithHalt(t *testing.T) {
	t.Parallel()
	bp := newBatchPortal(t)
	c := newWebhookClient(t, bp.portal)
	b := c.NewBatch().Halt()
	b.Add("a", "crm.deal.add", bitrix.Params{"fields": bitrix.Params{"TITLE": "John&Martin", "PHONE": []any{bitrix.Params{"VALUE": "+1 555", "VALUE_TYPE": "WORK"}}}})
	if err := b.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	r := bp.recorded()[0]
	if r.Form.String("halt") != "1" {
		t.Errorf("halt = %q", r.Form.String("halt"))
	}
	cmd := bp.cmd("a")
	method, query, _ := strings.Cut(cmd, "?")
	tree, err := phpform.Parse(query)
	if err != nil {
		t.Fatal(err)
	}
	got := phpform.Plain(tree)
	want := map[string]any{"fields": map[string]any{"TITLE": "John&Martin", "PHONE": []any{map[string]any{"VALUE": "+1 555", "VALUE_TYPE": "WORK"}}}}
	if diff := cmp.Diff(want, got); diff != "" || method != "crm.deal.add" {
		t.Errorf("command %q (-want +got):\n%s", method, diff)
	}
	// The outer form is double-encoded: & inside the command is %2526 on the wire.
	if !strings.Contains(r.Body, "John%2526Martin") {
		t.Errorf("body not double-encoded: %s", r.Body)
	}
}

var _ = bitrixtest.NewServer

// TestBatchKeepsGoing: one failed request (a proxy's 502 to the second of
// three) leaves its own commands unknown and the other requests' commands
// done; nothing is left unsent.
func TestBatchKeepsGoing(t *testing.T) {
	t.Parallel()
	p := newPortal(t)
	p.handle("batch", func(w http.ResponseWriter, r recorded) {
		cmd := r.Form.Map("cmd")
		if _, bad := cmd.Get("cmd_50"); bad {
			w.WriteHeader(502)
			_, _ = w.Write([]byte(html502))
			return
		}
		res := map[string]any{}
		for _, k := range cmd.Keys() {
			res[k] = 1
		}
		ok(map[string]any{"result": res, "result_error": []any{}, "result_total": []any{}, "result_next": []any{}, "result_time": []any{}})(w, r)
	})
	c := newWebhookClient(t, p)
	b := c.NewBatch()
	var cmds []*bitrix.BatchCmd
	for i := range 150 {
		cmds = append(cmds, b.Add("", "crm.deal.add", bitrix.Params{"fields": bitrix.Params{"TITLE": i}}))
	}
	if err := b.Run(t.Context()); !errors.Is(err, bitrix.ErrMaybeApplied) {
		t.Fatalf("Run = %v, want the failed request's ErrMaybeApplied", err)
	}
	for i, cmd := range cmds {
		unknown := i >= 50 && i < 100
		if err := cmd.Err(); unknown != errors.Is(err, bitrix.ErrMaybeApplied) || !unknown && err != nil {
			t.Fatalf("command %d: err = %v", i, err)
		}
	}
	if n := len(p.recorded()); n != 3 {
		t.Errorf("requests = %d, want 3", n)
	}
}

// TestBatchHaltStopsAtFailedRequest: with Halt, requests go one at a time
// and a failed command stops the rest.
func TestBatchHaltStopsAtFailedRequest(t *testing.T) {
	t.Parallel()
	p := newPortal(t)
	p.handle("batch", func(w http.ResponseWriter, r recorded) {
		cmd := r.Form.Map("cmd")
		res, errs := map[string]any{}, map[string]any{}
		for _, k := range cmd.Keys() {
			if k == "cmd_60" {
				errs[k] = map[string]any{"error": "NOT_FOUND", "error_description": "Not found"}
				break
			}
			res[k] = 1
		}
		ok(map[string]any{"result": res, "result_error": errs, "result_total": []any{}, "result_next": []any{}, "result_time": []any{}})(w, r)
	})
	c := newWebhookClient(t, p)
	b := c.NewBatch().Halt()
	var cmds []*bitrix.BatchCmd
	for i := range 150 {
		cmds = append(cmds, b.Add("", "crm.deal.get", bitrix.Params{"id": i}))
	}
	if err := b.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := len(p.recorded()); n != 2 {
		t.Errorf("requests = %d, want 2 (the third is after the halt)", n)
	}
	if !errors.Is(cmds[60].Err(), bitrix.ErrNotFound) || !errors.Is(cmds[61].Err(), bitrix.ErrNotRun) || !errors.Is(cmds[120].Err(), bitrix.ErrNotRun) || cmds[59].Err() != nil {
		t.Errorf("errs: 59 %v, 60 %v, 61 %v, 120 %v", cmds[59].Err(), cmds[60].Err(), cmds[61].Err(), cmds[120].Err())
	}
}

// TestBatchParallelism: the requests of a batch are in flight together, at
// most WithParallelism (default 8) at a time.
func TestBatchParallelism(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		opts []bitrix.Option
		peak int
		took time.Duration
	}{
		{nil, bitrix.DefaultParallelism, 3 * time.Second}, // 20 requests: 8, 8, 4
		{[]bitrix.Option{bitrix.WithParallelism(3)}, 3, 7 * time.Second},
		{[]bitrix.Option{bitrix.WithParallelism(1)}, 1, 20 * time.Second},
	} {
		t.Run(fmt.Sprint(tc.peak), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newMemPortal(t)
				var mu sync.Mutex
				inFlight, peak := 0, 0
				p.handle("batch", func(w http.ResponseWriter, r recorded) {
					mu.Lock()
					inFlight++
					peak = max(peak, inFlight)
					mu.Unlock()
					time.Sleep(time.Second)
					mu.Lock()
					inFlight--
					mu.Unlock()
					res := map[string]any{}
					for _, k := range r.Form.Map("cmd").Keys() {
						res[k] = k
					}
					ok(map[string]any{"result": res})(w, r)
				})
				c := newMemClient(t, p, tc.opts...)
				b := c.NewBatch()
				var cmds []*bitrix.BatchCmd
				for i := range 1000 {
					cmds = append(cmds, b.Add("", "crm.deal.get", bitrix.Params{"id": i}))
				}
				start := time.Now()
				if err := b.Run(t.Context()); err != nil {
					t.Fatal(err)
				}
				if el := time.Since(start); el != tc.took || peak != tc.peak {
					t.Errorf("took %v with %d in flight, want %v with %d", el, peak, tc.took, tc.peak)
				}
				for i, cmd := range cmds {
					var name string
					if err := cmd.Decode(&name); err != nil || name != cmd.Name() || cmd.Name() != fmt.Sprintf("cmd_%d", i) {
						t.Fatalf("command %d: %q %v", i, name, err)
					}
				}
			})
		})
	}
}

// limitOncePortal answers server.time with QUERY_LIMIT_EXCEEDED once,
// then after 1 s with the time, and counts the requests in flight. For
// synctest bubbles (it is a memory portal).
type limitOncePortal struct {
	*portal
	limitAt               time.Time // when the QUERY_LIMIT_EXCEEDED answer went
	inFlight, peak, calls int       // under portal.mu
}

func newLimitOncePortal(t *testing.T) *limitOncePortal {
	lp := &limitOncePortal{portal: newMemPortal(t)}
	lp.handle("server.time", func(w http.ResponseWriter, r recorded) {
		lp.mu.Lock()
		lp.calls++
		if lp.calls == 1 {
			lp.limitAt = time.Now()
			lp.mu.Unlock()
			writeJSON(w, 503, map[string]any{"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"})
			return
		}
		lp.inFlight++
		lp.peak = max(lp.peak, lp.inFlight)
		lp.mu.Unlock()
		time.Sleep(time.Second)
		lp.mu.Lock()
		lp.inFlight--
		lp.mu.Unlock()
		ok("2024-01-01T00:00:00+00:00")(w, r)
	})
	return lp
}

// storm sends n calls at once and returns the most in flight at a time and
// how long they took together.
func (lp *limitOncePortal) storm(t *testing.T, c *bitrix.Client, n int) (int, time.Duration) {
	lp.mu.Lock()
	lp.peak = 0
	lp.mu.Unlock()
	start := time.Now()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if _, err := c.Call(t.Context(), "server.time", nil, nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	lp.mu.Lock()
	defer lp.mu.Unlock()
	return lp.peak, time.Since(start)
}

// TestCooldownAfterQueryLimit: after QUERY_LIMIT_EXCEEDED the client sends
// one request at a time for WithCooldown, then goes parallel again.
func TestCooldownAfterQueryLimit(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		lp := newLimitOncePortal(t)
		c := newMemClient(t, lp.portal, bitrix.WithCooldown(time.Minute))
		if _, err := c.Call(t.Context(), "server.time", nil, nil); err != nil { // QUERY_LIMIT_EXCEEDED, retried
			t.Fatal(err)
		}
		if pk, el := lp.storm(t, c, 4); pk != 1 || el != 4*time.Second {
			t.Errorf("during the cool-down: %d in flight, %v; want 1 at a time, 4s", pk, el)
		}
		time.Sleep(time.Minute)
		if pk, el := lp.storm(t, c, 4); pk != 4 || el != time.Second {
			t.Errorf("after the cool-down: %d in flight, %v; want 4 at once, 1s", pk, el)
		}
	})
}
