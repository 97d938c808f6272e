package imbotv2

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/events"
	"github.com/b24go/sdk/imbot"
)

// Docs root of every citation in this package (docs commit 5988ed13):
// api-reference/chat-bots/chat-bots-v2/.

// MaxBotTokenLen is the longest botToken the portal accepts: Bot.update
// rejects longer ones already, Bot.register from 06.08.2026 (entries
// BOT-BC-0506-1 and BOT-NEW-0501-2 of the [change log]; the botToken field
// of [imbot.v2.Bot.register]).
//
// [change log]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/change-log.html
// [imbot.v2.Bot.register]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/bots/bot-register.html
const MaxBotTokenLen = 40

// Entities shared with package events, where the v2 event data types live:
// the bot, user, chat and message objects of the [Chatbots 2.0 entities].
//
// [Chatbots 2.0 entities]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/entities.html
type (
	Bot     = events.BotV2
	User    = events.UserV2
	Chat    = events.ChatV2
	Message = events.MessageV2
)

// The v1 builders are reused where the wire format is the same: [dialog ids],
// [keyboards] (the same button fields, sent as fields.keyboard instead of
// KEYBOARD) and [attachments] (the same blocks, sent as fields.attach
// instead of ATTACH).
//
// [dialog ids]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/index.html#dialog-id
// [keyboards]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/messages/message-keyboards.html
// [attachments]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/messages/attachments/index.html
type (
	DialogID = imbot.DialogID
	Keyboard = imbot.Keyboard
	Attach   = imbot.Attach
	Button   = imbot.Button
)

// UserDialog returns the private dialog with a user ("5").
func UserDialog(userID int) DialogID { return imbot.User(userID) }

// ChatDialog returns the dialog of a group chat ("chat142").
func ChatDialog(chatID int) DialogID { return imbot.Chat(chatID) }

// Client calls the imbot.v2.* methods of one portal. Build it with [New];
// it is safe for concurrent use.
//
// Authentication follows the bitrix.Client it wraps ([authorization]):
// with an OAuth application the bot is tied to the app and no botToken is
// sent; with an inbound webhook every call must carry the bot's own
// botToken, set with [WithBotToken].
//
// [authorization]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/index.html#auth
type Client struct {
	c     *bitrix.Client
	token bitrix.Secret

	// Bots registers, updates, reads and removes bots (imbot.v2.Bot.*).
	Bots *BotService
	// Chats manages chats, members, managers, the owner and the chat UI
	// (imbot.v2.Chat.*, Chat.User.*, Chat.Manager.*, Chat.InputAction.notify,
	// Chat.TextField.enabled).
	Chats *ChatService
	// Messages sends, edits, deletes, reads and reacts to messages
	// (imbot.v2.Chat.Message.*).
	Messages *MessageService
	// Commands manages slash commands and answers them (imbot.v2.Command.*).
	Commands *CommandService
	// Events fetches a fetch-mode bot's events (imbot.v2.Event.get); see
	// [Poller] for the run loop.
	Events *EventService
	// Files uploads and downloads chat files (imbot.v2.File.*).
	Files *FileService
}

// Option configures a [Client]. Options validate their arguments; [New]
// returns the first error.
type Option func(*config) error

type config struct {
	token bitrix.Secret
}

// WithBotToken sets the botToken sent with every call, required when the
// bitrix.Client authenticates with an inbound webhook ([authorization]).
// It is the string you chose when registering the bot: non-empty, at most
// [MaxBotTokenLen] characters, no white space. It stays a bitrix.Secret:
// no error or log line quotes it.
//
// [authorization]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/index.html#auth
func WithBotToken(token bitrix.Secret) Option {
	return func(c *config) error {
		if err := CheckBotToken(token); err != nil {
			return err
		}
		c.token = token
		return nil
	}
}

// CheckBotToken reports whether token is a botToken the portal accepts.
func CheckBotToken(token bitrix.Secret) error {
	s := token.Reveal()
	switch {
	case s == "":
		return &bitrix.ValidationError{Field: "botToken", Reason: "empty bot token"}
	case len([]rune(s)) > MaxBotTokenLen:
		return &bitrix.ValidationError{Field: "botToken", Reason: fmt.Sprintf("longer than %d characters (BOT_TOKEN_INVALID_LENGTH)", MaxBotTokenLen)}
	case strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return &bitrix.ValidationError{Field: "botToken", Reason: "contains white space or control characters"}
	}
	return nil
}

// New returns an imbot.v2 client that calls through c. It does no I/O; it
// fails on a nil client or an invalid option.
func New(c *bitrix.Client, opts ...Option) (*Client, error) {
	if c == nil {
		return nil, errors.New("imbotv2: New: nil *bitrix.Client")
	}
	var cfg config
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	cl := &Client{c: c, token: cfg.token}
	cl.Bots = &BotService{cl}
	cl.Chats = &ChatService{cl}
	cl.Messages = &MessageService{cl}
	cl.Commands = &CommandService{cl}
	cl.Events = &EventService{cl}
	cl.Files = &FileService{cl}
	return cl, nil
}

// BitrixClient returns the client c calls through.
func (c *Client) BitrixClient() *bitrix.Client { return c.c }

// HasBotToken reports whether [WithBotToken] was used.
func (c *Client) HasBotToken() bool { return c.token != "" }

// params is a JSON request body under construction.
type params map[string]any

// call sends method as a JSON body (the encoding every v2 page documents)
// with botId (when botID > 0) and botToken added, and decodes "result".
func (c *Client) call(ctx context.Context, method string, botID int, p params, out any) error {
	if c.token != "" {
		if p == nil {
			p = params{}
		}
		p["botToken"] = c.token.Reveal()
	}
	return c.send(ctx, method, botID, p, out)
}

// send is call without adding botToken.
func (c *Client) send(ctx context.Context, method string, botID int, p params, out any) error {
	if p == nil {
		p = params{}
	}
	if botID > 0 {
		p["botId"] = botID
	}
	body, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("imbotv2: %s: encoding params: %w", method, err)
	}
	_, err = c.c.Call(ctx, method, json.RawMessage(body), out)
	return err
}

// callTrue sends a method whose result is {"result": true}.
func (c *Client) callTrue(ctx context.Context, method string, botID int, p params) error {
	var r struct {
		Result bitrix.Bool `json:"result"`
	}
	if err := c.call(ctx, method, botID, p, &r); err != nil {
		return err
	}
	if !r.Result {
		return fmt.Errorf("imbotv2: %s: the portal answered false", method)
	}
	return nil
}

func invalid(method, field, format string, args ...any) error {
	return &bitrix.ValidationError{Method: method, Field: field, Reason: fmt.Sprintf(format, args...)}
}

func checkBot(method string, botID int) error {
	if botID <= 0 {
		return invalid(method, "botId", "must be a positive id, got %d", botID)
	}
	return nil
}

func checkID(method, field string, id int) error {
	if id <= 0 {
		return invalid(method, field, "must be a positive id, got %d", id)
	}
	return nil
}

func checkDialog(method string, d DialogID) error {
	if err := d.Validate(); err != nil {
		return invalid(method, "dialogId", "%v", err)
	}
	return nil
}

// Revision is the API revision set of a portal, the answer of
// [Client.Revision].
type Revision struct {
	REST    int `json:"rest"`
	Web     int `json:"web"`
	Mobile  int `json:"mobile"`
	Desktop int `json:"desktop"`
}

// Revision calls imbot.v2.Revision.get, which needs neither botId nor
// botToken: compare REST with the revision of the [change log] a feature
// needs (this package follows revision 36).
//
// Bitrix24 method: [imbot.v2.Revision.get].
//
// [imbot.v2.Revision.get]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/revision-get.html
// [change log]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/change-log.html
func (c *Client) Revision(ctx context.Context) (*Revision, error) {
	var r Revision
	body := json.RawMessage(`{}`)
	if _, err := c.c.Call(ctx, "imbot.v2.Revision.get", body, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// FollowedRevision is the REST revision of the [change log] this package
// implements (REST Revision 36, 06.05.2026).
//
// [change log]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/change-log.html
const FollowedRevision = 36

// String describes the client without its botToken.
func (c *Client) String() string {
	return fmt.Sprintf("imbotv2.Client{portal:%s botToken:%s}", c.c.PortalKey(), c.token.String())
}

// Format implements fmt.Formatter: every verb prints [Client.String], so
// the botToken never reaches a log line.
func (c *Client) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }
