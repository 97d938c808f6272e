package bitrix_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/bitrix/redisstore"
	"github.com/b24go/sdk/crm"
	"github.com/b24go/sdk/events"
	"github.com/b24go/sdk/imbot"
	"github.com/b24go/sdk/imbotv2"
	"github.com/b24go/sdk/internal/phpform"
	"github.com/b24go/sdk/lists"
	"github.com/b24go/sdk/webhook"
	"github.com/google/go-cmp/cmp"
)

// TestNoCredentialInAnyOutput (issue 12) builds every credential-holding
// value of every package (clients, auths, tokens, apps, token stores,
// registries, verifiers, handlers, events, batches, the fake portal, and
// the errors of every failure kind, including a token answer cut
// mid-body), prints each with %v %+v %#v %s %q, logs each through slog's
// text and JSON handlers at debug level, runs every client with the dump
// directory on and its logger at debug level, and finds no credential in
// any of it. A new holder of a credential belongs in this table.
func TestNoCredentialInAnyOutput(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	var logBuf syncBuffer // everything the clients and handlers log
	logger := slog.New(slog.NewJSONHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	dumpDir := t.TempDir()
	type row struct {
		name string
		v    any
	}
	var rows []row
	add := func(name string, v any) { rows = append(rows, row{name, v}) }
	secrets := []string{testSecret, clientSecret, "access-0-aaaaaaaa", "refresh-0-bbbbbbbb", "access-1-aaaaaaaa", "refresh-1-bbbbbbbb"}
	secret := func(vs ...string) { secrets = append(secrets, vs...) }

	// ---- bitrix: a webhook client and every failure of a portal that
	// echoes the request (URL with the webhook secret, body) back.
	p := newPortal(t)
	echo := func(status int, ctype, body string) func(http.ResponseWriter, recorded) {
		return func(w http.ResponseWriter, r recorded) {
			w.Header().Set("Content-Type", ctype)
			w.WriteHeader(status)
			_, _ = w.Write([]byte(strings.ReplaceAll(body, "ECHO", r.Path+"?"+r.Body)))
		}
	}
	p.handle("a.get", echo(401, "application/json", `{"error":"INVALID_CREDENTIALS","error_description":"bad ECHO"}`))
	p.handle("b.get", echo(500, "application/json", `{"error":"INTERNAL_SERVER_ERROR","error_description":"ECHO"}`))
	p.handle("c.get", echo(502, "text/html", `<html>502 Bad Gateway at ECHO</html>`))
	p.handle("d.get", echo(200, "application/json", `{"result":{"url":"ECHO`))
	p.handle("e.get", echo(200, "application/json", `{"result":{"url":"ECHO"}}`))
	p.handle("batch", echo(200, "application/json", `{"result":{"result":[],"result_error":{"x":{"error":"","error_description":"ECHO"}}}}`))
	c := newWebhookClient(t, p, bitrix.WithLogger(logger), bitrix.WithDumpDir(dumpDir), bitrix.WithRetryPolicy(bitrix.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Nanosecond, MaxDelay: time.Nanosecond}))
	add("webhook client", c)
	add("webhook auth", bitrix.WebhookURL(p.webhookURL()))
	for _, m := range []string{"a.get", "b.get", "c.get", "d.get", "e.get", "f.get"} {
		_, err := c.Call(ctx, m, bitrix.Params{"id": 1}, nil)
		if m != "e.get" && err == nil {
			t.Errorf("%s: want an error", m)
		}
		add("error of "+m, err)
	}
	b := c.NewBatch()
	x := b.Add("x", "crm.deal.get", nil)
	add("batch", b)
	add("batch error", b.Run(ctx))
	add("batch command", x)
	add("batch command error", x.Err())

	// Dial error and timeout.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	dead, err := bitrix.New(bitrix.WebhookURL("http://"+addr+"/rest/1/"+testSecret+"/"), bitrix.WithAllowHTTP(),
		bitrix.WithLogger(logger), bitrix.WithRetryPolicy(bitrix.NoRetries()), bitrix.WithDumpDir(dumpDir))
	if err != nil {
		t.Fatal(err)
	}
	_, err = dead.Call(ctx, "crm.deal.add", nil, nil)
	add("dial error", err)
	var te *bitrix.TransportError
	if !errors.As(err, &te) || te.Sent {
		t.Errorf("dial error: %#v", err)
	}
	slow := newPortal(t)
	hold := make(chan struct{})
	t.Cleanup(func() { close(hold) }) // runs before the server's Close, which waits for the handler
	slow.handle("crm.deal.get", func(w http.ResponseWriter, r recorded) { <-hold })
	sc := newWebhookClient(t, slow, bitrix.WithTimeout(50*time.Millisecond), bitrix.WithRetryPolicy(bitrix.NoRetries()), bitrix.WithLogger(logger))
	_, err = sc.Call(ctx, "crm.deal.get", nil, nil)
	add("timeout error", err)
	if !errors.As(err, &te) || !te.Timeout {
		t.Errorf("timeout: %#v", err)
	}
	for i, u := range []string{"http://p.bitrix24.com/rest/1/" + testSecret + "/", "https://p.bitrix24.com/rest/x/" + testSecret + "/", "https://p.bitrix24.com/rest/1/" + testSecret + "/?a=b"} {
		_, err := bitrix.New(bitrix.WebhookURL(u))
		add(fmt.Sprintf("bad webhook URL %d", i), err)
	}

	for i, a := range []bitrix.Auth{
		bitrix.OAuth(bitrix.Token{AccessToken: "access-0-aaaaaaaa", ClientEndpoint: "https://u:" + testSecret + "@p.bitrix24.com/rest/"}, bitrix.App{}, nil),
		bitrix.OAuth(bitrix.Token{RefreshToken: "refresh-0-bbbbbbbb", Domain: "p.bitrix24.com"}, bitrix.App{ClientID: "app.1", ClientSecret: clientSecret, TokenURL: "https://o/oauth/token/?client_secret=" + clientSecret}, nil),
		bitrix.OAuth(bitrix.Token{RefreshToken: "refresh-0-bbbbbbbb", Domain: "p.bitrix24.com"}, bitrix.App{ClientSecret: clientSecret}, nil),
	} {
		_, err := bitrix.New(a)
		if err == nil {
			t.Errorf("bad OAuth %d: want an error", i)
		}
		add(fmt.Sprintf("bad OAuth %d", i), err)
	}

	// ---- bitrix OAuth: a refused refresh, a successful one, and token
	// answers cut mid-body, in HTML, or refused with the request echoed.
	o := newOAuthPortal(t)
	o.grantErr = true
	oc := newOAuthClient(t, o, o.token(), nil, bitrix.WithLogger(logger), bitrix.WithDumpDir(dumpDir))
	o.expire()
	_, err = oc.Call(ctx, "crm.deal.get", nil, nil)
	if !errors.Is(err, bitrix.ErrInvalidGrant) {
		t.Errorf("refresh: %v", err)
	}
	add("invalid_grant error", err)
	add("oauth client", oc)
	add("token", o.token())
	add("token pointer", ptr(o.token()))
	add("app", o.app())
	add("app pointer", ptr(o.app()))
	add("oauth auth", bitrix.OAuth(o.token(), o.app(), nil))
	add("secret", bitrix.Secret(clientSecret))
	o2 := newOAuthPortal(t)
	store := bitrix.NewMemoryTokenStore(nil)
	oc2 := newOAuthClient(t, o2, o2.token(), store, bitrix.WithLogger(logger), bitrix.WithDumpDir(dumpDir))
	o2.expire()
	if _, err := oc2.Call(ctx, "crm.deal.get", nil, nil); err != nil {
		t.Fatal(err)
	}
	add("refreshed oauth client", oc2)
	add("token store", store)
	if saved, err := store.LoadToken(ctx, memberID); err == nil {
		add("stored token", saved)
	} else {
		t.Error(err)
	}
	for _, a := range []struct {
		name string
		raw  rawAnswer
	}{
		{"token answer cut mid-body", rawAnswer{200, "application/json", `{"access_token":"cutAccessTok1","expires_in":3600,"refresh_token":"nrtD8jCutRefresh`}},
		{"token answer cut after an escape", rawAnswer{200, "application/json", `{"access_token":"cutAccessTok1","refresh_token":"nrtD8jCutRefresh\`}},
		{"token answer in HTML", rawAnswer{502, "text/html", `<html>502 for refresh_token=nrtD8jCutRefresh&access_token=cutAccessTok1</html>`}},
		{"token answer without access token", rawAnswer{200, "application/json", `{"refresh_token":"nrtD8jCutRefresh","client_secret":"cutAccessTok1"}`}},
		{"token error echoing the request", rawAnswer{400, "application/json", `{"error":"invalid_request","error_description":"bad refresh_token=refresh-0-bbbbbbbb&client_secret=` + clientSecret + `"}`}},
	} {
		oc := newOAuthPortal(t)
		oc.raw = &a.raw
		cl := newOAuthClient(t, oc, oc.token(), nil, bitrix.WithLogger(logger), bitrix.WithDumpDir(dumpDir))
		oc.expire()
		_, err := cl.Call(ctx, "crm.deal.get", nil, nil)
		if err == nil {
			t.Errorf("%s: want an error", a.name)
		}
		add(a.name, err)
		_, err = bitrix.RefreshToken(ctx, oc.app(), "refresh-0-bbbbbbbb", bitrix.WithAllowHTTP(), bitrix.WithLogger(logger), bitrix.WithDumpDir(dumpDir))
		add(a.name+" (RefreshToken)", err)
	}
	secret("nrtD8jCutRefresh", "cutAccessTok1")

	// ---- the fake portal, the stores, the event side and the wrappers.
	portal := bitrixtest.NewServer(t, bitrixtest.WithSyncDelivery(), bitrixtest.WithoutRateLimit())
	pa := portal.App()
	issued := portal.IssueToken(1)
	secret(pa.ClientSecret, pa.ApplicationToken, portal.WebhookSecret(), issued.AccessToken, issued.RefreshToken)
	add("bitrixtest server", portal)
	add("bitrixtest app", pa)
	add("bitrixtest tokens", issued)

	reg := events.NewMemoryRegistry()
	tokens := bitrix.NewMemoryTokenStore(nil)
	app := bitrix.App{ClientID: pa.ClientID, ClientSecret: bitrix.Secret(pa.ClientSecret), TokenURL: pa.TokenURL}
	clientOpts := []bitrix.Option{bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit(), bitrix.WithLogger(logger), bitrix.WithDumpDir(dumpDir)}
	const staticToken = "staticAppTokenXYZ123"
	secret(staticToken)
	h, err := webhook.New(webhook.WithApp(app), webhook.WithOAuthServers(pa.ServerEndpoint), webhook.WithRegistry(reg),
		webhook.WithTokenStore(tokens), webhook.WithApplicationToken(staticToken), webhook.WithLogger(logger),
		webhook.WithClientOptions(clientOpts...))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	if _, err := portal.InstallApp(srv.URL); err != nil {
		t.Fatalf("install: %v", err)
	}
	saved, err := tokens.LoadToken(ctx, pa.MemberID)
	if err != nil {
		t.Fatal(err)
	}
	secret(saved.AccessToken.Reveal(), saved.RefreshToken.Reveal())
	// A forged install, refused and logged by the handler.
	forged := url.Values{"event": {"ONAPPINSTALL"}, "auth[access_token]": {"forgedAccessTok9"}, "auth[refresh_token]": {"forgedRefreshTok9"},
		"auth[domain]": {pa.Domain}, "auth[member_id]": {pa.MemberID}, "auth[server_endpoint]": {pa.ServerEndpoint},
		"auth[client_endpoint]": {pa.ClientEndpoint}, "auth[application_token]": {"forgedAppTok9"}}
	secret("forgedAccessTok9", "forgedRefreshTok9", "forgedAppTok9")
	resp, err := http.PostForm(srv.URL, forged)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("forged install: %d", resp.StatusCode)
	}
	forgedEv, err := events.ParseBody([]byte(forged.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	add("handler", h)
	add("registry", reg)
	add("handler token store", tokens)
	add("verifier", events.NewVerifier(reg, staticToken))
	add("install event", forgedEv)
	add("install event auth", forgedEv.Auth)
	add("install event token", forgedEv.Auth.Token(time.Now()))
	_, err = events.VerifyInstall(ctx, forgedEv, func(ctx context.Context, rt bitrix.Secret) (bitrix.Token, error) {
		return bitrix.RefreshToken(ctx, app, rt, clientOpts...)
	})
	add("VerifyInstall error", err)
	pc, err := h.Client(ctx, pa.MemberID)
	if err != nil {
		t.Fatal(err)
	}
	add("portal client", pc)
	portal.RevokeTokens()
	_, err = pc.Call(ctx, "app.info", nil, nil)
	add("revoked token error", err)
	botBody, err := os.ReadFile(filepath.Join("..", "events", "testdata", "event_ONIMBOTMESSAGEADD_private.json"))
	if err != nil {
		t.Fatal(err)
	}
	tree, err := phpform.ParseJSON(botBody)
	if err != nil {
		t.Fatal(err)
	}
	wire, err := phpform.Encode(tree)
	if err != nil {
		t.Fatal(err)
	}
	botEv, err := events.ParseBody([]byte(wire))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`"(?:access_token|refresh_token|application_token)"\s*:\s*"([^"]+)"`).FindAllStringSubmatch(string(botBody), -1) {
		secret(m[1])
	}
	add("bot event", botEv)
	var msg events.BotMessage
	if err := botEv.DecodeData(&msg); err != nil {
		t.Fatal(err)
	}
	add("bot message data", msg)
	ib, err := imbot.New(pc)
	if err != nil {
		t.Fatal(err)
	}
	add("imbot client", ib)
	const botToken = "botTokenV2Secret77"
	secret(botToken)
	ib2, err := imbotv2.New(pc, imbotv2.WithBotToken(botToken))
	if err != nil {
		t.Fatal(err)
	}
	add("imbotv2 client", ib2)
	add("imbotv2 poller", &imbotv2.Poller{Client: ib2, BotID: 1, Logger: logger})
	cc, err := crm.New(pc)
	if err != nil {
		t.Fatal(err)
	}
	add("crm client", cc)
	lc, err := lists.New(pc)
	if err != nil {
		t.Fatal(err)
	}
	add("lists client", lc)
	const redisPassword = "redisPasswordQ7"
	secret(redisPassword)
	rdb := redis.NewClient(&redis.Options{Addr: addr, Password: redisPassword, DialTimeout: time.Second, MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	rstore, err := redisstore.NewTokenStore(rdb)
	if err != nil {
		t.Fatal(err)
	}
	rreg, err := redisstore.NewRegistry(rdb)
	if err != nil {
		t.Fatal(err)
	}
	add("redis token store", rstore)
	add("redis registry", rreg)
	add("redis save error", rstore.SaveToken(ctx, memberID, saved))
	add("redis registry error", rreg.Store(ctx, memberID, bitrix.Secret(staticToken)))

	check := func(t *testing.T, where, s string) {
		t.Helper()
		for _, sec := range secrets {
			if sec != "" && strings.Contains(s, sec) {
				t.Errorf("%s leaks %q:\n%s", where, sec, s)
			}
		}
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			var out strings.Builder
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
				fmt.Fprintf(&out, verb+"\n", r.v)
			}
			if err, ok := r.v.(error); ok && err != nil {
				out.WriteString(err.Error())
			}
			check(t, "fmt", out.String())
			for _, h := range []func(*bytes.Buffer) slog.Handler{
				func(b *bytes.Buffer) slog.Handler {
					return slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})
				},
				func(b *bytes.Buffer) slog.Handler {
					return slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})
				},
			} {
				var buf bytes.Buffer
				slog.New(h(&buf)).Debug("value", "v", r.v, slog.Any("any", r.v), slog.Group("g", "v", r.v))
				check(t, "slog", buf.String())
			}
		})
	}
	check(t, "client and handler logs", logBuf.String())
	for _, want := range []string{"bitrix request", "refresh failed", "delivery refused"} {
		if !strings.Contains(logBuf.String(), want) {
			t.Errorf("nothing logged like %q at debug level", want)
		}
	}
	files, err := os.ReadDir(dumpDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 20 {
		t.Errorf("dump files = %d", len(files))
	}
	cutSeen := false
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(dumpDir, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		check(t, "dump "+f.Name(), string(data))
		if !strings.Contains(string(data), "POST ") {
			t.Errorf("dump %s lacks the request line", f.Name())
		}
		cutSeen = cutSeen || strings.Contains(string(data), "cutAccessTok1") || strings.Contains(string(data), `"refresh_token":"[REDACTED]"`)
	}
	if !cutSeen {
		t.Error("no dump of a cut token answer")
	}
}

func ptr[T any](v T) *T { return &v }

func TestSecretFormatting(t *testing.T) {
	t.Parallel()
	s := bitrix.Secret("hunter2")
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%10s", "%d"} {
		if out := fmt.Sprintf(f, s); strings.Contains(out, "hunter2") || strings.Contains(out, fmt.Sprintf("%x", "hunter2")) {
			t.Errorf("%s: %s", f, out)
		}
	}
	if s.Reveal() != "hunter2" || bitrix.Secret("").String() != "" {
		t.Error("Reveal/empty")
	}
	b, _ := jsonMarshal(bitrix.Token{AccessToken: "hunter2"})
	if strings.Contains(string(b), "hunter2") || !strings.Contains(string(b), `"access_token":"[REDACTED]"`) {
		t.Errorf("token JSON must be redacted: %s", b)
	}
}

// TestTokenWireForm: stores persist a Token through MarshalBinary, the one
// encoding that carries the secrets, in the JSON layout stores have always
// held; a redacted form never decodes into a credential.
func TestTokenWireForm(t *testing.T) {
	t.Parallel()
	tok := bitrix.Token{AccessToken: "acc-hunter2", RefreshToken: "ref-hunter3", Expires: time.Unix(1780319382, 0).UTC(),
		MemberID: memberID, Domain: "p.bitrix24.com", ClientEndpoint: "https://p.bitrix24.com/rest/",
		ServerEndpoint: "https://oauth.bitrix.info/rest/", Scope: "crm", Status: "L", UserID: 7}
	b, err := tok.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"access_token":"acc-hunter2"`) || !strings.Contains(string(b), `"refresh_token":"ref-hunter3"`) {
		t.Errorf("wire form lacks the secrets: %s", b)
	}
	var back bitrix.Token
	if err := back.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(tok, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	// What stores wrote before MarshalBinary existed (plain JSON) still loads.
	old := `{"access_token":"a1","refresh_token":"r1","expires":"2026-01-02T03:04:05Z","member_id":"m","domain":"d","client_endpoint":"https://d/rest/"}`
	if err := back.UnmarshalBinary([]byte(old)); err != nil || back.AccessToken.Reveal() != "a1" || back.RefreshToken.Reveal() != "r1" {
		t.Errorf("older stored form: %v %+v", err, back)
	}
	// The redacted JSON form is refused both ways.
	red, _ := jsonMarshal(tok)
	if err := back.UnmarshalBinary(red); err == nil {
		t.Error("UnmarshalBinary accepted a redacted token")
	}
	if err := jsonUnmarshal(red, &back); err == nil {
		t.Error("json.Unmarshal accepted a redacted token")
	}
	var s bitrix.Secret
	if err := jsonUnmarshal([]byte(`"plain"`), &s); err != nil || s.Reveal() != "plain" {
		t.Errorf("Secret from JSON: %v %q", err, s.Reveal())
	}
}

// TestTokenAndAppInSlog: Token and App logged through slog's JSON and text
// handlers show what identifies them and no secret.
func TestTokenAndAppInSlog(t *testing.T) {
	t.Parallel()
	tok := bitrix.Token{AccessToken: "acc-hunter2", RefreshToken: "ref-hunter3", MemberID: memberID, Domain: "p.bitrix24.com"}
	app := bitrix.App{ClientID: "app.1", ClientSecret: "sec-hunter4"}
	for _, h := range []func(*bytes.Buffer) slog.Handler{
		func(b *bytes.Buffer) slog.Handler {
			return slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})
		},
		func(b *bytes.Buffer) slog.Handler {
			return slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})
		},
	} {
		var buf bytes.Buffer
		slog.New(h(&buf)).Debug("x", "tok", tok, "app", app, "ptok", &tok, "papp", &app, slog.Any("any", []any{tok, app}))
		out := buf.String()
		for _, sec := range []string{"hunter2", "hunter3", "hunter4"} {
			if strings.Contains(out, sec) {
				t.Errorf("log leaks %s: %s", sec, out)
			}
		}
		if !strings.Contains(out, memberID) || !strings.Contains(out, "app.1") {
			t.Errorf("log lost the identifying fields: %s", out)
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
