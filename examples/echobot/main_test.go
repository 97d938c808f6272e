package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/google/go-cmp/cmp"
)

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// TestDemo runs the program as `go run ./examples/echobot` does on a fresh
// machine: no configuration at all.
func TestDemo(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := run(ctx, nil, envMap(map[string]string{"CI": "true"}), &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		"(ONAPPINSTALL)",
		`registered "Echo Bot"`,
		"Echo Bot: " + welcomeText,
		"User 1: hello\n   Echo Bot: hello\n",
		"User 1: What's hot?\n   Echo Bot: " + hotText + "\n",
		"HTTP 401 {\"error\":\"invalid_token\"",
		"the bot did not answer",
		"(ONIMBOTDELETE)",
		"app: forgot bot",
		"Done: 5 events delivered and answered 200, 3 bot messages sent",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
}

func TestReplyTo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"What's hot?", hotText},
		{"what's hot", hotText},
		{"  WHAT'S HOT?! ", hotText},
		{"What’s hot?", hotText},
		{"whats hot", hotText},
		{"hello", "hello"},
		{"What's hot in Berlin?", "What's hot in Berlin?"},
		{"", ""},
	} {
		if got := replyTo(tc.in); got != tc.want {
			t.Errorf("replyTo(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// lineWatcher is an io.Writer that hands over the first line matching re.
type lineWatcher struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	re    *regexp.Regexp
	found chan string
}

func (w *lineWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if m := w.re.FindStringSubmatch(w.buf.String()); m != nil && w.found != nil {
		w.found <- m[1]
		w.found = nil
	}
	return len(p), nil
}

// TestServerMode runs the bot as a server configured for an OAuth app,
// with a fake portal standing in for the real one: install, welcome, echo,
// "what's hot", a forged event, a duplicate delivery, deletion and a
// graceful shutdown.
func TestServerMode(t *testing.T) {
	t.Parallel()
	portal := bitrixtest.NewServer(t)
	app := portal.App()
	handlerURL, cancel, done, stderr := startServerMode(t, app)

	if _, err := portal.InstallApp(handlerURL); err != nil {
		t.Fatalf("InstallApp: %v", err)
	}
	bots := portal.Bots()
	if len(bots) != 1 || bots[0].Code != botCode {
		t.Fatalf("bots after install = %+v, want one %q", bots, botCode)
	}
	bot := bots[0]
	for _, ev := range []string{"MESSAGE_ADD", "WELCOME_MESSAGE", "BOT_DELETE"} {
		if bot.Handlers[ev] != handlerURL {
			t.Errorf("handler %s = %q, want %q", ev, bot.Handlers[ev], handlerURL)
		}
	}

	if err := portal.AddBotToChat(bot.ID, 0); err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"ping", "WHAT'S HOT?"} {
		if _, err := portal.SendBotMessage(bot.ID, 1, text); err != nil {
			t.Fatalf("SendBotMessage(%q): %v", text, err)
		}
	}
	type msg struct {
		BotID    int
		DialogID string
		Text     string
	}
	var got []msg
	for _, m := range portal.BotMessages() {
		got = append(got, msg{m.BotID, m.DialogID, m.Text})
	}
	want := []msg{{bot.ID, "1", welcomeText}, {bot.ID, "1", "ping"}, {bot.ID, "1", hotText}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("bot messages (-want +got)\n%s", d)
	}
	// The replies were sent with the bot's own token from the events.
	for _, c := range portal.Calls() {
		if c.Method == "imbot.message.add" && (c.AuthKind != bitrixtest.AuthOAuth || c.UserID != bot.ID) {
			t.Errorf("imbot.message.add sent as %s user %d, want the bot (user %d)", c.AuthKind, c.UserID, bot.ID)
		}
	}

	// A forged copy of the last delivery: 401 with a JSON error, nothing
	// called on the portal.
	last := portal.Deliveries()[len(portal.Deliveries())-1]
	calls := len(portal.Calls())
	form := last.Form
	form.Set("auth[application_token]", "forged")
	res, err := http.Post(handlerURL, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]string
	err = json.NewDecoder(res.Body).Decode(&body)
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized || err != nil || body["error"] == "" {
		t.Errorf("forged event: HTTP %d, body %v (%v); want 401 with a JSON error", res.StatusCode, body, err)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("forged event: Content-Type %q", ct)
	}
	// The same delivery replayed unchanged is a duplicate: answered, not
	// handled again.
	res, err = http.Post(handlerURL, "application/x-www-form-urlencoded", strings.NewReader(last.Body))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("duplicate delivery: HTTP %d", res.StatusCode)
	}
	if n := len(portal.Calls()); n != calls {
		t.Errorf("the forged and duplicate deliveries caused %d portal calls", n-calls)
	}
	if n := len(portal.BotMessages()); n != 3 {
		t.Errorf("%d bot messages after the forged and duplicate deliveries, want 3", n)
	}

	if err := portal.DeleteBot(bot.ID); err != nil {
		t.Errorf("DeleteBot: %v", err)
	}
	for _, d := range portal.Deliveries() {
		if d.Status != http.StatusOK {
			t.Errorf("delivery %s answered %d", d.Event, d.Status)
		}
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
	stderr.mu.Lock()
	logged := stderr.buf.String()
	stderr.mu.Unlock()
	for _, secret := range []string{app.ClientSecret, app.ApplicationToken, "forged"} {
		if strings.Contains(logged, secret) {
			t.Errorf("a secret reached the log:\n%s", logged)
		}
	}
	if !strings.Contains(logged, "bot registered") {
		t.Errorf("the install was not logged:\n%s", logged)
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		env     map[string]string
		args    []string
		demo    bool
		wantErr bool
	}{
		{name: "nothing set: demo", env: map[string]string{"CI": "true"}, demo: true},
		{name: "oauth app", env: map[string]string{"B24_CLIENT_ID": "local.1", "B24_CLIENT_SECRET": "s"}},
		{name: "app token only", env: map[string]string{"B24_APP_TOKEN": "t"}},
		{name: "forced demo", env: map[string]string{"B24_APP_TOKEN": "t"}, args: []string{"-demo"}, demo: true},
		{name: "client id without secret", env: map[string]string{"B24_CLIENT_ID": "local.1"}, wantErr: true},
		{name: "stray argument", args: []string{"x"}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := parseConfig(tc.args, envMap(tc.env), io.Discard)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if err == nil && cfg.demo != tc.demo {
				t.Errorf("demo = %v, want %v", cfg.demo, tc.demo)
			}
		})
	}
}

// TestTokenOnlyMode runs the bot with only the application token: events
// are verified against it and replies go out with the bot's own token from
// each event (the bot was registered beforehand).
func TestTokenOnlyMode(t *testing.T) {
	t.Parallel()
	portal := bitrixtest.NewServer(t)
	app := portal.App()
	listening := make(chan string, 1)
	stdout := &lineWatcher{re: regexp.MustCompile(`listening on (http://\S+)`), found: listening}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, nil, envMap(map[string]string{
			"B24_APP_TOKEN": app.ApplicationToken, "B24_LISTEN": "127.0.0.1:0", "B24_ALLOW_HTTP": "1",
		}), stdout, io.Discard)
	}()
	var handlerURL string
	select {
	case handlerURL = <-listening:
	case err := <-done:
		t.Fatalf("run returned early: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("the server did not start")
	}
	// The install is acknowledged (no credentials to register with).
	if _, err := portal.InstallApp(handlerURL); err != nil {
		t.Fatalf("InstallApp: %v", err)
	}
	if n := len(portal.Bots()); n != 0 {
		t.Fatalf("%d bots registered without app credentials", n)
	}
	// Register the bot as an operator would, with the app's token.
	tok := portal.IssueToken(1)
	form := url.Values{
		"auth": {tok.AccessToken}, "CODE": {botCode}, "EVENT_MESSAGE_ADD": {handlerURL},
		"EVENT_WELCOME_MESSAGE": {handlerURL}, "EVENT_BOT_DELETE": {handlerURL}, "PROPERTIES[NAME]": {botName},
	}
	res, err := http.PostForm(portal.URL()+"/rest/imbot.register", form)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	bots := portal.Bots()
	if res.StatusCode != 200 || len(bots) != 1 {
		t.Fatalf("imbot.register: HTTP %d, bots %+v", res.StatusCode, bots)
	}
	if _, err := portal.SendBotMessage(bots[0].ID, 1, "what's hot"); err != nil {
		t.Fatal(err)
	}
	msgs := portal.BotMessages()
	if len(msgs) != 1 || msgs[0].Text != hotText {
		t.Errorf("bot messages = %+v", msgs)
	}
}

// TestDemoOpenTelemetry runs the demo with -otel: the handlers' spans, the
// refused forged delivery and the metrics go to stderr as JSON.
func TestDemoOpenTelemetry(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := run(ctx, []string{"-otel"}, envMap(map[string]string{"CI": "true"}), &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	out := stderr.String()
	for _, want := range []string{
		`"Name":"ONIMBOTMESSAGEADD"`, `"Name":"imbot.message.add"`, `"Name":"bitrix24.webhook.delivery"`,
		`"Value":"refused"`, `"Name":"bitrix24.events"`, `"Name":"bitrix24.event.handler.duration"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stderr lacks %s", want)
		}
	}
	if !strings.Contains(stdout.String(), "Done: 5 events delivered") {
		t.Errorf("the demo did not finish:\n%s", stdout.String())
	}
}

// TestReplyTokenOnSkewedPortalClock: a portal whose clock is two hours behind
// ours stamps its events two hours in the past. The bot's token from the event
// is valid for expires_in seconds from when we received it, so the replies go
// out on it without a token refresh (counting from the event's ts made every
// reply refresh first).
func TestReplyTokenOnSkewedPortalClock(t *testing.T) {
	t.Parallel()
	portal := bitrixtest.NewServer(t, bitrixtest.WithClock(func() time.Time { return time.Now().Add(-2 * time.Hour) }))
	handlerURL, cancel, done, _ := startServerMode(t, portal.App())
	defer cancel()
	if _, err := portal.InstallApp(handlerURL); err != nil {
		t.Fatalf("InstallApp: %v", err)
	}
	bots := portal.Bots()
	if len(bots) != 1 {
		t.Fatalf("bots after install = %+v, want one", bots)
	}
	refreshes := portal.RefreshCount() // the install proof refreshes once
	for _, text := range []string{"ping", "pong"} {
		if _, err := portal.SendBotMessage(bots[0].ID, 1, text); err != nil {
			t.Fatalf("SendBotMessage(%q): %v", text, err)
		}
	}
	if n := len(portal.BotMessages()); n != 2 {
		t.Fatalf("%d bot messages, want the 2 echoes", n)
	}
	if n := portal.RefreshCount() - refreshes; n != 0 {
		t.Errorf("the replies refreshed the token %d times, want 0 (expiry counted from the portal's clock)", n)
	}
	cancel()
	<-done
}

// startServerMode runs the program as a server for the app on a free
// loopback port and returns the handler URL, the cancel that stops it, the
// channel run's result arrives on and its log.
func startServerMode(t *testing.T, app bitrixtest.App) (handlerURL string, cancel context.CancelFunc, done chan error, stderr *lineWatcher) {
	t.Helper()
	listening := make(chan string, 1)
	stdout := &lineWatcher{re: regexp.MustCompile(`listening on (http://\S+)`), found: listening}
	stderr = &lineWatcher{re: regexp.MustCompile(`^\b$`)}
	var ctx context.Context
	ctx, cancel = context.WithCancel(t.Context())
	done = make(chan error, 1)
	go func() {
		done <- run(ctx, nil, envMap(map[string]string{
			"B24_CLIENT_ID":     app.ClientID,
			"B24_CLIENT_SECRET": app.ClientSecret,
			"B24_TOKEN_URL":     app.TokenURL,
			"B24_OAUTH_SERVER":  app.ServerEndpoint,
			"B24_LISTEN":        "127.0.0.1:0",
			"B24_ALLOW_HTTP":    "1",
		}), stdout, stderr)
	}()
	select {
	case handlerURL = <-listening:
	case err := <-done:
		t.Fatalf("run returned early: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("the server did not start")
	}
	return handlerURL, cancel, done, stderr
}
