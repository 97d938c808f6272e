package imbotv2

import (
	"context"
	"errors"
	"fmt"

	"github.com/b24go/sdk/events"
	"github.com/b24go/sdk/webhook"
)

// Replyable is the data of the events [Reply] answers: a message
// (ONIMBOTV2MESSAGEADD, ONIMBOTV2MESSAGEUPDATE), the bot joining a chat
// (ONIMBOTV2JOINCHAT) and a slash command (ONIMBOTV2COMMANDADD).
type Replyable interface {
	events.BotV2Message | events.BotV2JoinChat | events.BotV2CommandAdd
}

// Reply answers a Chatbots 2.0 event in its dialog, as the bot it was sent
// to, with imbot.v2.Chat.Message.send. Call it in a handler:
//
//	imbotv2.OnMessage(poller, func(ctx context.Context, ev *events.Event, m *events.BotV2Message) error {
//		return imbotv2.Reply(ctx, m, "You wrote: "+m.Message.Text)
//	})
//
// It sends with, in this order: the Client of the [Poller] running the
// handler (fetch mode; with its botToken) or of [ReplyVia]; in a
// webhook.Handler's handler, the bot's own OAuth token from the event
// (data.bot.auth, which webhook-mode events of an application's bot carry;
// see webhook.BotClient), else the
// portal's client (webhook.PortalClient). A bot registered through an
// inbound webhook gets no tokens in its events: give its Client with
// [ReplyVia]. Empty text is a validation error, sent nowhere.
func Reply[D Replyable](ctx context.Context, d *D, text string) error {
	if d == nil {
		return errors.New("imbotv2: Reply: nil event data")
	}
	var bot events.BotV2
	var dialog string
	switch d := any(d).(type) {
	case *events.BotV2Message:
		bot, dialog = d.Bot, d.ReplyDialog()
	case *events.BotV2JoinChat:
		bot, dialog = d.Bot, d.DialogID
	case *events.BotV2CommandAdd:
		bot, dialog = d.Bot, d.ReplyDialog()
	}
	c, err := replyClient(ctx, bot.Auth)
	if err != nil {
		return fmt.Errorf("imbotv2: Reply: %w", err)
	}
	_, err = c.Messages.Send(ctx, int(bot.ID), DialogID(dialog), MessageFields{Text: text})
	return err
}

// ReplyVia returns middleware for a webhook.Handler that makes [Reply] in
// its handlers send with c (h.Use(imbotv2.ReplyVia(c))): the way to answer
// as a bot registered through an inbound webhook, whose events carry no
// tokens. A [Poller] does this for its own Client.
func ReplyVia(c *Client) webhook.Middleware {
	return func(next webhook.HandlerFunc) webhook.HandlerFunc {
		return func(ctx context.Context, ev *events.Event) error {
			return next(withReplyClient(ctx, c), ev)
		}
	}
}

type replyKey struct{}

// withReplyClient makes c the client [Reply] sends with under ctx.
func withReplyClient(ctx context.Context, c *Client) context.Context {
	if c == nil {
		return ctx
	}
	return context.WithValue(ctx, replyKey{}, c)
}

func replyClient(ctx context.Context, auth *events.BotAuth) (*Client, error) {
	if c, ok := ctx.Value(replyKey{}).(*Client); ok {
		return c, nil
	}
	var a events.Auth
	if auth != nil {
		a = auth.Auth
	}
	bc, err := webhook.BotClient(ctx, a)
	if err != nil {
		return nil, err
	}
	return New(bc)
}
