//go:build !nodemo

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/imbotv2"
)

// demoUser is the portal user who talks to the bot.
const demoUser = 1

// runDemo starts a fake portal, runs the bot exactly as main does (through
// the portal's inbound webhook, with a Poller), plays the story as a user
// and prints it. It fails when the bot misbehaves, so it doubles as a
// smoke test.
func runDemo(ctx context.Context, stdout, stderr io.Writer) error {
	portal, err := bitrixtest.Start()
	if err != nil {
		return fmt.Errorf("start the fake portal: %w", err)
	}
	defer portal.Close()
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	bc, err := bitrix.New(bitrix.WebhookURL(portal.WebhookURL()), bitrix.WithAllowHTTP(), bitrix.WithLogger(logger))
	if err != nil {
		return err
	}
	client, err := imbotv2.New(bc, imbotv2.WithBotToken("demo-bot-token"))
	if err != nil {
		return err
	}
	bot := &echoBot{client: client, code: "echobot2", log: logger}
	if _, err := bot.ensure(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "echobot2 demo: fake Bitrix24 portal at %s; the bot only calls out (fetch mode, no public URL)\n", portal.URL())
	fmt.Fprintf(stdout, "registered %q (bot %d) with imbot.v2.Bot.register, eventMode fetch\n\n", botName, bot.id)

	// The demo polls briskly; a real bot keeps the defaults (5–30 s idle,
	// as imbot.v2's docs recommend) and is woken by nothing.
	poller := &imbotv2.Poller{Client: client, BotID: bot.id, Logger: logger, Idle: 20 * time.Millisecond, MaxIdle: 100 * time.Millisecond, MorePause: 10 * time.Millisecond}
	bot.routes(poller)
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- poller.Run(runCtx) }()
	stopped := false
	defer func() {
		if !stopped {
			stop()
			<-ran
		}
	}()

	d := &demo{portal: portal, out: stdout, poller: poller, botID: bot.id}
	chatID := portal.CreateChat("Team", demoUser, 2)
	fmt.Fprintf(stdout, "User %d adds the bot to chat %q (ONIMBOTV2JOINCHAT)\n", demoUser, "Team")
	if err := portal.V2AddBotToChat(bot.id, chatID, demoUser); err != nil {
		return err
	}
	if err := d.expect(ctx, welcomeText); err != nil {
		return err
	}
	for _, text := range []string{"hello", "What's hot?"} {
		fmt.Fprintf(stdout, "User %d: %s\n", demoUser, text)
		if _, err := portal.V2SendMessage(bot.id, demoUser, text); err != nil {
			return err
		}
		if err := d.expect(ctx, replyTo(text)); err != nil {
			return err
		}
	}
	stop()
	stopped = true
	if err := <-ran; err != nil {
		return fmt.Errorf("poller: %w", err)
	}
	if pend := portal.V2PendingEvents(bot.id); len(pend) != 0 {
		return fmt.Errorf("events left unconfirmed on the portal: %v", pend)
	}
	fmt.Fprintf(stdout, "\nDone: %d bot messages sent, every event confirmed (offset %d), poller stopped cleanly\n", d.seen, poller.Offset())
	return nil
}

type demo struct {
	portal *bitrixtest.Server
	out    io.Writer
	poller *imbotv2.Poller
	botID  int
	seen   int
}

// expect waits until the bot's next message arrives and checks its text.
func (d *demo) expect(ctx context.Context, want string) error {
	d.poller.Wake()
	deadline := time.NewTimer(demoWait)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		if msgs := d.portal.V2Messages(); len(msgs) > d.seen {
			m := msgs[d.seen]
			d.seen++
			fmt.Fprintf(d.out, "   %s: %s\n", botName, m.Text)
			if m.Text != want {
				return fmt.Errorf("the bot answered %q, want %q", m.Text, want)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return errors.New("the bot did not answer within " + demoWait.String())
		case <-tick.C:
		}
	}
}
