package bitrix_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/b24go/sdk/bitrix"
)

// TestCount: one request with start=0 and only the id selected, and the
// answer's total (settings/performance/huge-data.md: with start >= 0 the
// list method counts the rows for "total"), for a classic list method and
// for crm.item.list with its "items" key. The fake consumes "start" before
// logging the call; with start=-1 it answers total 0, which would fail the
// counts below.
func TestCount(t *testing.T) {
	t.Parallel()
	srv, c := fakePortalClient(t, 130)
	cases := []struct {
		name string
		q    bitrix.Query
		want int
		sent map[string]any
	}{
		{"classic", bitrix.Query{Method: "crm.deal.list", Params: bitrix.Params{"filter": bitrix.Params{">ID": 100}, "select": []string{"*", "UF_*"}}},
			30, map[string]any{"filter": map[string]any{">ID": "100"}, "select": []any{"ID"}}},
		{"items", bitrix.Query{Method: "crm.item.list", ItemsKey: "items", IDField: "id", Params: bitrix.Params{"entityTypeId": entityDeal}},
			130, map[string]any{"entityTypeId": "2", "select": []any{"id"}}},
		{"none", bitrix.Query{Method: "crm.deal.list", Params: bitrix.Params{"filter": bitrix.Params{">ID": 1000}}},
			0, map[string]any{"filter": map[string]any{">ID": "1000"}, "select": []any{"ID"}}},
	}
	for _, tc := range cases {
		srv.ResetCalls()
		before := srv.Requests()
		n, err := bitrix.Count(t.Context(), c, tc.q)
		if err != nil || n != tc.want {
			t.Errorf("%s: Count = %d, %v; want %d", tc.name, n, err, tc.want)
		}
		if got := srv.Requests() - before; got != 1 {
			t.Errorf("%s: %d HTTP requests, want 1", tc.name, got)
		}
		calls := srv.Calls()
		if len(calls) != 1 {
			t.Fatalf("%s: %d calls logged", tc.name, len(calls))
		}
		if diff := cmp.Diff(tc.sent, calls[0].Params); diff != "" {
			t.Errorf("%s: parameters (-want +got):\n%s", tc.name, diff)
		}
	}
}
