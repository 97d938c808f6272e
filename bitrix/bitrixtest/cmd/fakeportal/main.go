// Command fakeportal runs the bitrixtest fake Bitrix24 portal standalone, so
// any HTTP client, in any language, can be pointed at it.
//
//	go run github.com/b24go/sdk/bitrix/bitrixtest/cmd/fakeportal -addr 127.0.0.1:8024
//
// It seeds a few CRM items and a universal list, then prints what a client
// and an app handler need: the inbound webhook URL, the OAuth app's client
// id and secret, its application token, the OAuth server (the
// auth[server_endpoint] of events) and its token URL, and the control API's
// base URL (this is a local test portal: printing its secrets is the point;
// nothing else prints them). The control API (/_bitrixtest/v1/, see
// bitrixtest.Server.ControlURL) installs the app at a handler, acts as a
// user (bot messages, chats, CRM and list changes), reads bots, messages,
// items and deliveries, moves the clock, sets limits and faults, and
// resets the portal to its seeded state.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/b24go/sdk/bitrix/bitrixtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		log.Fatal(err)
	}
}

// run serves the portal until ctx ends. -h prints the usage to stderr and
// returns nil.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fakeportal", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: fakeportal [flags]\n\nRuns a seeded fake Bitrix24 portal and prints its URLs and credentials.\nControl API: <portal>/_bitrixtest/v1/ (see the b24go README).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	addr := fs.String("addr", "127.0.0.1:8024", "listen address")
	secret := fs.String("secret", "", "webhook secret (random when empty)")
	noLimit := fs.Bool("no-rate-limit", false, "disable the 2 req/s leaky bucket")
	tls := fs.Bool("tls", false, "serve HTTPS with a self-signed certificate")
	seed := fs.Int("seed-deals", 120, "number of deals to seed")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}

	opts := []bitrixtest.Option{bitrixtest.WithAddr(*addr)}
	if *secret != "" {
		opts = append(opts, bitrixtest.WithWebhookSecret(*secret))
	}
	if *noLimit {
		opts = append(opts, bitrixtest.WithoutRateLimit())
	}
	if *tls {
		opts = append(opts, bitrixtest.WithTLS())
	}
	// The seed runs at start and again after every control-API reset.
	status := &bitrixtest.ListField{Name: "Status", Type: "L", Enum: map[string]string{"1": "Open", "2": "Done"}}
	tags := &bitrixtest.ListField{Name: "Tags", Type: "S", Multiple: true}
	var listID int
	var firstSeed sync.Once // the banner shows the first seed's list; a reset re-creates it with the same ids
	opts = append(opts, bitrixtest.WithSeed(func(s *bitrixtest.Server) error {
		if _, err := s.SeedCRMItems(bitrixtest.EntityDeal, *seed, map[string]any{"opportunity": 100, "currencyId": "EUR"}); err != nil {
			return err
		}
		if _, err := s.SeedCRMItems(bitrixtest.EntityLead, 10, nil); err != nil {
			return err
		}
		if _, err := s.SeedCRMItems(bitrixtest.EntityContact, 10, nil); err != nil {
			return err
		}
		id := s.AddList("lists", "tasks", "Tasks", status, tags)
		firstSeed.Do(func() { listID = id })
		return nil
	}))
	s, err := bitrixtest.Start(opts...)
	if err != nil {
		return err
	}
	defer s.Close()

	app := s.App()
	tok := s.IssueToken(1)
	fmt.Fprintf(stdout, "fake Bitrix24 portal on %s\n\n", s.URL())
	fmt.Fprintf(stdout, "webhook URL:     %s\n", s.WebhookURL())
	fmt.Fprintf(stdout, "client_id:       %s\n", app.ClientID)
	fmt.Fprintf(stdout, "client_secret:   %s\n", app.ClientSecret)
	fmt.Fprintf(stdout, "app token:       %s\n", app.ApplicationToken)
	fmt.Fprintf(stdout, "member_id:       %s\n", app.MemberID)
	fmt.Fprintf(stdout, "client endpoint: %s\n", app.ClientEndpoint)
	fmt.Fprintf(stdout, "OAuth server:    %s (auth[server_endpoint] of events)\n", app.ServerEndpoint)
	fmt.Fprintf(stdout, "token URL:       %s\n", app.TokenURL)
	fmt.Fprintf(stdout, "control URL:     %s\n", s.ControlURL())
	fmt.Fprintf(stdout, "access token:    %s (user 1)\n", tok.AccessToken)
	fmt.Fprintf(stdout, "refresh token:   %s\n", tok.RefreshToken)
	fmt.Fprintf(stdout, "\nseeded: %d deals, 10 leads, 10 contacts; list %d (IBLOCK_TYPE_ID=lists, PROPERTY_%d status, PROPERTY_%d tags)\n", *seed, listID, status.ID, tags.ID)
	fmt.Fprintf(stdout, "try:   curl '%scrm.item.list?entityTypeId=2&select[]=id&select[]=title'\n", s.WebhookURL())
	fmt.Fprintf(stdout, "       curl -X POST -d '{\"handler_url\":\"http://127.0.0.1:8080/handler\"}' %sapp/install\n", s.ControlURL())
	fmt.Fprintf(stdout, "       curl '%smessages?bot_code=echobot&wait=5s'\n", s.ControlURL())

	<-ctx.Done()
	return nil
}
