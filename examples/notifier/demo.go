//go:build !nodemo

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/events"
)

// countingSink counts the notifications that went out.
type countingSink struct {
	Sink
	n atomic.Int64
}

func (s *countingSink) Notify(ctx context.Context, n Notification) error {
	err := s.Sink.Notify(ctx, n)
	if err == nil {
		s.n.Add(1)
	}
	return err
}

// runDemo starts a fake portal with an outgoing webhook pointing at the
// notifier, changes some CRM data, raises a task event, replays one delivery
// and checks that each event was notified exactly once. Notifications go to
// stdout (or -notify-url); the narration goes to stderr.
func runDemo(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	// Every step waits for the fake portal's deliveries; never hang on CI.
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	portal, err := bitrixtest.Start()
	if err != nil {
		return fmt.Errorf("start the fake portal: %w", err)
	}
	defer portal.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	handlerURL := "http://" + ln.Addr().String() + handlerPath
	say := func(format string, a ...any) { fmt.Fprintf(stderr, "demo: "+format+"\n", a...) }
	say("fake portal at %s; outgoing webhook to %s", portal.URL(), handlerURL)

	cfg.appToken = portal.AddOutboundWebhook([]string{
		events.OnCRMLeadAdd, events.OnCRMDealAdd, events.OnCRMDealUpdate, events.OnTaskAdd,
	}, handlerURL, "")
	cfg.webhookURL, cfg.allowHTTP = portal.WebhookURL(), true
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	sink := &countingSink{Sink: newSink(cfg, stdout)}
	h, err := newHandler(cfg, sink, logger)
	if err != nil {
		ln.Close()
		return err
	}
	srvCtx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- serveHTTP(srvCtx, ln, h, logger) }()
	waited := false
	defer func() {
		if !waited {
			stop()
			<-served
		}
	}()

	c, err := bitrix.New(bitrix.WebhookURL(portal.WebhookURL()), bitrix.WithAllowHTTP())
	if err != nil {
		return err
	}
	delivered := 0
	wait := func() error {
		delivered++
		dels, err := portal.WaitDeliveries(ctx, delivered)
		if err != nil {
			return err
		}
		if d := dels[delivered-1]; d.Status != http.StatusOK {
			return fmt.Errorf("delivery of %s answered HTTP %d", d.Event, d.Status)
		}
		return nil
	}
	var leadID, dealID int
	steps := []struct {
		say string
		do  func() error
	}{
		{"a visitor's enquiry becomes a lead (crm.lead.add → ONCRMLEADADD)", func() error {
			_, err := c.Call(ctx, "crm.lead.add", bitrix.Params{"fields": bitrix.Params{"TITLE": "Website enquiry"}}, &leadID)
			return err
		}},
		{"a manager opens a deal (crm.deal.add → ONCRMDEALADD)", func() error {
			_, err := c.Call(ctx, "crm.deal.add", bitrix.Params{"fields": bitrix.Params{"TITLE": "50 licences", "OPPORTUNITY": 12500}}, &dealID)
			return err
		}},
		{"the deal moves on (crm.deal.update → ONCRMDEALUPDATE)", func() error {
			_, err := c.Call(ctx, "crm.deal.update", bitrix.Params{"id": dealID, "fields": bitrix.Params{"STAGE_ID": "PREPARATION"}}, nil)
			return err
		}},
	}
	for _, st := range steps {
		say("%s", st.say)
		if err := st.do(); err != nil {
			return err
		}
		if err := wait(); err != nil {
			return err
		}
	}
	say("someone creates task 42 (ONTASKADD)")
	if err := portal.FireEvent(events.OnTaskAdd, map[string]any{
		"FIELDS_BEFORE": "undefined", "FIELDS_AFTER": map[string]any{"ID": 42},
		"IS_ACCESSIBLE_BEFORE": "N", "IS_ACCESSIBLE_AFTER": "undefined",
	}); err != nil {
		return err
	}
	delivered++

	say("the portal delivers the deal update a second time")
	dup := portal.Deliveries()[2]
	res, err := http.Post(handlerURL, "application/x-www-form-urlencoded", strings.NewReader(dup.Body))
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1024))
	res.Body.Close()
	say("  handler: HTTP %d %s", res.StatusCode, strings.TrimSpace(string(body)))

	if n := sink.n.Load(); n != 4 {
		return fmt.Errorf("%d notifications for 4 events", n)
	}
	say("done: %d events, %d notifications, the repeat was not notified again", delivered, sink.n.Load())
	stop()
	waited = true
	return <-served
}
