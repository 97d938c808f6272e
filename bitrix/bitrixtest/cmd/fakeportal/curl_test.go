package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/events"
	"github.com/b24go/sdk/imbot"
	"github.com/b24go/sdk/webhook"
)

// asMainEnv makes the test binary run main instead of the tests, so a test
// can start fakeportal as a real process without building it.
const asMainEnv = "FAKEPORTAL_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// fakeportalCmd is fakeportal as a process with args.
func fakeportalCmd(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), asMainEnv+"=1")
	return cmd
}

// banner is what a user copies from fakeportal's banner.
type banner map[string]string

// startFakeportal runs fakeportal on a free port and reads its banner up to
// the control URL. The process stops (SIGINT, then SIGKILL) when the test
// ends.
func startFakeportal(t *testing.T) banner {
	t.Helper()
	cmd := fakeportalCmd(context.WithoutCancel(t.Context()), "-addr", "127.0.0.1:0", "-seed-deals", "3")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("fakeportal exited with %v after SIGINT, want 0", err)
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Error("fakeportal did not stop within 30 s of SIGINT")
		}
	})

	lines := make(chan banner, 1)
	go func() {
		b := banner{}
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			key, val, ok := strings.Cut(sc.Text(), ":")
			if ok && !strings.HasPrefix(key, " ") {
				b[key] = strings.Fields(val + " ")[0]
			}
			if key == "control URL" {
				lines <- b
				break
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case b := <-lines:
		return b
	case err := <-exited:
		t.Fatalf("fakeportal exited before printing its banner: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("no banner from fakeportal within 60 s")
	}
	return nil
}

// startEchoBot serves a bot built on the SDK's webhook package, configured
// only from the banner: on ONAPPINSTALL it registers itself with code
// "echo"; it echoes every message except those starting with "mute:".
func startEchoBot(t *testing.T, b banner) string {
	t.Helper()
	for _, k := range []string{"client_id", "client_secret", "token URL", "OAuth server"} {
		if b[k] == "" {
			t.Fatalf("the banner has no %q line: %v", k, b)
		}
	}
	var handlerURL string
	app := bitrix.App{ClientID: b["client_id"], ClientSecret: bitrix.Secret(b["client_secret"]), TokenURL: b["token URL"]}
	h, err := webhook.New(webhook.WithApp(app), webhook.WithOAuthServers(b["OAuth server"]), webhook.WithClientOptions(bitrix.WithAllowHTTP()))
	if err != nil {
		t.Fatal(err)
	}
	bots := func(ctx context.Context) (*imbot.Client, error) {
		c, err := webhook.PortalClient(ctx)
		if err != nil {
			return nil, err
		}
		return imbot.New(c)
	}
	h.OnAppInstall(func(ctx context.Context, _ *events.Event, _ *events.AppInstall) error {
		ib, err := bots(ctx)
		if err != nil {
			return err
		}
		_, err = ib.Bots.Register(ctx, imbot.BotRegistration{Code: "echo", Handlers: imbot.Handlers{MessageAdd: handlerURL, WelcomeMessage: handlerURL, BotDelete: handlerURL},
			Properties: imbot.Properties{Name: bitrix.Ptr("Echo")}})
		return err
	})
	h.OnBotMessage(func(ctx context.Context, _ *events.Event, m *events.BotMessage) error {
		if strings.HasPrefix(m.Params.Message, "mute:") {
			return nil
		}
		return webhook.Reply(ctx, m, m.Params.Message)
	})
	srv := httptest.NewUnstartedServer(h)
	handlerURL = "http://" + srv.Listener.Addr().String() + "/bitrix24/handler" // before the handlers can run
	srv.Start()
	t.Cleanup(srv.Close)
	return handlerURL
}

// TestCurlDrivesStandalonePortal is the control API in a non-Go user's
// shoes: fakeportal runs as its own process, a bot serves its events, and
// testdata/curl_bot.sh (curl and sh only) installs the app, writes to the
// bot and reads its reply.
func TestCurlDrivesStandalonePortal(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts fakeportal as a process and runs a shell script")
	}
	for _, tool := range []string{"sh", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed; the script needs curl and a POSIX sh", tool)
		}
	}
	t.Parallel()
	b := startFakeportal(t)
	handler := startEchoBot(t, b)

	script := func(text, wait string) (string, error) {
		cmd := exec.CommandContext(t.Context(), "sh", "testdata/curl_bot.sh")
		cmd.Env = append(os.Environ(), "CONTROL_URL="+b["control URL"], "HANDLER_URL="+handler, "BOT_CODE=echo", "TEXT="+text, "WAIT="+wait)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := script("hello from curl", "10s")
	if err != nil || !strings.Contains(out, `ok: the bot answered "hello from curl"`) {
		t.Fatalf("curl_bot.sh: %v\n%s", err, out)
	}
	// The script checks the reply: a bot that stays silent fails it.
	out, err = script("mute: nothing back", "1s")
	if err == nil || !strings.Contains(out, "did not echo") {
		t.Errorf("curl_bot.sh with a silent bot: %v\n%s", err, out)
	}
}

// TestHelpExitsZero: fakeportal -h is a successful run (usage on stderr);
// a bad flag exits 1.
func TestHelpExitsZero(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts fakeportal as a process")
	}
	t.Parallel()
	for _, tc := range []struct {
		arg  string
		code int
	}{{"-h", 0}, {"-bogus", 1}} {
		var stderr strings.Builder
		cmd := fakeportalCmd(t.Context(), tc.arg)
		cmd.Stderr = &stderr
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tc.code || !strings.Contains(stderr.String(), "Usage: fakeportal") {
			t.Errorf("fakeportal %s: exit %d, stderr %q; want exit %d with the usage", tc.arg, code, stderr.String(), tc.code)
		}
	}
}
