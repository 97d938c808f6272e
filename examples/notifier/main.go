// Command notifier receives a Bitrix24 outgoing webhook (ONCRMLEADADD,
// ONCRMDEALADD, ONCRMDEALUPDATE, ONTASKADD and any other CRM or task event)
// and turns each event into a notification: a JSON line on stdout, or a JSON
// POST to an HTTP endpoint. An event delivered twice is notified once;
// a failed notification answers the portal 500 and is logged. Without
// configuration it runs a demo against an embedded fake portal. See
// README.md.
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

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "notifier:", err)
		os.Exit(1)
	}
}

type config struct {
	demo       bool
	listen     string
	appToken   string
	notifyURL  string
	webhookURL string
	allowHTTP  bool
	timeout    time.Duration
	dedupeTTL  time.Duration
}

func parseConfig(args []string, env func(string) string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("notifier", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	fs.BoolVar(&cfg.demo, "demo", false, "run the demo against an embedded fake portal even when configured")
	fs.StringVar(&cfg.listen, "listen", envOr(env, "B24_LISTEN", ":8080"), "address to listen on (env B24_LISTEN)")
	fs.StringVar(&cfg.notifyURL, "notify-url", env("B24_NOTIFY_URL"), "endpoint that receives each notification as a JSON POST; empty: JSON lines on stdout (env B24_NOTIFY_URL)")
	fs.DurationVar(&cfg.timeout, "notify-timeout", 10*time.Second, "timeout of one notification POST")
	fs.DurationVar(&cfg.dedupeTTL, "dedupe-ttl", 24*time.Hour, "how long a delivered event is remembered, so a repeat is not notified again")
	fs.BoolVar(&cfg.allowHTTP, "allow-http", envBool(env, "B24_ALLOW_HTTP"), "allow a plain http:// portal (env B24_ALLOW_HTTP)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: notifier [flags]\n\nWithout B24_APP_TOKEN it runs a demo against a fake portal.\n\nFlags:\n")
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
	if cfg.appToken == "" {
		cfg.demo = true
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
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return err
	}
	h, err := newHandler(cfg, newSink(cfg, stdout), logger)
	if err != nil {
		ln.Close()
		return err
	}
	logger.Info("listening", "url", "http://"+ln.Addr().String()+handlerPath)
	return serveHTTP(ctx, ln, h, logger)
}

// newHandler builds the receiver: verification by the outgoing webhook's
// application token, dedupe, and the notifier behind it.
func newHandler(cfg config, sink Sink, logger *slog.Logger) (*webhook.Handler, error) {
	n := &notifier{sink: sink, log: logger}
	if cfg.webhookURL != "" {
		opts := []bitrix.Option{bitrix.WithLogger(logger)}
		if cfg.allowHTTP {
			opts = append(opts, bitrix.WithAllowHTTP())
		}
		c, err := bitrix.New(bitrix.WebhookURL(cfg.webhookURL), opts...)
		if err != nil {
			return nil, fmt.Errorf("B24_WEBHOOK_URL: %w", err)
		}
		if n.crm, err = crm.New(c); err != nil {
			return nil, err
		}
	}
	h, err := webhook.New(
		webhook.WithApplicationToken(cfg.appToken),
		webhook.WithDedupe(nil, cfg.dedupeTTL),
		webhook.WithLogger(logger),
		webhook.WithErrorHandler(func(ctx context.Context, ev *events.Event, err error) {
			// The webhook package has logged the failure and answers 500;
			// the dedupe key is released, so a redelivery is notified.
			logger.Error("notification failed", "event", ev.Name, "error", err)
		}),
	)
	if err != nil {
		return nil, err
	}
	n.routes(h)
	return h, nil
}

// newSink returns the HTTP endpoint sink, or JSON lines on stdout.
func newSink(cfg config, stdout io.Writer) Sink {
	if cfg.notifyURL != "" {
		return &httpSink{url: cfg.notifyURL, client: &http.Client{Timeout: cfg.timeout}}
	}
	return &writerSink{w: stdout}
}

// serveHTTP serves h at handlerPath on ln until ctx ends, then shuts down
// gracefully.
func serveHTTP(ctx context.Context, ln net.Listener, h *webhook.Handler, logger *slog.Logger) error {
	mux := http.NewServeMux()
	mux.Handle(handlerPath, h)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
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

func envBool(env func(string) string, key string) bool {
	b, _ := strconv.ParseBool(env(key))
	return b
}
