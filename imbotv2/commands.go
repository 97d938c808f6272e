package imbotv2

import (
	"context"
	"strings"

	"github.com/b24go/sdk/bitrix"
)

// CommandService groups the imbot.v2.Command.* methods ([docs]).
//
// [docs]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/commands/index.html
type CommandService struct{ c *Client }

// Command is a registered slash command, as [CommandService.List] returns it.
type Command struct {
	ID              int         `json:"id"`
	BotID           int         `json:"botId"`
	Command         string      `json:"command"` // with the slash: "/help"
	Title           string      `json:"title,omitempty"`
	Params          string      `json:"params,omitempty"`
	Common          bitrix.Bool `json:"common"`
	Hidden          bitrix.Bool `json:"hidden"`
	ExtranetSupport bitrix.Bool `json:"extranetSupport"`
	Category        string      `json:"category,omitempty"`
	Context         string      `json:"context,omitempty"`
}

// CommandSpec is the request of [CommandService.Register].
type CommandSpec struct {
	// Command is the name without the slash ("help"); required.
	Command string
	// Title and Params map two-letter language codes to texts; Title is
	// required unless Hidden.
	Title, Params map[string]string
	// Common makes the command available in every chat, not only where
	// the bot is.
	Common, Hidden, ExtranetSupport bool
}

// Register calls imbot.v2.Command.register with the fields object
// ([change log] entry BOT-BC-0330-1: the flat legacy format ends
// 30.09.2026).
//
// Bitrix24 method: [imbot.v2.Command.register].
//
// [imbot.v2.Command.register]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/commands/command-register.html
// [change log]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/change-log.html
func (s *CommandService) Register(ctx context.Context, botID int, c CommandSpec) (*Command, error) {
	const m = "imbot.v2.Command.register"
	if err := checkBot(m, botID); err != nil {
		return nil, err
	}
	name := strings.TrimPrefix(strings.TrimSpace(c.Command), "/")
	if name == "" || strings.ContainsAny(name, " \t\r\n/") {
		return nil, invalid(m, "fields.command", "want a command name without slash or spaces, got %.30q", c.Command)
	}
	if !c.Hidden && len(c.Title) == 0 {
		return nil, invalid(m, "fields.title", "required for a visible command")
	}
	if err := checkLangs(m, "fields.title", c.Title); err != nil {
		return nil, err
	}
	if err := checkLangs(m, "fields.params", c.Params); err != nil {
		return nil, err
	}
	f := params{"command": name}
	if len(c.Title) > 0 {
		f["title"] = c.Title
	}
	if len(c.Params) > 0 {
		f["params"] = c.Params
	}
	f["common"], f["hidden"], f["extranetSupport"] = c.Common, c.Hidden, c.ExtranetSupport
	var out struct {
		Command Command `json:"command"`
	}
	if err := s.c.call(ctx, m, botID, params{"fields": f}, &out); err != nil {
		return nil, err
	}
	return &out.Command, nil
}

func checkLangs(m, field string, l map[string]string) error {
	for k := range l {
		if len(k) != 2 || strings.ToLower(k) != k {
			return invalid(m, field, "language code %.10q is not two lower-case letters", k)
		}
	}
	return nil
}

// CommandUpdate is the request of [CommandService.Update]; nil fields stay
// unchanged.
type CommandUpdate struct {
	Command *string
	// Title and Params change the listed languages; a nil text removes
	// that language (sent as {"en": null}).
	Title, Params                   map[string]*string
	Common, Hidden, ExtranetSupport *bool
}

// Update calls imbot.v2.Command.update.
//
// Bitrix24 method: [imbot.v2.Command.update].
//
// [imbot.v2.Command.update]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/commands/command-update.html
func (s *CommandService) Update(ctx context.Context, botID, commandID int, u CommandUpdate) (*Command, error) {
	const m = "imbot.v2.Command.update"
	if err := checkBot(m, botID); err != nil {
		return nil, err
	}
	if err := checkID(m, "commandId", commandID); err != nil {
		return nil, err
	}
	f := params{}
	if u.Command != nil {
		name := strings.TrimPrefix(strings.TrimSpace(*u.Command), "/")
		if name == "" || strings.ContainsAny(name, " \t\r\n/") {
			return nil, invalid(m, "fields.command", "want a command name without slash or spaces")
		}
		f["command"] = name
	}
	for k, v := range map[string]map[string]*string{"title": u.Title, "params": u.Params} {
		if v == nil {
			continue
		}
		plain := map[string]string{}
		for l := range v {
			plain[l] = ""
		}
		if err := checkLangs(m, "fields."+k, plain); err != nil {
			return nil, err
		}
		f[k] = v
	}
	setBool(f, "common", u.Common)
	setBool(f, "hidden", u.Hidden)
	setBool(f, "extranetSupport", u.ExtranetSupport)
	if len(f) == 0 {
		return nil, invalid(m, "fields", "nothing to update")
	}
	var out struct {
		Command Command `json:"command"`
	}
	if err := s.c.call(ctx, m, botID, params{"commandId": commandID, "fields": f}, &out); err != nil {
		return nil, err
	}
	return &out.Command, nil
}

// List calls imbot.v2.Command.list: the bot's commands.
//
// Bitrix24 method: [imbot.v2.Command.list].
//
// [imbot.v2.Command.list]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/commands/command-list.html
func (s *CommandService) List(ctx context.Context, botID int) ([]Command, error) {
	const m = "imbot.v2.Command.list"
	if err := checkBot(m, botID); err != nil {
		return nil, err
	}
	var out struct {
		Commands []Command `json:"commands"`
	}
	if err := s.c.call(ctx, m, botID, nil, &out); err != nil {
		return nil, err
	}
	return out.Commands, nil
}

// Unregister calls imbot.v2.Command.unregister.
//
// Bitrix24 method: [imbot.v2.Command.unregister].
//
// [imbot.v2.Command.unregister]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/commands/command-unregister.html
func (s *CommandService) Unregister(ctx context.Context, botID, commandID int) error {
	const m = "imbot.v2.Command.unregister"
	if err := checkBot(m, botID); err != nil {
		return err
	}
	if err := checkID(m, "commandId", commandID); err != nil {
		return err
	}
	return s.c.callTrue(ctx, m, botID, params{"commandId": commandID})
}

// Answer calls imbot.v2.Command.answer: the
// reply to an ONIMBOTV2COMMANDADD, with its command.id, message.id and
// chat.dialogId.
//
// Bitrix24 method: [imbot.v2.Command.answer].
//
// [imbot.v2.Command.answer]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/commands/command-answer.html
func (s *CommandService) Answer(ctx context.Context, botID, commandID, messageID int, dialog DialogID, f MessageFields) error {
	const m = "imbot.v2.Command.answer"
	if err := checkBotDialog(m, botID, dialog); err != nil {
		return err
	}
	if err := checkID(m, "commandId", commandID); err != nil {
		return err
	}
	if err := checkID(m, "messageId", messageID); err != nil {
		return err
	}
	fields, err := f.build(m, botID, useAnswer)
	if err != nil {
		return err
	}
	return s.c.callTrue(ctx, m, botID, params{"commandId": commandID, "messageId": messageID, "dialogId": dialog, "fields": fields})
}
