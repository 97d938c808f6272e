package imbot

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/internal/wire"
)

// ChatService groups imbot.chat.add, imbot.chat.get, imbot.dialog.get and
// the chat membership calls (imbot.chat.user.add, .user.delete, .user.list,
// imbot.chat.leave).
type ChatService struct{ c *Client }

// ChatType is the TYPE of a new chat.
type ChatType string

// Chat types.
const (
	ChatClosed ChatType = "CHAT" // members join by invitation (the portal's default)
	ChatOpen   ChatType = "OPEN" // any employee can join
)

// NewChat is the request of [ChatService.Add] (imbot.chat.add).
type NewChat struct {
	BotID       int      // BOT_ID (0: the application's first bot); the bot owns the chat
	Type        ChatType // TYPE ("" = CHAT)
	Title       string   // TITLE
	Description string   // DESCRIPTION
	Color       Color    // COLOR
	Message     string   // MESSAGE: first message of the chat
	Users       []int    // USERS: members besides the bot
	Avatar      string   // AVATAR: base64 image
	EntityType  string   // ENTITY_TYPE: your own object type, for imbot.chat.get
	EntityID    string   // ENTITY_ID: your own object id, for imbot.chat.get
}

// Add creates a group chat owned by a bot (imbot.chat.add) and returns its
// chat id; [Chat] turns it into a dialog id.
//
// Bitrix24 method: [imbot.chat.add].
//
// [imbot.chat.add]: https://apidocs.bitrix24.com/api-reference/chat-bots/outdated/chats/imbot-chat-add.html
func (s *ChatService) Add(ctx context.Context, n NewChat) (int, error) {
	const method = "imbot.chat.add"
	if err := checkOptID(method, "BOT_ID", n.BotID); err != nil {
		return 0, err
	}
	p := botParams(n.BotID)
	switch n.Type {
	case "":
	case ChatClosed, ChatOpen:
		p["TYPE"] = string(n.Type)
	default:
		return 0, invalid(method, "TYPE", "want CHAT or OPEN, got %q", n.Type)
	}
	if n.Color != "" && !n.Color.valid() {
		return 0, invalid(method, "COLOR", "unknown colour %q (use the imbot.Color constants)", n.Color)
	}
	for i, u := range n.Users {
		if u <= 0 {
			return 0, invalid(method, fmt.Sprintf("USERS[%d]", i), "must be a positive user id, got %d", u)
		}
	}
	if (n.EntityType == "") != (n.EntityID == "") {
		return 0, invalid(method, "ENTITY_ID", "ENTITY_TYPE and ENTITY_ID go together")
	}
	set := func(k, v string) {
		if v != "" {
			p[k] = v
		}
	}
	set("TITLE", n.Title)
	set("DESCRIPTION", n.Description)
	set("COLOR", string(n.Color))
	set("MESSAGE", n.Message)
	set("AVATAR", n.Avatar)
	set("ENTITY_TYPE", n.EntityType)
	set("ENTITY_ID", n.EntityID)
	if len(n.Users) > 0 {
		p["USERS"] = n.Users
	}
	return s.c.callID(ctx, method, p)
}

// Get finds the chat created with the given ENTITY_TYPE and ENTITY_ID
// (imbot.chat.get) and returns its id. A missing chat is an error matching
// [bitrix.ErrNotFound].
//
// Bitrix24 method: [imbot.chat.get].
//
// [imbot.chat.get]: https://apidocs.bitrix24.com/api-reference/chat-bots/outdated/chats/imbot-chat-get.html
func (s *ChatService) Get(ctx context.Context, entityType, entityID string) (int, error) {
	const method = "imbot.chat.get"
	if entityType == "" {
		return 0, invalid(method, "ENTITY_TYPE", "required")
	}
	if entityID == "" {
		return 0, invalid(method, "ENTITY_ID", "required")
	}
	var raw json.RawMessage
	if err := s.c.call(ctx, method, bitrix.Params{"ENTITY_TYPE": entityType, "ENTITY_ID": entityID}, &raw); err != nil {
		return 0, err
	}
	id, err := decodeChatID(raw)
	if err != nil {
		return 0, fmt.Errorf("imbot: %s: %w", method, err)
	}
	if id == 0 {
		return 0, &bitrix.APIError{Method: method, Code: "CHAT_NOT_FOUND", Description: "no chat with this ENTITY_TYPE and ENTITY_ID"}
	}
	return id, nil
}

// decodeChatID reads {"ID": 2725}, a chat object {"id": 2725, ...}, 2725,
// or null (0).
func decodeChatID(raw json.RawMessage) (int, error) {
	trim := bytes.TrimSpace(raw)
	if len(trim) > 0 && trim[0] == '{' {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(trim, &m); err != nil {
			return 0, err
		}
		v, ok := m["ID"]
		if !ok {
			v = m["id"]
		}
		var n bitrix.Int
		if v != nil {
			if err := json.Unmarshal(v, &n); err != nil {
				return 0, err
			}
		}
		return int(n), nil
	}
	if wire.IsEmptyArray(trim) {
		return 0, nil
	}
	var n bitrix.Int
	if err := json.Unmarshal(trim, &n); err != nil {
		return 0, err
	}
	return int(n), nil
}

// Dialog is the chat description imbot.dialog.get answers. Unmodelled
// fields stay in Extra.
type Dialog struct {
	ID            int
	DialogID      DialogID // "chat2725"
	ParentChatID  int
	Name          string
	Description   string
	Owner         int
	Extranet      bool
	Avatar        string
	Color         string // "#f76187"
	Type          string // "chat", "open", "private", "lines", ...
	MessageType   string // "C", "O", "P", "L", ...
	EntityType    string
	EntityID      string
	Counter       int
	UserCounter   int
	MessageCount  int
	LastMessageID int
	DateCreate    time.Time
	Role          string // the caller's role: "owner", "manager", "member"
	ManagerList   []int
	Restrictions  map[string]bool
	Extra         map[string]json.RawMessage
}

type wireDialog struct {
	ID            bitrix.Int      `json:"id"`
	DialogID      string          `json:"dialog_id"`
	ParentChatID  bitrix.Int      `json:"parent_chat_id"`
	Name          string          `json:"name"`
	Description   string          `json:"description"`
	Owner         bitrix.Int      `json:"owner"`
	Extranet      bitrix.Bool     `json:"extranet"`
	Avatar        string          `json:"avatar"`
	Color         string          `json:"color"`
	Type          string          `json:"type"`
	MessageType   string          `json:"message_type"`
	EntityType    string          `json:"entity_type"`
	EntityID      json.RawMessage `json:"entity_id"`
	Counter       bitrix.Int      `json:"counter"`
	UserCounter   bitrix.Int      `json:"user_counter"`
	MessageCount  bitrix.Int      `json:"message_count"`
	LastMessageID bitrix.Int      `json:"last_message_id"`
	DateCreate    bitrix.Time     `json:"date_create"`
	Role          string          `json:"role"`
	ManagerList   []bitrix.Int    `json:"manager_list"`
	Restrictions  json.RawMessage `json:"restrictions"`
}

// UnmarshalJSON decodes the portal's dialog object.
func (d *Dialog) UnmarshalJSON(data []byte) error {
	var w wireDialog
	extra, err := wire.DecodeExtra(data, &w)
	if err != nil {
		return fmt.Errorf("imbot: decoding dialog: %w", err)
	}
	out := Dialog{
		ID: int(w.ID), DialogID: DialogID(w.DialogID), ParentChatID: int(w.ParentChatID), Name: w.Name,
		Description: w.Description, Owner: int(w.Owner), Extranet: bool(w.Extranet), Avatar: w.Avatar,
		Color: w.Color, Type: w.Type, MessageType: w.MessageType, EntityType: w.EntityType,
		Counter: int(w.Counter), UserCounter: int(w.UserCounter), MessageCount: int(w.MessageCount),
		LastMessageID: int(w.LastMessageID), DateCreate: w.DateCreate.Time, Role: w.Role, Extra: extra,
	}
	if len(w.EntityID) > 0 {
		var s string
		if json.Unmarshal(w.EntityID, &s) == nil {
			out.EntityID = s
		} else if string(w.EntityID) != "null" {
			out.EntityID = strings.Trim(string(w.EntityID), `"`)
		}
	}
	for _, m := range w.ManagerList {
		out.ManagerList = append(out.ManagerList, int(m))
	}
	if len(w.Restrictions) > 0 && !wire.IsEmptyArray(bytes.TrimSpace(w.Restrictions)) && string(w.Restrictions) != "null" {
		var r map[string]bitrix.Bool
		if err := json.Unmarshal(w.Restrictions, &r); err != nil {
			return fmt.Errorf("imbot: decoding dialog restrictions: %w", err)
		}
		out.Restrictions = make(map[string]bool, len(r))
		for k, v := range r {
			out.Restrictions[k] = bool(v)
		}
	}
	if out.DialogID == "" && out.ID > 0 && out.Type != "private" {
		out.DialogID = Chat(out.ID)
	}
	*d = out
	return nil
}

// Dialog returns the description of a dialog (imbot.dialog.get).
//
// Bitrix24 method: [imbot.dialog.get].
//
// [imbot.dialog.get]: https://apidocs.bitrix24.com/api-reference/chat-bots/outdated/chats/imbot-dialog-get.html
func (s *ChatService) Dialog(ctx context.Context, botID int, dialog DialogID) (*Dialog, error) {
	const method = "imbot.dialog.get"
	if err := checkOptID(method, "BOT_ID", botID); err != nil {
		return nil, err
	}
	if err := dialog.Validate(); err != nil {
		return nil, invalid(method, "DIALOG_ID", "%v", err)
	}
	p := botParams(botID)
	p["DIALOG_ID"] = string(dialog)
	var d Dialog
	if err := s.c.call(ctx, method, p, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// AddUsers adds users to a chat (imbot.chat.user.add). hideHistory nil
// keeps the portal's default (history hidden from new members).
//
// Bitrix24 method: [imbot.chat.user.add].
//
// [imbot.chat.user.add]: https://apidocs.bitrix24.com/api-reference/chat-bots/outdated/chats/imbot-chat-user-add.html
func (s *ChatService) AddUsers(ctx context.Context, botID, chatID int, users []int, hideHistory *bool) error {
	const method = "imbot.chat.user.add"
	if err := checkOptID(method, "BOT_ID", botID); err != nil {
		return err
	}
	if err := checkID(method, "CHAT_ID", chatID); err != nil {
		return err
	}
	if len(users) == 0 {
		return invalid(method, "USERS", "no users to add")
	}
	for i, u := range users {
		if u <= 0 {
			return invalid(method, fmt.Sprintf("USERS[%d]", i), "must be a positive user id, got %d", u)
		}
	}
	p := botParams(botID)
	p["CHAT_ID"] = chatID
	p["USERS"] = users
	if hideHistory != nil {
		p["HIDE_HISTORY"] = yn(*hideHistory)
	}
	return s.c.callTrue(ctx, method, p)
}

// DeleteUser removes a user from a chat (imbot.chat.user.delete).
//
// Bitrix24 method: [imbot.chat.user.delete].
//
// [imbot.chat.user.delete]: https://apidocs.bitrix24.com/api-reference/chat-bots/outdated/chats/imbot-chat-user-delete.html
func (s *ChatService) DeleteUser(ctx context.Context, botID, chatID, userID int) error {
	return s.chatUser(ctx, "imbot.chat.user.delete", botID, chatID, userID)
}

// Users returns the ids of a chat's members (imbot.chat.user.list).
//
// Bitrix24 method: [imbot.chat.user.list].
//
// [imbot.chat.user.list]: https://apidocs.bitrix24.com/api-reference/chat-bots/outdated/chats/imbot-chat-user-list.html
func (s *ChatService) Users(ctx context.Context, botID, chatID int) ([]int, error) {
	const method = "imbot.chat.user.list"
	if err := checkOptID(method, "BOT_ID", botID); err != nil {
		return nil, err
	}
	if err := checkID(method, "CHAT_ID", chatID); err != nil {
		return nil, err
	}
	p := botParams(botID)
	p["CHAT_ID"] = chatID
	var raw json.RawMessage
	if err := s.c.call(ctx, method, p, &raw); err != nil {
		return nil, err
	}
	return decodeIDList(method, raw)
}

// decodeIDList reads [1, "2"] or an object of ids ({"0": 1, ...}, sorted).
func decodeIDList(method string, raw json.RawMessage) ([]int, error) {
	ids, err := wire.IDKeyed[bitrix.Int](raw, nil)
	if err != nil {
		return nil, fmt.Errorf("imbot: %s: %w", method, err)
	}
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
		slices.Sort(ids) // an object's order says nothing; ids ascending
	}
	out := make([]int, len(ids))
	for i, n := range ids {
		out[i] = int(n)
	}
	return out, nil
}

// Leave makes the bot leave a chat (imbot.chat.leave).
//
// Bitrix24 method: [imbot.chat.leave].
//
// [imbot.chat.leave]: https://apidocs.bitrix24.com/api-reference/chat-bots/outdated/chats/imbot-chat-leave.html
func (s *ChatService) Leave(ctx context.Context, botID, chatID int) error {
	const method = "imbot.chat.leave"
	if err := checkOptID(method, "BOT_ID", botID); err != nil {
		return err
	}
	if err := checkID(method, "CHAT_ID", chatID); err != nil {
		return err
	}
	p := botParams(botID)
	p["CHAT_ID"] = chatID
	return s.c.callTrue(ctx, method, p)
}

// UpdateTitle renames a chat (imbot.chat.updateTitle).
//
// Bitrix24 method: [imbot.chat.updateTitle].
//
// [imbot.chat.updateTitle]: https://apidocs.bitrix24.com/api-reference/chat-bots/outdated/chats/imbot-chat-update-title.html
func (s *ChatService) UpdateTitle(ctx context.Context, botID, chatID int, title string) error {
	const method = "imbot.chat.updateTitle"
	if err := checkOptID(method, "BOT_ID", botID); err != nil {
		return err
	}
	if err := checkID(method, "CHAT_ID", chatID); err != nil {
		return err
	}
	if strings.TrimSpace(title) == "" {
		return invalid(method, "TITLE", "empty title")
	}
	p := botParams(botID)
	p["CHAT_ID"] = chatID
	p["TITLE"] = title
	return s.c.callTrue(ctx, method, p)
}

// SetOwner makes a user the owner of a chat (imbot.chat.setOwner).
//
// Bitrix24 method: [imbot.chat.setOwner].
//
// [imbot.chat.setOwner]: https://apidocs.bitrix24.com/api-reference/chat-bots/outdated/chats/imbot-chat-set-owner.html
func (s *ChatService) SetOwner(ctx context.Context, botID, chatID, userID int) error {
	return s.chatUser(ctx, "imbot.chat.setOwner", botID, chatID, userID)
}

// chatUser calls a method that takes a bot, a chat and a user.
func (s *ChatService) chatUser(ctx context.Context, method string, botID, chatID, userID int) error {
	if err := checkOptID(method, "BOT_ID", botID); err != nil {
		return err
	}
	if err := checkID(method, "CHAT_ID", chatID); err != nil {
		return err
	}
	if err := checkID(method, "USER_ID", userID); err != nil {
		return err
	}
	p := botParams(botID)
	p["CHAT_ID"] = chatID
	p["USER_ID"] = userID
	return s.c.callTrue(ctx, method, p)
}
