package imbot

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/b24go/sdk/bitrix"
)

// MessageService groups imbot.message.add, .update, .delete, .like and
// imbot.chat.sendTyping.
type MessageService struct{ c *Client }

// Message is the request of [MessageService.Send] (imbot.message.add).
type Message struct {
	// BotID is the sending bot (0: the application's first bot).
	BotID int
	// DialogID is the recipient: [User] or [Chat]. Required unless
	// FromUserID and ToUserID are both set.
	DialogID DialogID
	// FromUserID and ToUserID send a system message in the private dialog
	// of two users instead (the portal forces SYSTEM=Y and ignores DialogID).
	FromUserID, ToUserID int
	// Text is MESSAGE (BB codes allowed); required. The portal trims it.
	Text string
	// Attach, Keyboard and Menu are validated before sending.
	Attach   *Attach
	Keyboard *Keyboard
	Menu     Menu
	// System sends a system message (SYSTEM=Y).
	System bool
	// URLPreview turns link previews on or off (nil: the portal's default, on).
	URLPreview *bool
	// SkipConnector keeps the message out of Open Channels connectors.
	SkipConnector bool
}

// addRich validates and adds ATTACH, KEYBOARD and MENU.
func addRich(method string, p bitrix.Params, a *Attach, k *Keyboard, m Menu) error {
	if a != nil {
		js, err := a.build()
		if err != nil {
			return withMethod(err, method, "")
		}
		p["ATTACH"] = json.RawMessage(js)
	}
	if k != nil {
		js, err := k.build()
		if err != nil {
			return withMethod(err, method, "")
		}
		p["KEYBOARD"] = json.RawMessage(js)
	}
	if m != nil {
		js, err := m.build()
		if err != nil {
			return withMethod(err, method, "")
		}
		p["MENU"] = json.RawMessage(js)
	}
	return nil
}

// Send sends a message from a bot (imbot.message.add) and returns the new
// message id.
//
// Bitrix24 method: [imbot.message.add].
//
// [imbot.message.add]: https://apidocs.bitrix24.com/api-reference/chat-bots/outdated/messages/imbot-message-add.html
func (s *MessageService) Send(ctx context.Context, m Message) (int, error) {
	const method = "imbot.message.add"
	if err := checkOptID(method, "BOT_ID", m.BotID); err != nil {
		return 0, err
	}
	p := botParams(m.BotID)
	switch {
	case m.FromUserID != 0 || m.ToUserID != 0:
		if err := checkID(method, "FROM_USER_ID", m.FromUserID); err != nil {
			return 0, err
		}
		if err := checkID(method, "TO_USER_ID", m.ToUserID); err != nil {
			return 0, err
		}
		p["FROM_USER_ID"], p["TO_USER_ID"] = m.FromUserID, m.ToUserID
	default:
		if err := m.DialogID.Validate(); err != nil {
			return 0, invalid(method, "DIALOG_ID", "%v", err)
		}
		p["DIALOG_ID"] = string(m.DialogID)
	}
	if strings.TrimSpace(m.Text) == "" {
		return 0, invalid(method, "MESSAGE", "message text is empty")
	}
	p["MESSAGE"] = m.Text
	if err := addRich(method, p, m.Attach, m.Keyboard, m.Menu); err != nil {
		return 0, err
	}
	if m.System {
		p["SYSTEM"] = "Y"
	}
	if m.URLPreview != nil {
		p["URL_PREVIEW"] = yn(*m.URLPreview)
	}
	if m.SkipConnector {
		p["SKIP_CONNECTOR"] = "Y"
	}
	return s.c.callID(ctx, method, p)
}

// MessageUpdate is the request of [MessageService.Update]
// (imbot.message.update). Nil fields are left unchanged.
type MessageUpdate struct {
	BotID     int // BOT_ID (0: the application's first bot)
	MessageID int // MESSAGE_ID, required
	// Text replaces the text. The portal deletes a message whose new text
	// is empty, so an empty Text is refused: use [MessageService.Delete].
	Text     *string
	Attach   *Attach   // new attachment
	Keyboard *Keyboard // new keyboard
	Menu     Menu      // new menu
	// ClearAttach, ClearKeyboard and ClearMenu remove them (sent as "N").
	ClearAttach, ClearKeyboard, ClearMenu bool
	URLPreview                            *bool
	SkipConnector                         bool
}

// Update edits a bot message (imbot.message.update). The portal refuses
// edits of messages older than 3 days (CANT_EDIT_MESSAGE).
//
// Bitrix24 method: [imbot.message.update].
//
// [imbot.message.update]: https://apidocs.bitrix24.com/api-reference/chat-bots/outdated/messages/imbot-message-update.html
func (s *MessageService) Update(ctx context.Context, u MessageUpdate) error {
	const method = "imbot.message.update"
	if err := checkOptID(method, "BOT_ID", u.BotID); err != nil {
		return err
	}
	if err := checkID(method, "MESSAGE_ID", u.MessageID); err != nil {
		return err
	}
	p := botParams(u.BotID)
	p["MESSAGE_ID"] = u.MessageID
	n := 0
	if u.Text != nil {
		if strings.TrimSpace(*u.Text) == "" {
			return invalid(method, "MESSAGE", "empty text would delete the message; use Messages.Delete")
		}
		p["MESSAGE"] = *u.Text
		n++
	}
	for _, c := range []struct {
		clear bool
		set   bool
		key   string
	}{{u.ClearAttach, u.Attach != nil, "ATTACH"}, {u.ClearKeyboard, u.Keyboard != nil, "KEYBOARD"}, {u.ClearMenu, u.Menu != nil, "MENU"}} {
		if c.clear && c.set {
			return invalid(method, c.key, "both set and cleared")
		}
		if c.clear {
			p[c.key] = "N"
			n++
		}
		if c.set {
			n++
		}
	}
	if err := addRich(method, p, u.Attach, u.Keyboard, u.Menu); err != nil {
		return err
	}
	if u.URLPreview != nil {
		p["URL_PREVIEW"] = yn(*u.URLPreview)
		n++
	}
	if u.SkipConnector {
		p["SKIP_CONNECTOR"] = "Y"
	}
	if n == 0 {
		return invalid(method, "MESSAGE", "nothing to update")
	}
	return s.c.callTrue(ctx, method, p)
}

// Delete deletes a bot message (imbot.message.delete). With complete the
// message disappears without a "message deleted" placeholder
// (COMPLETE=Y).
//
// Bitrix24 method: [imbot.message.delete].
//
// [imbot.message.delete]: https://apidocs.bitrix24.com/api-reference/chat-bots/outdated/messages/imbot-message-delete.html
func (s *MessageService) Delete(ctx context.Context, botID, messageID int, complete bool) error {
	const method = "imbot.message.delete"
	if err := checkOptID(method, "BOT_ID", botID); err != nil {
		return err
	}
	if err := checkID(method, "MESSAGE_ID", messageID); err != nil {
		return err
	}
	p := botParams(botID)
	p["MESSAGE_ID"] = messageID
	p["COMPLETE"] = yn(complete)
	return s.c.callTrue(ctx, method, p)
}

// LikeAction is the ACTION of imbot.message.like.
type LikeAction string

// Like actions.
const (
	LikeToggle LikeAction = "auto"  // like, or remove the like
	LikePlus   LikeAction = "plus"  // like
	LikeMinus  LikeAction = "minus" // remove the like
)

// Like sets or removes the bot's "like" on a message (imbot.message.like).
// action "" is LikeToggle. The portal answers WITHOUT_CHANGES when the
// state is already what was asked.
//
// Bitrix24 method: [imbot.message.like].
//
// [imbot.message.like]: https://apidocs.bitrix24.com/api-reference/chat-bots/outdated/messages/imbot-message-like.html
func (s *MessageService) Like(ctx context.Context, botID, messageID int, action LikeAction) error {
	const method = "imbot.message.like"
	if err := checkOptID(method, "BOT_ID", botID); err != nil {
		return err
	}
	if err := checkID(method, "MESSAGE_ID", messageID); err != nil {
		return err
	}
	switch action {
	case "":
		action = LikeToggle
	case LikeToggle, LikePlus, LikeMinus:
	default:
		return invalid(method, "ACTION", "want auto, plus or minus, got %q", action)
	}
	p := botParams(botID)
	p["MESSAGE_ID"] = messageID
	p["ACTION"] = string(action)
	return s.c.callTrue(ctx, method, p)
}

// SendTyping shows "bot is typing" in the dialog (imbot.chat.sendTyping).
//
// Bitrix24 method: [imbot.chat.sendTyping].
//
// [imbot.chat.sendTyping]: https://apidocs.bitrix24.com/api-reference/chat-bots/outdated/chats/imbot-chat-send-typing.html
func (s *MessageService) SendTyping(ctx context.Context, botID int, dialog DialogID) error {
	const method = "imbot.chat.sendTyping"
	if err := checkOptID(method, "BOT_ID", botID); err != nil {
		return err
	}
	if err := dialog.Validate(); err != nil {
		return invalid(method, "DIALOG_ID", "%v", err)
	}
	p := botParams(botID)
	p["DIALOG_ID"] = string(dialog)
	return s.c.callTrue(ctx, method, p)
}
