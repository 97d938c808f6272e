package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/events"
	"github.com/google/go-cmp/cmp"
)

// TestEndToEndWithFakePortal lets bitrixtest deliver real events: the app
// is installed (ONAPPINSTALL, proven by a refresh at the OAuth server), registers a bot and
// binds events from the install hook, answers a user's message as the bot,
// sees a deal created through REST, and is uninstalled.
func TestEndToEndWithFakePortal(t *testing.T) {
	t.Parallel()
	portal := bitrixtest.NewServer(t, bitrixtest.WithSyncDelivery(), bitrixtest.WithoutRateLimit())
	app := portal.App()
	reg := events.NewMemoryRegistry()
	tokens := bitrix.NewMemoryTokenStore(nil)
	h, err := New(
		WithApp(bitrix.App{ClientID: app.ClientID, ClientSecret: bitrix.Secret(app.ClientSecret), TokenURL: app.TokenURL}),
		WithOAuthServers(app.ServerEndpoint),
		WithRegistry(reg),
		WithTokenStore(tokens),
		WithClientOptions(bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit()),
		WithDedupe(nil, 0),
	)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	handlerURL := srv.URL + "/bitrix24/events"

	var mu sync.Mutex
	var botID int
	var seen []string
	record := func(s string) { mu.Lock(); seen = append(seen, s); mu.Unlock() }

	h.OnAppInstall(func(ctx context.Context, ev *events.Event, d *events.AppInstall) error {
		c, err := PortalClient(ctx)
		if err != nil {
			return err
		}
		var id int
		if _, err := c.Call(ctx, "imbot.register", bitrix.Params{
			"CODE": "echo", "TYPE": "B",
			"EVENT_MESSAGE_ADD": handlerURL, "EVENT_WELCOME_MESSAGE": handlerURL, "EVENT_BOT_DELETE": handlerURL,
			"PROPERTIES": bitrix.Params{"NAME": "Echo"},
		}, &id); err != nil {
			return fmt.Errorf("imbot.register: %w", err)
		}
		for _, name := range []string{"ONCRMDEALADD", "ONAPPUNINSTALL"} {
			if _, err := c.Call(ctx, "event.bind", bitrix.Params{"event": name, "handler": handlerURL}, nil); err != nil {
				return fmt.Errorf("event.bind %s: %w", name, err)
			}
		}
		mu.Lock()
		botID = id
		mu.Unlock()
		record("install")
		return nil
	})
	h.OnBotMessage(func(ctx context.Context, ev *events.Event, m *events.BotMessage) error {
		target, ok := m.ReplyTarget()
		if !ok {
			return errors.New("no reply target")
		}
		c, err := PortalClient(ctx)
		if err != nil {
			return err
		}
		record("message:" + m.Params.Message)
		_, err = c.Call(ctx, "imbot.message.add", bitrix.Params{
			"BOT_ID": target.BotID, "DIALOG_ID": target.DialogID, "MESSAGE": "echo: " + m.Params.Message,
		}, nil)
		return err
	})
	h.OnDealAdd(func(ctx context.Context, ev *events.Event, d *events.CRMEntity) error {
		record(fmt.Sprintf("deal:%d", d.EntityID()))
		return nil
	})
	h.OnAppUninstall(func(ctx context.Context, ev *events.Event, d *events.AppUninstall) error {
		record(fmt.Sprintf("uninstall clean=%v", bool(d.Clean)))
		return nil
	})

	if _, err := portal.InstallApp(handlerURL); err != nil {
		t.Fatalf("InstallApp: %v", err)
	}
	if _, err := reg.Lookup(t.Context(), app.MemberID); err != nil {
		t.Fatalf("application token not stored: %v", err)
	}
	if _, err := portal.SendBotMessage(botID, 1, "hello"); err != nil {
		t.Fatalf("SendBotMessage: %v", err)
	}
	var found bool
	for _, m := range portal.BotMessages() {
		if m.Text == "echo: hello" && m.BotID == botID && m.DialogID == "1" {
			found = true
		}
	}
	if !found {
		t.Errorf("the bot's reply is not on the portal: %+v", portal.BotMessages())
	}

	// A deal created through REST (as user 1 with an inbound webhook).
	hook, err := bitrix.New(bitrix.WebhookURL(portal.WebhookURL()), bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit())
	if err != nil {
		t.Fatal(err)
	}
	var dealID int
	if _, err := hook.Call(t.Context(), "crm.deal.add", bitrix.Params{"fields": bitrix.Params{"TITLE": "Big one"}}, &dealID); err != nil {
		t.Fatal(err)
	}

	if _, err := tokens.LoadToken(t.Context(), app.MemberID); err != nil {
		t.Errorf("no tokens stored for the installed portal: %v", err)
	}
	if err := portal.UninstallApp(); err != nil {
		t.Fatalf("UninstallApp: %v", err)
	}
	if _, err := tokens.LoadToken(t.Context(), app.MemberID); !errors.Is(err, bitrix.ErrTokenNotFound) {
		t.Errorf("tokens still stored after uninstall: %v", err)
	}
	if _, err := reg.Lookup(t.Context(), app.MemberID); !errors.Is(err, events.ErrUnknownPortal) {
		t.Errorf("portal still registered after uninstall: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"install", "message:hello", fmt.Sprintf("deal:%d", dealID), "uninstall clean=true"}
	if d := cmp.Diff(want, seen); d != "" {
		t.Errorf("handled (-want +got)\n%s", d)
	}
	for _, d := range portal.Deliveries() {
		if d.Status != 200 {
			t.Errorf("delivery %s answered %d", d.Event, d.Status)
		}
	}
}

// TestOutboundWebhookEndToEnd: an outgoing webhook's token configured as a
// static token; a delivery with another token is refused.
func TestOutboundWebhookEndToEnd(t *testing.T) {
	t.Parallel()
	portal := bitrixtest.NewServer(t, bitrixtest.WithSyncDelivery(), bitrixtest.WithoutRateLimit())
	var got []int
	var mu sync.Mutex
	newHandler := func(token string) string {
		h, err := New(WithApplicationToken(token))
		if err != nil {
			t.Fatal(err)
		}
		h.OnDealAdd(func(_ context.Context, _ *events.Event, d *events.CRMEntity) error {
			mu.Lock()
			got = append(got, d.EntityID())
			mu.Unlock()
			return nil
		})
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return srv.URL + "/hook"
	}
	good := newHandler("outbound-secret")
	bad := newHandler("some-other-secret")
	portal.AddOutboundWebhook([]string{"ONCRMDEALADD"}, good, "outbound-secret")
	portal.AddOutboundWebhook([]string{"ONCRMDEALADD"}, bad, "outbound-secret-2")
	hook, err := bitrix.New(bitrix.WebhookURL(portal.WebhookURL()), bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit())
	if err != nil {
		t.Fatal(err)
	}
	var id int
	if _, err := hook.Call(t.Context(), "crm.deal.add", bitrix.Params{"fields": bitrix.Params{"TITLE": "x"}}, &id); err != nil {
		t.Fatal(err)
	}
	statuses := map[string]int{}
	for _, d := range portal.Deliveries() {
		statuses[d.URL] = d.Status
	}
	if statuses[good] != 200 || statuses[bad] != 401 {
		t.Errorf("statuses = %v", statuses)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0] != id {
		t.Errorf("handled %v, want [%d]", got, id)
	}
}

// TestOfflineConsumerEndToEnd drains the fake portal's offline queue.
func TestOfflineConsumerEndToEnd(t *testing.T) {
	t.Parallel()
	portal := bitrixtest.NewServer(t, bitrixtest.WithSyncDelivery(), bitrixtest.WithoutRateLimit())
	app := portal.App()
	tok := portal.IssueToken(1)
	c, err := bitrix.New(bitrix.OAuth(bitrix.Token{
		AccessToken: bitrix.Secret(tok.AccessToken), RefreshToken: bitrix.Secret(tok.RefreshToken),
		Expires: tok.Expires, MemberID: tok.MemberID, Domain: tok.Domain, ClientEndpoint: tok.ClientEndpoint,
	}, bitrix.App{ClientID: app.ClientID, ClientSecret: bitrix.Secret(app.ClientSecret), TokenURL: app.TokenURL}, nil),
		bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit())
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := c.Call(ctx, "event.bind", bitrix.Params{"event": "ONCRMLEADADD", "event_type": "offline"}, nil); err != nil {
		t.Fatal(err)
	}
	var ids []int
	for i := range 3 {
		var id int
		if _, err := c.Call(ctx, "crm.lead.add", bitrix.Params{"fields": bitrix.Params{"TITLE": fmt.Sprint("lead ", i)}}, &id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if n := portal.OfflineEventCount(); n != 3 {
		t.Fatalf("offline queue holds %d records", n)
	}
	var got []int
	cons := &events.Consumer{Client: c, Limit: 2, Handler: func(_ context.Context, rec *events.OfflineRecord) error {
		d, err := rec.DecodeData()
		if err != nil {
			return err
		}
		e, ok := d.(*events.CRMEntity)
		if !ok {
			return fmt.Errorf("%s data %T", rec.Name, d)
		}
		got = append(got, e.EntityID())
		return nil
	}}
	for {
		n, err := cons.Once(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	if d := cmp.Diff(ids, got); d != "" {
		t.Errorf("handled (-want +got)\n%s", d)
	}
	if n := portal.OfflineEventCount(); n != 0 {
		t.Errorf("%d records left in the queue", n)
	}
}
