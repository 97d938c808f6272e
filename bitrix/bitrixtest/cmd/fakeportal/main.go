// Command fakeportal runs the bitrixtest fake Bitrix24 portal standalone, so
// any HTTP client can be pointed at it.
//
//	go run github.com/b24go/sdk/bitrix/bitrixtest/cmd/fakeportal -addr 127.0.0.1:8024
//
// It seeds a few CRM items and a universal list, then prints the inbound
// webhook URL and the OAuth app credentials (this is a local test portal:
// printing its secrets is the point).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/b24go/sdk/bitrix/bitrixtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run serves the portal until ctx ends.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("fakeportal", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8024", "listen address")
	secret := fs.String("secret", "", "webhook secret (random when empty)")
	noLimit := fs.Bool("no-rate-limit", false, "disable the 2 req/s leaky bucket")
	tls := fs.Bool("tls", false, "serve HTTPS with a self-signed certificate")
	seed := fs.Int("seed-deals", 120, "number of deals to seed")
	if err := fs.Parse(args); err != nil {
		return err
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
	s, err := bitrixtest.Start(opts...)
	if err != nil {
		return err
	}
	defer s.Close()

	if _, err := s.SeedCRMItems(bitrixtest.EntityDeal, *seed, map[string]any{"opportunity": 100, "currencyId": "EUR"}); err != nil {
		return err
	}
	if _, err := s.SeedCRMItems(bitrixtest.EntityLead, 10, nil); err != nil {
		return err
	}
	if _, err := s.SeedCRMItems(bitrixtest.EntityContact, 10, nil); err != nil {
		return err
	}
	status := &bitrixtest.ListField{Name: "Status", Type: "L", Enum: map[string]string{"1": "Open", "2": "Done"}}
	tags := &bitrixtest.ListField{Name: "Tags", Type: "S", Multiple: true}
	listID := s.AddList("lists", "tasks", "Tasks", status, tags)

	app := s.App()
	tok := s.IssueToken(1)
	fmt.Fprintf(stdout, "fake Bitrix24 portal on %s\n\n", s.URL())
	fmt.Fprintf(stdout, "webhook URL:     %s\n", s.WebhookURL())
	fmt.Fprintf(stdout, "client_id:       %s\n", app.ClientID)
	fmt.Fprintf(stdout, "client_secret:   %s\n", app.ClientSecret)
	fmt.Fprintf(stdout, "app token:       %s\n", app.ApplicationToken)
	fmt.Fprintf(stdout, "member_id:       %s\n", app.MemberID)
	fmt.Fprintf(stdout, "client endpoint: %s\n", app.ClientEndpoint)
	fmt.Fprintf(stdout, "token URL:       %s\n", app.TokenURL)
	fmt.Fprintf(stdout, "access token:    %s (user 1)\n", tok.AccessToken)
	fmt.Fprintf(stdout, "refresh token:   %s\n", tok.RefreshToken)
	fmt.Fprintf(stdout, "\nseeded: %d deals, 10 leads, 10 contacts; list %d (IBLOCK_TYPE_ID=lists, PROPERTY_%d status, PROPERTY_%d tags)\n", *seed, listID, status.ID, tags.ID)
	fmt.Fprintf(stdout, "try:   curl '%scrm.item.list?entityTypeId=2&select[]=id&select[]=title'\n", s.WebhookURL())

	<-ctx.Done()
	return nil
}
