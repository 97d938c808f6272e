package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
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

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// endpoint is the HTTP endpoint that receives notifications; it can be told
// to fail.
type endpoint struct {
	mu     sync.Mutex
	got    []Notification
	status int
}

func (e *endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.status != 0 {
		w.WriteHeader(e.status)
		return
	}
	var n Notification
	if err := json.NewDecoder(r.Body).Decode(&n); err != nil || r.Header.Get("Content-Type") != "application/json" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	e.got = append(e.got, n)
}

func (e *endpoint) fail(status int) { e.mu.Lock(); e.status = status; e.mu.Unlock() }

func (e *endpoint) texts() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, n := range e.got {
		out = append(out, n.Event+" "+n.Text)
	}
	return out
}

// TestNotifierServer runs the notifier as a server behind a fake portal's
// outgoing webhook and an HTTP endpoint: one notification per event, none
// for a repeated delivery or a forged one, and a failing endpoint gives the
// portal a 500 and a log line, after which a redelivery is notified.
func TestNotifierServer(t *testing.T) {
	t.Parallel()
	portal := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit())
	ep := &endpoint{}
	epSrv := httptest.NewServer(ep)
	t.Cleanup(epSrv.Close)
	const token = "outgoing-webhook-token"
	listening := make(chan string, 1)
	stderr := &syncBuffer{re: regexp.MustCompile(`listening url=(\S+)`), found: listening}
	var stdout bytes.Buffer
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, nil, envMap(map[string]string{
			"B24_APP_TOKEN":   token,
			"B24_LISTEN":      "127.0.0.1:0",
			"B24_NOTIFY_URL":  epSrv.URL + "/notify",
			"B24_WEBHOOK_URL": portal.WebhookURL(),
			"B24_ALLOW_HTTP":  "1",
		}), &stdout, stderr)
	}()
	var handlerURL string
	select {
	case handlerURL = <-listening:
	case err := <-done:
		t.Fatalf("run returned early: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("the server did not start")
	}
	portal.AddOutboundWebhook([]string{"ONCRMLEADADD", "ONCRMDEALADD", "ONCRMDEALUPDATE", "ONTASKADD"}, handlerURL, token)

	c, err := bitrix.New(bitrix.WebhookURL(portal.WebhookURL()), bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit())
	if err != nil {
		t.Fatal(err)
	}
	delivered := 0
	waitStatus := func(want int) {
		t.Helper()
		delivered++
		dels, err := portal.WaitDeliveries(t.Context(), delivered)
		if err != nil {
			t.Fatal(err)
		}
		if d := dels[delivered-1]; d.Status != want {
			t.Errorf("delivery %d (%s) answered %d, want %d", delivered, d.Event, d.Status, want)
		}
	}
	var leadID, dealID int
	if _, err := c.Call(t.Context(), "crm.lead.add", bitrix.Params{"fields": bitrix.Params{"TITLE": "Enquiry"}}, &leadID); err != nil {
		t.Fatal(err)
	}
	waitStatus(200)
	if _, err := c.Call(t.Context(), "crm.deal.add", bitrix.Params{"fields": bitrix.Params{"TITLE": "Big one"}}, &dealID); err != nil {
		t.Fatal(err)
	}
	waitStatus(200)
	if _, err := c.Call(t.Context(), "crm.deal.update", bitrix.Params{"id": dealID, "fields": bitrix.Params{"TITLE": "Bigger one"}}, nil); err != nil {
		t.Fatal(err)
	}
	waitStatus(200)
	if err := portal.FireEvent("ONTASKADD", map[string]any{"FIELDS_BEFORE": "undefined", "FIELDS_AFTER": map[string]any{"ID": 7}}); err != nil {
		t.Fatal(err)
	}
	delivered++

	post := func(body string) int {
		t.Helper()
		res, err := http.Post(handlerURL, "application/x-www-form-urlencoded", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	// The deal update delivered again: answered, not notified again.
	dup := portal.Deliveries()[2]
	if st := post(dup.Body); st != 200 {
		t.Errorf("duplicate delivery answered %d", st)
	}
	// A forged delivery: refused, not notified.
	forged := dup.Form
	forged.Set("auth[application_token]", "guess")
	forged.Set("data[FIELDS][ID]", "999")
	if st := post(forged.Encode()); st != http.StatusUnauthorized {
		t.Errorf("forged delivery answered %d, want 401", st)
	}

	want := []string{
		`ONCRMLEADADD Lead #` + strconv.Itoa(leadID) + ` "Enquiry" was created`,
		`ONCRMDEALADD Deal #` + strconv.Itoa(dealID) + ` "Big one" was created`,
		`ONCRMDEALUPDATE Deal #` + strconv.Itoa(dealID) + ` "Bigger one" was updated`,
		`ONTASKADD Task #7 was created`,
	}
	if d := cmp.Diff(want, ep.texts()); d != "" {
		t.Errorf("notifications (-want +got)\n%s", d)
	}

	// The endpoint fails: the portal gets 500 and the failure is logged.
	ep.fail(http.StatusServiceUnavailable)
	// A second later: events have no id, so an identical update within the
	// same second would count as a repeat (see events.Event.DedupeKey).
	portal.Advance(time.Second)
	if _, err := c.Call(t.Context(), "crm.deal.update", bitrix.Params{"id": dealID, "fields": bitrix.Params{"TITLE": "Biggest"}}, nil); err != nil {
		t.Fatal(err)
	}
	waitStatus(http.StatusInternalServerError)
	if log := stderr.String(); !strings.Contains(log, "notification failed") || !strings.Contains(log, "HTTP 503") {
		t.Errorf("the failure was not logged:\n%s", log)
	}
	// Once the endpoint is back, the same delivery is notified.
	ep.fail(0)
	if st := post(portal.Deliveries()[delivered-1].Body); st != 200 {
		t.Errorf("redelivery after a failure answered %d", st)
	}
	if got := ep.texts(); len(got) != 5 || got[4] != `ONCRMDEALUPDATE Deal #`+strconv.Itoa(dealID)+` "Biggest" was updated` {
		t.Errorf("after the redelivery: %q", got)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout with an endpoint: %q", stdout.String())
	}
	if strings.Contains(stderr.String(), token) || strings.Contains(stderr.String(), portal.WebhookSecret()) {
		t.Error("a secret reached the log")
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

// TestDemo runs with no configuration: notifications as JSON lines on stdout.
func TestDemo(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), nil, envMap(map[string]string{"CI": "true"}), &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\nstderr:\n%s", err, stderr.String())
	}
	var events []string
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		var n Notification
		if err := json.Unmarshal(sc.Bytes(), &n); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		events = append(events, n.Event+" "+n.Entity+" "+n.Action)
	}
	want := []string{"ONCRMLEADADD lead add", "ONCRMDEALADD deal add", "ONCRMDEALUPDATE deal update", "ONTASKADD task add"}
	if d := cmp.Diff(want, events); d != "" {
		t.Errorf("notifications (-want +got)\n%s", d)
	}
	if !strings.Contains(stderr.String(), `HTTP 200 {"result":"duplicate"}`) {
		t.Errorf("stderr:\n%s", stderr.String())
	}
}
