package crm_test

import (
	"encoding/json"
	"testing"

	"github.com/b24go/sdk/crm"
)

func BenchmarkItemDecode(b *testing.B) {
	var env struct {
		Item json.RawMessage `json:"item"`
	}
	if err := json.Unmarshal(fixtureResultB(b, "resp_crm_item_add_deal.json"), &env); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(env.Item)))
	for b.Loop() {
		var it crm.Item
		if err := json.Unmarshal(env.Item, &it); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkInvoiceTotal(b *testing.B) {
	rows := make([]crm.ProductRow, 100)
	for i := range rows {
		rows[i] = crm.ProductRow{Price: crm.NewDecimal(int64(1999+i), 2), Quantity: crm.NewDecimal(int64(i%7+1), 0)}
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = crm.InvoiceTotal(rows)
	}
}

func BenchmarkAddMany(b *testing.B) {
	srv, c := newPortal(b)
	items := dealsToAdd(250)
	b.ReportAllocs()
	for b.Loop() {
		res, err := c.Items(crm.Deal).AddMany(b.Context(), items)
		if err != nil || res[249].Err != nil {
			b.Fatal(err, res[249].Err)
		}
	}
	_ = srv
}
