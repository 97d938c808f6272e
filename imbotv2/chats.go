package imbotv2

import (
	"context"
	"slices"
	"strings"
	"time"
)

// ChatService groups the imbot.v2.Chat.* methods ([chats], [chat UI]).
//
// [chats]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/chats/index.html
// [chat UI]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/ui/index.html
type ChatService struct{ c *Client }

// NewChat is the request of [ChatService.Add].
type NewChat struct {
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	// Color is a color code such as "mint" (the colors imbot.v2.Chat.add lists).
	Color string `json:"color,omitempty"`
	// Avatar is the image as Base64.
	Avatar  string `json:"avatar,omitempty"`
	UserIDs []int  `json:"userIds,omitempty"`
	// OwnerID is the owner (0: the bot).
	OwnerID int `json:"ownerId,omitempty"`
	// Message is the chat's first message.
	Message string `json:"message,omitempty"`
}

// ChatResult is the answer of Chat.add: the chat and its users.
type ChatResult struct {
	Chat  Chat   `json:"chat"`
	Users []User `json:"users"`
}

// Add calls imbot.v2.Chat.add.
//
// Bitrix24 method: [imbot.v2.Chat.add].
//
// [imbot.v2.Chat.add]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/chats/chat-add.html
func (s *ChatService) Add(ctx context.Context, botID int, c NewChat) (*ChatResult, error) {
	const m = "imbot.v2.Chat.add"
	if err := checkBot(m, botID); err != nil {
		return nil, err
	}
	for i, id := range c.UserIDs {
		if id <= 0 {
			return nil, invalid(m, "fields.userIds", "item %d is not a positive id", i)
		}
	}
	var out ChatResult
	if err := s.c.call(ctx, m, botID, params{"fields": c}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Get calls imbot.v2.Chat.get.
//
// Bitrix24 method: [imbot.v2.Chat.get].
//
// [imbot.v2.Chat.get]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/chats/chat-get.html
func (s *ChatService) Get(ctx context.Context, botID int, dialog DialogID) (*Chat, error) {
	const m = "imbot.v2.Chat.get"
	if err := checkBotDialog(m, botID, dialog); err != nil {
		return nil, err
	}
	var out struct {
		Chat Chat `json:"chat"`
	}
	if err := s.c.call(ctx, m, botID, params{"dialogId": dialog}, &out); err != nil {
		return nil, err
	}
	return &out.Chat, nil
}

// ChatUpdate is the request of [ChatService.Update].
type ChatUpdate struct {
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	Color       string `json:"color,omitempty"`
	Avatar      string `json:"avatar,omitempty"`
}

// Update calls imbot.v2.Chat.update.
//
// Bitrix24 method: [imbot.v2.Chat.update].
//
// [imbot.v2.Chat.update]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/chats/chat-update.html
func (s *ChatService) Update(ctx context.Context, botID int, dialog DialogID, u ChatUpdate) error {
	const m = "imbot.v2.Chat.update"
	if err := checkBotDialog(m, botID, dialog); err != nil {
		return err
	}
	if u == (ChatUpdate{}) {
		return invalid(m, "fields", "nothing to update")
	}
	return s.c.callTrue(ctx, m, botID, params{"dialogId": dialog, "fields": u})
}

// Leave calls imbot.v2.Chat.leave: the bot leaves the chat.
//
// Bitrix24 method: [imbot.v2.Chat.leave].
//
// [imbot.v2.Chat.leave]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/chats/chat-leave.html
func (s *ChatService) Leave(ctx context.Context, botID int, dialog DialogID) error {
	const m = "imbot.v2.Chat.leave"
	if err := checkBotDialog(m, botID, dialog); err != nil {
		return err
	}
	return s.c.callTrue(ctx, m, botID, params{"dialogId": dialog})
}

// AddUsers calls imbot.v2.Chat.User.add.
//
// Bitrix24 method: [imbot.v2.Chat.User.add].
//
// [imbot.v2.Chat.User.add]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/chats/chat-user-add.html
func (s *ChatService) AddUsers(ctx context.Context, botID int, dialog DialogID, userIDs ...int) error {
	return s.userIDs(ctx, "imbot.v2.Chat.User.add", botID, dialog, userIDs)
}

// AddManagers calls imbot.v2.Chat.Manager.add.
//
// Bitrix24 method: [imbot.v2.Chat.Manager.add].
//
// [imbot.v2.Chat.Manager.add]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/chats/chat-manager-add.html
func (s *ChatService) AddManagers(ctx context.Context, botID int, dialog DialogID, userIDs ...int) error {
	return s.userIDs(ctx, "imbot.v2.Chat.Manager.add", botID, dialog, userIDs)
}

// DeleteManagers calls imbot.v2.Chat.Manager.delete.
//
// Bitrix24 method: [imbot.v2.Chat.Manager.delete].
//
// [imbot.v2.Chat.Manager.delete]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/chats/chat-manager-delete.html
func (s *ChatService) DeleteManagers(ctx context.Context, botID int, dialog DialogID, userIDs ...int) error {
	return s.userIDs(ctx, "imbot.v2.Chat.Manager.delete", botID, dialog, userIDs)
}

func (s *ChatService) userIDs(ctx context.Context, m string, botID int, dialog DialogID, ids []int) error {
	if err := checkBotDialog(m, botID, dialog); err != nil {
		return err
	}
	if len(ids) == 0 {
		return invalid(m, "userIds", "no user ids")
	}
	for i, id := range ids {
		if id <= 0 {
			return invalid(m, "userIds", "item %d is not a positive id", i)
		}
	}
	return s.c.callTrue(ctx, m, botID, params{"dialogId": dialog, "userIds": ids})
}

// DeleteUser calls imbot.v2.Chat.User.delete.
//
// Bitrix24 method: [imbot.v2.Chat.User.delete].
//
// [imbot.v2.Chat.User.delete]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/chats/chat-user-delete.html
func (s *ChatService) DeleteUser(ctx context.Context, botID int, dialog DialogID, userID int) error {
	return s.userID(ctx, "imbot.v2.Chat.User.delete", botID, dialog, userID)
}

// SetOwner calls imbot.v2.Chat.setOwner.
//
// Bitrix24 method: [imbot.v2.Chat.setOwner].
//
// [imbot.v2.Chat.setOwner]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/chats/chat-set-owner.html
func (s *ChatService) SetOwner(ctx context.Context, botID int, dialog DialogID, userID int) error {
	return s.userID(ctx, "imbot.v2.Chat.setOwner", botID, dialog, userID)
}

func (s *ChatService) userID(ctx context.Context, m string, botID int, dialog DialogID, id int) error {
	if err := checkBotDialog(m, botID, dialog); err != nil {
		return err
	}
	if err := checkID(m, "userId", id); err != nil {
		return err
	}
	return s.c.callTrue(ctx, m, botID, params{"dialogId": dialog, "userId": id})
}

// UserListOptions orders and limits [ChatService.Users].
type UserListOptions struct {
	// OrderBy is id, lastSendMessageId or userId ("" = the portal's order).
	OrderBy string
	Desc    bool
	// Limit is 1–200 (0 = the portal's default, 50).
	Limit int
}

// Users calls imbot.v2.Chat.User.list.
//
// Bitrix24 method: [imbot.v2.Chat.User.list].
//
// [imbot.v2.Chat.User.list]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/chats/chat-user-list.html
func (s *ChatService) Users(ctx context.Context, botID int, dialog DialogID, o UserListOptions) ([]User, error) {
	const m = "imbot.v2.Chat.User.list"
	if err := checkBotDialog(m, botID, dialog); err != nil {
		return nil, err
	}
	p := params{"dialogId": dialog}
	if o.OrderBy != "" {
		if !slices.Contains([]string{"id", "lastSendMessageId", "userId"}, o.OrderBy) {
			return nil, invalid(m, "order", "unknown field %.30q (want id, lastSendMessageId or userId)", o.OrderBy)
		}
		dir := "ASC"
		if o.Desc {
			dir = "DESC"
		}
		p["order"] = params{o.OrderBy: dir}
	}
	if o.Limit < 0 || o.Limit > 200 {
		return nil, invalid(m, "limit", "must be 1–200, got %d", o.Limit)
	}
	if o.Limit > 0 {
		p["limit"] = o.Limit
	}
	var out []User
	if err := s.c.call(ctx, m, botID, p, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// [Status codes] of the bot's action indicator; "" shows "typing".
//
// [Status codes]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/ui/chat-input-action-notify.html#status-codes
const (
	ActionThinking    = "IMBOT_AGENT_ACTION_THINKING"
	ActionSearching   = "IMBOT_AGENT_ACTION_SEARCHING"
	ActionGenerating  = "IMBOT_AGENT_ACTION_GENERATING"
	ActionAnalyzing   = "IMBOT_AGENT_ACTION_ANALYZING"
	ActionProcessing  = "IMBOT_AGENT_ACTION_PROCESSING"
	ActionTranslating = "IMBOT_AGENT_ACTION_TRANSLATING"
	ActionConnecting  = "IMBOT_AGENT_ACTION_CONNECTING"
	ActionChecking    = "IMBOT_AGENT_ACTION_CHECKING"
	ActionCalculating = "IMBOT_AGENT_ACTION_CALCULATING"
	ActionReadingDocs = "IMBOT_AGENT_ACTION_READING_DOCS"
	ActionComposing   = "IMBOT_AGENT_ACTION_COMPOSING"
)

// InputAction calls imbot.v2.Chat.InputAction.notify: show the bot's
// action indicator in the dialog. code is an Action constant or "" for
// "typing"; duration is 1–600 s, 0 for the portal's default.
//
// Bitrix24 method: [imbot.v2.Chat.InputAction.notify].
//
// [imbot.v2.Chat.InputAction.notify]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/ui/chat-input-action-notify.html
func (s *ChatService) InputAction(ctx context.Context, botID int, dialog DialogID, code string, duration time.Duration) error {
	const m = "imbot.v2.Chat.InputAction.notify"
	if err := checkBotDialog(m, botID, dialog); err != nil {
		return err
	}
	p := params{"dialogId": dialog}
	if code != "" {
		if !strings.HasPrefix(code, "IMBOT_AGENT_ACTION_") {
			return invalid(m, "statusMessageCode", "unknown code %.40q", code)
		}
		p["statusMessageCode"] = code
	}
	if duration != 0 {
		sec := int(duration / time.Second)
		if sec < 1 || sec > 600 || duration%time.Second != 0 {
			return invalid(m, "duration", "must be whole seconds from 1 to 600, got %v", duration)
		}
		p["duration"] = sec
	}
	return s.c.callTrue(ctx, m, botID, p)
}

// TextField calls imbot.v2.Chat.TextField.enabled: turn the dialog's text
// input on or off.
//
// Bitrix24 method: [imbot.v2.Chat.TextField.enabled].
//
// [imbot.v2.Chat.TextField.enabled]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/ui/chat-text-field-enabled.html
func (s *ChatService) TextField(ctx context.Context, botID int, dialog DialogID, enabled bool) error {
	const m = "imbot.v2.Chat.TextField.enabled"
	if err := checkBotDialog(m, botID, dialog); err != nil {
		return err
	}
	return s.c.callTrue(ctx, m, botID, params{"dialogId": dialog, "enabled": enabled})
}

func checkBotDialog(m string, botID int, dialog DialogID) error {
	if err := checkBot(m, botID); err != nil {
		return err
	}
	return checkDialog(m, dialog)
}
