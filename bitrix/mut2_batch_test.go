package bitrix_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/internal/perf"
)

// TestBatchGeneratedNamesSkipTaken: a generated name ("cmd_<index>") that a
// command already has moves on to the next free number.
func TestBatchGeneratedNamesSkipTaken(t *testing.T) {
	t.Parallel()
	bp := newBatchPortal(t)
	c := newWebhookClient(t, bp.portal)
	b := c.NewBatch()
	b.Add("cmd_1", "crm.deal.get", nil)
	b.Add("cmd_2", "crm.deal.get", nil)
	gen := b.Add("", "crm.deal.get", nil) // index 2: cmd_2 is taken
	next := b.Add("", "crm.deal.get", nil)
	if gen.Name() != "cmd_3" || next.Name() != "cmd_4" {
		t.Fatalf("generated names %q, %q; want cmd_3, cmd_4", gen.Name(), next.Name())
	}
	if err := b.Run(t.Context()); err != nil {
		t.Fatalf("Run: %v (names %q, %q)", err, gen.Name(), next.Name())
	}
}

// TestBatchNotRunYet: before Run a command has no result: Err and Decode
// report ErrNotRun.
func TestBatchNotRunYet(t *testing.T) {
	t.Parallel()
	bp := newBatchPortal(t)
	c := newWebhookClient(t, bp.portal)
	b := c.NewBatch()
	cmd := b.Add("a", "crm.deal.get", bitrix.Params{"id": 1})
	if err := cmd.Err(); !errors.Is(err, bitrix.ErrNotRun) {
		t.Errorf("Err before Run = %v, want ErrNotRun", err)
	}
	var v any
	if err := cmd.Decode(&v); !errors.Is(err, bitrix.ErrNotRun) {
		t.Errorf("Decode before Run = %v, want ErrNotRun", err)
	}
	if err := b.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Decode(&v); err != nil || v != "ok:a" {
		t.Errorf("after Run: %v, %v", v, err)
	}
}

// TestBatchGroupOfFifty: 50 commands referencing each other are exactly one
// request's worth; they go together, with the other commands in further
// requests.
func TestBatchGroupOfFifty(t *testing.T) {
	t.Parallel()
	bp := newBatchPortal(t)
	c := newWebhookClient(t, bp.portal)
	b := c.NewBatch()
	solo := b.Add("solo", "crm.deal.get", nil)
	prev := b.Add("g0", "crm.deal.get", nil)
	for i := 1; i < bitrix.MaxBatchCommands; i++ {
		prev = b.Add(fmt.Sprintf("g%d", i), "crm.deal.get", bitrix.Params{"id": prev.Ref("ID")})
	}
	if err := b.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(bp.sent()) != 2 {
		t.Fatalf("requests %v, want the group of 50 in one and solo in another", bp.sent())
	}
	for _, req := range bp.sent() {
		if len(req) != 1 && len(req) != bitrix.MaxBatchCommands {
			t.Errorf("request with %d commands: %v", len(req), req)
		}
	}
	if solo.Err() != nil || prev.Err() != nil {
		t.Errorf("errs: %v, %v", solo.Err(), prev.Err())
	}
}

// TestBatchErrorShapes: a result_error entry that is not an error object
// (a bare string, a number) keeps its text as the description; an error
// object gives its code.
func TestBatchErrorShapes(t *testing.T) {
	t.Parallel()
	p := newPortal(t)
	p.handle("batch", ok(map[string]any{
		"result": []any{},
		"result_error": map[string]any{
			"str": "Access denied",
			"num": 42,
			"obj": map[string]any{"error": "NOT_FOUND", "error_description": "Not found"},
		},
	}))
	c := newWebhookClient(t, p)
	b := c.NewBatch()
	str := b.Add("str", "crm.deal.get", nil)
	num := b.Add("num", "crm.deal.get", nil)
	obj := b.Add("obj", "crm.deal.get", nil)
	if err := b.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		cmd        *bitrix.BatchCmd
		code, desc string
	}{
		{str, "", "Access denied"},
		{num, "", "42"},
		{obj, "NOT_FOUND", "Not found"},
	} {
		var ae *bitrix.APIError
		if !errors.As(tc.cmd.Err(), &ae) || ae.Code != tc.code || ae.Description != tc.desc || ae.Method != "crm.deal.get" {
			t.Errorf("%s: err = %#v, want code %q description %q", tc.cmd.Name(), tc.cmd.Err(), tc.code, tc.desc)
		}
	}
}

// TestBatchEveryReferenceInAValue: every reference inside one value counts:
// a second one to an unknown command is refused like a first one, and a
// second one to an earlier command keeps both in one request.
func TestBatchEveryReferenceInAValue(t *testing.T) {
	t.Parallel()
	bp := newBatchPortal(t)
	c := newWebhookClient(t, bp.portal)
	b := c.NewBatch()
	b.Add("a", "crm.deal.get", nil)
	b.Add("c", "crm.deal.get", bitrix.Params{"ids": "$result[a][ID],$result[zzz][ID]"})
	if err := b.Run(t.Context()); err == nil || !strings.Contains(err.Error(), `references unknown command "zzz"`) {
		t.Fatalf("err = %v, want the second reference refused", err)
	}
	b = c.NewBatch()
	b.Add("first", "crm.deal.get", nil)
	for i := range 49 {
		b.Add("", "crm.deal.get", bitrix.Params{"id": i})
	}
	b.Add("last", "crm.deal.get", bitrix.Params{"ids": "$result[cmd_1][ID],$result[first][ID]"})
	if err := b.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	where := map[string]int{}
	for i, req := range bp.sent() {
		for _, n := range req {
			where[n] = i
		}
	}
	if len(bp.sent()) != 2 || where["last"] != where["first"] || where["last"] != where["cmd_1"] {
		t.Errorf("requests %v: last, cmd_1 and first must share one", bp.sent())
	}
}

// TestBatchOperatingBudgetPacing: the operating-time pacing counts every
// command of a batch: batches of two calls charged 100 s each (the fake
// portal's 480 s budget per ten minutes, settings/performance/limits.md)
// are held back before the portal refuses them.
func TestBatchOperatingBudgetPacing(t *testing.T) {
	t.Parallel()
	srv := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit(), bitrixtest.WithMethodCost("crm.item.get", 100*time.Second))
	ids, err := srv.SeedCRMItems(entityDeal, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		n := perf.Serve(srv.Handler())
		defer n.Close()
		c, err := bitrix.New(bitrix.WebhookURL(srv.WebhookURL()), bitrix.WithAllowHTTP(), bitrix.WithTransport(n.Transport()), bitrix.WithoutRateLimit())
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		for i := range 6 {
			b := c.NewBatch()
			for range 2 {
				b.Add("", "crm.item.get", bitrix.Params{"entityTypeId": entityDeal, "id": ids[0]})
			}
			if err := b.Run(t.Context()); err != nil {
				t.Fatalf("batch %d: %v", i, err)
			}
		}
		limits := 0
		for _, call := range srv.Calls() {
			if strings.EqualFold(call.Code, "OPERATION_TIME_LIMIT") {
				limits++
			}
		}
		if el := time.Since(start); limits != 0 || el < 20*time.Minute || el > 21*time.Minute {
			t.Errorf("12 calls in 6 batches: %d OPERATION_TIME_LIMIT answers (want 0), %v (want three windows, 20 min)", limits, el)
		}
	})
}
