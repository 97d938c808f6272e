//go:build !nodemo

package main

import (
	"fmt"
	"io"

	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/crm"
)

// startDemoPortal starts a fake portal seeded with cfg.demoItems items of
// the entity type (without HTTP, so seeding is instant). The portal keeps
// the cloud's rate limit of 2 requests per second with a burst of 50. It
// returns the portal's webhook URL and the function that closes it.
func startDemoPortal(cfg config, stderr io.Writer) (webhookURL string, stop func(), err error) {
	portal, err := bitrixtest.Start()
	if err != nil {
		return "", nil, fmt.Errorf("start the fake portal: %w", err)
	}
	if !crm.IsSmartProcess(cfg.entity) || cfg.entity == 128 {
		_, err = portal.SeedCRMItems(cfg.entity, cfg.demoItems, map[string]any{
			"title": "Demo", "stageId": "NEW", "opportunity": 1250.5, "currencyId": "USD", "assignedById": 1,
		})
	} else {
		err = fmt.Errorf("demo mode supports the built-in types and smart process 128, not %d", cfg.entity)
	}
	if err != nil {
		portal.Close()
		return "", nil, err
	}
	fmt.Fprintf(stderr, "export: no webhook URL (-url or B24_WEBHOOK_URL): demo against a fake portal at %s with %d %s items\n",
		portal.URL(), cfg.demoItems, cfg.entityName)
	return portal.WebhookURL(), portal.Close, nil
}
