package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/crm"
	"github.com/b24go/sdk/events"
	"github.com/google/go-cmp/cmp"
)

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// syncBuffer is a goroutine-safe log buffer that reports the first line
// matching re.
type syncBuffer struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	re    *regexp.Regexp
	found chan string
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if b.found != nil {
		if m := b.re.FindStringSubmatch(b.buf.String()); m != nil {
			b.found <- m[1]
			b.found = nil
		}
	}
	return len(p), nil
}

const (
	helperType = 1030
	linkField  = "ufCrm7InvoiceId"
)

type helper struct {
	Title, Opportunity, Currency, Link string
}

func helpers(portal *bitrixtest.Server) []helper {
	var out []helper
	for _, it := range portal.CRMItems(helperType) {
		out = append(out, helper{fmtv(it["title"]), fmtv(it["opportunity"]), fmtv(it["currencyId"]), fmtv(it[linkField])})
	}
	return out
}

func fmtv(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// helperWrites counts crm.item.add/update calls for the helper type.
func helperWrites(portal *bitrixtest.Server) int {
	n := 0
	for _, c := range portal.Calls() {
		if (c.Method == "crm.item.add" || c.Method == "crm.item.update") && fmtv(c.Params["entityTypeId"]) == strconv.Itoa(helperType) {
			n++
		}
	}
	return n
}

// TestServer runs smartinvoice behind a fake portal's outgoing webhook with
// a helper smart process of its own: created on the invoice's add, updated
// with the product rows' total, untouched by an update that changes no
// total, by a repeated delivery and by concurrent deliveries of equivalent
// events (ONCRMDYNAMICITEMUPDATE with ENTITY_TYPE_ID 31 and
// ONCRMDYNAMICITEMUPDATE_31), and the events of other smart processes are
// ignored.
func TestServer(t *testing.T) {
	t.Parallel()
	portal := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit())
	if err := portal.AddSmartProcess(helperType, "Invoice totals"); err != nil {
		t.Fatal(err)
	}
	const token = "si-token"
	listening := make(chan string, 1)
	stderr := &syncBuffer{re: regexp.MustCompile(`listening url=(\S+)`), found: listening}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-helper-type", strconv.Itoa(helperType), "-link-field", linkField}, envMap(map[string]string{
			"B24_APP_TOKEN": token, "B24_WEBHOOK_URL": portal.WebhookURL(), "B24_ALLOW_HTTP": "1", "B24_LISTEN": "127.0.0.1:0",
		}), io.Discard, stderr)
	}()
	var handlerURL string
	select {
	case handlerURL = <-listening:
	case err := <-done:
		t.Fatalf("run returned early: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("the server did not start")
	}
	portal.AddOutboundWebhook(Events, handlerURL, token)

	c, err := bitrix.New(bitrix.WebhookURL(portal.WebhookURL()), bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit())
	if err != nil {
		t.Fatal(err)
	}
	cc, err := crm.New(c)
	if err != nil {
		t.Fatal(err)
	}
	invoices := cc.Items(crm.SmartInvoice)
	delivered := 0
	// change makes a change causing n deliveries and waits for them.
	change := func(n int, do func() error) {
		t.Helper()
		portal.Advance(time.Second)
		if err := do(); err != nil {
			t.Fatal(err)
		}
		delivered += n
		dels, err := portal.WaitDeliveries(t.Context(), delivered)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range dels {
			if d.Status != http.StatusOK {
				t.Fatalf("%s answered %d", d.Event, d.Status)
			}
		}
	}
	var inv *crm.Item
	change(2, func() (err error) { // the invoice's event, then the new helper's own
		inv, err = invoices.Add(t.Context(), crm.Fields{"title": "INV-7", "currencyId": "EUR"})
		return err
	})
	id := strconv.Itoa(inv.ID)
	want := []helper{{"Invoice " + id + ": INV-7", "0", "EUR", id}}
	if d := cmp.Diff(want, helpers(portal)); d != "" {
		t.Fatalf("helpers after the add (-want +got)\n%s", d)
	}

	owner := crm.Owner{EntityTypeID: crm.SmartInvoice, ID: inv.ID}
	if _, err := cc.ProductRows().Set(t.Context(), owner, []crm.ProductRow{
		{ProductName: "A", Price: crm.MustDecimal("19.99"), Quantity: crm.MustDecimal("3")},
		{ProductName: "B", Price: crm.MustDecimal("0.1"), Quantity: crm.MustDecimal("3")},
		{ProductName: "C", Price: crm.MustDecimal("10.005"), Quantity: crm.MustDecimal("1")},
	}); err != nil {
		t.Fatal(err)
	}
	change(2, func() error {
		_, err := invoices.Update(t.Context(), inv.ID, crm.Fields{"title": "INV-7b"})
		return err
	})
	// 59.97 + 0.30 + 10.01 (each row rounded to cents, then added exactly)
	want = []helper{{"Invoice " + id + ": INV-7b", "70.28", "EUR", id}}
	if d := cmp.Diff(want, helpers(portal)); d != "" {
		t.Fatalf("helpers after the rows (-want +got)\n%s", d)
	}

	// No new total: no write. A repeated delivery: no write either.
	before := helperWrites(portal)
	change(1, func() error { _, err := invoices.Update(t.Context(), inv.ID, crm.Fields{"comments": "x"}); return err })
	var last bitrixtest.Delivery
	for _, d := range portal.Deliveries() {
		if d.Event == events.OnCRMDynamicItemUpdate && d.Form.Get("data[FIELDS][ENTITY_TYPE_ID]") == "31" {
			last = d
		}
	}
	post := func(body string) {
		res, err := http.Post(handlerURL, "application/x-www-form-urlencoded", strings.NewReader(body))
		if err != nil {
			t.Error(err)
			return
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("delivery answered %d", res.StatusCode)
		}
	}
	post(last.Body)
	if n := helperWrites(portal) - before; n != 0 {
		t.Errorf("%d helper writes without a change", n)
	}

	// A new invoice seeded without events, then two equivalent events at
	// once: exactly one helper item.
	ids, err := portal.SeedCRMItems(crm.SmartInvoice, 1, map[string]any{"title": "INV-8", "currencyId": "USD"}, bitrixtest.WithoutEvents())
	if err != nil {
		t.Fatal(err)
	}
	f1 := last.Form
	f1.Set("data[FIELDS][ID]", strconv.Itoa(ids[0]))
	f1.Set("ts", strconv.FormatInt(portal.Now().Unix()+5, 10))
	f2 := cloneValues(f1)
	f2.Set("event", "ONCRMDYNAMICITEMUPDATE_31")
	f2.Del("data[FIELDS][ENTITY_TYPE_ID]") // the per-type name alone names the type
	var wg sync.WaitGroup
	for _, f := range []string{f1.Encode(), f2.Encode()} {
		wg.Add(1)
		go func() { defer wg.Done(); post(f) }()
	}
	wg.Wait()
	id8 := strconv.Itoa(ids[0])
	want = append(want, helper{"Invoice " + id8 + ": INV-8", "0", "USD", id8})
	if d := cmp.Diff(want, helpers(portal)); d != "" {
		t.Errorf("helpers after concurrent events (-want +got)\n%s", d)
	}

	stderr.mu.Lock()
	logged := stderr.buf.String()
	stderr.mu.Unlock()
	for _, name := range []string{"ONCRMDYNAMICITEMUPDATE", "ONCRMDYNAMICITEMUPDATE_31"} {
		if !regexp.MustCompile(`"invoice processed" event=` + name + ` invoice=` + id8 + ` `).MatchString(logged) {
			t.Errorf("%s for the invoice was not processed:\n%s", name, logged)
		}
	}

	// Events of another smart process are acknowledged and ignored.
	before = len(portal.Calls())
	f3 := cloneValues(f1)
	f3.Set("data[FIELDS][ENTITY_TYPE_ID]", "128")
	f3.Set("ts", strconv.FormatInt(portal.Now().Unix()+9, 10))
	post(f3.Encode())
	f3.Set("event", "ONCRMDYNAMICITEMUPDATE_128")
	post(f3.Encode())
	if n := len(portal.Calls()) - before; n != 0 {
		t.Errorf("an event of smart process 128 caused %d calls", n)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run after cancel: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not shut down")
	}
}

// TestServerPerTypeEvents runs smartinvoice behind an outgoing webhook
// ticked for the per-type names (InvoiceEvents): the invoice's events
// arrive under ONCRMDYNAMICITEMADD_31 / _UPDATE_31 and the helper items'
// own events are not posted at all.
func TestServerPerTypeEvents(t *testing.T) {
	t.Parallel()
	portal := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit())
	if err := portal.AddSmartProcess(helperType, "Invoice totals"); err != nil {
		t.Fatal(err)
	}
	const token = "si-token-31"
	listening := make(chan string, 1)
	stderr := &syncBuffer{re: regexp.MustCompile(`listening url=(\S+)`), found: listening}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-helper-type", strconv.Itoa(helperType), "-link-field", linkField}, envMap(map[string]string{
			"B24_APP_TOKEN": token, "B24_WEBHOOK_URL": portal.WebhookURL(), "B24_ALLOW_HTTP": "1", "B24_LISTEN": "127.0.0.1:0",
		}), io.Discard, stderr)
	}()
	var handlerURL string
	select {
	case handlerURL = <-listening:
	case err := <-done:
		t.Fatalf("run returned early: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("the server did not start")
	}
	portal.AddOutboundWebhook(InvoiceEvents, handlerURL, token)
	c, err := bitrix.New(bitrix.WebhookURL(portal.WebhookURL()), bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit())
	if err != nil {
		t.Fatal(err)
	}
	cc, err := crm.New(c)
	if err != nil {
		t.Fatal(err)
	}
	invoices := cc.Items(crm.SmartInvoice)
	inv, err := invoices.Add(t.Context(), crm.Fields{"title": "INV-31", "currencyId": "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := portal.WaitDeliveries(t.Context(), 1); err != nil { // in order
		t.Fatal(err)
	}
	portal.Advance(time.Second)
	if _, err := invoices.Update(t.Context(), inv.ID, crm.Fields{"title": "INV-31b"}); err != nil {
		t.Fatal(err)
	}
	dels, err := portal.WaitDeliveries(t.Context(), 2)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range dels {
		got = append(got, fmt.Sprintf("%s %d", d.Event, d.Status))
	}
	if d := cmp.Diff([]string{"ONCRMDYNAMICITEMADD_31 200", "ONCRMDYNAMICITEMUPDATE_31 200"}, got); d != "" {
		t.Errorf("deliveries (-want +got)\n%s", d)
	}
	id := strconv.Itoa(inv.ID)
	if d := cmp.Diff([]helper{{"Invoice " + id + ": INV-31b", "0", "EUR", id}}, helpers(portal)); d != "" {
		t.Errorf("helpers (-want +got)\n%s", d)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run after cancel: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not shut down")
	}
	// The helper's own add and update were not posted: two deliveries only.
	if n := len(portal.Deliveries()); n != 2 {
		t.Errorf("%d deliveries, want 2", n)
	}
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// TestOnce processes one invoice without a server.
func TestOnce(t *testing.T) {
	t.Parallel()
	portal := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit())
	ids, err := portal.SeedCRMItems(crm.SmartInvoice, 1, map[string]any{"title": "INV-1", "currencyId": "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := bitrix.New(bitrix.WebhookURL(portal.WebhookURL()), bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit())
	if err != nil {
		t.Fatal(err)
	}
	cc, err := crm.New(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cc.ProductRows().Add(t.Context(), crm.Owner{EntityTypeID: crm.SmartInvoice, ID: ids[0]},
		crm.ProductRow{ProductName: "X", Price: crm.MustDecimal("2.5"), Quantity: crm.MustDecimal("4")}); err != nil {
		t.Fatal(err)
	}
	env := envMap(map[string]string{"B24_WEBHOOK_URL": portal.WebhookURL(), "B24_ALLOW_HTTP": "1"})
	var outs []string
	for range 2 {
		var out bytes.Buffer
		if err := run(t.Context(), []string{"-once", strconv.Itoa(ids[0])}, env, &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		outs = append(outs, out.String())
	}
	if !strings.Contains(outs[0], "1 rows, total 10.00 EUR") || !strings.HasSuffix(outs[0], "created\n") || !strings.HasSuffix(outs[1], "unchanged\n") {
		t.Errorf("outputs %q", outs)
	}
	if n := len(portal.CRMItems(128)); n != 1 {
		t.Errorf("%d helper items", n)
	}
	// An invoice that does not exist is skipped.
	var out bytes.Buffer
	if err := run(t.Context(), []string{"-once", "999"}, env, &out, io.Discard); err != nil || !strings.Contains(out.String(), "gone") {
		t.Errorf("missing invoice: %q, %v", out.String(), err)
	}
}

// TestDemo runs with no configuration.
func TestDemo(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), nil, envMap(map[string]string{"CI": "true"}), &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	for _, want := range []string{"0 rows, total 0.00 EUR → helper item", "created", "3 rows, total 1206.27 EUR", "updated", "unchanged"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
		}
	}
	// The edit of step 3 and the redelivery of step 4 both find nothing to
	// change (the helper's id is whatever its type's sequence gives).
	if n := strings.Count(stdout.String(), " unchanged\n"); n != 2 {
		t.Errorf("%d unchanged outcomes, want 2 (step 3 and the redelivery):\n%s", n, stdout.String())
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"-helper-type", "31"}, nil, "not a smart-process"},
		{nil, map[string]string{"B24_WEBHOOK_URL": "https://p/rest/1/s/"}, "B24_APP_TOKEN"},
		{[]string{"-link-field", ""}, nil, "-link-field is empty"},
	} {
		if _, err := parseConfig(tc.args, envMap(tc.env), io.Discard); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseConfig(%q, %v) = %v, want %q", tc.args, tc.env, err, tc.want)
		}
	}
}
