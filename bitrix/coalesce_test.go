package bitrix_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/internal/perf"
)

const coalesceWindow = 10 * time.Millisecond

// coalescing runs fn in a synctest bubble with a fake portal served over an
// in-memory network and a webhook client with WithCoalescing.
func coalescing(t *testing.T, fn func(t *testing.T, srv *bitrixtest.Server, c *bitrix.Client)) {
	t.Helper()
	srv := bitrixtest.NewServer(t)
	synctest.Test(t, func(t *testing.T) {
		n := perf.Serve(srv.Handler())
		defer n.Close()
		c, err := bitrix.New(bitrix.WebhookURL(srv.WebhookURL()), bitrix.WithAllowHTTP(),
			bitrix.WithTransport(n.Transport()), bitrix.WithCoalescing(coalesceWindow),
			bitrix.WithRetryPolicy(bitrix.RetryPolicy{BaseDelay: 10 * time.Millisecond}))
		if err != nil {
			t.Fatal(err)
		}
		fn(t, srv, c)
	})
}

// parallel runs n calls at once and returns their errors in order.
func parallel(n int, call func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = call(i) })
	}
	wg.Wait()
	return errs
}

// httpCalls counts the portal's top-level calls of method (not batch commands).
func httpCalls(srv *bitrixtest.Server, method string) (top, inBatch int) {
	for _, c := range srv.Calls() {
		if c.Method != method {
			continue
		}
		if c.InBatch {
			inBatch++
		} else {
			top++
		}
	}
	return top, inBatch
}

type itemOut struct {
	Item struct {
		ID    bitrix.Int `json:"id"`
		Title string     `json:"title"`
	} `json:"item"`
}

func TestWithCoalescingValidates(t *testing.T) {
	t.Parallel()
	for _, w := range []time.Duration{0, -time.Millisecond, 2 * time.Second} {
		if _, err := bitrix.New(bitrix.WebhookURL("https://p.bitrix24.com/rest/1/abc/"), bitrix.WithCoalescing(w)); err == nil {
			t.Errorf("WithCoalescing(%v) accepted", w)
		}
	}
	if _, err := bitrix.New(bitrix.WebhookURL("https://p.bitrix24.com/rest/1/abc/"), bitrix.WithCoalescing(time.Millisecond)); err != nil {
		t.Error(err)
	}
}

// TestCoalescingRoutesResults: concurrent reads go out as one batch; each
// caller gets its own item, or its own *APIError for a missing one.
func TestCoalescingRoutesResults(t *testing.T) {
	t.Parallel()
	coalescing(t, func(t *testing.T, srv *bitrixtest.Server, c *bitrix.Client) {
		ids, err := srv.SeedCRMItems(bitrixtest.EntityDeal, 30, nil)
		if err != nil {
			t.Fatal(err)
		}
		before := srv.Requests()
		errs := parallel(40, func(i int) error {
			id := 100000 + i // missing
			if i < 30 {
				id = ids[i]
			}
			var out itemOut
			resp, err := c.Call(t.Context(), "crm.item.get", bitrix.Params{"entityTypeId": 2, "id": id}, &out)
			if err != nil {
				return err
			}
			if int(out.Item.ID) != id || out.Item.Title != fmt.Sprintf("Item #%d", i+1) || resp == nil || resp.Time.Start.IsZero() {
				return fmt.Errorf("call %d: got %+v, %+v", i, out, resp)
			}
			return nil
		})
		for i, err := range errs {
			var ae *bitrix.APIError
			switch {
			case i < 30 && err != nil:
				t.Errorf("call %d: %v", i, err)
			case i >= 30 && !(errors.As(err, &ae) && errors.Is(err, bitrix.ErrNotFound) && ae.Method == "crm.item.get"):
				t.Errorf("call %d for a missing item: %v, want its own *APIError matching ErrNotFound", i, err)
			}
		}
		if got := srv.Requests() - before; got != 1 {
			t.Errorf("requests = %d, want 1 batch", got)
		}
		if top, in := httpCalls(srv, "crm.item.get"); top != 0 || in != 40 {
			t.Errorf("crm.item.get: %d alone, %d in batches; want 0 and 40", top, in)
		}
	})
}

// TestCoalescingSplitsAt50AndByClass: 50 commands per batch; reads and
// writes never share a batch.
func TestCoalescingSplitsAt50AndByClass(t *testing.T) {
	t.Parallel()
	coalescing(t, func(t *testing.T, srv *bitrixtest.Server, c *bitrix.Client) {
		ids, _ := srv.SeedCRMItems(bitrixtest.EntityDeal, 70, nil)
		before := srv.Requests()
		errs := parallel(90, func(i int) error {
			if i < 70 {
				_, err := c.Call(t.Context(), "crm.item.get", bitrix.Params{"entityTypeId": 2, "id": ids[i]}, nil)
				return err
			}
			var out itemOut
			_, err := c.Call(t.Context(), "crm.item.add", bitrix.Params{"entityTypeId": 2, "fields": bitrix.Params{"title": fmt.Sprintf("new %d", i)}}, &out)
			if err == nil && out.Item.Title != fmt.Sprintf("new %d", i) {
				err = fmt.Errorf("add %d answered item %q", i, out.Item.Title)
			}
			return err
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("call %d: %v", i, err)
			}
		}
		// reads: 50 + 20; writes: 20.
		if got := srv.Requests() - before; got != 3 {
			t.Errorf("requests = %d, want 3", got)
		}
		for _, call := range srv.Calls() {
			if call.Method != "batch" {
				continue
			}
			cmd, _ := call.Params["cmd"].(map[string]any)
			reads, writes := 0, 0
			for _, v := range cmd {
				if s, _ := v.(string); len(s) >= 12 && s[:12] == "crm.item.get" {
					reads++
				} else {
					writes++
				}
			}
			if reads > 0 && writes > 0 || reads+writes > 50 {
				t.Errorf("batch with %d reads and %d writes", reads, writes)
			}
		}
		if got := len(srv.CRMItems(bitrixtest.EntityDeal)); got != 90 {
			t.Errorf("deals = %d, want 90", got)
		}
	})
}

// TestCoalescingAlone: what cannot or need not be batched goes as a
// separate request.
func TestCoalescingAlone(t *testing.T) {
	t.Parallel()
	coalescing(t, func(t *testing.T, srv *bitrixtest.Server, c *bitrix.Client) {
		ids, _ := srv.SeedCRMItems(bitrixtest.EntityDeal, 1, nil)
		// A lone call.
		if _, err := c.Call(t.Context(), "crm.item.get", bitrix.Params{"entityTypeId": 2, "id": ids[0]}, nil); err != nil {
			t.Fatal(err)
		}
		if top, in := httpCalls(srv, "crm.item.get"); top != 1 || in != 0 {
			t.Errorf("lone call: %d alone, %d in batch", top, in)
		}
		// Concurrent calls that must not be batched.
		errs := parallel(3, func(i int) error {
			switch i {
			case 0: // JSON body
				_, err := c.Call(t.Context(), "crm.item.add", json.RawMessage(`{"entityTypeId":2,"fields":{"title":"json"}}`), nil)
				return err
			case 1: // a value the portal would take for a batch reference
				_, err := c.Call(t.Context(), "crm.item.add", bitrix.Params{"entityTypeId": 2, "fields": bitrix.Params{"title": "$result[x][ID]"}}, nil)
				return err
			default: // batch itself
				_, err := c.Call(t.Context(), "batch", bitrix.Params{"cmd": bitrix.Params{"a": "crm.item.fields?entityTypeId=2"}}, nil)
				return err
			}
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("call %d: %v", i, err)
			}
		}
		if top, in := httpCalls(srv, "crm.item.add"); top != 2 || in != 0 {
			t.Errorf("crm.item.add: %d alone, %d in batch; want 2 alone", top, in)
		}
		titles := map[string]bool{}
		for _, it := range srv.CRMItems(bitrixtest.EntityDeal) {
			titles[fmt.Sprint(it["title"])] = true
		}
		if !titles["$result[x][ID]"] || !titles["json"] {
			t.Errorf("titles = %v", titles)
		}
	})
}

// TestCoalescingAmbiguousBatch: a batch whose answer is lost is retried
// when it only reads, and reported to every writer as possibly applied
// (not replayed) when it writes.
func TestCoalescingAmbiguousBatch(t *testing.T) {
	t.Parallel()
	coalescing(t, func(t *testing.T, srv *bitrixtest.Server, c *bitrix.Client) {
		ids, _ := srv.SeedCRMItems(bitrixtest.EntityDeal, 5, nil)
		srv.DropAfterProcessing(1)
		errs := parallel(5, func(i int) error {
			_, err := c.Call(t.Context(), "crm.item.get", bitrix.Params{"entityTypeId": 2, "id": ids[i]}, nil)
			return err
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("read %d after a dropped answer: %v (reads are retried)", i, err)
			}
		}
		srv.DropAfterProcessing(1)
		errs = parallel(5, func(i int) error {
			_, err := c.Call(t.Context(), "crm.item.add", bitrix.Params{"entityTypeId": 2, "fields": bitrix.Params{"title": fmt.Sprint("w", i)}}, nil)
			return err
		})
		for i, err := range errs {
			if !errors.Is(err, bitrix.ErrMaybeApplied) {
				t.Errorf("write %d after a dropped answer: %v, want ErrMaybeApplied", i, err)
			}
		}
		if got := len(srv.CRMItems(bitrixtest.EntityDeal)); got != 10 {
			t.Errorf("deals = %d, want 10 (the writes ran once, not replayed)", got)
		}
	})
}

// TestCoalescingNotRunCommands: a command the portal did not run inside the
// batch is sent again alone; OPERATION_TIME_LIMIT waits for the gate first,
// and a method refused in batches is not batched again.
func TestCoalescingNotRunCommands(t *testing.T) {
	t.Parallel()
	coalescing(t, func(t *testing.T, srv *bitrixtest.Server, c *bitrix.Client) {
		ids, _ := srv.SeedCRMItems(bitrixtest.EntityDeal, 4, nil)
		srv.FailMethod("crm.item.get", 1, 429, "OPERATION_TIME_LIMIT")
		start := time.Now()
		done := make([]time.Duration, 4)
		errs := parallel(4, func(i int) error {
			method := "crm.item.get"
			if i >= 2 {
				method = "crm.item.fields"
			}
			_, err := c.Call(t.Context(), method, bitrix.Params{"entityTypeId": 2, "id": ids[i]}, nil)
			done[i] = time.Since(start)
			return err
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("call %d: %v", i, err)
			}
		}
		slow := 0
		for i, d := range done {
			if d >= time.Minute {
				slow++
				if i >= 2 {
					t.Errorf("crm.item.fields call %d waited %v: other methods must keep flowing", i, d)
				}
			}
		}
		if slow != 1 {
			t.Errorf("calls that waited for the operating gate: %d, want 1 (%v)", slow, done)
		}

		srv.FailMethod("profile", 1, 405, "ERROR_BATCH_METHOD_NOT_ALLOWED")
		for round := range 2 {
			errs = parallel(3, func(int) error {
				_, err := c.Call(t.Context(), "profile", nil, nil)
				return err
			})
			for i, err := range errs {
				if err != nil {
					t.Errorf("round %d, profile %d: %v", round, i, err)
				}
			}
		}
		// Round 1: 3 in a batch (one refused, then sent alone); round 2: 3 alone.
		if top, in := httpCalls(srv, "profile"); top != 4 || in != 3 {
			t.Errorf("profile: %d alone, %d in batch; want 4 and 3", top, in)
		}
	})
}

// TestCoalescingCancelWhileGathered: a caller that gives up before its
// batch is sent leaves it; nothing is sent for it.
func TestCoalescingCancelWhileGathered(t *testing.T) {
	t.Parallel()
	coalescing(t, func(t *testing.T, srv *bitrixtest.Server, c *bitrix.Client) {
		ids, _ := srv.SeedCRMItems(bitrixtest.EntityDeal, 2, nil)
		ctx, cancel := context.WithTimeout(t.Context(), coalesceWindow/2)
		defer cancel()
		errs := parallel(2, func(i int) error {
			cctx := t.Context()
			if i == 0 {
				cctx = ctx
			}
			_, err := c.Call(cctx, "crm.item.add", bitrix.Params{"entityTypeId": 2, "fields": bitrix.Params{"title": fmt.Sprint(ids[i])}}, nil)
			return err
		})
		if !errors.Is(errs[0], context.DeadlineExceeded) || errors.Is(errs[0], bitrix.ErrMaybeApplied) {
			t.Errorf("cancelled caller: %v, want the context's error (not sent)", errs[0])
		}
		if errs[1] != nil {
			t.Errorf("other caller: %v", errs[1])
		}
		if top, in := httpCalls(srv, "crm.item.add"); top+in != 1 {
			t.Errorf("crm.item.add sent %d times, want 1", top+in)
		}
	})
}

// ExampleWithCoalescing: twenty concurrent single calls travel as one
// batch request (or very few) instead of twenty.
func ExampleWithCoalescing() {
	srv, err := bitrixtest.Start()
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	ids, _ := srv.SeedCRMItems(bitrixtest.EntityDeal, 20, nil)

	c, err := bitrix.New(bitrix.WebhookURL(srv.WebhookURL()), bitrix.WithAllowHTTP(),
		bitrix.WithCoalescing(50*time.Millisecond))
	if err != nil {
		panic(err)
	}
	titles := make([]string, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			var out itemOut
			if _, err := c.Call(context.Background(), "crm.item.get", bitrix.Params{"entityTypeId": 2, "id": id}, &out); err != nil {
				panic(err)
			}
			titles[i] = out.Item.Title
		})
	}
	wg.Wait()
	fmt.Println(titles[0], "...", titles[19])
	fmt.Println("fewer HTTP requests than calls:", srv.Requests() < len(ids))
	// Output:
	// Item #1 ... Item #20
	// fewer HTTP requests than calls: true
}
