package imbotv2

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/b24go/sdk/bitrix"
)

// MaxTextLen is the longest message text in characters; the portal cuts
// longer texts and appends " (...)" (the [message] entity; the message
// field of imbot.v2.Chat.Message.send), so the SDK refuses them.
//
// [message]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/entities.html#message
const MaxTextLen = 20000

// MaxForwards is the most messages one send may forward (the forwardIds
// field of imbot.v2.Chat.Message.send).
const MaxForwards = 100

// MessageService groups the imbot.v2.Chat.Message.* methods ([docs]).
//
// [docs]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/messages/index.html
type MessageService struct{ c *Client }

// MessageFields is the content of [MessageService.Send] and of
// [CommandService.Answer].
type MessageFields struct {
	// Text is fields.message. BB codes are allowed:
	// https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/messages/message-formatting.html
	Text string
	// Attach and Keyboard are the v1 builders: the same JSON, sent as
	// fields.attach and fields.keyboard.
	Attach   *Attach
	Keyboard *Keyboard
	// System sends a system message.
	System bool
	// URLPreview turns link previews off when false (nil: the portal's
	// default, on).
	URLPreview *bool
	// ReplyID is the message this one answers (Send only).
	ReplyID int
	// TemplateID is the UUID of a message template (Send only).
	TemplateID string
	// ForwardIDs forwards messages: {uuid: messageId}; the answer's
	// UUIDMap maps each uuid to the new message (Send only).
	ForwardIDs map[string]int
}

// Uses of MessageFields.
const (
	useSend   = iota // Chat.Message.send: every field
	useAnswer        // Command.answer: no replyId, templateId, forwardIds
	useUpdate        // Chat.Message.update: also no system; a keyboard or urlPreview alone is a change
)

func (f *MessageFields) build(m string, botID int, use int) (params, error) {
	send := use == useSend
	p := params{}
	if f.Text != "" {
		if n := utf8.RuneCountInString(f.Text); n > MaxTextLen {
			return nil, invalid(m, "fields.message", "%d characters, over the limit of %d (the portal would cut it)", n, MaxTextLen)
		}
		p["message"] = f.Text
	}
	if err := addRich(m, p, botID, f.Attach, f.Keyboard); err != nil {
		return nil, err
	}
	if f.System {
		p["system"] = true
	}
	if f.URLPreview != nil {
		p["urlPreview"] = *f.URLPreview
	}
	if !send && (f.ReplyID != 0 || f.TemplateID != "" || len(f.ForwardIDs) > 0) {
		return nil, invalid(m, "fields", "replyId, templateId and forwardIds belong to Chat.Message.send")
	}
	if f.ReplyID < 0 {
		return nil, invalid(m, "fields.replyId", "must be a positive id")
	}
	if f.ReplyID > 0 {
		p["replyId"] = f.ReplyID
	}
	if f.TemplateID != "" {
		p["templateId"] = f.TemplateID
	}
	if len(f.ForwardIDs) > MaxForwards {
		return nil, invalid(m, "fields.forwardIds", "%d messages, over the limit of %d", len(f.ForwardIDs), MaxForwards)
	}
	for k, id := range f.ForwardIDs {
		if strings.TrimSpace(k) == "" || id <= 0 {
			return nil, invalid(m, "fields.forwardIds", "want non-empty uuids and positive message ids")
		}
	}
	if len(f.ForwardIDs) > 0 {
		p["forwardIds"] = f.ForwardIDs
	}
	if use == useUpdate {
		if f.System {
			return nil, invalid(m, "fields.system", "not a field of Chat.Message.update")
		}
		if len(p) == 0 {
			return nil, invalid(m, "fields", "nothing to update")
		}
	} else if strings.TrimSpace(f.Text) == "" && f.Attach == nil && len(f.ForwardIDs) == 0 {
		return nil, invalid(m, "fields.message", "empty message: set a text, an attachment or messages to forward")
	}
	return p, nil
}

// addRich validates and adds the v1 attach and keyboard builders' JSON.
// The keyboard carries BOT_ID, as in the full form of
// messages/message-keyboards.md.
func addRich(m string, p params, botID int, a *Attach, k *Keyboard) error {
	for _, r := range []struct {
		key string
		v   interface{ Validate() error }
		nil bool
	}{{"attach", a, a == nil}, {"keyboard", k, k == nil}} {
		if r.nil {
			continue
		}
		js, err := json.Marshal(r.v)
		if err != nil {
			return rebrand(err, m, "fields."+r.key)
		}
		if r.key == "keyboard" && botID > 0 {
			var kb map[string]any
			if err := json.Unmarshal(js, &kb); err != nil {
				return err
			}
			kb["BOT_ID"] = botID
			if js, err = json.Marshal(kb); err != nil {
				return err
			}
		}
		p[r.key] = json.RawMessage(js)
	}
	return nil
}

// rebrand moves a v1 builder's ValidationError to the v2 method and field.
func rebrand(err error, m, field string) error {
	var ve *bitrix.ValidationError
	if errors.As(err, &ve) {
		cp := *ve
		cp.Method = m
		cp.Field = field + " (" + ve.Field + ")"
		return &cp
	}
	return err
}

// SendResult is the answer of Chat.Message.send.
type SendResult struct {
	// ID is the new message's id.
	ID int `json:"id"`
	// UUIDMap maps each forwarded uuid to its new message id.
	UUIDMap bitrix.FlexMap[int] `json:"uuidMap"`
}

// Send calls imbot.v2.Chat.Message.send.
//
// Bitrix24 method: [imbot.v2.Chat.Message.send].
//
// [imbot.v2.Chat.Message.send]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/messages/chat-message-send.html
func (s *MessageService) Send(ctx context.Context, botID int, dialog DialogID, f MessageFields) (*SendResult, error) {
	const m = "imbot.v2.Chat.Message.send"
	if err := checkBotDialog(m, botID, dialog); err != nil {
		return nil, err
	}
	fields, err := f.build(m, botID, useSend)
	if err != nil {
		return nil, err
	}
	var out SendResult
	if err := s.c.call(ctx, m, botID, params{"dialogId": dialog, "fields": fields}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Update calls imbot.v2.Chat.Message.update:
// text, attach, keyboard and urlPreview of one of the bot's messages.
//
// Bitrix24 method: [imbot.v2.Chat.Message.update].
//
// [imbot.v2.Chat.Message.update]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/messages/chat-message-update.html
func (s *MessageService) Update(ctx context.Context, botID, messageID int, f MessageFields) error {
	const m = "imbot.v2.Chat.Message.update"
	if err := checkBot(m, botID); err != nil {
		return err
	}
	if err := checkID(m, "messageId", messageID); err != nil {
		return err
	}
	fields, err := f.build(m, botID, useUpdate)
	if err != nil {
		return err
	}
	return s.c.callTrue(ctx, m, botID, params{"messageId": messageID, "fields": fields})
}

// Delete calls imbot.v2.Chat.Message.delete; complete removes it from the
// database instead of the default soft delete.
//
// Bitrix24 method: [imbot.v2.Chat.Message.delete].
//
// [imbot.v2.Chat.Message.delete]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/messages/chat-message-delete.html
func (s *MessageService) Delete(ctx context.Context, botID, messageID int, complete bool) error {
	const m = "imbot.v2.Chat.Message.delete"
	if err := checkBot(m, botID); err != nil {
		return err
	}
	if err := checkID(m, "messageId", messageID); err != nil {
		return err
	}
	p := params{"messageId": messageID}
	if complete {
		p["complete"] = true
	}
	return s.c.callTrue(ctx, m, botID, p)
}

// MessageResult is the answer of Chat.Message.get.
type MessageResult struct {
	Message Message `json:"message"`
	User    User    `json:"user"`
}

// Get calls imbot.v2.Chat.Message.get (supervisor and personal bots only).
//
// Bitrix24 method: [imbot.v2.Chat.Message.get].
//
// [imbot.v2.Chat.Message.get]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/messages/chat-message-get.html
func (s *MessageService) Get(ctx context.Context, botID, messageID int) (*MessageResult, error) {
	const m = "imbot.v2.Chat.Message.get"
	if err := checkBot(m, botID); err != nil {
		return nil, err
	}
	if err := checkID(m, "messageId", messageID); err != nil {
		return nil, err
	}
	var out MessageResult
	if err := s.c.call(ctx, m, botID, params{"messageId": messageID}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// MessageContext is the answer of Chat.Message.getContext.
type MessageContext struct {
	Messages    []Message   `json:"messages"`
	Users       []User      `json:"users"`
	HasPrevPage bitrix.Bool `json:"hasPrevPage"`
	HasNextPage bitrix.Bool `json:"hasNextPage"`
}

// Context calls imbot.v2.Chat.Message.getContext: the messages around
// messageID, span on each side 1–50 (0: the portal's default, 50).
// Supervisor and personal bots only.
//
// Bitrix24 method: [imbot.v2.Chat.Message.getContext].
//
// [imbot.v2.Chat.Message.getContext]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/messages/chat-message-get-context.html
func (s *MessageService) Context(ctx context.Context, botID, messageID, span int) (*MessageContext, error) {
	const m = "imbot.v2.Chat.Message.getContext"
	if err := checkBot(m, botID); err != nil {
		return nil, err
	}
	if err := checkID(m, "messageId", messageID); err != nil {
		return nil, err
	}
	p := params{"messageId": messageID}
	if span < 0 || span > 50 {
		return nil, invalid(m, "range", "must be 1–50, got %d", span)
	}
	if span > 0 {
		p["range"] = span
	}
	var out MessageContext
	if err := s.c.call(ctx, m, botID, p, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ReadResult is the answer of Chat.Message.read.
type ReadResult struct {
	ChatID         int   `json:"chatId"`
	LastID         int   `json:"lastId"`
	Counter        int   `json:"counter"`
	ViewedMessages []int `json:"viewedMessages"`
}

// Read calls imbot.v2.Chat.Message.read: mark the dialog read up to
// messageID (0: everything).
//
// Bitrix24 method: [imbot.v2.Chat.Message.read].
//
// [imbot.v2.Chat.Message.read]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/messages/chat-message-read.html
func (s *MessageService) Read(ctx context.Context, botID int, dialog DialogID, messageID int) (*ReadResult, error) {
	const m = "imbot.v2.Chat.Message.read"
	if err := checkBotDialog(m, botID, dialog); err != nil {
		return nil, err
	}
	p := params{"dialogId": dialog}
	if messageID < 0 {
		return nil, invalid(m, "messageId", "must be a positive id or 0")
	}
	if messageID > 0 {
		p["messageId"] = messageID
	}
	var out ReadResult
	if err := s.c.call(ctx, m, botID, p, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AddReaction calls imbot.v2.Chat.Message.Reaction.add with a reaction
// code such as "like" (see the list of [reactions]; it may change without
// notice, so the SDK does not check it).
//
// Bitrix24 method: [imbot.v2.Chat.Message.Reaction.add].
//
// [imbot.v2.Chat.Message.Reaction.add]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/messages/chat-message-reaction-add.html
// [reactions]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/messages/chat-message-reaction-add.html#reactions
func (s *MessageService) AddReaction(ctx context.Context, botID, messageID int, reaction string) error {
	return s.reaction(ctx, "imbot.v2.Chat.Message.Reaction.add", botID, messageID, reaction)
}

// DeleteReaction calls imbot.v2.Chat.Message.Reaction.delete.
//
// Bitrix24 method: [imbot.v2.Chat.Message.Reaction.delete].
//
// [imbot.v2.Chat.Message.Reaction.delete]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/messages/chat-message-reaction-delete.html
func (s *MessageService) DeleteReaction(ctx context.Context, botID, messageID int, reaction string) error {
	return s.reaction(ctx, "imbot.v2.Chat.Message.Reaction.delete", botID, messageID, reaction)
}

func (s *MessageService) reaction(ctx context.Context, m string, botID, messageID int, reaction string) error {
	if err := checkBot(m, botID); err != nil {
		return err
	}
	if err := checkID(m, "messageId", messageID); err != nil {
		return err
	}
	if strings.TrimSpace(reaction) == "" {
		return invalid(m, "reaction", "empty reaction code")
	}
	return s.c.callTrue(ctx, m, botID, params{"messageId": messageID, "reaction": reaction})
}
