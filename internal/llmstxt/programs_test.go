package llmstxt_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/pem"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
)

// The README's three programs, run: each ```go block of "## Three
// programs" becomes the body of a function of one generated main package,
// built once and run as its own process against a bitrixtest portal, with
// the configuration the programs read from the environment. Only one thing
// of the README's text is replaced: the sync program's
// http.ListenAndServe(":8080", h) listens on a free loopback port instead
// and prints it, so the test can point the portal's outbound webhook at it.

// programsMain is the generated package around the README blocks.
const programsMain = `package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/crm"
	"github.com/b24go/sdk/events"
	"github.com/b24go/sdk/imbotv2"
	"github.com/b24go/sdk/lists"
	"github.com/b24go/sdk/webhook"
)

func main() {
	switch os.Args[1] {
	case "leads":
		leads()
	case "echobot":
		echobot()
	case "sync":
		syncList()
	}
}

func listenAndServe(_ string, h http.Handler) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Println("http://" + l.Addr().String())
	return http.Serve(l, h)
}

func leads() {
%s}

func echobot() {
%s}

func syncList() {
%s}
`

// programs returns the path of the binary built from the README's blocks.
func programs(t *testing.T) string {
	t.Helper()
	section := readmePrograms(t)
	blocks := strings.Split(section, "```go\n")[1:]
	if len(blocks) != 3 {
		t.Fatalf("README.md's Three programs has %d Go blocks, want 3 (lead + deal count, echo bot, sync)", len(blocks))
	}
	for i, b := range blocks {
		blocks[i] = b[:strings.Index(b, "```")]
	}
	const listen = `http.ListenAndServe(":8080", h)`
	if n := strings.Count(blocks[2], listen); n != 1 {
		t.Fatalf("the sync program has %d %s, want 1", n, listen)
	}
	blocks[2] = strings.Replace(blocks[2], listen, `listenAndServe(":8080", h)`, 1)
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, fmt.Appendf(nil, programsMain, blocks[0], blocks[1], blocks[2]), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "programs")
	// Built from this directory, so the module is this repository.
	out, err := exec.Command("go", "build", "-o", bin, src).CombinedOutput()
	if err != nil {
		t.Fatalf("building the README's programs: %v\n%s", err, out)
	}
	return bin
}

// start runs the program named by arg until the test ends. It returns its
// standard output and a channel closed when it exits.
func start(t *testing.T, bin, arg string, env ...string) (io.Reader, <-chan struct{}) {
	t.Helper()
	cmd := exec.Command(bin, arg)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait() // also waits until stderr is copied
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("%s's stderr:\n%s", arg, stderr.String())
		}
	})
	return stdout, exited
}

// trust returns the environment under which a program trusts the
// certificate of the HTTPS server at rawURL (bitrixtest's WithTLS, like
// httptest, serves one self-signed certificate).
func trust(t *testing.T, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := tls.Dial("tcp", u.Host, &tls.Config{InsecureSkipVerify: true}) // only to read the certificate
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var roots bytes.Buffer
	for _, c := range conn.ConnectionState().PeerCertificates {
		_ = pem.Encode(&roots, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	file := filepath.Join(t.TempDir(), "roots.pem")
	if err := os.WriteFile(file, roots.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return "SSL_CERT_FILE=" + file
}

func TestREADMEProgramsRun(t *testing.T) {
	t.Parallel()
	bin := programs(t)
	t.Run("leads", func(t *testing.T) {
		t.Parallel()
		s := bitrixtest.NewServer(t, bitrixtest.WithTLS())
		if _, err := s.SeedCRMItems(2, 3, nil, bitrixtest.WithoutEvents()); err != nil { // crm.Deal
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "leads")
		cmd.Env = append(os.Environ(), "B24_WEBHOOK_URL="+s.WebhookURL(), trust(t, s.URL()))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		leads := s.CRMItems(1) // crm.Lead
		if len(leads) != 1 {
			t.Fatalf("the portal has %d leads, want the 1 the program added", len(leads))
		}
		lead := leads[0]
		if want := fmt.Sprintf("lead %v added; 3 deals\n", lead["id"]); string(out) != want {
			t.Errorf("the program printed %q, want %q", out, want)
		}
		if lead["title"] != "Website enquiry" || lead["phoneWork"] != "+44 20 7946 0000" || lead["emailWork"] != "ada@example.com" {
			t.Errorf("the lead is %v, want the title, work phone and work e-mail of the program", lead)
		}
		if n := s.CallCount("crm.deal.list"); n != 1 {
			t.Errorf("the count took %d crm.deal.list calls, want 1 (no scan)", n)
		}
	})
	t.Run("echobot", func(t *testing.T) {
		t.Parallel()
		s := bitrixtest.NewServer(t, bitrixtest.WithTLS())
		const text = "Hello, bot"
		// The message goes in the moment the portal has registered the bot,
		// before the program hears so, so its first poll finds it.
		var botID int
		p := newPortalProxy(t, s, "imbot.v2.bot.register", func() {
			for _, b := range s.V2Bots() {
				if b.Code == "echo" {
					botID = b.ID
				}
			}
			if _, err := s.V2SendMessage(botID, 1, text); err != nil {
				t.Error(err)
			}
		})
		_, exited := start(t, bin, "echobot", "B24_WEBHOOK_URL="+p.webhookURL, "B24_BOT_TOKEN=echo-bot-token", trust(t, p.webhookURL))
		p.waitUntil(t, exited, "the bot's reply", func() bool { return len(s.V2Messages()) > 0 })
		if got := s.V2Messages(); len(got) != 1 || got[0].BotID != botID || got[0].DialogID != "1" || got[0].Text != text {
			t.Errorf("the bot sent %+v, want %q back to user 1 only", got, text)
		}
		if bots := s.V2Bots(); len(bots) != 1 || bots[0].EventMode != "fetch" {
			t.Errorf("the portal has bots %+v, want the one fetch-mode bot of the program", bots)
		}
	})

	t.Run("sync", func(t *testing.T) {
		t.Parallel()
		s := bitrixtest.NewServer(t, bitrixtest.WithTLS(), bitrixtest.WithSyncDelivery())
		const spa, token = 128, "outgoing-webhook-token" // type 128 exists from the start
		listID := s.AddList("lists", "orders", "Orders")
		stdout, _ := start(t, bin, "sync", "B24_WEBHOOK_URL="+s.WebhookURL(), "B24_OUTGOING_WEBHOOK_TOKEN="+token, trust(t, s.URL()))
		addr, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil {
			t.Fatalf("the program did not start serving: %v", err)
		}
		s.AddOutboundWebhook([]string{"ONCRMDYNAMICITEMADD", "ONCRMDYNAMICITEMUPDATE"}, strings.TrimSpace(addr)+"/", token)
		// Every item added or changed: one element, named as the item.
		inStep := func(when string) {
			t.Helper()
			items, els := s.CRMItems(spa), s.ListElements(listID)
			if len(els) != len(items) {
				t.Fatalf("%s: %d items, %d list elements %+v", when, len(items), len(els), els)
			}
			for i, it := range items {
				if code := fmt.Sprint("item-", it["id"]); els[i].Code != code || els[i].Name != it["title"] {
					t.Errorf("%s: element %+v for item %v %q, want code %s and its title", when, els[i], it["id"], it["title"], code)
				}
			}
		}
		// Events caused by the REST call or the seed are delivered, and
		// handled (the receiver is synchronous), before they return.
		ids, err := s.SeedCRMItems(spa, 2, map[string]any{"title": "Order"})
		if err != nil {
			t.Fatal(err)
		}
		inStep("after two adds")
		c, err := bitrix.New(bitrix.WebhookURL(s.WebhookURL()), bitrix.WithHTTPClient(s.Client()))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Call(t.Context(), "crm.item.update", bitrix.Params{"entityTypeId": spa, "id": ids[0],
			"fields": bitrix.Params{"title": "Order, renamed"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		inStep("after an update")
		if n := s.CallCount("lists.element.update"); n != 1 {
			t.Errorf("%d lists.element.update calls, want 1", n)
		}
		for _, d := range s.Deliveries() {
			if d.Status != http.StatusOK {
				t.Errorf("delivery of %s answered %d (%v)", d.Event, d.Status, d.Err)
			}
		}
		if n := len(s.Deliveries()); n != 3 {
			t.Errorf("%d deliveries, want 3 (two adds, one update)", n)
		}
	})
}

// portalProxy serves a bitrixtest portal through its Handler and tells
// waiters each time a request was answered: the portal's state only
// changes through requests, so a condition on it is checked again after
// each one.
type portalProxy struct {
	webhookURL string
	changed    chan struct{}
}

// newPortalProxy serves s; after the portal has answered a call of method
// (lower case), and before the caller gets the answer, it runs hook.
func newPortalProxy(t *testing.T, s *bitrixtest.Server, method string, hook func()) *portalProxy {
	t.Helper()
	p := &portalProxy{changed: make(chan struct{}, 1)}
	var once sync.Once
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, r)
		if strings.TrimSuffix(strings.ToLower(path.Base(r.URL.Path)), ".json") == method {
			once.Do(hook)
		}
		maps.Copy(w.Header(), rec.Header())
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		select {
		case p.changed <- struct{}{}:
		default:
		}
	}))
	t.Cleanup(srv.Close)
	p.webhookURL = srv.URL + strings.TrimPrefix(s.WebhookURL(), s.URL())
	return p
}

// waitUntil fails the test unless cond holds within a minute, looking
// again after each request, or if the program exits first.
func (p *portalProxy) waitUntil(t *testing.T, exited <-chan struct{}, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(time.Minute)
	defer deadline.Stop()
	for !cond() {
		select {
		case <-p.changed:
		case <-exited:
			t.Fatalf("the program exited before %s", what)
		case <-deadline.C:
			t.Fatalf("no %s within a minute", what)
		}
	}
}
