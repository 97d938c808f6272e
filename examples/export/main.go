// Command export streams every CRM item of one entity type to CSV or JSON
// lines, with a progress bar on stderr:
//
//	B24_WEBHOOK_URL=https://portal.bitrix24.com/rest/1/secret/ \
//	go run ./examples/export -entity deal -format csv -o deals.csv
//
// It reads with the SDK's fast scan (crm Items.All: ID cursor, 50 pages
// chained in one batch request, up to 2,500 rows per HTTP request) behind a
// client-side leaky bucket that keeps to the portal's request rate, and
// holds at most one request's rows in memory. Without a webhook URL it
// exports from an embedded fake portal seeded with a few thousand items.
// See README.md.
package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/crm"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "export:", err)
		os.Exit(1)
	}
}

// entityNames maps -entity names to entity type ids.
var entityNames = map[string]int{
	"lead": crm.Lead, "deal": crm.Deal, "contact": crm.Contact, "company": crm.Company,
	"quote": crm.Quote, "invoice": crm.SmartInvoice, "smartinvoice": crm.SmartInvoice,
}

func parseEntity(s string) (int, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if id, ok := entityNames[strings.TrimSuffix(s, "s")]; ok {
		return id, nil
	}
	if id, ok := entityNames[s]; ok {
		return id, nil
	}
	id, err := strconv.Atoi(s)
	if err != nil || !crm.IsKnownType(id) {
		return 0, fmt.Errorf("unknown entity %q: use lead, deal, contact, company, quote, invoice or a smart-process type id (128-191, even ids from 1030)", s)
	}
	return id, nil
}

// entityLabel names an entity type for messages.
func entityLabel(id int) string {
	switch id {
	case crm.Lead:
		return "lead"
	case crm.Deal:
		return "deal"
	case crm.Contact:
		return "contact"
	case crm.Company:
		return "company"
	case crm.Quote:
		return "quote"
	case crm.SmartInvoice:
		return "invoice"
	}
	return "smart-process " + strconv.Itoa(id)
}

type config struct {
	url        string
	allowHTTP  bool
	entity     int
	format     string
	fields     []string
	out        string
	rate       float64
	burst      int
	progress   bool
	otel       bool
	demoItems  int
	entityName string
}

const defaultFields = "id,title,stageId,opportunity,currencyId,assignedById,createdTime,updatedTime"

func parseConfig(args []string, env func(string) string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	var fields string
	fs.StringVar(&cfg.url, "url", "", "inbound webhook URL (prefer env B24_WEBHOOK_URL: flags show in process lists)")
	fs.BoolVar(&cfg.allowHTTP, "allow-http", false, "allow a plain http:// portal (env B24_ALLOW_HTTP)")
	fs.StringVar(&cfg.entityName, "entity", "deal", "lead, deal, contact, company, quote, invoice, or a smart-process entity type id")
	fs.StringVar(&cfg.format, "format", "csv", "csv or jsonl (one JSON object per line)")
	fs.StringVar(&fields, "fields", defaultFields, "comma-separated crm.item fields to export (\"*\": all standard fields)")
	fs.StringVar(&cfg.out, "o", "-", "output file (\"-\": stdout)")
	fs.Float64Var(&cfg.rate, "rate", bitrix.DefaultRate, "requests per second the portal allows (Enterprise: 5)")
	fs.IntVar(&cfg.burst, "burst", bitrix.DefaultBurst, "request burst the portal allows (Enterprise: 250)")
	fs.BoolVar(&cfg.progress, "progress", true, "show a progress bar on stderr")
	fs.BoolVar(&cfg.otel, "otel", false, "print OpenTelemetry spans and metrics (JSON) to stderr")
	fs.IntVar(&cfg.demoItems, "demo-items", 3000, "demo mode: how many items to seed in the fake portal")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: export [flags]\n\nExports every CRM item of an entity type. Without -url or B24_WEBHOOK_URL it runs against a fake portal.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if cfg.url == "" {
		cfg.url = env("B24_WEBHOOK_URL")
	}
	if b, _ := strconv.ParseBool(env("B24_ALLOW_HTTP")); b {
		cfg.allowHTTP = true
	}
	var err error
	if cfg.entity, err = parseEntity(cfg.entityName); err != nil {
		return cfg, err
	}
	cfg.entityName = entityLabel(cfg.entity)
	if cfg.format != "csv" && cfg.format != "jsonl" {
		return cfg, fmt.Errorf("unknown -format %q: use csv or jsonl", cfg.format)
	}
	for _, f := range strings.Split(fields, ",") {
		if f = strings.TrimSpace(f); f != "" {
			cfg.fields = append(cfg.fields, f)
		}
	}
	if len(cfg.fields) == 0 {
		return cfg, errors.New("-fields is empty")
	}
	if cfg.format == "csv" && cfg.fields[0] == "*" {
		return cfg, errors.New("csv needs the columns listed in -fields; use -format jsonl to export all fields")
	}
	if cfg.rate <= 0 || cfg.burst <= 0 {
		return cfg, errors.New("-rate and -burst must be positive")
	}
	return cfg, nil
}

// run is the whole program; main only adds signals and the exit code.
func run(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, env, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if cfg.url == "" {
		demoURL, stop, err := startDemoPortal(cfg, stderr)
		if err != nil {
			return err
		}
		defer stop()
		cfg.url, cfg.allowHTTP = demoURL, true
	}

	bar := newProgressBar(stderr, cfg.entityName, cfg.progress)
	opts := []bitrix.Option{
		bitrix.WithRateLimit(cfg.rate, cfg.burst),
		bitrix.WithProgress(bar.update),
	}
	if cfg.allowHTTP {
		opts = append(opts, bitrix.WithAllowHTTP())
	}
	if cfg.otel {
		tel, shutdown, err := startTelemetry(stderr)
		if err != nil {
			return err
		}
		defer func() { _ = shutdown(context.WithoutCancel(ctx)) }()
		opts = append(opts, bitrix.WithObserver(tel.Observer()))
	}
	c, err := bitrix.New(bitrix.WebhookURL(cfg.url), opts...)
	if err != nil {
		return fmt.Errorf("bad webhook URL: %w", err)
	}

	var w io.Writer = stdout
	if cfg.out != "-" {
		f, err := os.Create(cfg.out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	cc, err := crm.New(c)
	if err != nil {
		return err
	}
	n, err := export(ctx, cc.Items(cfg.entity), cfg, w, bar)
	bar.done(n)
	if err != nil {
		return fmt.Errorf("export stopped after %d items: %w", n, err)
	}
	if cfg.out != "-" {
		if f, ok := w.(*os.File); ok {
			if err := f.Close(); err != nil {
				return err
			}
		}
	}
	return nil
}

// export writes every item to w and returns how many it wrote.
func export(ctx context.Context, items *crm.Items, cfg config, w io.Writer, bar *progressBar) (int, error) {
	q := crm.Query{Select: cfg.fields}
	// One cheap counting request for the progress bar; the scan itself
	// does not count (that is part of what makes it fast).
	if _, resp, err := items.List(ctx, crm.Query{Select: []string{"id"}}, 0); err != nil {
		return 0, err
	} else {
		bar.setTotal(resp.Total)
	}

	bw := bufio.NewWriterSize(w, 64<<10)
	var write func(*crm.Item) error
	var flush func() error
	switch cfg.format {
	case "csv":
		cw := csv.NewWriter(bw)
		if err := cw.Write(cfg.fields); err != nil {
			return 0, err
		}
		row := make([]string, len(cfg.fields))
		write = func(it *crm.Item) error {
			for i, f := range cfg.fields {
				row[i] = cell(it.Field(f))
			}
			return cw.Write(row)
		}
		flush = func() error { cw.Flush(); return cw.Error() }
	default:
		enc := json.NewEncoder(bw)
		enc.SetEscapeHTML(false)
		write = func(it *crm.Item) error { return enc.Encode(it) }
		flush = func() error { return nil }
	}

	n := 0
	for it, err := range items.All(ctx, q) {
		if err != nil {
			_ = flush()
			_ = bw.Flush()
			return n, err
		}
		if err := write(it); err != nil {
			return n, err
		}
		n++
		bar.rows(n)
	}
	if err := flush(); err != nil {
		return n, err
	}
	return n, bw.Flush()
}

// cell renders a field's JSON as a CSV cell: strings unquoted, null empty,
// numbers and booleans as they are, lists and objects as compact JSON.
func cell(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	}
	return string(raw)
}

// progressBar draws "[####----] rows/total" on one terminal line.
type progressBar struct {
	w        io.Writer
	label    string
	on       bool
	total    int
	n        int
	requests int
	waited   time.Duration
	start    time.Time
	last     time.Time
}

func newProgressBar(w io.Writer, label string, on bool) *progressBar {
	return &progressBar{w: w, label: label, on: on, start: time.Now()}
}

func (b *progressBar) setTotal(n int) { b.total = n; b.draw(true) }

// update receives the SDK's progress reports (pages and waits).
func (b *progressBar) update(p bitrix.Progress) {
	if p.Requests > b.requests {
		b.requests = p.Requests
	}
	switch p.Reason {
	case bitrix.ReasonRateLimit, bitrix.ReasonOperatingLimit, bitrix.ReasonRetry:
		b.waited += p.Waited
		if p.Waited >= 100*time.Millisecond {
			b.draw(true)
		}
	}
}

func (b *progressBar) rows(n int) {
	b.n = n
	b.draw(false)
}

func (b *progressBar) draw(force bool) {
	if !b.on {
		return
	}
	now := time.Now()
	if !force && now.Sub(b.last) < 100*time.Millisecond && b.n != b.total {
		return
	}
	b.last = now
	const width = 30
	filled := 0
	if b.total > 0 {
		filled = min(width, b.n*width/b.total)
	}
	fmt.Fprintf(b.w, "\r%s [%s%s] %d/%d items, %d scan requests", b.label,
		strings.Repeat("#", filled), strings.Repeat("-", width-filled), b.n, b.total, b.requests)
	if b.waited >= time.Millisecond {
		fmt.Fprintf(b.w, ", waited %s for the portal's limits", b.waited.Round(time.Millisecond))
	}
}

func (b *progressBar) done(n int) {
	b.n = n
	b.draw(true)
	if b.on {
		fmt.Fprintf(b.w, "\nexported %d %s items in %s\n", n, b.label, time.Since(b.start).Round(time.Millisecond))
	}
}
