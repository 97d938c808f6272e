package crm_test

import (
	"context"
	"fmt"
	"log"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/crm"
)

// startPortal starts a fake portal for the examples.
func startPortal() (*bitrixtest.Server, *crm.Client) {
	srv, err := bitrixtest.Start(bitrixtest.WithoutRateLimit())
	if err != nil {
		log.Fatal(err)
	}
	c, err := bitrix.New(bitrix.WebhookURL(srv.WebhookURL()), bitrix.WithAllowHTTP())
	if err != nil {
		log.Fatal(err)
	}
	cc, err := crm.New(c)
	if err != nil {
		log.Fatal(err)
	}
	return srv, cc
}

func Example() {
	srv, c := startPortal()
	defer srv.Close()
	ctx := context.Background()

	deals := c.Items(crm.Deal)
	deal, err := deals.Add(ctx, crm.Fields{
		"title":               "Order 1001",
		"opportunity":         crm.MustDecimal("99.90"),
		"currencyId":          "EUR",
		"ufCrm_1721244707107": "from the web shop", // a user field
	})
	if err != nil {
		log.Fatal(err)
	}
	deal, err = deals.Update(ctx, deal.ID, crm.Fields{"stageId": "WON"})
	if err != nil {
		log.Fatal(err)
	}
	var note string
	_ = deal.DecodeField("ufCrm_1721244707107", &note)
	fmt.Println(deal.Title, deal.StageID, deal.Opportunity, deal.CurrencyID, note)
	// Output: Order 1001 WON 99.9 EUR from the web shop
}

func ExampleItems_All() {
	srv, c := startPortal()
	defer srv.Close()
	ctx := context.Background()
	if _, err := srv.SeedCRMItems(crm.Lead, 120, map[string]any{"sourceId": "WEB"}); err != nil {
		log.Fatal(err)
	}
	n := 0
	for lead, err := range c.Items(crm.Lead).All(ctx, crm.Query{Select: []string{"id", "title"}, Filter: map[string]any{"=sourceId": "WEB"}}) {
		if err != nil {
			log.Fatal(err)
		}
		n++
		_ = lead.Title
	}
	fmt.Println(n, "leads in", srv.CallCount("batch"), "request")
	// Output: 120 leads in 1 request
}

func ExampleItems_AddMany() {
	srv, c := startPortal()
	defer srv.Close()
	ctx := context.Background()

	contacts := make([]crm.Fields, 100)
	for i := range contacts {
		contacts[i] = crm.Fields{"name": fmt.Sprintf("Contact %d", i), "originId": fmt.Sprintf("erp-%d", i)}
	}
	srv.DropAfterProcessing(1) // one of the two requests runs, but its answer is lost
	res, err := c.Items(crm.Contact).AddMany(ctx, contacts, crm.WithOriginatorID("erp"))
	if err != nil {
		log.Fatal(err)
	}
	recovered := 0
	for _, r := range res {
		if r.Err != nil {
			log.Fatal(r.Err)
		}
		if r.Recovered {
			recovered++
		}
	}
	fmt.Println(len(res), "added,", recovered, "confirmed by lookup,", len(srv.CRMItems(crm.Contact)), "stored")
	// Output: 100 added, 50 confirmed by lookup, 100 stored
}

func ExampleProductRows_Set() {
	srv, c := startPortal()
	defer srv.Close()
	ctx := context.Background()

	invoice, err := c.Items(crm.SmartInvoice).Add(ctx, crm.Fields{"title": "Invoice 7"})
	if err != nil {
		log.Fatal(err)
	}
	rows, err := c.ProductRows().Set(ctx, crm.Owner{EntityTypeID: crm.SmartInvoice, ID: invoice.ID}, []crm.ProductRow{
		{ProductName: "Widget", Price: crm.MustDecimal("19.99"), Quantity: crm.MustDecimal("3")},
		{ProductName: "Shipping", Price: crm.MustDecimal("4.50"), Quantity: crm.MustDecimal("1")},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range rows {
		fmt.Println(r.OwnerType, r.ProductName, r.Sum().StringFixed(2))
	}
	fmt.Println("total", crm.InvoiceTotal(rows).StringFixed(2))
	// Output:
	// SI Widget 59.97
	// SI Shipping 4.50
	// total 64.47
}

func ExampleClient_DealProductRows() {
	srv, c := startPortal()
	defer srv.Close()
	ctx := context.Background()

	deal, err := c.Items(crm.Deal).Add(ctx, crm.Fields{"title": "Legacy rows"})
	if err != nil {
		log.Fatal(err)
	}
	err = c.SetDealProductRows(ctx, deal.ID, []crm.DealProductRow{
		{ProductName: "Product #1", Price: crm.MustDecimal("100"), Quantity: crm.MustDecimal("2")},
	})
	if err != nil {
		log.Fatal(err)
	}
	rows, err := c.DealProductRows(ctx, deal.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rows[0].OwnerType, rows[0].ProductName, rows[0].Sum())
	// Output: D Product #1 200
}

func ExampleOwnerType() {
	for _, id := range []int{crm.Deal, crm.SmartInvoice, 128, 1038} {
		code, _ := crm.OwnerType(id)
		back, _ := crm.ParseOwnerType(code)
		fmt.Println(id, code, back)
	}
	// Output:
	// 2 D 2
	// 31 SI 31
	// 128 T80 128
	// 1038 T40e 1038
}

func ExampleDecimal() {
	price := crm.MustDecimal("0.10")
	sum := price.Add(crm.MustDecimal("0.20"))
	fmt.Println(sum, sum.StringFixed(2))
	fmt.Println(crm.MustDecimal("2.675").MulRound(crm.MustDecimal("1"), 2))
	// Output:
	// 0.3 0.30
	// 2.68
}
