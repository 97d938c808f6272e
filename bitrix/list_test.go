package bitrix_test

import (
	"errors"
	"testing"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
)

const entityDeal = 2

func fakePortalClient(t *testing.T, n int, opts ...bitrix.Option) (*bitrixtest.Server, *bitrix.Client) {
	t.Helper()
	srv := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit(), bitrixtest.WithoutOperatingLimit())
	if n > 0 {
		if _, err := srv.SeedCRMItems(entityDeal, n, map[string]any{"opportunity": 100}); err != nil {
			t.Fatal(err)
		}
	}
	opts = append([]bitrix.Option{bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit()}, opts...)
	c, err := bitrix.New(bitrix.WebhookURL(srv.WebhookURL()), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

type dealRow struct {
	ID    bitrix.Int `json:"ID"`
	Title string     `json:"TITLE"`
}

type itemRow struct {
	ID    bitrix.Int `json:"id"`
	Title string     `json:"title"`
}

func TestAllFastScanRequests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rows, wantRequests int
	}{
		// After the first request (2,500 rows), shards of up to 2,400 rows.
		{0, 1}, {1, 1}, {49, 1}, {50, 1}, {51, 1}, {2499, 1}, {2500, 1}, {2501, 2}, {4900, 2}, {5000, 3}, {10000, 5}, {10001, 5},
	}
	for _, tt := range tests {
		t.Run("", func(t *testing.T) {
			if tt.rows > 5000 && testing.Short() {
				t.Skip("-short: seeds over 5,000 rows (seconds of CPU); the full run (go test ./..., .ci/run) includes it")
			}
			t.Parallel()
			srv, c := fakePortalClient(t, tt.rows)
			var prev int64
			n := 0
			for row, err := range bitrix.All[dealRow](t.Context(), c, bitrix.Query{Method: "crm.deal.list", Params: bitrix.Params{"select": []string{"ID", "TITLE"}}}) {
				if err != nil {
					t.Fatal(err)
				}
				if int64(row.ID) <= prev {
					t.Fatalf("row %d: id %d after %d: not ascending", n, row.ID, prev)
				}
				prev = int64(row.ID)
				n++
			}
			if n != tt.rows {
				t.Errorf("rows = %d, want %d", n, tt.rows)
			}
			if got := srv.Requests(); got != tt.wantRequests {
				t.Errorf("%d rows: HTTP requests = %d, want %d", tt.rows, got, tt.wantRequests)
			}
		})
	}
}

func TestAllCRMItemList(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: seeds 3,000 rows (seconds of CPU); the full run (go test ./..., .ci/run) includes it")
	}
	t.Parallel()
	srv, c := fakePortalClient(t, 3000)
	q := bitrix.Query{Method: "crm.item.list", ItemsKey: "items", IDField: "id",
		Params: bitrix.Params{"entityTypeId": entityDeal, "select": []string{"title"}, "filter": bitrix.Params{">id": 100}}}
	n := 0
	want := int64(101)
	for row, err := range bitrix.All[itemRow](t.Context(), c, q) {
		if err != nil {
			t.Fatal(err)
		}
		if int64(row.ID) != want || row.Title == "" {
			t.Fatalf("row %d = %+v, want id %d", n, row, want)
		}
		want++
		n++
	}
	if n != 2900 || srv.Requests() != 2 {
		t.Errorf("rows %d requests %d, want 2900 in 2", n, srv.Requests())
	}
}

func TestAllStopsEarly(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: seeds 10,000 rows (seconds of CPU); the full run (go test ./..., .ci/run) includes it")
	}
	t.Parallel()
	// 10,000 rows take 5 requests (the first, then four shards of 1,875
	// rows); stopping at the first row of the first shard with 2 shards
	// ahead at most leaves at most 3 (4 if the window moved on).
	srv, c := fakePortalClient(t, 10000, bitrix.WithParallelism(2))
	n := 0
	for _, err := range bitrix.All[dealRow](t.Context(), c, bitrix.Query{Method: "crm.deal.list"}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if n == 2451 {
			break
		}
	}
	if got := srv.Requests(); got > 4 {
		t.Errorf("requests = %d after stopping at row 2451, want at most 4", got)
	}
}

func TestAllOffsetPagingWhenOrderNotByID(t *testing.T) {
	t.Parallel()
	srv, c := fakePortalClient(t, 120)
	var progress []bitrix.Progress
	c2, err := bitrix.New(bitrix.WebhookURL(srv.WebhookURL()), bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit(),
		bitrix.WithProgress(func(p bitrix.Progress) { progress = append(progress, p) }))
	if err != nil {
		t.Fatal(err)
	}
	_ = c
	q := bitrix.Query{Method: "crm.deal.list", Params: bitrix.Params{"order": bitrix.Params{"ID": "DESC"}}}
	var ids []int64
	for row, err := range bitrix.All[dealRow](t.Context(), c2, q) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, int64(row.ID))
	}
	if len(ids) != 120 || ids[0] != 120 || ids[119] != 1 {
		t.Fatalf("got %d ids, first %v", len(ids), ids[:3])
	}
	// First page alone (it tells the total), then the other two in one batch.
	if srv.Requests() != 2 {
		t.Errorf("requests = %d, want 2", srv.Requests())
	}
	var pages []bitrix.Progress
	for _, p := range progress {
		if p.Reason == bitrix.ReasonPage {
			pages = append(pages, p)
		}
	}
	if len(pages) != 2 || pages[1].Rows != 120 || pages[1].Total != 120 || pages[1].Requests != 2 {
		t.Errorf("progress = %+v", pages)
	}
}

func TestListOnePage(t *testing.T) {
	t.Parallel()
	_, c := fakePortalClient(t, 60)
	rows, resp, err := bitrix.List[dealRow](t.Context(), c, bitrix.Query{Method: "crm.deal.list"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 50 || resp.Total != 60 || resp.Next != 50 {
		t.Fatalf("rows %d total %d next %d", len(rows), resp.Total, resp.Next)
	}
	rows, resp, err = bitrix.List[dealRow](t.Context(), c, bitrix.Query{Method: "crm.deal.list"}, resp.Next)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 10 || resp.Next != 0 || rows[9].ID != 60 {
		t.Fatalf("page 2: rows %d next %d", len(rows), resp.Next)
	}
	items, resp, err := bitrix.List[itemRow](t.Context(), c, bitrix.Query{Method: "crm.item.list", ItemsKey: "items", IDField: "id",
		Params: bitrix.Params{"entityTypeId": entityDeal}}, 50)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 10 || items[0].ID != 51 || resp.Total != 60 {
		t.Fatalf("crm.item.list page: %d items, first %+v, total %d", len(items), items[0], resp.Total)
	}
}

func TestAllYieldsErrorOnce(t *testing.T) {
	t.Parallel()
	_, c := fakePortalClient(t, 10)
	var errs []error
	for _, err := range bitrix.All[dealRow](t.Context(), c, bitrix.Query{Method: "crm.nothing.list"}) {
		errs = append(errs, err)
	}
	if len(errs) != 1 || errs[0] == nil {
		t.Fatalf("errs = %v", errs)
	}
	var ae *bitrix.APIError
	if !errors.As(errs[0], &ae) {
		t.Errorf("err = %v", errs[0])
	}
}

// TestAllChainFollowsDuration: when the portal reports 2 s per page
// (time.duration), the requests after the first chain at most 10 pages
// (20 s of the 60 s a cloud request may take), and the scan is complete.
func TestAllChainFollowsDuration(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: seeds and scans 5,000 rows (seconds of CPU); the full run (go test ./..., .ci/run) includes it")
	}
	t.Parallel()
	srv := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit(), bitrixtest.WithoutOperatingLimit(), bitrixtest.WithMethodCost("crm.deal.list", 2*time.Second))
	if _, err := srv.SeedCRMItems(entityDeal, 5000, nil); err != nil {
		t.Fatal(err)
	}
	c, err := bitrix.New(bitrix.WebhookURL(srv.WebhookURL()), bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, err := range bitrix.All[dealRow](t.Context(), c, bitrix.Query{Method: "crm.deal.list"}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 5000 {
		t.Fatalf("rows = %d, want 5000", n)
	}
	var sizes []int
	for _, call := range srv.Calls() {
		switch {
		case call.Method == "batch":
			sizes = append(sizes, 0)
		case call.InBatch:
			sizes[len(sizes)-1]++
		}
	}
	if len(sizes) < 2 || sizes[0] != bitrix.MaxBatchCommands {
		t.Fatalf("commands per request = %v, want the first with 50", sizes)
	}
	for i, k := range sizes[1:] {
		if k > 10 {
			t.Errorf("request %d chained %d pages at 2 s each, want at most 10: %v", i+2, k, sizes)
		}
	}
}
