package bitrix_test

import (
	"testing"

	"github.com/b24go/sdk/bitrix"
	"github.com/google/go-cmp/cmp"
)

func TestCallWebhookForm(t *testing.T) {
	t.Parallel()
	p := newPortal(t)
	p.handle("crm.deal.get", ok(map[string]any{"ID": "42", "TITLE": "Deal"}))
	c := newWebhookClient(t, p)
	var deal struct {
		ID    bitrix.Int `json:"ID"`
		Title string     `json:"TITLE"`
	}
	resp, err := c.Call(t.Context(), "crm.deal.get", bitrix.Params{"id": 42, "select": []string{"ID", "TITLE"}}, &deal)
	if err != nil {
		t.Fatal(err)
	}
	if deal.ID != 42 || deal.Title != "Deal" {
		t.Errorf("deal = %+v", deal)
	}
	if resp.Time.Duration.Seconds() != 0.01 || resp.Time.DateStart != "2024-08-29T10:34:19+03:00" {
		t.Errorf("time = %+v", resp.Time)
	}
	calls := p.recorded()
	if len(calls) != 1 {
		t.Fatalf("calls = %d", len(calls))
	}
	if diff := cmp.Diff("/rest/1/"+testSecret+"/crm.deal.get", calls[0].Path); diff != "" {
		t.Errorf("path (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff("id=42&select%5B0%5D=ID&select%5B1%5D=TITLE", calls[0].Body); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
}
