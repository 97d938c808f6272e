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

// addDemoList creates the universal list on a fake portal, with the
// property codes the syncer expects.
func addDemoList(portal *bitrixtest.Server) int {
	var fields []*bitrixtest.ListField
	for _, code := range propertyCodes {
		fields = append(fields, &bitrixtest.ListField{Name: strings.ReplaceAll(strings.ToLower(code), "_", " "), Code: code, Type: "N"})
	}
	return portal.AddList("lists", defaultListCode, "Deal product rows", fields...)
}

// listing renders a list's elements as a small table, for the demo.
func listing(portal *bitrixtest.Server, listID int, s *syncer) string {
	els := portal.ListElements(listID)
	if len(els) == 0 {
		return "   (list is empty)\n"
	}
	var b strings.Builder
	for _, el := range els {
		p := func(code string) string {
			v := el.Properties["PROPERTY_"+strconv.Itoa(s.props[code])]
			return strings.Join(v, ",")
		}
		fmt.Fprintf(&b, "   %-16s %-14s price %-7s qty %-3s sum %s\n", el.Code, el.Name, p(codePrice), p(codeQuantity), p(codeSum))
	}
	return b.String()
}

// runDemo plays a deal's life on a fake portal whose outgoing webhook
// points at the syncer, printing the list after each step.
func runDemo(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	// Every step waits for the fake portal's deliveries; never hang on CI.
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	portal, err := bitrixtest.Start()
	if err != nil {
		return fmt.Errorf("start the fake portal: %w", err)
	}
	defer portal.Close()
	listID := addDemoList(portal)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	handlerURL := "http://" + ln.Addr().String() + handlerPath
	cfg.appToken = portal.AddOutboundWebhook([]string{events.OnCRMDealAdd, events.OnCRMDealUpdate, events.OnCRMDealDelete}, handlerURL, "")
	cfg.webhookURL, cfg.allowHTTP, cfg.list = portal.WebhookURL(), true, defaultListCode
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := connect(ctx, cfg, logger)
	if err != nil {
		ln.Close()
		return err
	}
	var mu sync.Mutex
	var last Stats
	h, err := newHandler(cfg, s, logger, func(_ *events.Event, _ int, st Stats) { mu.Lock(); last = st; mu.Unlock() })
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

	fmt.Fprintf(stdout, "dealsync demo: fake portal at %s, list %q (id %d), handler %s\n\n", portal.URL(), defaultListCode, listID, handlerURL)
	c, err := bitrix.New(bitrix.WebhookURL(portal.WebhookURL()), bitrix.WithAllowHTTP())
	if err != nil {
		return err
	}
	cc, err := crm.New(c)
	if err != nil {
		return err
	}
	deals := cc.Items(crm.Deal)
	rows := cc.ProductRows()
	delivered := 0
	step := func(title string, change func() error, wantWrites int) error {
		fmt.Fprintf(stdout, "%s\n", title)
		writesBefore := listWrites(portal)
		if err := change(); err != nil {
			return err
		}
		delivered++
		dels, err := portal.WaitDeliveries(ctx, delivered)
		if err != nil {
			return err
		}
		if d := dels[delivered-1]; d.Status != http.StatusOK {
			return fmt.Errorf("%s delivery answered HTTP %d", d.Event, d.Status)
		}
		mu.Lock()
		st := last
		mu.Unlock()
		writes := listWrites(portal).sub(writesBefore)
		fmt.Fprintf(stdout, "   sync: %s (%d list writes, %d write requests)\n%s\n", st, st.Writes(), writes.batches, listing(portal, listID, s))
		if st.Writes() != wantWrites || writes.commands != wantWrites {
			return fmt.Errorf("%d writes (%d write commands on the portal), want %d", st.Writes(), writes.commands, wantWrites)
		}
		// Events carry no id: a second event for the same deal within the
		// same second would look like a repeat. Let the portal's clock move.
		portal.Advance(time.Second)
		return nil
	}

	var dealID int
	var rowIDs []int
	money := crm.MustDecimal
	err = step("1. A manager creates a deal with no products yet (ONCRMDEALADD).", func() error {
		d, err := deals.Add(ctx, crm.Fields{"title": "Office chairs"})
		if err == nil {
			dealID = d.ID
		}
		return err
	}, 0)
	if err == nil {
		err = step("2. Three products are added to the deal (ONCRMDEALUPDATE).", func() error {
			for _, r := range []crm.ProductRow{
				{ProductName: "Chair", Price: money("149.90"), Quantity: money("4")},
				{ProductName: "Desk", Price: money("320"), Quantity: money("2")},
				{ProductName: "Lamp", Price: money("35.5"), Quantity: money("3")},
			} {
				row, err := rows.Add(ctx, crm.Owner{EntityTypeID: crm.Deal, ID: dealID}, r)
				if err != nil {
					return err
				}
				rowIDs = append(rowIDs, row.ID)
			}
			_, err := deals.Update(ctx, dealID, crm.Fields{"opportunity": money("1323.1")})
			return err
		}, 3)
	}
	if err == nil {
		err = step("3. The chair gets cheaper, the desk is removed, a monitor is added (ONCRMDEALUPDATE).", func() error {
			if _, err := rows.Update(ctx, rowIDs[0], crm.Fields{"price": money("129.90")}); err != nil {
				return err
			}
			if err := rows.Delete(ctx, rowIDs[1]); err != nil {
				return err
			}
			if _, err := rows.Add(ctx, crm.Owner{EntityTypeID: crm.Deal, ID: dealID}, crm.ProductRow{ProductName: "Monitor", Price: money("210"), Quantity: money("1")}); err != nil {
				return err
			}
			_, err := deals.Update(ctx, dealID, crm.Fields{"opportunity": money("836.1")})
			return err
		}, 3)
	}
	if err == nil {
		err = step("4. The deal's stage changes, its products do not (ONCRMDEALUPDATE): nothing to write.", func() error {
			_, err := deals.Update(ctx, dealID, crm.Fields{"stageId": "PREPARATION"})
			return err
		}, 0)
	}
	if err == nil {
		err = step("5. The deal is deleted (ONCRMDEALDELETE): its elements go too.", func() error {
			return deals.Delete(ctx, dealID)
		}, 3)
	}
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintln(stdout, "Done: the list followed the deal; the unchanged rerun wrote nothing.")
	stop()
	waited = true
	return <-served
}

// writeCount counts the list writes in the portal's call log.
type writeCount struct{ commands, batches int }

func (a writeCount) sub(b writeCount) writeCount {
	return writeCount{a.commands - b.commands, a.batches - b.batches}
}

// listWrites counts lists.element.add/update/delete commands and the batch
// requests that carried them.
func listWrites(portal *bitrixtest.Server) writeCount {
	var w writeCount
	calls := portal.Calls()
	for i, c := range calls {
		switch c.Method {
		case "lists.element.add", "lists.element.update", "lists.element.delete":
			w.commands++
			if !c.InBatch || i > 0 && calls[i-1].Method == "batch" {
				w.batches++ // the first command of a batch, or a single call
			}
		}
	}
	return w
}
