package bitrix_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/internal/phpform"
)

// TestAllScanChoice: All runs the fast scan (its first request is a batch
// holding the tail page) when the order is absent, empty or by the id
// ascending only, in any map type and letter case; with any other order
// it pages by offset (its first request is the list method itself).
func TestAllScanChoice(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		order any
		fast  bool
	}{
		{"no order", nil, true},
		{"nil order", "nil", true},
		{"empty order", bitrix.Params{}, true},
		{"Params ID ASC", bitrix.Params{"ID": "ASC"}, true},
		{"map any id asc", map[string]any{"id": "asc"}, true},
		{"map string ID ASC", map[string]string{"ID": "ASC"}, true},
		{"ID DESC", bitrix.Params{"ID": "DESC"}, false},
		{"map string ID DESC", map[string]string{"ID": "DESC"}, false},
		{"other field", map[string]any{"TITLE": "ASC"}, false},
		{"ID and another field", bitrix.Params{"ID": "ASC", "TITLE": "ASC"}, false},
		{"not a map", "ID", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c := fakePortalClient(t, 3)
			p := bitrix.Params{}
			switch tt.order {
			case nil:
			case "nil":
				p["order"] = nil
			default:
				p["order"] = tt.order
			}
			var got []string
			for row, err := range bitrix.All[dealRow](t.Context(), c, bitrix.Query{Method: "crm.deal.list", Params: p}) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, fmt.Sprint(row.ID))
			}
			calls := srv.Calls()
			if len(calls) == 0 || (calls[0].Method == "batch") != tt.fast {
				t.Fatalf("fast %v: first call %+v", tt.fast, calls)
			}
			if len(got) != 3 {
				t.Errorf("rows %v", got)
			}
			if tt.fast {
				// No lower bound given: the tail page has no ">ID" filter.
				tail := calls[1]
				f, _ := tail.Params["filter"].(map[string]any)
				if _, has := f[">ID"]; has || tail.Params["order"].(map[string]any)["ID"] != "DESC" || strings.Join(got, ",") != "1,2,3" {
					t.Errorf("tail command %+v, rows %v", tail.Params, got)
				}
			}
		})
	}
}

// TestAllFastScanFilterTypes: the caller's filter is kept by the fast scan
// whatever map type holds it, and its ">ID" is the scan's lower bound.
func TestAllFastScanFilterTypes(t *testing.T) {
	t.Parallel()
	for _, filter := range []any{
		bitrix.Params{">ID": 5},
		map[string]any{">ID": "5"},
		map[string]string{">ID": "5"},
	} {
		t.Run(fmt.Sprintf("%T", filter), func(t *testing.T) {
			t.Parallel()
			srv, c := fakePortalClient(t, 8)
			var got []string
			q := bitrix.Query{Method: "crm.deal.list", Params: bitrix.Params{"filter": filter}}
			for row, err := range bitrix.All[dealRow](t.Context(), c, q) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, fmt.Sprint(row.ID))
			}
			if strings.Join(got, ",") != "6,7,8" {
				t.Errorf("rows %v, want 6,7,8", got)
			}
			calls := srv.Calls()
			if len(calls) < 2 || calls[0].Method != "batch" {
				t.Fatalf("calls %+v", calls)
			}
			if f, _ := calls[1].Params["filter"].(map[string]any); f[">ID"] != "5" {
				t.Errorf("tail command %+v, want filter >ID 5", calls[1].Params)
			}
		})
	}
}

// TestAllOffsetLastPageAtTotal: an offset scan asks for no page at or past
// the total: 100 rows are the first page and one more command.
func TestAllOffsetLastPageAtTotal(t *testing.T) {
	t.Parallel()
	srv, c := fakePortalClient(t, 100)
	n := 0
	for _, err := range bitrix.All[dealRow](t.Context(), c, bitrix.Query{Method: "crm.deal.list", Params: bitrix.Params{"order": bitrix.Params{"ID": "DESC"}}}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if pages := len(srv.Calls("crm.deal.list")); n != 100 || pages != 2 || srv.Requests() != 2 {
		t.Errorf("rows %d, pages %d in %d requests; want 100 rows, 2 pages in 2 requests", n, pages, srv.Requests())
	}
}

// TestAllOffsetUnknownTotal: a list method that sends next but no total is
// paged one page per request (how many there are is not known).
func TestAllOffsetUnknownTotal(t *testing.T) {
	t.Parallel()
	const rows = 120
	page := func(start int) (map[string]any, bool) {
		var out []map[string]any
		for id := start + 1; id <= min(start+bitrix.PageSize, rows); id++ {
			out = append(out, map[string]any{"ID": strconv.Itoa(id)})
		}
		ans := map[string]any{"result": out}
		more := start+bitrix.PageSize < rows
		if more {
			ans["next"] = start + bitrix.PageSize
		}
		return ans, more
	}
	p := newPortal(t)
	p.handle("crm.deal.list", func(w http.ResponseWriter, r recorded) {
		start, _ := strconv.Atoi(r.Form.String("start"))
		ans, _ := page(start)
		writeJSON(w, 200, ans)
	})
	var perBatch []int
	p.handle("batch", func(w http.ResponseWriter, r recorded) {
		cmd := r.Form.Map("cmd")
		res, next := map[string]any{}, map[string]any{}
		for _, k := range cmd.Keys() {
			_, query, _ := strings.Cut(cmd.String(k), "?")
			q, err := phpform.Parse(query)
			if err != nil {
				t.Error(err)
			}
			start, _ := strconv.Atoi(q.String("start"))
			ans, more := page(start)
			res[k] = ans["result"]
			if more {
				next[k] = ans["next"]
			}
		}
		perBatch = append(perBatch, len(cmd.Keys()))
		ok(map[string]any{"result": res, "result_next": next})(w, r)
	})
	c := newWebhookClient(t, p)
	var got []int
	q := bitrix.Query{Method: "crm.deal.list", Params: bitrix.Params{"order": bitrix.Params{"TITLE": "ASC"}}}
	for row, err := range bitrix.All[dealRow](t.Context(), c, q) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, int(row.ID))
	}
	if len(got) != rows || got[0] != 1 || got[rows-1] != rows {
		t.Errorf("rows: %d, want 1..%d", len(got), rows)
	}
	if fmt.Sprint(perBatch) != "[1 1]" {
		t.Errorf("commands per batch %v, want one page each", perBatch)
	}
}

// TestAllParallelismOneDoesNotShard: with one request in flight there is
// nothing to gain from shards, so the rest of the range is one chain of
// full requests: 5,000 rows take 2 requests (2,500 rows and the tail page,
// then 2,500), where the sharded scan takes 3.
func TestAllParallelismOneDoesNotShard(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: seeds 5,000 rows (seconds of CPU); the full run (go test ./..., .ci/run) includes it")
	}
	t.Parallel()
	srv, c := fakePortalClient(t, 5000, bitrix.WithParallelism(1))
	n := 0
	var prev bitrix.Int
	for row, err := range bitrix.All[dealRow](t.Context(), c, bitrix.Query{Method: "crm.deal.list"}) {
		if err != nil {
			t.Fatal(err)
		}
		if row.ID <= prev {
			t.Fatalf("id %d after %d", row.ID, prev)
		}
		prev = row.ID
		n++
	}
	if n != 5000 || srv.Requests() != 2 {
		t.Errorf("rows %d in %d requests, want 5000 in 2", n, srv.Requests())
	}
}

// TestAllShardsFromTheRowsAfterTheLowerBound: the shard count comes from
// the density of the ids the first request saw after the caller's ">ID":
// 7,500 rows after ">ID" 2,500 leave 2,500 rows past the first request
// (2,450 rows and the tail page), two shards, 3 requests.
func TestAllShardsFromTheRowsAfterTheLowerBound(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: seeds 7,500 rows (seconds of CPU); the full run (go test ./..., .ci/run) includes it")
	}
	t.Parallel()
	srv, c := fakePortalClient(t, 7500)
	n := 0
	want := bitrix.Int(2501)
	q := bitrix.Query{Method: "crm.deal.list", Params: bitrix.Params{"filter": bitrix.Params{">ID": 2500}}}
	for row, err := range bitrix.All[dealRow](t.Context(), c, q) {
		if err != nil {
			t.Fatal(err)
		}
		if row.ID != want {
			t.Fatalf("row %d: id %d, want %d", n, row.ID, want)
		}
		want++
		n++
	}
	if n != 5000 || srv.Requests() != 3 {
		t.Errorf("rows %d in %d requests, want 5000 in 3", n, srv.Requests())
	}
}
