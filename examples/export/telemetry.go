package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"go.opentelemetry.io/otel/exporters/stdout/stdoutmetric"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/b24go/sdk/bitrix/otelbitrix"
)

// startTelemetry reports the SDK's spans and metrics to OpenTelemetry
// with exporters that print JSON to w (a real service exports to a
// collector with OTLP instead). shutdown flushes them: call it before exit.
func startTelemetry(w io.Writer) (tel *otelbitrix.Telemetry, shutdown func(context.Context) error, err error) {
	spans, err := stdouttrace.New(stdouttrace.WithWriter(w))
	if err != nil {
		return nil, nil, fmt.Errorf("trace exporter: %w", err)
	}
	metrics, err := stdoutmetric.New(stdoutmetric.WithWriter(w))
	if err != nil {
		return nil, nil, fmt.Errorf("metric exporter: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(metrics)))
	shutdown = func(ctx context.Context) error { return errors.Join(tp.Shutdown(ctx), mp.Shutdown(ctx)) }
	tel, err = otelbitrix.New(otelbitrix.WithTracerProvider(tp), otelbitrix.WithMeterProvider(mp))
	if err != nil {
		return nil, nil, errors.Join(err, shutdown(context.Background()))
	}
	return tel, shutdown, nil
}
