// Command echobot is a Bitrix24 chat bot: it greets the users who add it to
// a chat, answers "What's hot?" with a fixed message and echoes everything
// else.
//
// Without configuration it runs a demo: it starts an embedded fake portal
// (package bitrixtest), installs itself, plays a short conversation, prints
// it and exits. With B24_CLIENT_ID and B24_CLIENT_SECRET (or B24_APP_TOKEN)
// it serves real portals at /bitrix24/handler. See README.md.
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
	"github.com/b24go/sdk/bitrix/otelbitrix"
	"github.com/b24go/sdk/webhook"
)

// handlerPath is where the portal posts the app's and the bot's events.
const handlerPath = "/bitrix24/handler"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "echobot:", err)
		os.Exit(1)
	}
}

// config is the program's configuration. Secrets come only from the
// environment, so they never show in a process list.
type config struct {
	demo         bool
	listen       string
	handlerURL   string
	clientID     string
	clientSecret bitrix.Secret
	appToken     string
	tokenURL     string
	oauthServer  string
	allowHTTP    bool
	verbose      bool
	otel         bool
	// tel reports to OpenTelemetry (-otel); nil when off.
	tel *otelbitrix.Telemetry
}

func parseConfig(args []string, env func(string) string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("echobot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	fs.BoolVar(&cfg.demo, "demo", false, "run the demo against an embedded fake portal even when configured")
	fs.StringVar(&cfg.listen, "listen", envOr(env, "B24_LISTEN", ":8080"), "address to listen on (env B24_LISTEN)")
	fs.StringVar(&cfg.handlerURL, "handler-url", env("B24_HANDLER_URL"), "public URL of "+handlerPath+", given to imbot.register (env B24_HANDLER_URL)")
	fs.BoolVar(&cfg.allowHTTP, "allow-http", envBool(env, "B24_ALLOW_HTTP"), "allow plain http:// portals, e.g. the fake portal (env B24_ALLOW_HTTP)")
	fs.BoolVar(&cfg.verbose, "v", envBool(env, "B24_DEBUG"), "log every request (env B24_DEBUG)")
	fs.BoolVar(&cfg.otel, "otel", false, "print OpenTelemetry spans and metrics (JSON) to stderr")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: echobot [flags]\n\nWithout B24_CLIENT_ID/B24_CLIENT_SECRET or B24_APP_TOKEN it runs a demo against a fake portal.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg.clientID = env("B24_CLIENT_ID")
	cfg.clientSecret = bitrix.Secret(env("B24_CLIENT_SECRET"))
	cfg.appToken = env("B24_APP_TOKEN")
	cfg.tokenURL = env("B24_TOKEN_URL")       // "" = bitrix.DefaultTokenURL
	cfg.oauthServer = env("B24_OAUTH_SERVER") // "" = webhook.DefaultOAuthServers
	if cfg.clientID != "" && cfg.clientSecret == "" {
		return cfg, errors.New("B24_CLIENT_ID is set but B24_CLIENT_SECRET is not")
	}
	if cfg.clientID == "" && cfg.appToken == "" {
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
	level := slog.LevelInfo
	if cfg.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if cfg.otel {
		tel, shutdown, err := startTelemetry(stderr)
		if err != nil {
			return err
		}
		defer func() { _ = shutdown(context.WithoutCancel(ctx)) }()
		cfg.tel = tel
	}
	if cfg.demo {
		return runDemo(ctx, stdout, stderr, cfg.tel)
	}
	return serve(ctx, cfg, logger, stdout)
}

// newHandler builds the event receiver with the bot's routes. limiter is
// shared by every client that calls a portal, so the app as a whole stays
// under each portal's request rate.
func newHandler(cfg config, bot *echoBot, logger *slog.Logger, clientOpts []bitrix.Option) (*webhook.Handler, error) {
	opts := []webhook.Option{
		webhook.WithLogger(logger),
		webhook.WithDedupe(nil, 0), // a delivery seen twice is answered once
		webhook.WithClientOptions(clientOpts...),
	}
	if cfg.clientID != "" {
		opts = append(opts, webhook.WithApp(bot.app))
		if cfg.oauthServer != "" {
			opts = append(opts, webhook.WithOAuthServers(cfg.oauthServer))
		}
	}
	if cfg.appToken != "" {
		opts = append(opts, webhook.WithApplicationToken(cfg.appToken))
	}
	if cfg.tel != nil {
		opts = append(opts, webhook.WithObserver(cfg.tel.EventObserver()))
	}
	h, err := webhook.New(opts...)
	if err != nil {
		return nil, err
	}
	bot.routes(h)
	return h, nil
}

// clientOptions are the options of every client the bot builds. They share
// one limiter (it keeps a bucket per portal), so all clients of a portal
// keep to its rate together.
func clientOptions(cfg config, logger *slog.Logger) ([]bitrix.Option, error) {
	limiter, err := bitrix.NewLimiter(bitrix.DefaultRate, bitrix.DefaultBurst)
	if err != nil {
		return nil, err
	}
	opts := []bitrix.Option{
		bitrix.WithLogger(logger),
		bitrix.WithLimiter(limiter),
	}
	if cfg.allowHTTP {
		opts = append(opts, bitrix.WithAllowHTTP())
	}
	if cfg.tel != nil {
		opts = append(opts, bitrix.WithObserver(cfg.tel.Observer()))
	}
	return opts, nil
}

// serve runs the bot for real portals until ctx ends.
func serve(ctx context.Context, cfg config, logger *slog.Logger, stdout io.Writer) error {
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return err
	}
	if cfg.handlerURL == "" {
		cfg.handlerURL = "http://" + ln.Addr().String() + handlerPath
		logger.Warn("B24_HANDLER_URL is not set; registering the bot with a local URL that a cloud portal cannot reach", "url", cfg.handlerURL)
	}
	app := bitrix.App{ClientID: cfg.clientID, ClientSecret: cfg.clientSecret, TokenURL: cfg.tokenURL}
	clientOpts, err := clientOptions(cfg, logger)
	if err != nil {
		ln.Close()
		return err
	}
	bot := newEchoBot(cfg.handlerURL, app, logger)
	h, err := newHandler(cfg, bot, logger, clientOpts)
	if err != nil {
		ln.Close()
		return err
	}
	fmt.Fprintf(stdout, "echobot: listening on http://%s%s (bot handler URL %s)\n", ln.Addr(), handlerPath, cfg.handlerURL)
	return serveHTTP(ctx, ln, h, logger)
}

// serveHTTP serves h at handlerPath on ln until ctx ends, then shuts down
// gracefully: the server stops accepting, requests in flight finish.
func serveHTTP(ctx context.Context, ln net.Listener, h *webhook.Handler, logger *slog.Logger) error {
	mux := http.NewServeMux()
	mux.Handle(handlerPath, h)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second, // handlers call the portal before answering
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
