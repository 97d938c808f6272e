//go:build !nodemo

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/bitrix/otelbitrix"
)

// demoUser is the portal user who talks to the bot (user 1 of the fake
// portal, an administrator).
const demoUser = 1

// runDemo starts a fake portal and the bot's receiver on loopback, installs
// the app, plays a conversation as a portal user and prints it. It fails if
// the bot does not behave as expected, so it doubles as a smoke test.
func runDemo(ctx context.Context, stdout, stderr io.Writer, tel *otelbitrix.Telemetry) error {
	portal, err := bitrixtest.Start()
	if err != nil {
		return fmt.Errorf("start the fake portal: %w", err)
	}
	defer portal.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	handlerURL := "http://" + ln.Addr().String() + handlerPath
	// The demo's own log lines would interleave with the conversation; show
	// only warnings and errors.
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	pa := portal.App()
	cfg := config{clientID: pa.ClientID, clientSecret: bitrix.Secret(pa.ClientSecret), allowHTTP: true, handlerURL: handlerURL,
		oauthServer: pa.ServerEndpoint, tel: tel}
	app := bitrix.App{ClientID: pa.ClientID, ClientSecret: cfg.clientSecret, TokenURL: pa.TokenURL}
	clientOpts, err := clientOptions(cfg, logger)
	if err != nil {
		ln.Close()
		return err
	}
	bot := newEchoBot(handlerURL, app, logger)
	h, err := newHandler(cfg, bot, logger, clientOpts)
	if err != nil {
		ln.Close()
		return err
	}

	srvCtx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- serveHTTP(srvCtx, ln, h, logger) }()
	waited := false
	defer func() {
		if !waited {
			stop()
			<-served
		}
	}()

	d := &demo{portal: portal, out: stdout, handlerURL: handlerURL, bot: bot}
	fmt.Fprintf(stdout, "echobot demo: fake Bitrix24 portal at %s, bot handler at %s\n\n", portal.URL(), handlerURL)
	if err := d.play(ctx); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	stop()
	waited = true
	return <-served
}

type demo struct {
	portal     *bitrixtest.Server
	out        io.Writer
	handlerURL string
	bot        *echoBot
	seen       int // bot messages printed so far
	step       int
}

func (d *demo) say(format string, a ...any) {
	d.step++
	fmt.Fprintf(d.out, "%d. %s\n", d.step, fmt.Sprintf(format, a...))
}

func (d *demo) note(format string, a ...any) {
	fmt.Fprintf(d.out, "   %s\n", fmt.Sprintf(format, a...))
}

// replies prints the bot messages sent since the last call and returns their
// texts.
func (d *demo) replies() []string {
	msgs := d.portal.BotMessages()
	var texts []string
	for _, m := range msgs[d.seen:] {
		fmt.Fprintf(d.out, "   %s: %s\n", botName, m.Text)
		texts = append(texts, m.Text)
	}
	d.seen = len(msgs)
	return texts
}

func (d *demo) expectReply(want string) error {
	got := d.replies()
	if len(got) != 1 || got[0] != want {
		return fmt.Errorf("the bot answered %q, want %q", got, want)
	}
	return nil
}

func (d *demo) play(ctx context.Context) error {
	d.say("The administrator installs the app (ONAPPINSTALL).")
	if _, err := d.portal.InstallApp(d.handlerURL); err != nil {
		return fmt.Errorf("install: %w", err)
	}
	botID := d.bot.botID(d.portal.App().MemberID)
	if botID == 0 {
		return errors.New("the app did not register its bot")
	}
	d.note("app: registered %q (bot id %d) with imbot.register", botName, botID)

	d.say("User %d opens a chat with the bot (ONIMBOTJOINCHAT).", demoUser)
	if err := d.portal.AddBotToChat(botID, 0); err != nil {
		return fmt.Errorf("join: %w", err)
	}
	if err := d.expectReply(welcomeText); err != nil {
		return err
	}

	for _, text := range []string{"hello", "What's hot?"} {
		d.say("User %d: %s", demoUser, text)
		if _, err := d.portal.SendBotMessage(botID, demoUser, text); err != nil {
			return fmt.Errorf("send %q: %w", text, err)
		}
		if err := d.expectReply(replyTo(text)); err != nil {
			return err
		}
	}

	d.say("Someone replays the last event with a wrong application token.")
	status, body, err := d.forge(ctx)
	if err != nil {
		return err
	}
	d.note("handler: HTTP %d %s", status, strings.TrimSpace(body))
	if status != http.StatusUnauthorized {
		return fmt.Errorf("a forged event got HTTP %d, want 401", status)
	}
	if got := d.replies(); len(got) != 0 {
		return fmt.Errorf("the bot answered a forged event: %q", got)
	}
	d.note("the bot did not answer")

	d.say("The administrator deletes the bot (ONIMBOTDELETE).")
	if err := d.portal.DeleteBot(botID); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	if id := d.bot.botID(d.portal.App().MemberID); id != 0 {
		return fmt.Errorf("the app still remembers bot %d", id)
	}
	d.note("app: forgot bot %d", botID)

	ok := 0
	for _, dl := range d.portal.Deliveries() {
		if dl.Status == http.StatusOK {
			ok++
		}
	}
	fmt.Fprintf(d.out, "\nDone: %d events delivered and answered 200, %d bot messages sent, 1 forged event refused.\n", ok, d.seen)
	return nil
}

// forge posts a copy of the last real delivery with a wrong application
// token to the handler and returns the answer.
func (d *demo) forge(ctx context.Context) (int, string, error) {
	dels := d.portal.Deliveries()
	if len(dels) == 0 {
		return 0, "", errors.New("no delivery to copy")
	}
	form := url.Values{}
	for k, v := range dels[len(dels)-1].Form {
		form[k] = append([]string(nil), v...)
	}
	form.Set("auth[application_token]", "not-the-application-token")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.handlerURL, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 4096))
	return res.StatusCode, string(b), err
}
