package bitrix_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
)

// BenchmarkCallLoopback measures the client's per-call overhead: params
// encoding, limiter, HTTP over loopback, envelope and result decoding.
func BenchmarkCallLoopback(b *testing.B) {
	body := []byte(`{"result":{"ID":"42","TITLE":"Deal","OPPORTUNITY":"100.00"},"time":{"start":1724916859.46,"finish":1724916859.47,"duration":0.01,"processing":0.005,"date_start":"2024-08-29T10:34:19+03:00","date_finish":"2024-08-29T10:34:19+03:00","operating":0}}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	c, err := bitrix.New(bitrix.WebhookURL(srv.URL+"/rest/1/benchsecret/"), bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit())
	if err != nil {
		b.Fatal(err)
	}
	var deal struct {
		ID          bitrix.Int   `json:"ID"`
		Title       string       `json:"TITLE"`
		Opportunity bitrix.Float `json:"OPPORTUNITY"`
	}
	params := bitrix.Params{"id": 42, "select": []string{"ID", "TITLE", "OPPORTUNITY"}}
	ctx := b.Context()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Call(ctx, "crm.deal.get", params, &deal); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFullScan10000 scans 10,000 deals on the fake portal and reports
// the HTTP requests per scan (the target is 4 = ceil(10,000/2,500)).
func BenchmarkFullScan10000(b *testing.B) {
	srv := bitrixtest.NewServer(b, bitrixtest.WithoutRateLimit(), bitrixtest.WithoutOperatingLimit())
	if _, err := srv.SeedCRMItems(entityDeal, 10000, nil); err != nil {
		b.Fatal(err)
	}
	c, err := bitrix.New(bitrix.WebhookURL(srv.WebhookURL()), bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit())
	if err != nil {
		b.Fatal(err)
	}
	q := bitrix.Query{Method: "crm.deal.list", Params: bitrix.Params{"select": []string{"ID", "TITLE"}}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rows := 0
		for _, err := range bitrix.All[dealRow](b.Context(), c, q) {
			if err != nil {
				b.Fatal(err)
			}
			rows++
		}
		if rows != 10000 {
			b.Fatalf("rows = %d", rows)
		}
	}
	b.ReportMetric(float64(srv.Requests())/float64(b.N), "requests/scan")
	b.ReportMetric(10000, "rows/scan")
}

// BenchmarkCallObserved is BenchmarkCallLoopback with an observer whose
// funcs do nothing: the cost of the hooks themselves when installed.
func BenchmarkCallObserved(b *testing.B) {
	body := []byte(`{"result":{"ID":"42","TITLE":"Deal","OPPORTUNITY":"100.00"},"time":{"start":1724916859.46,"finish":1724916859.47,"duration":0.01,"processing":0.005,"date_start":"2024-08-29T10:34:19+03:00","date_finish":"2024-08-29T10:34:19+03:00","operating":0}}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	var requests int
	obs := bitrix.Observer{
		CallStart: func(ctx context.Context, _ bitrix.CallInfo) context.Context { return ctx },
		CallEnd:   func(context.Context, bitrix.CallInfo) {},
		Request:   func(context.Context, bitrix.RequestInfo) { requests++ },
		Timing:    func(context.Context, bitrix.TimingInfo) {},
	}
	c, err := bitrix.New(bitrix.WebhookURL(srv.URL+"/rest/1/benchsecret/"), bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit(),
		bitrix.WithObserver(obs))
	if err != nil {
		b.Fatal(err)
	}
	var deal struct {
		ID          bitrix.Int   `json:"ID"`
		Title       string       `json:"TITLE"`
		Opportunity bitrix.Float `json:"OPPORTUNITY"`
	}
	params := bitrix.Params{"id": 42, "select": []string{"ID", "TITLE", "OPPORTUNITY"}}
	ctx := b.Context()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Call(ctx, "crm.deal.get", params, &deal); err != nil {
			b.Fatal(err)
		}
	}
	if requests != b.N {
		b.Fatalf("observer saw %d requests, want %d", requests, b.N)
	}
}
