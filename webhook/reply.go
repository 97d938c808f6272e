package webhook

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/events"
	"github.com/b24go/sdk/imbot"
)

// ReplyTo is the data of a chat-bot event that can be answered:
// [events.BotMessage] (ONIMBOTMESSAGEADD, ONIMBOTJOINCHAT, ...) and
// [events.CommandAdd]. Chatbots 2.0 events are answered with imbotv2.Reply.
type ReplyTo interface {
	ReplyTarget() (events.ReplyTarget, bool)
}

// Reply answers a chat-bot event in its dialog, as the bot it was
// addressed to, with imbot.message.add. Call it in a handler of a
// [Handler]:
//
//	h.OnBotMessage(func(ctx context.Context, ev *events.Event, m *events.BotMessage) error {
//		return webhook.Reply(ctx, m, "You wrote: "+m.Params.Message)
//	})
//
// It sends with the bot's own token from the event when there is one (the
// data[BOT] entry; [BotClient]), else with the portal's client
// ([PortalClient], from the app's install). Blank text is an imbot
// validation error, sent nowhere. For attachments or a keyboard, send an
// imbot.Message with the client [BotClient] returns.
func Reply(ctx context.Context, to ReplyTo, text string) error {
	target, ok := to.ReplyTarget()
	if !ok {
		return errors.New("webhook: Reply: the event names no dialog or bot to answer")
	}
	c, err := BotClient(ctx, target.Auth)
	if err != nil {
		return fmt.Errorf("webhook: Reply: %w", err)
	}
	ib, err := imbot.New(c)
	if err != nil {
		return fmt.Errorf("webhook: Reply: %w", err)
	}
	if _, err := ib.Messages.Send(ctx, imbot.Message{BotID: target.BotID, DialogID: imbot.DialogID(target.DialogID), Text: text}); err != nil {
		return fmt.Errorf("webhook: Reply: %w", err)
	}
	return nil
}

// BotClient returns a client that calls the portal of the event being
// handled as a bot: with the bot's own OAuth tokens from the event (auth,
// an [events.ReplyTarget]'s Auth or a Chatbots 2.0 data.bot.auth) when it
// has them, else the portal's client ([PortalClient]). With [WithApp] the
// bot's token is refreshed with the app's credentials at an allow-listed
// OAuth server ([WithOAuthServers]) when it expires; without them it is used
// as it came. The client takes the options of [WithClientOptions].
//
// The bots' tokens come with every event ([v1 message event],
// data[BOT][id][access_token]; [v2 bot format]), so nothing is stored. It
// returns [ErrNoClient] when there is neither a token in auth nor a stored
// install, and an error outside a handler.
//
// [v1 message event]: https://apidocs.bitrix24.com/api-reference/chat-bots/outdated/messages/events/on-imbot-message-add.html
// [v2 bot format]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/events/events.html#bot-format
func BotClient(ctx context.Context, auth events.Auth) (*bitrix.Client, error) {
	d, ok := ctx.Value(ctxKey{}).(*dispatchInfo)
	if !ok {
		return nil, errors.New("webhook: BotClient called outside an event handler")
	}
	if !auth.HasTokens() {
		return d.h.Client(ctx, d.ev.MemberID())
	}
	// expires_in counts from receipt on our clock, not the portal's ev.TS
	// (events.Auth.Token).
	tok := auth.Token(time.Now())
	var app bitrix.App
	if d.h.cfg.app != nil {
		app = d.h.appFor(tok.ServerEndpoint)
	}
	if app.ClientSecret == "" {
		// Without the app's credentials the token cannot be refreshed;
		// it is fresh with the event, so it is used as it came.
		tok.RefreshToken = ""
	}
	c, err := bitrix.New(bitrix.OAuth(tok, app, nil), d.h.cfg.clientOpts...)
	if err != nil {
		return nil, fmt.Errorf("webhook: building the bot's client: %w", err)
	}
	return c, nil
}

// appFor returns the app (WithApp) set to refresh tokens at the
// allow-listed OAuth server that issued them (serverEndpoint, a token's
// server_endpoint), as the install did.
func (h *Handler) appFor(serverEndpoint string) bitrix.App {
	app := *h.cfg.app
	if app.TokenURL == "" && serverEndpoint != "" {
		if server, err := h.oauthServer(serverEndpoint); err == nil {
			app.TokenURL = tokenURLOf(server)
		}
	}
	return app
}
