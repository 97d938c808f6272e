// Package imbotv2 is a client for Bitrix24 Chatbots 2.0 (imbot.v2.*), the
// API the Bitrix24 docs present for new bots, and the run loop of a bot
// that needs no public URL.
//
// v1 ([github.com/b24go/sdk/imbot]) and v2 bots run side by side on a
// portal, and a bot gets events only in the version it was registered
// with. Start new bots here; keep existing v1 bots on package imbot, or
// move them with the docs' [migration guide].
//
// The package follows the [Chatbots 2.0 documentation] up to REST revision
// 36 of its [change log] (06.05.2026); see [FollowedRevision].
//
// # Authentication
//
// [New] wraps a *bitrix.Client. With an OAuth application the bot belongs
// to the app. With an inbound webhook (a URL with the imbot scope) every
// call carries the bot's own botToken, the string chosen at registration:
// pass it with [WithBotToken]. It is a bitrix.Secret, at most
// [MaxBotTokenLen] characters (longer tokens are refused from 06.08.2026,
// [change log] entry BOT-BC-0506-1), and never printed.
//
// # Services
//
// [Client.Bots] (Bot.register/update/get/list/unregister),
// [Client.Chats] (Chat.*, Chat.User.*, Chat.Manager.*, setOwner,
// InputAction.notify, TextField.enabled), [Client.Messages]
// (Chat.Message.send/update/delete/get/getContext/read, reactions),
// [Client.Commands] (Command.*), [Client.Events] (Event.get),
// [Client.Files] (File.upload/download) and [Client.Revision].
// Keyboards and attachments are the v1 builders ([imbot.Keyboard],
// [imbot.Attach]): the JSON is the same, only the envelope keys differ
// (fields.keyboard and fields.attach instead of KEYBOARD and ATTACH; the
// keyboard also carries BOT_ID). Entities (Bot, Chat, Message, User) are
// the types of package events, which decodes the v2 events.
//
// # Fetch mode
//
// A bot registered with EventMode [ModeFetch] (the portal's default) pulls
// its events with imbot.v2.Event.get; it runs with nothing but an inbound
// webhook URL, behind NAT. [Poller] is the run loop: typed handlers (the
// On* functions), at-least-once delivery (an offset is confirmed only after
// the handlers of every event below it returned nil), an [OffsetStore]
// (memory by default, Redis in bitrix/redisstore), idle backoff, rate
// limits through the bitrix.Client, and a clean stop. [Reply] answers an
// event in its dialog as the bot, with the Poller's Client.
//
// One bot, one consumer: only the application that registered a bot
// receives its events, and two Pollers on one bot confirm each other's
// events. Register a bot per independent worker.
//
// # Webhook mode
//
// A bot registered with EventMode [ModeWebhook] and a WebhookURL gets each
// event as a POST. Serve it with a *webhook.Handler and the same On*
// functions: the handler verifies the top-level auth.application_token and
// takes form and JSON bodies (the docs show both). [Reply] answers with the
// bot's own token from the event (an application's bot), or with the
// Client given to [ReplyVia] (a bot of an inbound webhook).
//
// [Chatbots 2.0 documentation]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/index.html
// [change log]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/change-log.html
// [migration guide]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/migration.html
package imbotv2

// Sources: api-reference/chat-bots/chat-bots-v2/ of bitrix24/b24restdocs at
// commit 5988ed13, change-log.md up to REST revision 36 (06.05.2026); where
// the pages disagree or are silent, see the "Chatbots 2.0" section of
// docs/CONFORMANCE.md.
