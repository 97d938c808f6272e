package examples

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// demoOnly are the packages the examples' demo mode links and the binary
// a user deploys must not: the fake portal and, through it, testing.
var demoOnly = []string{"github.com/b24go/sdk/bitrix/bitrixtest", "testing"}

// mains lists the example programs under the build tags with their
// dependencies. With compile it also compiles them (go list -export: no
// linking, so it costs little once the build cache is warm) and fails on a
// compile error.
func mains(t *testing.T, tags string, compile bool) map[string][]string {
	t.Helper()
	args := []string{"list", "-tags", tags, "-f", `{{if eq .Name "main"}}{{.ImportPath}} {{join .Deps " "}}{{end}}`}
	if compile {
		args = append(args, "-export")
	}
	out, err := exec.Command("go", append(args, "./...")...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	m := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			m[f[0]] = f[1:]
		}
	}
	return m
}

// The deploy build (go build -tags nodemo) links neither the fake portal
// nor testing; the default build keeps the demo, so `go run
// ./examples/echobot` runs it. The deploy build compiles (not checked
// under -short).
func TestDeployBuildLinksNoDemo(t *testing.T) {
	t.Parallel()
	// Compiling is the slow half (a few seconds when the cache is cold):
	// -short leaves it to the full run.
	deploy, dflt := mains(t, "nodemo", !testing.Short()), mains(t, "", false)
	if len(deploy) < 7 || len(deploy) != len(dflt) {
		t.Fatalf("%d example programs with -tags nodemo, %d without; want the same 7 or more", len(deploy), len(dflt))
	}
	for prog, deps := range deploy {
		for _, p := range demoOnly {
			if slices.Contains(deps, p) {
				t.Errorf("%s built with -tags nodemo links %s", prog, p)
			}
		}
		if !slices.Contains(dflt[prog], demoOnly[0]) {
			t.Errorf("%s without tags has no demo (bitrixtest is not linked)", prog)
		}
	}
}
