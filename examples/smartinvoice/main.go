// Command smartinvoice keeps a helper smart-process item for every smart
// invoice: when an invoice is added or updated it reads the invoice's
// product rows, computes the total with exact decimals, and creates or
// updates the helper item linked to the invoice. Duplicate deliveries and
// repeated events change nothing. Without configuration it runs a demo
// against an embedded fake portal. See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/crm"
	"github.com/b24go/sdk/events"
	"github.com/b24go/sdk/webhook"
)

// handlerPath is where the portal posts events.
const handlerPath = "/bitrix24/handler"

// Smart invoices (entity type 31) have no events of their own: they raise
// the dynamic-item events of all smart processes, with
// data[FIELDS][ENTITY_TYPE_ID] 31 (api-reference/crm/universal/invoice.md,
// Events tab). The portal also offers a per-type name for each type
// (api-reference/crm/universal/events/index.md).
var (
	// Events are the names to bind (or tick in the outgoing webhook): the
	// generic ones, documented for invoices.
	Events = []string{events.OnCRMDynamicItemAdd, events.OnCRMDynamicItemUpdate}
	// InvoiceEvents are the per-type names, an alternative to Events
	// where the portal lists them: only invoices are posted.
	InvoiceEvents = []string{
		events.DynamicItemEvent(events.OnCRMDynamicItemAdd, crm.SmartInvoice),
		events.DynamicItemEvent(events.OnCRMDynamicItemUpdate, crm.SmartInvoice),
	}
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "smartinvoice:", err)
		os.Exit(1)
	}
}

type config struct {
	demo       bool
	listen     string
	appToken   string
	webhookURL string
	allowHTTP  bool
	helperType int
	linkField  string
	once       int
}

func parseConfig(args []string, env func(string) string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("smartinvoice", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	fs.BoolVar(&cfg.demo, "demo", false, "run the demo against an embedded fake portal even when configured")
	fs.StringVar(&cfg.listen, "listen", envOr(env, "B24_LISTEN", ":8080"), "address to listen on (env B24_LISTEN)")
	fs.IntVar(&cfg.helperType, "helper-type", envInt(env, "B24_HELPER_TYPE", 128), "entity type id of the helper smart process (env B24_HELPER_TYPE)")
	fs.StringVar(&cfg.linkField, "link-field", envOr(env, "B24_LINK_FIELD", "ufCrm1InvoiceId"), "helper field that holds the invoice id, crm.item spelling, e.g. ufCrm5InvoiceId or parentId31 (env B24_LINK_FIELD)")
	fs.IntVar(&cfg.once, "once", 0, "process this invoice once and exit (no server)")
	fs.BoolVar(&cfg.allowHTTP, "allow-http", envBool(env, "B24_ALLOW_HTTP"), "allow a plain http:// portal (env B24_ALLOW_HTTP)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: smartinvoice [flags]\n\nWithout B24_WEBHOOK_URL it runs a demo against a fake portal.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg.appToken = env("B24_APP_TOKEN")
	cfg.webhookURL = env("B24_WEBHOOK_URL")
	if !crm.IsSmartProcess(cfg.helperType) {
		return cfg, fmt.Errorf("-helper-type %d is not a smart-process entity type id (128-191, even ids from 1030)", cfg.helperType)
	}
	if cfg.linkField == "" {
		return cfg, errors.New("-link-field is empty")
	}
	switch {
	case cfg.webhookURL == "":
		cfg.demo = true
	case cfg.once == 0 && cfg.appToken == "" && !cfg.demo:
		return cfg, errors.New("B24_APP_TOKEN (the outgoing webhook's application token) is required to receive events; or use -once INVOICE_ID")
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
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	if cfg.demo {
		return runDemo(ctx, cfg, stdout, stderr)
	}
	p, err := newProcessor(cfg, logger)
	if err != nil {
		return err
	}
	if cfg.once > 0 {
		out, err := p.Process(ctx, cfg.once)
		if err == nil {
			fmt.Fprintln(stdout, out)
		}
		return err
	}
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return err
	}
	h, err := newHandler(cfg, p, logger, nil)
	if err != nil {
		ln.Close()
		return err
	}
	logger.Info("listening", "url", "http://"+ln.Addr().String()+handlerPath)
	return serveHTTP(ctx, ln, h, logger)
}

func newProcessor(cfg config, logger *slog.Logger) (*processor, error) {
	opts := []bitrix.Option{bitrix.WithLogger(logger)}
	if cfg.allowHTTP {
		opts = append(opts, bitrix.WithAllowHTTP())
	}
	c, err := bitrix.New(bitrix.WebhookURL(cfg.webhookURL), opts...)
	if err != nil {
		return nil, fmt.Errorf("B24_WEBHOOK_URL: %w", err)
	}
	cc, err := crm.New(c)
	if err != nil {
		return nil, err
	}
	return &processor{crm: cc, helperType: cfg.helperType, linkField: cfg.linkField, log: logger}, nil
}

// newHandler routes smart-invoice events to the processor. report, if not
// nil, receives each outcome (the demo prints them).
func newHandler(cfg config, p *processor, logger *slog.Logger, report func(ev *events.Event, o Outcome)) (*webhook.Handler, error) {
	h, err := webhook.New(
		webhook.WithApplicationToken(cfg.appToken),
		// No webhook.WithDedupe: events carry no id, so two real updates of one
		// invoice in the same second look like a redelivery and the second
		// would be skipped. Processing is idempotent instead: a redelivery
		// finds nothing to change and writes nothing.
		webhook.WithLogger(logger),
	)
	if err != nil {
		return nil, err
	}
	// Routes for invoices only: the generic events of other smart processes
	// (our own helper items, for one) have no route and are acknowledged.
	handle := func(ctx context.Context, ev *events.Event, d *events.CRMEntity) error {
		id := d.EntityID()
		if id <= 0 {
			return errors.New("the event names no invoice")
		}
		out, err := p.Process(ctx, id)
		if err != nil {
			return err
		}
		logger.Info("invoice processed", "event", ev.Name, "invoice", id, "helper", out.HelperID, "total", out.Total.String(), "action", out.Action)
		if report != nil {
			report(ev, out)
		}
		return nil
	}
	h.OnDynamicItemAdd(handle, crm.SmartInvoice)
	h.OnDynamicItemUpdate(handle, crm.SmartInvoice)
	return h, nil
}

// serveHTTP serves h at handlerPath on ln until ctx ends, then shuts down
// gracefully.
func serveHTTP(ctx context.Context, ln net.Listener, h *webhook.Handler, logger *slog.Logger) error {
	mux := http.NewServeMux()
	mux.Handle(handlerPath, h)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := h.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func envOr(env func(string) string, key, def string) string {
	if v := env(key); v != "" {
		return v
	}
	return def
}

func envInt(env func(string) string, key string, def int) int {
	if n, err := strconv.Atoi(env(key)); err == nil {
		return n
	}
	return def
}

func envBool(env func(string) string, key string) bool {
	b, _ := strconv.ParseBool(env(key))
	return b
}
