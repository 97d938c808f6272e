package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/google/go-cmp/cmp"
)

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// TestExportCSV exports 3,001 deals from a fake portal that enforces the
// cloud's rate limit, and checks every row and the number of HTTP requests
// (the fast scan fetches up to 2,500 rows per request).
func TestExportCSV(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: exports 3,001 rows within the portal's rate limit (seconds); the full run (go test ./..., .ci/run) includes it")
	}
	t.Parallel()
	portal := bitrixtest.NewServer(t)
	ids, err := portal.SeedCRMItems(bitrixtest.EntityDeal, 3000, map[string]any{"title": "Deal", "opportunity": 99.9, "currencyId": "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	odd, err := portal.SeedCRMItems(bitrixtest.EntityDeal, 1, map[string]any{"title": `Say "hi", please`, "opportunity": 1})
	if err != nil {
		t.Fatal(err)
	}
	ids = append(ids, odd...)
	out := filepath.Join(t.TempDir(), "deals.csv")
	var stdout, stderr bytes.Buffer
	err = run(t.Context(), []string{"-entity", "deals", "-fields", "id,title,opportunity,currencyId", "-o", out},
		envMap(map[string]string{"B24_WEBHOOK_URL": portal.WebhookURL(), "B24_ALLOW_HTTP": "true"}), &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"id", "title", "opportunity", "currencyId"}, rows[0]); d != "" {
		t.Errorf("header (-want +got)\n%s", d)
	}
	var gotIDs []int
	for _, r := range rows[1:] {
		id, err := strconv.Atoi(r[0])
		if err != nil {
			t.Fatalf("row %v: %v", r, err)
		}
		gotIDs = append(gotIDs, id)
	}
	if d := cmp.Diff(ids, gotIDs); d != "" {
		t.Errorf("exported ids (-want +got)\n%s", d)
	}
	if d := cmp.Diff([]string{"1", "Deal", "99.9", "EUR"}, rows[1]); d != "" {
		t.Errorf("first row (-want +got)\n%s", d)
	}
	if last := rows[len(rows)-1]; last[1] != `Say "hi", please` || last[2] != "1" {
		t.Errorf("last row = %q", last)
	}
	// One counting request plus two scan requests (2,500 + 501 rows).
	if n := portal.Requests(); n > 3 {
		t.Errorf("%d HTTP requests for 3,001 rows, want at most 3", n)
	}
	for _, c := range portal.Calls() {
		if c.Code != "" {
			t.Errorf("call %s failed with %s", c.Method, c.Code)
		}
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout got %d bytes with -o", stdout.Len())
	}
	if !strings.Contains(stderr.String(), "3001/3001 items") || !strings.Contains(stderr.String(), "exported 3001 deal items") {
		t.Errorf("progress output:\n%s", stderr.String())
	}
}

// TestExportJSONLines exports leads as JSON lines to stdout.
func TestExportJSONLines(t *testing.T) {
	t.Parallel()
	portal := bitrixtest.NewServer(t)
	ids, err := portal.SeedCRMItems(bitrixtest.EntityLead, 120, map[string]any{"title": "Lead", "name": "Ann"})
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err = run(t.Context(), []string{"-entity", "lead", "-format", "jsonl", "-fields", "id,title,name", "-progress=false"},
		envMap(map[string]string{"B24_WEBHOOK_URL": portal.WebhookURL(), "B24_ALLOW_HTTP": "1"}), &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr with -progress=false: %q", stderr.String())
	}
	var got []int
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		var v struct {
			ID    int    `json:"id"`
			Title string `json:"title"`
			Name  string `json:"name"`
		}
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if v.Title != "Lead" || v.Name != "Ann" {
			t.Errorf("line %q", sc.Text())
		}
		got = append(got, v.ID)
	}
	if d := cmp.Diff(ids, got); d != "" {
		t.Errorf("ids (-want +got)\n%s", d)
	}
}

// TestDemo runs with no configuration: a seeded fake portal, CSV to stdout.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the demo exports 3,000 rows within the portal's rate limit (seconds); the full run (go test ./..., .ci/run) includes it")
	}
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), nil, envMap(map[string]string{"CI": "true"}), &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	rows, err := csv.NewReader(&stdout).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3001 || rows[0][0] != "id" || rows[3000][0] != "3000" {
		t.Errorf("demo exported %d rows (first %q)", len(rows), rows[0])
	}
	if !strings.Contains(stderr.String(), "fake portal") {
		t.Errorf("stderr: %s", stderr.String())
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-format", "xml"}, "unknown -format"},
		{[]string{"-entity", "tasks"}, "unknown entity"},
		{[]string{"-entity", "5"}, "unknown entity"}, // old invoices: not supported by crm.item.*
		{[]string{"-fields", "*"}, "csv needs the columns"},
		{[]string{"-rate", "0"}, "must be positive"},
	} {
		_, err := parseConfig(tc.args, envMap(nil), &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseConfig(%q) = %v, want an error with %q", tc.args, err, tc.want)
		}
	}
	for in, want := range map[string]int{"deal": 2, "Deals": 2, "invoice": 31, "smartinvoice": 31, "128": 128, "1030": 1030} {
		if got, err := parseEntity(in); err != nil || got != want {
			t.Errorf("parseEntity(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
}

// TestDemoOpenTelemetry runs the demo with -otel: spans and metrics go to
// stderr as JSON, without the webhook's secret.
func TestDemoOpenTelemetry(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"-otel", "-progress=false", "-demo-items", "300"}, envMap(map[string]string{"CI": "true"}), &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	out := stderr.String()
	for _, want := range []string{
		`"Name":"crm.item.list"`, `"Name":"batch"`, `"Name":"POST"`, `"Key":"bitrix24.method"`,
		`"Name":"bitrix24.client.request.duration"`, `"Name":"github.com/b24go/sdk/bitrix/otelbitrix"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stderr lacks %s", want)
		}
	}
	if strings.Contains(out, "/rest/1/") {
		t.Errorf("a webhook URL reached the telemetry:\n%s", out)
	}
	if rows := strings.Count(stdout.String(), "\n"); rows != 301 {
		t.Errorf("exported %d lines, want 301", rows)
	}
}
