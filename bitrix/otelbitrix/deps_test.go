package otelbitrix_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoOpenTelemetryWithoutTheAdapter checks with `go list -deps` that the
// SDK's packages and the examples that do not import otelbitrix link no
// OpenTelemetry package.
func TestNoOpenTelemetryWithoutTheAdapter(t *testing.T) {
	// go test puts its own go tool first in PATH.
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go tool: %v", err)
	}
	pkgs := []string{
		"github.com/b24go/sdk/bitrix", "github.com/b24go/sdk/webhook", "github.com/b24go/sdk/events",
		"github.com/b24go/sdk/crm", "github.com/b24go/sdk/imbot", "github.com/b24go/sdk/imbotv2", "github.com/b24go/sdk/lists",
		"github.com/b24go/sdk/bitrix/bitrixtest", "github.com/b24go/sdk/bitrix/redisstore",
		"github.com/b24go/sdk/examples/createlead", "github.com/b24go/sdk/examples/notifier",
	}
	out, err := exec.Command(goTool, append([]string{"list", "-deps"}, pkgs...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("go list listed %d packages; expected the standard library too", len(deps))
	}
	for _, d := range deps {
		if strings.HasPrefix(d, "go.opentelemetry.io/") {
			t.Errorf("%s is linked by a program that does not import otelbitrix", d)
		}
	}
	// The check can fail: the adapter itself does link OpenTelemetry.
	out, err = exec.Command(goTool, "list", "-deps", "github.com/b24go/sdk/bitrix/otelbitrix").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "go.opentelemetry.io/otel/trace") {
		t.Errorf("go list -deps otelbitrix does not show go.opentelemetry.io/otel/trace (%v)", err)
	}
}
