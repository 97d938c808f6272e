package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/crm"
)

// Outcome is what processing one invoice did to its helper item.
type Outcome struct {
	InvoiceID int
	HelperID  int
	Total     crm.Decimal
	Currency  string
	Rows      int
	Action    string // "created", "updated", "unchanged" or "skipped" (invoice gone)
}

func (o Outcome) String() string {
	if o.Action == "skipped" {
		return fmt.Sprintf("invoice %d: gone, nothing to do", o.InvoiceID)
	}
	return fmt.Sprintf("invoice %d: %d rows, total %s %s → helper item %d %s", o.InvoiceID, o.Rows, o.Total.StringFixed(2), o.Currency, o.HelperID, o.Action)
}

// processor keeps one helper smart-process item per smart invoice, holding
// the invoice's total computed from its product rows.
type processor struct {
	crm        *crm.Client
	helperType int    // entity type id of the helper smart process
	linkField  string // helper field holding the invoice id (crm.item spelling)
	log        *slog.Logger

	locks sync.Map // invoice id → *sync.Mutex
}

// Process reads the invoice and its product rows, computes the total and
// creates or updates the helper item linked to the invoice. It is
// idempotent: the helper is looked up by its link before anything is
// created, writes happen only when something changed, and two runs for one
// invoice never overlap in this process.
func (p *processor) Process(ctx context.Context, invoiceID int) (Outcome, error) {
	mu, _ := p.locks.LoadOrStore(invoiceID, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()

	out := Outcome{InvoiceID: invoiceID}
	inv, err := p.crm.Items(crm.SmartInvoice).Get(ctx, invoiceID)
	if errors.Is(err, bitrix.ErrNotFound) {
		out.Action = "skipped"
		return out, nil
	}
	if err != nil {
		return out, fmt.Errorf("read invoice %d: %w", invoiceID, err)
	}
	var rows []crm.ProductRow
	for r, err := range p.crm.ProductRows().All(ctx, crm.Owner{EntityTypeID: crm.SmartInvoice, ID: invoiceID}, crm.RowQuery{}) {
		if err != nil {
			return out, fmt.Errorf("read the product rows of invoice %d: %w", invoiceID, err)
		}
		rows = append(rows, r)
	}
	out.Rows, out.Total, out.Currency = len(rows), crm.InvoiceTotal(rows), inv.CurrencyID

	want := crm.Fields{
		"title":       "Invoice " + strconv.Itoa(invoiceID) + ": " + inv.Title,
		"opportunity": out.Total,
		"currencyId":  inv.CurrencyID,
		p.linkField:   invoiceID,
	}
	helpers := p.crm.Items(p.helperType)
	found, _, err := helpers.List(ctx, crm.Query{
		Filter: map[string]any{"=" + p.linkField: invoiceID},
		Select: []string{"id", "title", "opportunity", "currencyId", p.linkField},
		Order:  []crm.Order{{Field: "id"}},
	}, 0)
	if err != nil {
		return out, fmt.Errorf("look up the helper of invoice %d: %w", invoiceID, err)
	}
	if len(found) == 0 {
		it, err := helpers.Add(ctx, want)
		if err != nil {
			return out, fmt.Errorf("create the helper of invoice %d: %w", invoiceID, err)
		}
		out.HelperID, out.Action = it.ID, "created"
		return out, nil
	}
	if len(found) > 1 {
		p.log.Warn("several helper items link to one invoice; updating the oldest", "invoice", invoiceID, "count", len(found))
	}
	h := found[0]
	out.HelperID = h.ID
	if h.Title == want["title"] && h.Opportunity.Cmp(out.Total) == 0 && h.CurrencyID == inv.CurrencyID {
		out.Action = "unchanged"
		return out, nil
	}
	delete(want, p.linkField)
	if _, err := helpers.Update(ctx, h.ID, want); err != nil {
		return out, fmt.Errorf("update helper item %d: %w", h.ID, err)
	}
	out.Action = "updated"
	return out, nil
}
