package otelbitrix_test

import (
	"testing"

	"github.com/b24go/sdk/bitrix/otelbitrix"
)

func TestNewRefusesNilProviders(t *testing.T) {
	t.Parallel()
	for name, opt := range map[string]otelbitrix.Option{
		"tracer": otelbitrix.WithTracerProvider(nil),
		"meter":  otelbitrix.WithMeterProvider(nil),
	} {
		if tel, err := otelbitrix.New(opt); err == nil || tel != nil {
			t.Errorf("%s: New = %v, %v; want an error", name, tel, err)
		}
	}
	if _, err := otelbitrix.New(nil); err != nil {
		t.Errorf("New(nil option) = %v; want the global providers", err)
	}
}
