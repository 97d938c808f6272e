//go:build !nodemo

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/crm"
	"github.com/b24go/sdk/events"
)

// runDemo plays an invoice's life on a fake portal whose outgoing webhook
// points at the program and prints what happened to the helper item.
func runDemo(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	// Every step waits for the fake portal's deliveries; never hang on CI.
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	portal, err := bitrixtest.Start()
	if err != nil {
		return fmt.Errorf("start the fake portal: %w", err)
	}
	defer portal.Close()
	if cfg.helperType != 128 {
		if err := portal.AddSmartProcess(cfg.helperType, "Invoice totals"); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	handlerURL := "http://" + ln.Addr().String() + handlerPath
	cfg.appToken = portal.AddOutboundWebhook(Events, handlerURL, "")
	cfg.webhookURL, cfg.allowHTTP = portal.WebhookURL(), true
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	p, err := newProcessor(cfg, logger)
	if err != nil {
		ln.Close()
		return err
	}
	var mu sync.Mutex
	var outcomes []string
	h, err := newHandler(cfg, p, logger, func(ev *events.Event, o Outcome) {
		mu.Lock()
		outcomes = append(outcomes, ev.Name+": "+o.String())
		mu.Unlock()
	})
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

	fmt.Fprintf(stdout, "smartinvoice demo: fake portal at %s, helper smart process %d linked by %s, handler %s\n\n",
		portal.URL(), cfg.helperType, cfg.linkField, handlerURL)
	c, err := bitrix.New(bitrix.WebhookURL(portal.WebhookURL()), bitrix.WithAllowHTTP())
	if err != nil {
		return err
	}
	cc, err := crm.New(c)
	if err != nil {
		return err
	}
	invoices := cc.Items(crm.SmartInvoice)
	delivered, printed := 0, 0
	// step makes a change, waits for the n deliveries it causes (the
	// invoice's event, and the helper item's own event, which the program
	// ignores) and prints the outcomes.
	step := func(title string, n int, change func() error) error {
		fmt.Fprintln(stdout, title)
		if err := change(); err != nil {
			return err
		}
		delivered += n
		dels, err := portal.WaitDeliveries(ctx, delivered)
		if err != nil {
			return err
		}
		for _, d := range dels {
			if d.Status != http.StatusOK {
				return fmt.Errorf("%s delivery answered HTTP %d", d.Event, d.Status)
			}
		}
		mu.Lock()
		for _, o := range outcomes[printed:] {
			fmt.Fprintf(stdout, "   %s\n", o)
		}
		printed = len(outcomes)
		mu.Unlock()
		portal.Advance(time.Second) // the next change happens a second later
		return nil
	}

	var invoiceID int
	owner := func() crm.Owner { return crm.Owner{EntityTypeID: crm.SmartInvoice, ID: invoiceID} }
	steps := []struct {
		title string
		n     int
		do    func() error
	}{
		{"1. An invoice is created, still without products (ONCRMDYNAMICITEMADD, type 31).", 2, func() error {
			inv, err := invoices.Add(ctx, crm.Fields{"title": "INV-1001", "currencyId": "EUR"})
			if err == nil {
				invoiceID = inv.ID
			}
			return err
		}},
		{"2. Three products are put on it (ONCRMDYNAMICITEMUPDATE, type 31).", 2, func() error {
			if _, err := cc.ProductRows().Set(ctx, owner(), []crm.ProductRow{
				{ProductName: "Consulting, hours", Price: crm.MustDecimal("95.50"), Quantity: crm.MustDecimal("12")},
				{ProductName: "Travel", Price: crm.MustDecimal("0.1"), Quantity: crm.MustDecimal("3")},
				{ProductName: "Licence", Price: crm.MustDecimal("19.99"), Quantity: crm.MustDecimal("3")},
			}); err != nil {
				return err
			}
			_, err := invoices.Update(ctx, invoiceID, crm.Fields{"comments": "products added"})
			return err
		}},
		{"3. Someone edits the invoice's comment; the products stay (ONCRMDYNAMICITEMUPDATE, type 31).", 1, func() error {
			_, err := invoices.Update(ctx, invoiceID, crm.Fields{"comments": "checked"})
			return err
		}},
	}
	for _, st := range steps {
		if err := step(st.title, st.n, st.do); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}

	fmt.Fprintln(stdout, "4. The portal delivers the last event a second time: nothing to change, nothing written.")
	var last bitrixtest.Delivery
	for _, d := range portal.Deliveries() {
		if d.Event == events.OnCRMDynamicItemUpdate && d.Form.Get("data[FIELDS][ENTITY_TYPE_ID]") == strconv.Itoa(crm.SmartInvoice) {
			last = d
		}
	}
	res, err := http.Post(handlerURL, "application/x-www-form-urlencoded", strings.NewReader(last.Body))
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1024))
	res.Body.Close()
	mu.Lock()
	for _, o := range outcomes[printed:] {
		fmt.Fprintf(stdout, "   %s\n", o)
	}
	mu.Unlock()
	fmt.Fprintf(stdout, "   handler: HTTP %d %s\n\n", res.StatusCode, strings.TrimSpace(string(body)))

	helpers := portal.CRMItems(cfg.helperType)
	if len(helpers) != 1 {
		return fmt.Errorf("demo: %d helper items, want 1", len(helpers))
	}
	hi := helpers[0]
	fmt.Fprintf(stdout, "Helper item %v: %q, opportunity %v %v, %s = %v\n", hi["id"], hi["title"], hi["opportunity"], hi["currencyId"], cfg.linkField, hi[cfg.linkField])
	if got := fmt.Sprint(hi["opportunity"]); got != "1206.27" {
		return fmt.Errorf("demo: the helper's total is %s, want 1206.27", got)
	}
	stop()
	waited = true
	return <-served
}
