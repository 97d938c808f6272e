package otelbitrix_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/otelbitrix"
)

// BenchmarkCallOTel is bitrix's BenchmarkCallLoopback with the adapter
// installed on the OpenTelemetry SDK (every span sampled and kept in
// memory, metrics aggregated for a manual reader): what the spans and
// metrics of one call cost.
func BenchmarkCallOTel(b *testing.B) {
	body := []byte(`{"result":{"ID":"42","TITLE":"Deal","OPPORTUNITY":"100.00"},"time":{"start":1724916859.46,"finish":1724916859.47,"duration":0.01,"processing":0.005,"date_start":"2024-08-29T10:34:19+03:00","date_finish":"2024-08-29T10:34:19+03:00","operating":0}}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	tel, err := otelbitrix.New(otelbitrix.WithTracerProvider(tp), otelbitrix.WithMeterProvider(mp))
	if err != nil {
		b.Fatal(err)
	}
	c, err := bitrix.New(bitrix.WebhookURL(srv.URL+"/rest/1/benchsecret/"), bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit(),
		bitrix.WithObserver(tel.Observer()))
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
		if i%1000 == 999 {
			exp.Reset() // keep memory flat
		}
	}
	b.StopTimer()
	if n := len(exp.GetSpans()); n == 0 && b.N%1000 != 0 {
		b.Fatal("no spans exported")
	}
}
