package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/internal/wire"
)

// Sources: api-reference/chat-bots/chat-bots-v2/imbot.v2/events/events.md
// and .../im.v2/events/events.md at docs commit 5988ed13.

// Chatbots 2.0 event names (imbot.v2 bots and im.v2 user events).
//
// A bot registered through imbot.v2.Bot.register receives the ONIMBOTV2*
// events only (never the v1 ONIMBOT* ones), either from
// imbot.v2.Event.get (eventMode "fetch") or as a POST to its webhookUrl
// (eventMode "webhook"); withUserEvents adds the ONIMV2* user events to
// Event.get. Docs: [bot events] and [user events].
//
// [bot events]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/events/events.html
// [user events]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/im.v2/events/events.html
const (
	OnBotV2MessageAdd     = "ONIMBOTV2MESSAGEADD"     // Data: *BotV2Message
	OnBotV2MessageUpdate  = "ONIMBOTV2MESSAGEUPDATE"  // Data: *BotV2Message
	OnBotV2MessageDelete  = "ONIMBOTV2MESSAGEDELETE"  // Data: *BotV2MessageDelete
	OnBotV2JoinChat       = "ONIMBOTV2JOINCHAT"       // Data: *BotV2JoinChat
	OnBotV2Delete         = "ONIMBOTV2DELETE"         // Data: *BotV2Delete
	OnBotV2ContextGet     = "ONIMBOTV2CONTEXTGET"     // Data: *BotV2ContextGet
	OnBotV2CommandAdd     = "ONIMBOTV2COMMANDADD"     // Data: *BotV2CommandAdd
	OnBotV2ReactionChange = "ONIMBOTV2REACTIONCHANGE" // Data: *BotV2ReactionChange

	OnIMV2MessageAdd     = "ONIMV2MESSAGEADD"     // Data: *IMV2Message
	OnIMV2MessageUpdate  = "ONIMV2MESSAGEUPDATE"  // Data: *IMV2Message
	OnIMV2MessageDelete  = "ONIMV2MESSAGEDELETE"  // Data: *IMV2MessageDelete
	OnIMV2ReactionChange = "ONIMV2REACTIONCHANGE" // Data: *IMV2ReactionChange
	OnIMV2JoinChat       = "ONIMV2JOINCHAT"       // Data: *IMV2JoinChat
)

func init() {
	for name, f := range map[string]func() any{
		OnBotV2MessageAdd:     func() any { return new(BotV2Message) },
		OnBotV2MessageUpdate:  func() any { return new(BotV2Message) },
		OnBotV2MessageDelete:  func() any { return new(BotV2MessageDelete) },
		OnBotV2JoinChat:       func() any { return new(BotV2JoinChat) },
		OnBotV2Delete:         func() any { return new(BotV2Delete) },
		OnBotV2ContextGet:     func() any { return new(BotV2ContextGet) },
		OnBotV2CommandAdd:     func() any { return new(BotV2CommandAdd) },
		OnBotV2ReactionChange: func() any { return new(BotV2ReactionChange) },
		OnIMV2MessageAdd:      func() any { return new(IMV2Message) },
		OnIMV2MessageUpdate:   func() any { return new(IMV2Message) },
		OnIMV2MessageDelete:   func() any { return new(IMV2MessageDelete) },
		OnIMV2ReactionChange:  func() any { return new(IMV2ReactionChange) },
		OnIMV2JoinChat:        func() any { return new(IMV2JoinChat) },
	} {
		types[name] = f
	}
}

// The v2 entities below decode both delivery paths. Event.get and method
// responses keep JSON types; webhook deliveries go through PHP's
// http_build_query, so every scalar arrives as a string: 789 → "789",
// true/false → "1"/"0", false in a string|false field → "0", null → "",
// and empty objects or arrays vanish (entities.md, "Field types depend on
// the context"; imbot.v2/events/events.md, "Data Types in Webhook Mode").

// BotV2 is a chat bot as imbot.v2 methods and events carry it
// ([bot entity]). Events fetched with Event.get carry the full object;
// webhook deliveries carry only ID, Code and Auth.
//
// [bot entity]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/entities.html#bot
type BotV2 struct {
	ID                 bitrix.Int  `json:"id"`
	Code               string      `json:"code"`
	Type               string      `json:"type"`
	IsHidden           bitrix.Bool `json:"isHidden"`
	IsSupportOpenline  bitrix.Bool `json:"isSupportOpenline"`
	IsReactionsEnabled bitrix.Bool `json:"isReactionsEnabled"`
	// BackgroundID is "" when the portal sent null.
	BackgroundID string `json:"backgroundId"`
	Language     string `json:"language"`
	// The fields below are sent to the bot's owner only.
	ModuleID     string     `json:"moduleId"`
	EventMode    string     `json:"eventMode"`
	CountMessage bitrix.Int `json:"countMessage"`
	CountCommand bitrix.Int `json:"countCommand"`
	CountChat    bitrix.Int `json:"countChat"`
	CountUser    bitrix.Int `json:"countUser"`
	// Auth holds the bot's OAuth tokens for callbacks; webhook mode only
	// (https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/events/events.html#bot-format).
	// Never use its application_token to verify a
	// delivery: the top-level auth is the one to check.
	Auth *BotAuth `json:"auth,omitempty"`
}

// UserV2 is a user ([user entity]).
//
// [user entity]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/entities.html#user
type UserV2 struct {
	ID             bitrix.Int  `json:"id"`
	Active         bitrix.Bool `json:"active"`
	Name           string      `json:"name"`
	FirstName      string      `json:"firstName"`
	LastName       string      `json:"lastName"`
	WorkPosition   string      `json:"workPosition"`
	Color          string      `json:"color"`
	Avatar         string      `json:"avatar"`
	Gender         string      `json:"gender"`
	Birthday       string      `json:"birthday"`
	Extranet       bitrix.Bool `json:"extranet"`
	Bot            bitrix.Bool `json:"bot"`
	Connector      bitrix.Bool `json:"connector"`
	ExternalAuthID string      `json:"externalAuthId"`
	Status         string      `json:"status"`
	// Idle, LastActivityDate, MobileLastDate, DesktopLastDate and Absent
	// are ISO 8601 dates or false.
	Idle             DateOrFalse `json:"idle"`
	LastActivityDate DateOrFalse `json:"lastActivityDate"`
	MobileLastDate   DateOrFalse `json:"mobileLastDate,omitempty"`
	DesktopLastDate  DateOrFalse `json:"desktopLastDate,omitempty"`
	Absent           DateOrFalse `json:"absent"`
	Departments      IntList     `json:"departments"`
	// Phones maps phone kinds (personalPhone, workPhone, ...) to numbers;
	// nil when the portal sent false.
	Phones  Phones `json:"phones"`
	Type    string `json:"type"`
	Website string `json:"website,omitempty"`
	Email   string `json:"email,omitempty"`
}

// ChatV2 is a chat ([chat entity]). Events leave out Role and MuteList
// and the fields marked as method-response only.
//
// [chat entity]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/entities.html#chat
type ChatV2 struct {
	ID               bitrix.Int      `json:"id"`
	DialogID         string          `json:"dialogId"`
	Name             string          `json:"name"`
	Description      string          `json:"description,omitempty"`
	Type             string          `json:"type"`
	MessageType      string          `json:"messageType,omitempty"`
	Owner            bitrix.Int      `json:"owner"`
	Color            string          `json:"color"`
	Avatar           string          `json:"avatar"`
	Extranet         bitrix.Bool     `json:"extranet,omitempty"`
	ContainsCollaber bitrix.Bool     `json:"containsCollaber,omitempty"`
	Role             string          `json:"role,omitempty"`
	MuteList         IntList         `json:"muteList,omitempty"`
	EntityType       string          `json:"entityType"`
	EntityID         string          `json:"entityId,omitempty"`
	EntityData1      string          `json:"entityData1,omitempty"`
	EntityData2      string          `json:"entityData2,omitempty"`
	EntityData3      string          `json:"entityData3,omitempty"`
	EntityLink       json.RawMessage `json:"entityLink,omitempty"`
	DiskFolderID     bitrix.Int      `json:"diskFolderId,omitempty"`
	Permissions      json.RawMessage `json:"permissions,omitempty"`
	ParentChatID     bitrix.Int      `json:"parentChatId,omitempty"`
	ParentMessageID  bitrix.Int      `json:"parentMessageId,omitempty"`
	IsNew            bitrix.Bool     `json:"isNew,omitempty"`
	TextFieldEnabled bitrix.Bool     `json:"textFieldEnabled,omitempty"`
	BackgroundID     string          `json:"backgroundId,omitempty"`
	// Method responses only.
	DateCreate       string          `json:"dateCreate,omitempty"`
	LastMessageID    bitrix.Int      `json:"lastMessageId,omitempty"`
	LastMessageViews string          `json:"lastMessageViews,omitempty"`
	LastID           bitrix.Int      `json:"lastId,omitempty"`
	ManagerList      IntList         `json:"managerList,omitempty"`
	MarkedID         bitrix.Int      `json:"markedId,omitempty"`
	MessageCount     bitrix.Int      `json:"messageCount,omitempty"`
	Public           json.RawMessage `json:"public,omitempty"`
	UnreadID         bitrix.Int      `json:"unreadId,omitempty"`
	UserCounter      bitrix.Int      `json:"userCounter,omitempty"`
}

// MessageV2 is a message ([message entity]).
//
// [message entity]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/entities.html#message
type MessageV2 struct {
	ID       bitrix.Int `json:"id"`
	ChatID   bitrix.Int `json:"chatId"`
	AuthorID bitrix.Int `json:"authorId"` // 0 for system messages
	// Date is the ISO 8601 creation date ("" when null).
	Date     string      `json:"date"`
	Text     string      `json:"text"`
	IsSystem bitrix.Bool `json:"isSystem"`
	UUID     string      `json:"uuid"`
	// Forward is {id, userId, chatId, date} of a forwarded message, or nil.
	Forward *Forward `json:"forward"`
	// Params holds attach, keyboard, files and other extras as JSON.
	Params         json.RawMessage `json:"params"`
	ViewedByOthers bitrix.Bool     `json:"viewedByOthers"`
	// Method responses only.
	Unread bitrix.Bool `json:"unread,omitempty"`
	Viewed bitrix.Bool `json:"viewed,omitempty"`
}

// Forward describes the original of a forwarded message.
type Forward struct {
	ID     string     `json:"id"`
	UserID bitrix.Int `json:"userId"`
	ChatID bitrix.Int `json:"chatId"`
	Date   string     `json:"date"`
}

// UnmarshalJSON accepts the object, null and webhook mode's "".
func (f *Forward) UnmarshalJSON(b []byte) error {
	if isEmptyScalar(b) {
		*f = Forward{}
		return nil
	}
	type plain Forward
	return json.Unmarshal(b, (*plain)(f))
}

// CommandV2 is the command object of ONIMBOTV2COMMANDADD
// ([command object]).
//
// [command object]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/events/events.html#command-object
type CommandV2 struct {
	ID      bitrix.Int `json:"id"`
	Command string     `json:"command"` // with the slash: "/help"
	Params  string     `json:"params"`  // the text after the command
	// Context is how it was called: "textarea", "keyboard" or "menu".
	Context string `json:"context"`
}

// BotV2Message is the data of ONIMBOTV2MESSAGEADD and ONIMBOTV2MESSAGEUPDATE.
type BotV2Message struct {
	Bot      BotV2     `json:"bot"`
	Message  MessageV2 `json:"message"`
	Chat     ChatV2    `json:"chat"`
	User     UserV2    `json:"user"`
	Language string    `json:"language"`
}

// BotV2MessageDelete is the data of ONIMBOTV2MESSAGEDELETE.
type BotV2MessageDelete struct {
	Bot       BotV2      `json:"bot"`
	MessageID bitrix.Int `json:"messageId"`
	Chat      ChatV2     `json:"chat"`
	User      UserV2     `json:"user"`
	Language  string     `json:"language"`
}

// BotV2JoinChat is the data of ONIMBOTV2JOINCHAT: the bot was added to a
// chat (send a greeting to DialogID).
type BotV2JoinChat struct {
	Bot      BotV2  `json:"bot"`
	DialogID string `json:"dialogId"`
	Chat     ChatV2 `json:"chat"`
	User     UserV2 `json:"user"` // who added the bot
	Language string `json:"language"`
}

// BotV2Delete is the data of ONIMBOTV2DELETE, the bot's last event.
type BotV2Delete struct {
	Bot BotV2 `json:"bot"`
}

// BotV2ContextGet is the data of ONIMBOTV2CONTEXTGET: a user opened the
// dialog with context data ([bot context]).
//
// [bot context]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/bot-context.html
type BotV2ContextGet struct {
	Bot      BotV2  `json:"bot"`
	DialogID string `json:"dialogId"`
	// Context is the caller's arbitrary data as JSON. Treat it as
	// untrusted input (the security recommendations of the bot context
	// page linked below).
	Context  json.RawMessage `json:"context"`
	Chat     ChatV2          `json:"chat"`
	User     UserV2          `json:"user"`
	Language string          `json:"language"`
}

// BotV2CommandAdd is the data of ONIMBOTV2COMMANDADD, one per slash
// command in a message.
type BotV2CommandAdd struct {
	Bot      BotV2     `json:"bot"`
	Command  CommandV2 `json:"command"`
	Message  MessageV2 `json:"message"`
	Chat     ChatV2    `json:"chat"`
	User     UserV2    `json:"user"`
	Language string    `json:"language"`
}

// BotV2ReactionChange is the data of ONIMBOTV2REACTIONCHANGE.
type BotV2ReactionChange struct {
	Bot      BotV2     `json:"bot"`
	Reaction string    `json:"reaction"` // "like", ...
	Action   string    `json:"action"`   // "add" or "delete"
	Message  MessageV2 `json:"message"`
	Chat     ChatV2    `json:"chat"`
	User     UserV2    `json:"user"`
	Language string    `json:"language"`
}

// IMV2Message is the data of ONIMV2MESSAGEADD and ONIMV2MESSAGEUPDATE
// ([user events]).
//
// [user events]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/im.v2/events/events.html
type IMV2Message struct {
	Message  MessageV2 `json:"message"`
	Chat     ChatV2    `json:"chat"`
	User     UserV2    `json:"user"`
	Language string    `json:"language"`
}

// IMV2MessageDelete is the data of ONIMV2MESSAGEDELETE.
type IMV2MessageDelete struct {
	MessageID bitrix.Int `json:"messageId"`
	Chat      ChatV2     `json:"chat"`
	User      UserV2     `json:"user"`
	Language  string     `json:"language"`
}

// IMV2ReactionChange is the data of ONIMV2REACTIONCHANGE.
type IMV2ReactionChange struct {
	Reaction string    `json:"reaction"`
	Action   string    `json:"action"`
	Message  MessageV2 `json:"message"`
	Chat     ChatV2    `json:"chat"`
	User     UserV2    `json:"user"`
	Language string    `json:"language"`
}

// IMV2JoinChat is the data of ONIMV2JOINCHAT.
type IMV2JoinChat struct {
	DialogID string `json:"dialogId"`
	Chat     ChatV2 `json:"chat"`
	User     UserV2 `json:"user"` // the added user
	Language string `json:"language"`
}

// DateOrFalse is a field that is an ISO 8601 date or false
// ([user entity]: idle, lastActivityDate, absent, ...). false, null and
// webhook mode's "0" and "" decode as "".
//
// [user entity]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/entities.html#user
type DateOrFalse string

// UnmarshalJSON accepts a string, false, null, "0" and "".
func (d *DateOrFalse) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch string(b) {
	case "false", "null", `""`, `"0"`:
		*d = ""
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("events: date or false: %w", err)
	}
	*d = DateOrFalse(s)
	return nil
}

// MarshalJSON writes the date, or false when empty.
func (d DateOrFalse) MarshalJSON() ([]byte, error) {
	if d == "" {
		return []byte("false"), nil
	}
	return json.Marshal(string(d))
}

// Time parses the date; ok is false when it is empty or unparsable.
func (d DateOrFalse) Time() (t time.Time, ok bool) {
	if d == "" {
		return time.Time{}, false
	}
	v, err := bitrix.ParseTime(string(d))
	if err != nil {
		return time.Time{}, false
	}
	return v.Time, true
}

// IntList is a list of ids. It accepts a JSON array, the object PHP makes
// of a list ({"0":"1","1":"5"}, ordered by key), and null, false or "" for
// an empty list (webhook mode drops empty arrays).
type IntList []bitrix.Int

// UnmarshalJSON accepts the forms above.
func (l *IntList) UnmarshalJSON(b []byte) error {
	if isEmptyScalar(b) || string(bytes.TrimSpace(b)) == "false" {
		*l = nil
		return nil
	}
	out, err := wire.IDKeyed[bitrix.Int](b, nil)
	if err != nil {
		return fmt.Errorf("events: id list: %w", err)
	}
	*l = out
	return nil
}

// Phones maps phone kinds to numbers ([user entity], "object | boolean").
//
// [user entity]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/entities.html#user
type Phones map[string]string

// UnmarshalJSON accepts an object, false, null, "0", "" and [].
func (p *Phones) UnmarshalJSON(b []byte) error {
	t := string(bytes.TrimSpace(b))
	if isEmptyScalar(b) || t == "false" || t == `"0"` || t == "[]" {
		*p = nil
		return nil
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("events: phones: %w", err)
	}
	*p = m
	return nil
}

// MarshalJSON writes the object, or false when there are no phones.
func (p Phones) MarshalJSON() ([]byte, error) {
	if p == nil {
		return []byte("false"), nil
	}
	return json.Marshal(map[string]string(p))
}

// isEmptyScalar reports null or "".
func isEmptyScalar(b []byte) bool {
	t := string(bytes.TrimSpace(b))
	return t == "null" || t == `""` || t == ""
}

// ReplyDialog returns the dialog to answer an ONIMBOTV2MESSAGEADD or
// ONIMBOTV2MESSAGEUPDATE in: the chat's dialogId, which in a private chat
// already names the other side ([dialog ids]).
//
// [dialog ids]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/index.html#dialog-id
func (m *BotV2Message) ReplyDialog() string { return m.Chat.DialogID }

// ReplyDialog returns the dialog to answer a slash command in.
func (c *BotV2CommandAdd) ReplyDialog() string { return c.Chat.DialogID }
