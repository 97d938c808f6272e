package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/crm"
	"github.com/b24go/sdk/lists"
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

// element is a list element as the test compares it.
type element struct {
	Code, Name                          string
	Deal, Row, Product, Price, Qty, Sum string
}

// elements reads the list's content from the fake portal, resolving the
// property ids by code.
func elements(t *testing.T, portal *bitrixtest.Server, listID int) []element {
	t.Helper()
	c, err := bitrix.New(bitrix.WebhookURL(portal.WebhookURL()), bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit())
	if err != nil {
		t.Fatal(err)
	}
	s, err := newSyncer(t.Context(), c, "lists", listRefByID(listID))
	if err != nil {
		t.Fatal(err)
	}
	var out []element
	for _, el := range portal.ListElements(listID) {
		p := func(code string) string {
			return strings.Join(el.Properties["PROPERTY_"+strconv.Itoa(s.props[code])], ",")
		}
		out = append(out, element{el.Code, el.Name, p(codeDealID), p(codeRowID), p(codeProductID), p(codePrice), p(codeQuantity), p(codeSum)})
	}
	return out
}

func listRefByID(id int) lists.Ref { return config{list: strconv.Itoa(id)}.listRef() }

// writes counts list writes (top level or in batches) in the call log.
func writes(portal *bitrixtest.Server) int {
	return portal.CallCount("lists.element.add") + portal.CallCount("lists.element.update") + portal.CallCount("lists.element.delete")
}

// TestServer runs dealsync behind a fake portal's outgoing webhook and
// follows one deal: rows added, changed, removed, an unchanged rerun and a
// duplicate delivery without writes, a second change within one second, and
// the deal's deletion.
func TestServer(t *testing.T) {
	t.Parallel()
	portal := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit())
	listID := addDemoList(portal)
	const token = "dealsync-token"
	listening := make(chan string, 1)
	stderr := &syncBuffer{re: regexp.MustCompile(`listening url=(\S+)`), found: listening}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-list", strconv.Itoa(listID)}, envMap(map[string]string{
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
	portal.AddOutboundWebhook([]string{"ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMDEALDELETE"}, handlerURL, token)

	c, err := bitrix.New(bitrix.WebhookURL(portal.WebhookURL()), bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit())
	if err != nil {
		t.Fatal(err)
	}
	cc, err := crm.New(c)
	if err != nil {
		t.Fatal(err)
	}
	deals, rows := cc.Items(crm.Deal), cc.ProductRows()
	delivered := 0
	// event makes a change that fires one event and waits for its delivery.
	event := func(change func() error) {
		t.Helper()
		portal.Advance(time.Second) // a distinct ts, so no two changes look like a repeat
		if err := change(); err != nil {
			t.Fatal(err)
		}
		delivered++
		dels, err := portal.WaitDeliveries(t.Context(), delivered)
		if err != nil {
			t.Fatal(err)
		}
		if d := dels[delivered-1]; d.Status != http.StatusOK {
			t.Fatalf("%s answered %d", d.Event, d.Status)
		}
	}
	update := func(id int) func() error {
		return func() error {
			_, err := deals.Update(t.Context(), id, crm.Fields{"comments": time.Now().String()})
			return err
		}
	}
	m := crm.MustDecimal

	var dealID, other int
	event(func() error {
		d, err := deals.Add(t.Context(), crm.Fields{"title": "Chairs"})
		if d != nil {
			dealID = d.ID
		}
		return err
	})
	event(func() error {
		d, err := deals.Add(t.Context(), crm.Fields{"title": "Another deal"})
		if d != nil {
			other = d.ID
		}
		return err
	})
	owner := crm.Owner{EntityTypeID: crm.Deal, ID: dealID}
	r1, err := rows.Add(t.Context(), owner, crm.ProductRow{ProductName: "Chair", ProductID: 7, Price: m("149.90"), Quantity: m("4")})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := rows.Add(t.Context(), owner, crm.ProductRow{ProductName: "Desk", Price: m("320"), Quantity: m("2")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rows.Add(t.Context(), crm.Owner{EntityTypeID: crm.Deal, ID: other}, crm.ProductRow{ProductName: "Pen", Price: m("1.2"), Quantity: m("10")}); err != nil {
		t.Fatal(err)
	}
	event(update(dealID))
	event(update(other))
	code := func(deal, row int) string { return "deal-" + strconv.Itoa(deal) + "-row-" + strconv.Itoa(row) }
	d, o := strconv.Itoa(dealID), strconv.Itoa(other)
	chair := element{code(dealID, r1.ID), "Chair", d, strconv.Itoa(r1.ID), "7", "149.9", "4", "599.6"}
	desk := element{code(dealID, r2.ID), "Desk", d, strconv.Itoa(r2.ID), "0", "320", "2", "640"}
	pen := element{Code: "", Name: "Pen", Deal: o, Product: "0", Price: "1.2", Qty: "10", Sum: "12"}
	got := elements(t, portal, listID)
	if len(got) == 3 {
		pen.Code, pen.Row = got[2].Code, got[2].Row
	}
	if diff := cmp.Diff([]element{chair, desk, pen}, got); diff != "" {
		t.Fatalf("list after adding rows (-want +got)\n%s", diff)
	}

	// Change one row, remove one, add one.
	if _, err := rows.Update(t.Context(), r1.ID, crm.Fields{"price": m("129.90")}); err != nil {
		t.Fatal(err)
	}
	if err := rows.Delete(t.Context(), r2.ID); err != nil {
		t.Fatal(err)
	}
	r3, err := rows.Add(t.Context(), owner, crm.ProductRow{ProductName: "Lamp", Price: m("35.55"), Quantity: m("3")})
	if err != nil {
		t.Fatal(err)
	}
	event(update(dealID))
	chair.Price, chair.Sum = "129.9", "519.6"
	lamp := element{code(dealID, r3.ID), "Lamp", d, strconv.Itoa(r3.ID), "0", "35.55", "3", "106.65"}
	if diff := cmp.Diff([]element{chair, pen, lamp}, elements(t, portal, listID)); diff != "" {
		t.Fatalf("list after changing rows (-want +got)\n%s", diff)
	}

	// An unchanged rerun and a repeated delivery write nothing.
	before := writes(portal)
	event(update(dealID))
	dup := portal.Deliveries()[delivered-1]
	res, err := http.Post(handlerURL, "application/x-www-form-urlencoded", strings.NewReader(dup.Body))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("duplicate delivery answered %d", res.StatusCode)
	}
	if n := writes(portal) - before; n != 0 {
		t.Errorf("an unchanged rerun made %d list writes", n)
	}

	// A second change in the same second: its event is byte for byte the one
	// just delivered (events carry no id, and ts has a one-second grain), so
	// a dedupe store would skip it. The sync must not.
	if _, err := rows.Update(t.Context(), r3.ID, crm.Fields{"quantity": m("5")}); err != nil {
		t.Fatal(err)
	}
	res, err = http.Post(handlerURL, "application/x-www-form-urlencoded", strings.NewReader(dup.Body))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	lamp.Qty, lamp.Sum = "5", "177.75"
	if diff := cmp.Diff([]element{chair, pen, lamp}, elements(t, portal, listID)); diff != "" {
		t.Fatalf("a second change within one second was not synced (-want +got)\n%s", diff)
	}

	// Deleting the deal removes its elements, not the other deal's.
	event(func() error { return deals.Delete(t.Context(), dealID) })
	if diff := cmp.Diff([]element{pen}, elements(t, portal, listID)); diff != "" {
		t.Errorf("list after deleting the deal (-want +got)\n%s", diff)
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

// TestOnceLargeDeal syncs a deal with 120 rows in one-shot mode: the adds
// go in batches of 50, and a second run writes nothing.
func TestOnceLargeDeal(t *testing.T) {
	t.Parallel()
	portal := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit())
	listID := addDemoList(portal)
	c, err := bitrix.New(bitrix.WebhookURL(portal.WebhookURL()), bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit())
	if err != nil {
		t.Fatal(err)
	}
	cc, err := crm.New(c)
	if err != nil {
		t.Fatal(err)
	}
	deal, err := cc.Items(crm.Deal).Add(t.Context(), crm.Fields{"title": "Big"})
	if err != nil {
		t.Fatal(err)
	}
	var rs []crm.ProductRow
	for i := range 120 {
		rs = append(rs, crm.ProductRow{ProductName: "Item " + strconv.Itoa(i), Price: crm.DecimalFromInt(int64(i + 1)), Quantity: crm.MustDecimal("1")})
	}
	if _, err := cc.ProductRows().Set(t.Context(), crm.Owner{EntityTypeID: crm.Deal, ID: deal.ID}, rs); err != nil {
		t.Fatal(err)
	}
	env := envMap(map[string]string{"B24_WEBHOOK_URL": portal.WebhookURL(), "B24_ALLOW_HTTP": "1"})
	args := []string{"-list", defaultListCode, "-once", strconv.Itoa(deal.ID)}

	portal.ResetCalls()
	var out bytes.Buffer
	if err := run(t.Context(), args, env, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if want := "deal " + strconv.Itoa(deal.ID) + ": 120 added, 0 updated, 0 deleted, 0 unchanged\n"; out.String() != want {
		t.Errorf("first run printed %q, want %q", out.String(), want)
	}
	if n := len(portal.ListElements(listID)); n != 120 {
		t.Errorf("%d elements, want 120", n)
	}
	adds, batchesWithAdds := 0, 0
	calls := portal.Calls()
	for i, c := range calls {
		if c.Method == "lists.element.add" {
			if !c.InBatch {
				t.Errorf("a lists.element.add outside a batch")
			}
			adds++
			if calls[i-1].Method == "batch" {
				batchesWithAdds++
			}
		}
	}
	if adds != 120 || batchesWithAdds != 3 {
		t.Errorf("%d adds in %d batch requests, want 120 in 3", adds, batchesWithAdds)
	}

	before := writes(portal)
	out.Reset()
	if err := run(t.Context(), args, env, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "0 added, 0 updated, 0 deleted, 120 unchanged") {
		t.Errorf("second run printed %q", out.String())
	}
	if n := writes(portal) - before; n != 0 {
		t.Errorf("the rerun made %d writes", n)
	}
}

// TestDemo runs with no configuration.
func TestDemo(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), nil, envMap(map[string]string{"CI": "true"}), &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	for _, want := range []string{
		"3 added, 0 updated, 0 deleted, 0 unchanged",
		"1 added, 1 updated, 1 deleted, 1 unchanged",
		"0 added, 0 updated, 0 deleted, 3 unchanged (0 list writes",
		"0 added, 0 updated, 3 deleted",
		"Done:",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
		}
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	if _, err := parseConfig(nil, envMap(map[string]string{"B24_WEBHOOK_URL": "https://p/rest/1/s/"}), io.Discard); err == nil || !strings.Contains(err.Error(), "B24_APP_TOKEN") {
		t.Errorf("server mode without a token: %v", err)
	}
	cfg, err := parseConfig(nil, envMap(nil), io.Discard)
	if err != nil || !cfg.demo {
		t.Errorf("no configuration: demo=%v, %v", cfg.demo, err)
	}
}
