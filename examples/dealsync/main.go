// Command dealsync keeps a universal list in step with the product rows of
// CRM deals. On ONCRMDEALADD and ONCRMDEALUPDATE it adds an element for
// each new row, updates the elements of changed rows and removes those of
// vanished rows; on ONCRMDEALDELETE it removes all of the deal's elements.
// Writes go through batch requests; a rerun on unchanged data writes
// nothing.
//
// Modes: a server for a portal's outgoing webhook (B24_APP_TOKEN and
// B24_WEBHOOK_URL), a one-shot sync of one deal (-once), and, without
// configuration, a demo against an embedded fake portal. See README.md.
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
	"github.com/b24go/sdk/events"
	"github.com/b24go/sdk/lists"
	"github.com/b24go/sdk/webhook"
)

// handlerPath is where the portal posts events.
const handlerPath = "/bitrix24/handler"

// defaultListCode is the symbolic code of the list, unless -list says
// otherwise.
const defaultListCode = "deal_product_rows"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "dealsync:", err)
		os.Exit(1)
	}
}

type config struct {
	demo       bool
	listen     string
	appToken   string
	webhookURL string
	allowHTTP  bool
	iblockType string
	list       string
	once       int
}

func (c config) listRef() lists.Ref {
	if id, err := strconv.Atoi(c.list); err == nil && id > 0 {
		return lists.ByID(id)
	}
	return lists.ByCode(c.list)
}

func parseConfig(args []string, env func(string) string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("dealsync", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	fs.BoolVar(&cfg.demo, "demo", false, "run the demo against an embedded fake portal even when configured")
	fs.StringVar(&cfg.listen, "listen", envOr(env, "B24_LISTEN", ":8080"), "address to listen on (env B24_LISTEN)")
	fs.StringVar(&cfg.list, "list", envOr(env, "B24_LIST", defaultListCode), "the universal list: its id or symbolic code (env B24_LIST)")
	fs.StringVar(&cfg.iblockType, "iblock-type", string(lists.TypeLists), "the list's type: lists, bitrix_processes or lists_socnet")
	fs.IntVar(&cfg.once, "once", 0, "sync this deal once and exit (no server)")
	fs.BoolVar(&cfg.allowHTTP, "allow-http", envBool(env, "B24_ALLOW_HTTP"), "allow a plain http:// portal (env B24_ALLOW_HTTP)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: dealsync [flags]\n\nWithout B24_WEBHOOK_URL it runs a demo against a fake portal.\n\nFlags:\n")
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
	switch {
	case cfg.webhookURL == "":
		cfg.demo = true
	case cfg.once == 0 && cfg.appToken == "" && !cfg.demo:
		return cfg, errors.New("B24_APP_TOKEN (the outgoing webhook's application token) is required to receive events; or use -once DEAL_ID")
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
	s, err := connect(ctx, cfg, logger)
	if err != nil {
		return err
	}
	if cfg.once > 0 {
		st, err := s.Sync(ctx, cfg.once, false)
		fmt.Fprintf(stdout, "deal %d: %s\n", cfg.once, st)
		return err
	}
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return err
	}
	h, err := newHandler(cfg, s, logger, nil)
	if err != nil {
		ln.Close()
		return err
	}
	logger.Info("listening", "url", "http://"+ln.Addr().String()+handlerPath)
	return serveHTTP(ctx, ln, h, logger)
}

// connect builds the client and the syncer (reading the list's fields).
func connect(ctx context.Context, cfg config, logger *slog.Logger) (*syncer, error) {
	opts := []bitrix.Option{bitrix.WithLogger(logger)}
	if cfg.allowHTTP {
		opts = append(opts, bitrix.WithAllowHTTP())
	}
	c, err := bitrix.New(bitrix.WebhookURL(cfg.webhookURL), opts...)
	if err != nil {
		return nil, fmt.Errorf("B24_WEBHOOK_URL: %w", err)
	}
	return newSyncer(ctx, c, lists.IBlockType(cfg.iblockType), cfg.listRef())
}

// newHandler routes the deal events to the syncer. report, if not nil,
// receives each sync's outcome (the demo prints it).
func newHandler(cfg config, s *syncer, logger *slog.Logger, report func(ev *events.Event, dealID int, st Stats)) (*webhook.Handler, error) {
	h, err := webhook.New(
		webhook.WithApplicationToken(cfg.appToken),
		// No webhook.WithDedupe: events carry no id, so two real updates of one
		// deal in the same second look like a redelivery and the second would
		// be skipped. The sync is idempotent instead: a redelivery finds the
		// list in step and writes nothing.
		webhook.WithLogger(logger),
	)
	if err != nil {
		return nil, err
	}
	handle := func(deleted bool) func(context.Context, *events.Event, *events.CRMEntity) error {
		return func(ctx context.Context, ev *events.Event, d *events.CRMEntity) error {
			id := d.EntityID()
			if id <= 0 {
				return errors.New("the event names no deal")
			}
			st, err := s.Sync(ctx, id, deleted)
			if err != nil {
				return fmt.Errorf("sync deal %d: %w", id, err)
			}
			logger.Info("deal synced", "event", ev.Name, "deal", id, "added", st.Added, "updated", st.Updated, "deleted", st.Deleted, "unchanged", st.Unchanged)
			if report != nil {
				report(ev, id, st)
			}
			return nil
		}
	}
	h.OnDealAdd(handle(false))
	h.OnDealUpdate(handle(false))
	h.OnDealDelete(handle(true))
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
		WriteTimeout:      120 * time.Second, // a sync of a large deal takes a few batch requests
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
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
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

func envBool(env func(string) string, key string) bool {
	b, _ := strconv.ParseBool(env(key))
	return b
}
