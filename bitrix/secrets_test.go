package bitrix_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/google/go-cmp/cmp"
)

// TestSecretsNeverLeak provokes every kind of failure and checks that no
// secret reaches an error, a log line, a dump file or fmt output.
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	var logBuf syncBuffer
	logger := slog.New(slog.NewJSONHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	dumpDir := t.TempDir()
	var outputs []string
	record := func(v ...any) {
		for _, x := range v {
			outputs = append(outputs, fmt.Sprintf("%v", x), fmt.Sprintf("%+v", x), fmt.Sprintf("%#v", x), fmt.Sprintf("%s", x), fmt.Sprintf("%q", x))
		}
	}

	// Webhook portal answering with every failure, echoing the request back.
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
	record(c, bitrix.WebhookURL(p.webhookURL()))
	for _, m := range []string{"a.get", "b.get", "c.get", "d.get", "e.get", "f.get"} {
		_, err := c.Call(t.Context(), m, bitrix.Params{"id": 1}, nil)
		if m != "e.get" && err == nil {
			t.Errorf("%s: want an error", m)
		}
		record(err)
		if err != nil {
			outputs = append(outputs, err.Error())
		}
	}
	b := c.NewBatch()
	x := b.Add("x", "crm.deal.get", nil)
	record(b.Run(t.Context()), x.Err())

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
	_, err = dead.Call(t.Context(), "crm.deal.add", nil, nil)
	record(err)
	var te *bitrix.TransportError
	if !errors.As(err, &te) || te.Sent {
		t.Errorf("dial error: %#v", err)
	}
	slow := newPortal(t)
	slow.handle("crm.deal.get", func(w http.ResponseWriter, r recorded) { time.Sleep(300 * time.Millisecond); ok(1)(w, r) })
	sc := newWebhookClient(t, slow, bitrix.WithTimeout(50*time.Millisecond), bitrix.WithRetryPolicy(bitrix.NoRetries()), bitrix.WithLogger(logger))
	_, err = sc.Call(t.Context(), "crm.deal.get", nil, nil)
	record(err)
	if !errors.As(err, &te) || !te.Timeout {
		t.Errorf("timeout: %#v", err)
	}

	// Bad URLs.
	for _, u := range []string{"http://p.bitrix24.com/rest/1/" + testSecret + "/", "https://p.bitrix24.com/rest/x/" + testSecret + "/", "https://p.bitrix24.com/rest/1/" + testSecret + "/?a=b"} {
		_, err := bitrix.New(bitrix.WebhookURL(u))
		record(err)
	}

	// OAuth: failed refresh echoing the request, token values in fmt.
	o := newOAuthPortal(t)
	o.grantErr = true
	oc := newOAuthClient(t, o, o.token(), nil, bitrix.WithLogger(logger), bitrix.WithDumpDir(dumpDir))
	o.expire()
	_, err = oc.Call(t.Context(), "crm.deal.get", nil, nil)
	if !errors.Is(err, bitrix.ErrInvalidGrant) {
		t.Errorf("refresh: %v", err)
	}
	record(err, oc, o.token(), o.app(), bitrix.OAuth(o.token(), o.app(), nil), bitrix.Secret(clientSecret))
	// A successful refresh too, so new tokens pass through dumps and logs.
	o2 := newOAuthPortal(t)
	oc2 := newOAuthClient(t, o2, o2.token(), nil, bitrix.WithLogger(logger), bitrix.WithDumpDir(dumpDir))
	o2.expire()
	if _, err := oc2.Call(t.Context(), "crm.deal.get", nil, nil); err != nil {
		t.Fatal(err)
	}
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("token", "tok", o.token(), "secret", bitrix.Secret(clientSecret), "app", o.app())

	secrets := []string{testSecret, clientSecret, "access-0-aaaaaaaa", "refresh-0-bbbbbbbb", "access-1-aaaaaaaa", "refresh-1-bbbbbbbb"}
	check := func(where, s string) {
		for _, sec := range secrets {
			if strings.Contains(s, sec) {
				t.Errorf("%s leaks %q:\n%s", where, sec, s)
			}
		}
	}
	for _, s := range outputs {
		check("fmt output", s)
	}
	check("log", logBuf.String())
	if !strings.Contains(logBuf.String(), "bitrix request") {
		t.Error("nothing logged at debug level")
	}
	files, err := os.ReadDir(dumpDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 8 {
		t.Errorf("dump files = %d", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(dumpDir, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		check("dump "+f.Name(), string(data))
		if !strings.Contains(string(data), "POST ") {
			t.Errorf("dump %s lacks the request line", f.Name())
		}
	}
}

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
