//go:build !nodemo

package main

import (
	"fmt"
	"io"

	"github.com/b24go/sdk/bitrix/bitrixtest"
)

// startDemo starts a fake portal and points cfg at it (with a sample lead
// unless one was given). show prints a lead as the portal stored it; stop
// closes the portal.
func startDemo(cfg *config, stderr io.Writer) (show func(id int), stop func(), err error) {
	portal, err := bitrixtest.Start()
	if err != nil {
		return nil, nil, fmt.Errorf("start the fake portal: %w", err)
	}
	cfg.url, cfg.allowHTTP = portal.WebhookURL(), true
	if cfg.lead.Title == "" && cfg.lead.Name == "" {
		cfg.lead = lead{Name: "Jane", LastName: "Roe", Phones: []string{"+1 555 0100", "+1 555 0199"}, Emails: []string{"jane.roe@example.com"}}
	}
	fmt.Fprintf(stderr, "createlead: no webhook URL (-url or B24_WEBHOOK_URL): demo against a fake portal at %s\n", portal.URL())
	show = func(id int) { describe(stderr, portal.CRMItem(bitrixtest.EntityLead, id)) }
	return show, portal.Close, nil
}

// describe prints the lead as the fake portal stored it (demo mode).
func describe(w io.Writer, item map[string]any) {
	if item == nil {
		return
	}
	fmt.Fprintf(w, "createlead: stored lead %v %q: name %v %v\n", item["id"], item["title"], item["name"], item["lastName"])
	if fm, ok := item["fm"].([]any); ok {
		for _, e := range fm {
			if m, ok := e.(map[string]any); ok {
				fmt.Fprintf(w, "createlead:   %v %v (%v)\n", m["typeId"], m["value"], m["valueType"])
			}
		}
	}
}
