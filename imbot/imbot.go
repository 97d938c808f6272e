package imbot

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/b24go/sdk/bitrix"
)

// Client calls the imbot.* methods of one portal. Build it with [New]; it is
// safe for concurrent use. Its services group the methods as the REST API
// does: [Client.Bots], [Client.Messages], [Client.Commands], [Client.Chats].
type Client struct {
	c        *bitrix.Client
	clientID string

	// Bots registers, updates, lists and removes chat bots (imbot.register ...).
	Bots *BotService
	// Messages sends, edits, deletes and likes bot messages (imbot.message.*).
	Messages *MessageService
	// Commands registers bot commands and answers them (imbot.command.*).
	Commands *CommandService
	// Chats creates chats and manages their members (imbot.chat.*, imbot.dialog.get).
	Chats *ChatService
}

// Option configures a [Client]. Options validate their arguments; [New]
// returns the first error.
type Option func(*config) error

type config struct {
	clientID string
}

// WithClientID sets the CLIENT_ID sent with every imbot.* call. Bots
// registered through an inbound webhook (which has no application identity)
// need it: the portal stores the bot under this id, appends it to the bot's
// handler URLs, and refuses later calls without it. Use any string that is
// unique to your integration and keep it stable. OAuth applications do not
// need it.
func WithClientID(id string) Option {
	return func(c *config) error {
		id = strings.TrimSpace(id)
		if id == "" {
			return errors.New("imbot: WithClientID: empty client id")
		}
		if len(id) > 128 {
			return errors.New("imbot: WithClientID: client id longer than 128 characters")
		}
		c.clientID = id
		return nil
	}
}

// New returns an imbot client that calls through c. It does no I/O; it
// fails on a nil client or an invalid option.
func New(c *bitrix.Client, opts ...Option) (*Client, error) {
	if c == nil {
		return nil, errors.New("imbot: New: nil *bitrix.Client")
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
	cl := &Client{c: c, clientID: cfg.clientID}
	cl.Bots = &BotService{cl}
	cl.Messages = &MessageService{cl}
	cl.Commands = &CommandService{cl}
	cl.Chats = &ChatService{cl}
	return cl, nil
}

// ClientID returns the CLIENT_ID set with [WithClientID] ("" when none).
func (c *Client) ClientID() string { return c.clientID }

// call sends one imbot.* method with CLIENT_ID added when configured.
func (c *Client) call(ctx context.Context, method string, p bitrix.Params, out any) error {
	if c.clientID != "" {
		p["CLIENT_ID"] = c.clientID
	}
	_, err := c.c.Call(ctx, method, p, out)
	return err
}

// callTrue sends a method whose result is true on success.
func (c *Client) callTrue(ctx context.Context, method string, p bitrix.Params) error {
	var ok bitrix.Bool
	if err := c.call(ctx, method, p, &ok); err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("imbot: %s: the portal answered false", method)
	}
	return nil
}

// callID sends a method whose result is a new id.
func (c *Client) callID(ctx context.Context, method string, p bitrix.Params) (int, error) {
	var id bitrix.Int
	if err := c.call(ctx, method, p, &id); err != nil {
		return 0, err
	}
	if id <= 0 {
		return 0, fmt.Errorf("imbot: %s: the portal answered no id", method)
	}
	return int(id), nil
}

// invalid reports a request that the SDK refused to send because the
// portal would reject it. field is in the portal's spelling ("MESSAGE",
// "KEYBOARD.BUTTONS[2].TEXT").
func invalid(method, field, format string, args ...any) error {
	return &bitrix.ValidationError{Method: method, Field: field, Reason: fmt.Sprintf(format, args...)}
}

// withMethod sets the method of a builder's ValidationError.
func withMethod(err error, method, prefix string) error {
	var ve *bitrix.ValidationError
	if errors.As(err, &ve) {
		cp := *ve
		cp.Method = method
		if prefix != "" && !strings.HasPrefix(cp.Field, prefix) {
			cp.Field = prefix + "." + cp.Field
		}
		return &cp
	}
	return err
}

// DialogID addresses a dialog: a user id for a private dialog ("27") or
// "chat" and a chat id for a group chat ("chat2725"). Build it with [User]
// or [Chat]; ONIMBOTMESSAGEADD events carry it as DIALOG_ID.
type DialogID string

// User returns the private dialog with the user id.
func User(userID int) DialogID { return DialogID(strconv.Itoa(userID)) }

// Chat returns the dialog of the group chat id.
func Chat(chatID int) DialogID { return DialogID("chat" + strconv.Itoa(chatID)) }

var dialogRe = regexp.MustCompile(`^(chat|sg)?([1-9][0-9]{0,18})$`)

// Validate reports whether d has one of the portal's dialog id forms: a
// positive user id, "chat<id>", or "sg<id>" (a workgroup chat).
func (d DialogID) Validate() error {
	if d == "" {
		return errors.New("empty dialog id")
	}
	if !dialogRe.MatchString(string(d)) {
		return fmt.Errorf("dialog id %.40q is neither a user id nor chat<id>", string(d))
	}
	return nil
}

// IsChat reports whether d addresses a group chat ("chat<id>").
func (d DialogID) IsChat() bool { return strings.HasPrefix(string(d), "chat") }

// ChatID returns the chat id of a "chat<id>" dialog, or 0.
func (d DialogID) ChatID() int {
	m := dialogRe.FindStringSubmatch(string(d))
	if m == nil || m[1] != "chat" {
		return 0
	}
	n, _ := strconv.Atoi(m[2])
	return n
}

// UserID returns the user id of a private dialog, or 0.
func (d DialogID) UserID() int {
	m := dialogRe.FindStringSubmatch(string(d))
	if m == nil || m[1] != "" {
		return 0
	}
	n, _ := strconv.Atoi(m[2])
	return n
}

// String returns the dialog id as sent to the portal.
func (d DialogID) String() string { return string(d) }

func yn(b bool) string {
	if b {
		return "Y"
	}
	return "N"
}

// checkURL accepts absolute http(s) URLs.
func checkURL(method, field, u string) error {
	if u == "" {
		return invalid(method, field, "empty URL")
	}
	l := strings.ToLower(u)
	if !strings.HasPrefix(l, "https://") && !strings.HasPrefix(l, "http://") {
		return invalid(method, field, "handler URL must start with http:// or https://")
	}
	if strings.ContainsAny(u, " \t\r\n") {
		return invalid(method, field, "URL contains white space")
	}
	host := u[strings.Index(u, "://")+3:]
	if host == "" || host[0] == '/' {
		return invalid(method, field, "URL has no host")
	}
	return nil
}

func checkID(method, field string, id int) error {
	if id <= 0 {
		return invalid(method, field, "must be a positive id, got %d", id)
	}
	return nil
}

func checkOptID(method, field string, id int) error {
	if id < 0 {
		return invalid(method, field, "must be a positive id or 0 (default), got %d", id)
	}
	return nil
}

func botParams(botID int) bitrix.Params {
	p := bitrix.Params{}
	if botID > 0 {
		p["BOT_ID"] = botID
	}
	return p
}
