// Command createlead creates a CRM lead through an inbound webhook URL and
// prints its id:
//
//	B24_WEBHOOK_URL=https://portal.bitrix24.com/rest/1/secret/ \
//	go run ./examples/createlead -name Jane -last-name Roe -phone "+1 555 0100" -email jane@example.com
//
// Phones and e-mails go out as the nested multi-fields crm.lead.add expects
// (fields[PHONE][0][VALUE]=...). Without a webhook URL it runs against an
// embedded fake portal. See README.md.
package main

import (
	"context"
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
		fmt.Fprintln(os.Stderr, "createlead:", err)
		os.Exit(1)
	}
}

// listFlag is a repeatable flag (-phone a -phone b); commas also separate
// values.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// lead is what the command creates.
type lead struct {
	Title, Name, LastName, Comments string
	Phones, Emails                  []string
}

// fields returns the FIELDS of crm.lead.add. Multi-fields are lists of
// crm.Multifield values ({VALUE, VALUE_TYPE}), which the SDK encodes as
// fields[PHONE][0][VALUE]=...&fields[PHONE][0][VALUE_TYPE]=WORK.
func (l lead) fields() bitrix.Params {
	f := bitrix.Params{"TITLE": l.Title}
	if l.Name != "" {
		f["NAME"] = l.Name
	}
	if l.LastName != "" {
		f["LAST_NAME"] = l.LastName
	}
	if l.Comments != "" {
		f["COMMENTS"] = l.Comments
	}
	if len(l.Phones) > 0 {
		phones := make([]crm.Multifield, 0, len(l.Phones))
		for _, p := range l.Phones {
			phones = append(phones, crm.Phone(p, crm.PhoneWork))
		}
		f["PHONE"] = phones
	}
	if len(l.Emails) > 0 {
		emails := make([]crm.Multifield, 0, len(l.Emails))
		for _, e := range l.Emails {
			emails = append(emails, crm.Email(e, crm.EmailWork))
		}
		f["EMAIL"] = emails
	}
	return f
}

func (l *lead) validate() error {
	if l.Title == "" {
		l.Title = strings.TrimSpace(l.Name + " " + l.LastName)
	}
	if l.Title == "" {
		return errors.New("give the lead a -title or a -name")
	}
	for _, e := range l.Emails {
		if at := strings.IndexByte(e, '@'); at <= 0 || at == len(e)-1 {
			return fmt.Errorf("%q is not an e-mail address", e)
		}
	}
	for _, p := range l.Phones {
		if strings.IndexFunc(p, func(r rune) bool { return r >= '0' && r <= '9' }) < 0 {
			return fmt.Errorf("%q is not a phone number", p)
		}
	}
	return nil
}

type config struct {
	url       string
	allowHTTP bool
	timeout   time.Duration
	lead      lead
}

func parseConfig(args []string, env func(string) string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("createlead", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	var phones, emails listFlag
	fs.StringVar(&cfg.url, "url", "", "inbound webhook URL https://portal/rest/{user}/{secret}/ (prefer env B24_WEBHOOK_URL: flags show in process lists)")
	fs.BoolVar(&cfg.allowHTTP, "allow-http", false, "allow a plain http:// portal, e.g. bitrixtest/cmd/fakeportal (env B24_ALLOW_HTTP)")
	fs.DurationVar(&cfg.timeout, "timeout", 30*time.Second, "give up after this long")
	fs.StringVar(&cfg.lead.Title, "title", "", "lead title (default: the name)")
	fs.StringVar(&cfg.lead.Name, "name", "", "first name")
	fs.StringVar(&cfg.lead.LastName, "last-name", "", "last name")
	fs.StringVar(&cfg.lead.Comments, "comment", "", "comment")
	fs.Var(&phones, "phone", "phone number (repeatable)")
	fs.Var(&emails, "email", "e-mail address (repeatable)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: createlead [flags]\n\nCreates a CRM lead and prints its id. Without -url or B24_WEBHOOK_URL it runs against a fake portal.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q (values with spaces need quotes)", fs.Args())
	}
	if cfg.url == "" {
		cfg.url = env("B24_WEBHOOK_URL")
	}
	if b, _ := strconv.ParseBool(env("B24_ALLOW_HTTP")); b {
		cfg.allowHTTP = true
	}
	cfg.lead.Phones, cfg.lead.Emails = phones, emails
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
	show := func(int) {}
	if cfg.url == "" {
		var stop func()
		show, stop, err = startDemo(&cfg, stderr)
		if err != nil {
			return err
		}
		defer stop()
	}
	c, err := newClient(cfg)
	if err != nil {
		return err
	}
	if err := cfg.lead.validate(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	id, err := createLead(ctx, c, cfg.lead)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, id)
	show(id)
	return nil
}

// newClient builds the client for the webhook URL. It does no I/O.
func newClient(cfg config) (*bitrix.Client, error) {
	opts := []bitrix.Option{bitrix.WithTimeout(cfg.timeout)}
	if cfg.allowHTTP {
		opts = append(opts, bitrix.WithAllowHTTP())
	}
	c, err := bitrix.New(bitrix.WebhookURL(cfg.url), opts...)
	if err != nil {
		// The SDK's message never repeats the URL, which holds the secret.
		return nil, fmt.Errorf("bad webhook URL: %w", err)
	}
	return c, nil
}

// createLead calls crm.lead.add and explains the failures a user can fix.
func createLead(ctx context.Context, c *bitrix.Client, l lead) (int, error) {
	var id bitrix.Int
	_, err := c.Call(ctx, "crm.lead.add", bitrix.Params{
		"fields": l.fields(),
		"params": bitrix.Params{"REGISTER_SONET_EVENT": "Y"},
	}, &id)
	if err != nil {
		return 0, explain(err)
	}
	if id <= 0 {
		return 0, errors.New("crm.lead.add answered without a lead id")
	}
	return int(id), nil
}

// explain turns an error of crm.lead.add into advice.
func explain(err error) error {
	var hint string
	switch {
	case errors.Is(err, bitrix.ErrNoAuthFound), errors.Is(err, bitrix.ErrInvalidCredentials), errors.Is(err, bitrix.ErrInvalidToken):
		hint = "the portal does not accept this webhook: check the user id and secret in the URL, and that the webhook still exists"
	case errors.Is(err, bitrix.ErrInsufficientScope):
		hint = "the webhook lacks the \"crm\" scope: edit it in Developer resources and tick CRM"
	case errors.Is(err, bitrix.ErrAccessDenied):
		hint = "the webhook's user may not add leads"
	case errors.Is(err, bitrix.ErrMethodNotFound):
		hint = "the portal has no crm.lead.add: is CRM enabled, and is the URL a Bitrix24 webhook?"
	case errors.Is(err, bitrix.ErrMaybeApplied):
		hint = "the connection broke after the request was sent: the lead may have been created; check the portal before running again"
	case errors.Is(err, context.DeadlineExceeded):
		hint = "the portal did not answer in time"
	case errors.Is(err, bitrix.ErrBadResponse):
		hint = "the answer was not a Bitrix24 API response: is the URL a Bitrix24 webhook?"
	}
	var apiErr *bitrix.APIError
	if errors.As(err, &apiErr) {
		if hint != "" {
			return fmt.Errorf("the portal refused the lead (%s): %w", hint, err)
		}
		return fmt.Errorf("the portal refused the lead: %w", err)
	}
	if hint != "" {
		return fmt.Errorf("%s: %w", hint, err)
	}
	return fmt.Errorf("crm.lead.add: %w", err)
}
