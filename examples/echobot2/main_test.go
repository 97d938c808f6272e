package main

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/b24go/sdk/bitrix/bitrixtest"
)

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// TestDemo runs the program as `go run ./examples/echobot2` does on a
// fresh machine: no configuration at all.
func TestDemo(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := run(ctx, nil, envMap(nil), &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		"eventMode fetch",
		"(ONIMBOTV2JOINCHAT)\n   Echo Bot: " + welcomeText + "\n",
		"User 1: hello\n   Echo Bot: hello\n",
		"User 1: What's hot?\n   Echo Bot: " + hotText + "\n",
		"Done: 3 bot messages sent, every event confirmed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr: %s", stderr.String())
	}
}

// syncBuffer is a bytes.Buffer safe for the program's goroutines.
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

// TestAgainstPortal runs the configured program (an inbound webhook URL
// and a bot token, nothing else) against a fake portal, plays the story,
// stops it, and starts it again: the second run finds its bot by code and
// answers a message sent while it was down.
func TestAgainstPortal(t *testing.T) {
	t.Parallel()
	portal := bitrixtest.NewServer(t)
	env := envMap(map[string]string{"B24_WEBHOOK_URL": portal.WebhookURL(), "B24_BOT_TOKEN": "laptop-behind-nat-01", "B24_ALLOW_HTTP": "1", "B24_POLL_IDLE": "20ms"})
	start := func() (context.CancelFunc, chan error, *syncBuffer) {
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		logs := &syncBuffer{}
		go func() { done <- run(ctx, nil, env, &syncBuffer{}, logs) }()
		return cancel, done, logs
	}
	waitFor := func(cond func() bool, what string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; bot messages %+v", what, portal.V2Messages())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	botID := func() int {
		for _, b := range portal.V2Bots() {
			if b.Code == "echobot2" {
				return b.ID
			}
		}
		return 0
	}
	stop, done, logs := start()
	waitFor(func() bool { return botID() != 0 }, "the bot to register")
	bot := botID()
	chatID := portal.CreateChat("Team", 1, 2)
	if err := portal.V2AddBotToChat(bot, chatID, 1); err != nil {
		t.Fatal(err)
	}
	waitFor(func() bool { return len(portal.V2Messages()) == 1 }, "the welcome")
	if _, err := portal.V2SendMessage(bot, 2, "whats hot"); err != nil {
		t.Fatal(err)
	}
	waitFor(func() bool { return len(portal.V2Messages()) == 2 }, "the answer")
	// Delivery is at least once: an event answered but not yet confirmed
	// when the bot stops (its handler still waiting for the portal's answer
	// to the reply) comes back after a restart and is answered again. The
	// story stops the bot once the portal has the confirmation.
	waitFor(func() bool { return len(portal.V2PendingEvents(bot)) == 0 }, "the confirmation")
	stop()
	if err := <-done; err != nil {
		t.Fatalf("run: %v\n%s", err, logs.String())
	}
	if strings.Contains(logs.String(), "laptop-behind-nat-01") {
		t.Fatalf("bot token in the logs:\n%s", logs.String())
	}

	if _, err := portal.V2SendMessage(bot, 2, "are you back?"); err != nil { // while the bot is down
		t.Fatal(err)
	}
	stop, done, _ = start()
	waitFor(func() bool { return len(portal.V2Messages()) == 3 }, "the answer after the restart")
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	msgs := portal.V2Messages()
	want := []string{welcomeText, hotText, "are you back?"}
	for i, m := range msgs {
		if m.Text != want[i] || m.BotID != bot {
			t.Errorf("message %d: %+v, want %q", i, m, want[i])
		}
	}
	if msgs[0].DialogID != "chat"+itoa(chatID) || msgs[1].DialogID != "2" {
		t.Errorf("dialogs %q %q", msgs[0].DialogID, msgs[1].DialogID)
	}
	if n := len(portal.V2Bots()); n != 1 {
		t.Errorf("%d bots after a restart", n)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestReplyTo(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"What's hot?": hotText, "whats hot": hotText, "WHAT’S HOT!": hotText, "hello": "hello", "what's hotter": "what's hotter"} {
		if got := replyTo(in); got != want {
			t.Errorf("replyTo(%q) = %q", in, got)
		}
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	_, err := parseConfig(nil, envMap(map[string]string{"B24_WEBHOOK_URL": "https://p.bitrix24.com/rest/1/supersecret99/"}), &stderr)
	if err == nil || !strings.Contains(err.Error(), "B24_BOT_TOKEN") || strings.Contains(err.Error(), "supersecret99") {
		t.Fatalf("missing token: %v", err)
	}
	err = run(t.Context(), nil, envMap(map[string]string{"B24_WEBHOOK_URL": "https://p.bitrix24.com/rest/1/supersecret99/", "B24_BOT_TOKEN": strings.Repeat("t", 41)}), &stderr, &stderr)
	if err == nil || !strings.Contains(err.Error(), "40") || strings.Contains(err.Error(), "tttt") {
		t.Fatalf("long token: %v", err)
	}
	if _, err := parseConfig(nil, envMap(map[string]string{"B24_POLL_IDLE": "soon"}), &stderr); err == nil {
		t.Fatal("bad B24_POLL_IDLE accepted")
	}
}
