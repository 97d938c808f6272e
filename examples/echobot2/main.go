// Command echobot2 is the echo chat bot on Chatbots 2.0 (imbot.v2) in fetch
// mode: it greets the chats it is added to, answers "What's hot?" with a
// fixed message and echoes everything else. It pulls its events with
// imbot.v2.Event.get, so it runs with nothing but an inbound webhook URL,
// from a laptop behind NAT: no public URL, no OAuth app.
//
// Without configuration it runs a demo against an embedded fake portal
// (package bitrixtest), prints the conversation and exits. With
// B24_WEBHOOK_URL and B24_BOT_TOKEN it serves a real portal until
// interrupted. See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/imbotv2"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "echobot2:", err)
		os.Exit(1)
	}
}

// config holds the settings; secrets come only from the environment.
type config struct {
	demo       bool
	webhookURL bitrix.Secret // inbound webhook with the imbot scope
	botToken   bitrix.Secret
	code       string
	allowHTTP  bool
	verbose    bool
	idle       time.Duration
}

func parseConfig(args []string, env func(string) string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("echobot2", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	fs.BoolVar(&cfg.demo, "demo", false, "run the demo against an embedded fake portal even when configured")
	fs.StringVar(&cfg.code, "code", envOr(env, "B24_BOT_CODE", "echobot2"), "the bot's code, unique in the portal (env B24_BOT_CODE)")
	fs.BoolVar(&cfg.allowHTTP, "allow-http", env("B24_ALLOW_HTTP") == "1", "allow a plain http:// portal (env B24_ALLOW_HTTP=1)")
	fs.DurationVar(&cfg.idle, "idle", 0, "first wait between polls of an empty queue; it doubles up to 30s (default 5s) (env B24_POLL_IDLE)")
	fs.BoolVar(&cfg.verbose, "v", env("B24_DEBUG") == "1", "log every poll (env B24_DEBUG=1)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: echobot2 [flags]\n\nWithout B24_WEBHOOK_URL it runs a demo against a fake portal.\nEnvironment: B24_WEBHOOK_URL (inbound webhook, scope imbot), B24_BOT_TOKEN (up to 40 characters).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if v := env("B24_POLL_IDLE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return cfg, fmt.Errorf("B24_POLL_IDLE: want a positive duration like 5s, got %q", v)
		}
		cfg.idle = d
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg.webhookURL = bitrix.Secret(env("B24_WEBHOOK_URL"))
	cfg.botToken = bitrix.Secret(env("B24_BOT_TOKEN"))
	if cfg.webhookURL != "" && cfg.botToken == "" {
		return cfg, errors.New("B24_BOT_TOKEN is required with B24_WEBHOOK_URL: the bot's own token, up to 40 characters, chosen by you")
	}
	return cfg, nil
}

func envOr(env func(string) string, k, def string) string {
	if v := env(k); v != "" {
		return v
	}
	return def
}

func run(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, env, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if cfg.demo || cfg.webhookURL == "" {
		return runDemo(ctx, stdout, stderr)
	}
	level := slog.LevelInfo
	if cfg.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	opts := []bitrix.Option{bitrix.WithLogger(logger)}
	if cfg.allowHTTP {
		opts = append(opts, bitrix.WithAllowHTTP())
	}
	bc, err := bitrix.New(bitrix.WebhookURL(cfg.webhookURL.Reveal()), opts...)
	if err != nil {
		return err
	}
	client, err := imbotv2.New(bc, imbotv2.WithBotToken(cfg.botToken))
	if err != nil {
		return err
	}
	bot := &echoBot{client: client, code: cfg.code, log: logger}
	registered, err := bot.ensure(ctx)
	if err != nil {
		return err
	}
	logger.Info("bot ready", "bot", bot.id, "code", cfg.code, "registered_now", registered, "mode", imbotv2.ModeFetch)
	poller := &imbotv2.Poller{Client: client, BotID: bot.id, Logger: logger, Idle: cfg.idle}
	bot.routes(poller)
	fmt.Fprintf(stdout, "echobot2: bot %d polling; add it to a chat or write to it. Ctrl-C stops.\n", bot.id)
	return poller.Run(ctx)
}

// demoWait bounds how long the demo waits for one answer.
const demoWait = 10 * time.Second
