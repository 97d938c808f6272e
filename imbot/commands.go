package imbot

import (
	"context"
	"fmt"
	"strings"

	"github.com/b24go/sdk/bitrix"
)

// CommandService groups imbot.command.register, .unregister, .update and
// .answer.
type CommandService struct{ c *Client }

// CommandLang is the title of a command in one language.
type CommandLang struct {
	LanguageID string // LANGUAGE_ID, required ("en", "de", ...)
	Title      string // TITLE, required
	Params     string // PARAMS: a hint for the command's parameters
}

// Command is the request of [CommandService.Register].
type Command struct {
	BotID           int           // BOT_ID, required
	Command         string        // COMMAND, required: latin letters and digits, no spaces ("echo")
	EventCommandAdd string        // EVENT_COMMAND_ADD, required: URL for ONIMCOMMANDADD
	Lang            []CommandLang // LANG, at least one
	Common          bool          // COMMON=Y: available in every chat, not only where the bot is
	Hidden          bool          // HIDDEN=Y: not listed (keyboard-only commands)
	ExtranetSupport bool          // EXTRANET_SUPPORT=Y
}

func langParams(method string, langs []CommandLang) ([]any, error) {
	out := make([]any, 0, len(langs))
	for i, l := range langs {
		f := fmt.Sprintf("LANG[%d]", i)
		if strings.TrimSpace(l.LanguageID) == "" {
			return nil, invalid(method, f+".LANGUAGE_ID", "required")
		}
		if strings.TrimSpace(l.Title) == "" {
			return nil, invalid(method, f+".TITLE", "required")
		}
		m := map[string]any{"LANGUAGE_ID": l.LanguageID, "TITLE": l.Title}
		if l.Params != "" {
			m["PARAMS"] = l.Params
		}
		out = append(out, m)
	}
	return out, nil
}

// Register registers a bot command (imbot.command.register) and returns
// its id.
//
// Bitrix24 method: [imbot.command.register].
//
// [imbot.command.register]: https://apidocs.bitrix24.com/api-reference/chat-bots/outdated/commands/imbot-command-register.html
func (s *CommandService) Register(ctx context.Context, cmd Command) (int, error) {
	const method = "imbot.command.register"
	if err := checkID(method, "BOT_ID", cmd.BotID); err != nil {
		return 0, err
	}
	if err := checkCommandName("COMMAND", cmd.Command); err != nil {
		return 0, withMethod(err, method, "")
	}
	if err := checkURL(method, "EVENT_COMMAND_ADD", cmd.EventCommandAdd); err != nil {
		return 0, err
	}
	if len(cmd.Lang) == 0 {
		return 0, invalid(method, "LANG", "at least one language title is required")
	}
	langs, err := langParams(method, cmd.Lang)
	if err != nil {
		return 0, err
	}
	p := bitrix.Params{
		"BOT_ID":            cmd.BotID,
		"COMMAND":           cmd.Command,
		"EVENT_COMMAND_ADD": cmd.EventCommandAdd,
		"LANG":              langs,
		"COMMON":            yn(cmd.Common),
		"HIDDEN":            yn(cmd.Hidden),
		"EXTRANET_SUPPORT":  yn(cmd.ExtranetSupport),
	}
	return s.c.callID(ctx, method, p)
}

// Unregister removes a command (imbot.command.unregister).
//
// Bitrix24 method: [imbot.command.unregister].
//
// [imbot.command.unregister]: https://apidocs.bitrix24.com/api-reference/chat-bots/outdated/commands/imbot-command-unregister.html
func (s *CommandService) Unregister(ctx context.Context, commandID int) error {
	const method = "imbot.command.unregister"
	if err := checkID(method, "COMMAND_ID", commandID); err != nil {
		return err
	}
	return s.c.callTrue(ctx, method, bitrix.Params{"COMMAND_ID": commandID})
}

// CommandUpdate is the request of [CommandService.Update]; nil fields are
// left unchanged.
type CommandUpdate struct {
	Command         *string       // COMMAND
	EventCommandAdd *string       // EVENT_COMMAND_ADD
	Hidden          *bool         // HIDDEN
	ExtranetSupport *bool         // EXTRANET_SUPPORT
	Lang            []CommandLang // LANG (replaces the titles)
}

// Update changes a command (imbot.command.update).
//
// Bitrix24 method: [imbot.command.update].
//
// [imbot.command.update]: https://apidocs.bitrix24.com/api-reference/chat-bots/outdated/commands/imbot-command-update.html
func (s *CommandService) Update(ctx context.Context, commandID int, u CommandUpdate) error {
	const method = "imbot.command.update"
	if err := checkID(method, "COMMAND_ID", commandID); err != nil {
		return err
	}
	fields := bitrix.Params{}
	if u.Command != nil {
		if err := checkCommandName("FIELDS.COMMAND", *u.Command); err != nil {
			return withMethod(err, method, "")
		}
		fields["COMMAND"] = *u.Command
	}
	if u.EventCommandAdd != nil {
		if err := checkURL(method, "FIELDS.EVENT_COMMAND_ADD", *u.EventCommandAdd); err != nil {
			return err
		}
		fields["EVENT_COMMAND_ADD"] = *u.EventCommandAdd
	}
	if u.Hidden != nil {
		fields["HIDDEN"] = yn(*u.Hidden)
	}
	if u.ExtranetSupport != nil {
		fields["EXTRANET_SUPPORT"] = yn(*u.ExtranetSupport)
	}
	if u.Lang != nil {
		if len(u.Lang) == 0 {
			return invalid(method, "FIELDS.LANG", "empty list of titles")
		}
		langs, err := langParams(method, u.Lang)
		if err != nil {
			return withMethod(err, method, "FIELDS")
		}
		fields["LANG"] = langs
	}
	if len(fields) == 0 {
		return invalid(method, "FIELDS", "nothing to update")
	}
	return s.c.callTrue(ctx, method, bitrix.Params{"COMMAND_ID": commandID, "FIELDS": fields})
}

// CommandAnswer is the request of [CommandService.Answer]
// (imbot.command.answer). Identify the command by CommandID or by Command
// (its name); MessageID is the MESSAGE_ID of the ONIMCOMMANDADD event.
type CommandAnswer struct {
	CommandID  int    // COMMAND_ID
	Command    string // COMMAND, when CommandID is 0
	MessageID  int    // MESSAGE_ID, required
	Text       string // MESSAGE, required
	Attach     *Attach
	Keyboard   *Keyboard
	Menu       Menu
	System     bool
	URLPreview *bool
}

// Answer posts the bot's answer to a command (imbot.command.answer) and
// returns the new message id.
//
// Bitrix24 method: [imbot.command.answer].
//
// [imbot.command.answer]: https://apidocs.bitrix24.com/api-reference/chat-bots/outdated/commands/imbot-command-answer.html
func (s *CommandService) Answer(ctx context.Context, a CommandAnswer) (int, error) {
	const method = "imbot.command.answer"
	p := bitrix.Params{}
	switch {
	case a.CommandID > 0:
		p["COMMAND_ID"] = a.CommandID
	case a.CommandID < 0:
		return 0, invalid(method, "COMMAND_ID", "must be a positive id, got %d", a.CommandID)
	case a.Command != "":
		if err := checkCommandName("COMMAND", a.Command); err != nil {
			return 0, withMethod(err, method, "")
		}
		p["COMMAND"] = a.Command
	default:
		return 0, invalid(method, "COMMAND_ID", "set CommandID or Command")
	}
	if err := checkID(method, "MESSAGE_ID", a.MessageID); err != nil {
		return 0, err
	}
	p["MESSAGE_ID"] = a.MessageID
	if strings.TrimSpace(a.Text) == "" {
		return 0, invalid(method, "MESSAGE", "message text is empty")
	}
	p["MESSAGE"] = a.Text
	if err := addRich(method, p, a.Attach, a.Keyboard, a.Menu); err != nil {
		return 0, err
	}
	if a.System {
		p["SYSTEM"] = "Y"
	}
	if a.URLPreview != nil {
		p["URL_PREVIEW"] = yn(*a.URLPreview)
	}
	return s.c.callID(ctx, method, p)
}
