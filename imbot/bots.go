package imbot

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/internal/wire"
)

// BotService groups imbot.register, imbot.unregister, imbot.update and
// imbot.bot.list.
type BotService struct{ c *Client }

// BotType is the TYPE of a bot.
type BotType string

// Bot types.
const (
	// TypeBot is a chat bot: in group chats it sees only messages addressed
	// to it (the portal's default).
	TypeBot BotType = "B"
	// TypeOpenline is an Open Channels bot (forces OPENLINE=Y).
	TypeOpenline BotType = "O"
	// TypeHuman is a bot that shows "typing" before its answers.
	TypeHuman BotType = "H"
	// TypeSupervisor reads every message of the chats it is in.
	TypeSupervisor BotType = "S"
)

// Color is a colour of a bot's avatar or of a chat (PROPERTIES[COLOR], COLOR).
type Color string

// The colours the portal accepts.
const (
	ColorRed       Color = "RED"
	ColorGreen     Color = "GREEN"
	ColorMint      Color = "MINT"
	ColorLightBlue Color = "LIGHT_BLUE"
	ColorDarkBlue  Color = "DARK_BLUE"
	ColorPurple    Color = "PURPLE"
	ColorAqua      Color = "AQUA"
	ColorPink      Color = "PINK"
	ColorLime      Color = "LIME"
	ColorBrown     Color = "BROWN"
	ColorAzure     Color = "AZURE"
	ColorKhaki     Color = "KHAKI"
	ColorSand      Color = "SAND"
	ColorMarengo   Color = "MARENGO"
	ColorGray      Color = "GRAY"
	ColorGraphite  Color = "GRAPHITE"
)

// Colors lists every [Color] the portal accepts.
var Colors = []Color{ColorRed, ColorGreen, ColorMint, ColorLightBlue, ColorDarkBlue, ColorPurple, ColorAqua,
	ColorPink, ColorLime, ColorBrown, ColorAzure, ColorKhaki, ColorSand, ColorMarengo, ColorGray, ColorGraphite}

func (c Color) valid() bool {
	for _, x := range Colors {
		if c == x {
			return true
		}
	}
	return false
}

// Gender is PERSONAL_GENDER.
type Gender string

// Genders.
const (
	GenderMale   Gender = "M"
	GenderFemale Gender = "F"
)

// Properties are a bot's PROPERTIES. Register needs Name or LastName; in
// an update, nil fields are left unchanged.
type Properties struct {
	Name             *string // NAME
	LastName         *string // LAST_NAME
	Color            Color   // COLOR ("" = not sent)
	Email            *string // EMAIL
	PersonalBirthday *string // PERSONAL_BIRTHDAY, "YYYY-MM-DD"
	WorkPosition     *string // WORK_POSITION
	PersonalWWW      *string // PERSONAL_WWW
	PersonalGender   Gender  // PERSONAL_GENDER ("" = not sent)
	PersonalPhoto    *string // PERSONAL_PHOTO, base64 image (up to 5000x5000)
}

func (p *Properties) empty() bool {
	return p.Name == nil && p.LastName == nil && p.Color == "" && p.Email == nil && p.PersonalBirthday == nil &&
		p.WorkPosition == nil && p.PersonalWWW == nil && p.PersonalGender == "" && p.PersonalPhoto == nil
}

func (p *Properties) params(method string, register bool) (bitrix.Params, error) {
	if register && strings.TrimSpace(deref(p.Name)) == "" && strings.TrimSpace(deref(p.LastName)) == "" {
		return nil, invalid(method, "PROPERTIES.NAME", "a bot needs NAME or LAST_NAME")
	}
	if p.Color != "" && !p.Color.valid() {
		return nil, invalid(method, "PROPERTIES.COLOR", "unknown colour %q (use the imbot.Color constants)", p.Color)
	}
	switch p.PersonalGender {
	case "", GenderMale, GenderFemale:
	default:
		return nil, invalid(method, "PROPERTIES.PERSONAL_GENDER", "want M or F, got %q", p.PersonalGender)
	}
	if p.PersonalBirthday != nil && *p.PersonalBirthday != "" {
		if _, err := time.Parse("2006-01-02", *p.PersonalBirthday); err != nil {
			return nil, invalid(method, "PROPERTIES.PERSONAL_BIRTHDAY", "want YYYY-MM-DD, got %q", *p.PersonalBirthday)
		}
	}
	if p.Email != nil && *p.Email != "" && !strings.Contains(*p.Email, "@") {
		return nil, invalid(method, "PROPERTIES.EMAIL", "%q is not an e-mail address", *p.Email)
	}
	out := bitrix.Params{}
	setp := func(k string, v *string) {
		if v != nil {
			out[k] = *v
		}
	}
	setp("NAME", p.Name)
	setp("LAST_NAME", p.LastName)
	if p.Color != "" {
		out["COLOR"] = string(p.Color)
	}
	setp("EMAIL", p.Email)
	setp("PERSONAL_BIRTHDAY", p.PersonalBirthday)
	setp("WORK_POSITION", p.WorkPosition)
	setp("PERSONAL_WWW", p.PersonalWWW)
	if p.PersonalGender != "" {
		out["PERSONAL_GENDER"] = string(p.PersonalGender)
	}
	setp("PERSONAL_PHOTO", p.PersonalPhoto)
	return out, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Handlers are the URLs the portal posts a bot's events to. Either set All
// (EVENT_HANDLER, copied into every event) or at least MessageAdd,
// WelcomeMessage and BotDelete. MessageUpdate and MessageDelete are kept by
// the portal only for supervisor and Open Channels bots.
type Handlers struct {
	All            string // EVENT_HANDLER
	MessageAdd     string // EVENT_MESSAGE_ADD (ONIMBOTMESSAGEADD)
	MessageUpdate  string // EVENT_MESSAGE_UPDATE (ONIMBOTMESSAGEUPDATE)
	MessageDelete  string // EVENT_MESSAGE_DELETE (ONIMBOTMESSAGEDELETE)
	WelcomeMessage string // EVENT_WELCOME_MESSAGE (ONIMBOTJOINCHAT)
	BotDelete      string // EVENT_BOT_DELETE (ONIMBOTDELETE)
}

func (h *Handlers) pairs() []struct{ key, url string } {
	return []struct{ key, url string }{
		{"EVENT_HANDLER", h.All}, {"EVENT_MESSAGE_ADD", h.MessageAdd}, {"EVENT_MESSAGE_UPDATE", h.MessageUpdate},
		{"EVENT_MESSAGE_DELETE", h.MessageDelete}, {"EVENT_WELCOME_MESSAGE", h.WelcomeMessage}, {"EVENT_BOT_DELETE", h.BotDelete},
	}
}

func (h *Handlers) empty() bool {
	for _, p := range h.pairs() {
		if p.url != "" {
			return false
		}
	}
	return true
}

func (h *Handlers) apply(method string, p bitrix.Params, register bool) error {
	if register && h.All == "" {
		for _, req := range []struct{ key, url string }{
			{"EVENT_MESSAGE_ADD", h.MessageAdd}, {"EVENT_WELCOME_MESSAGE", h.WelcomeMessage}, {"EVENT_BOT_DELETE", h.BotDelete},
		} {
			if req.url == "" {
				return invalid(method, req.key, "required unless EVENT_HANDLER (Handlers.All) is set")
			}
		}
	}
	for _, pr := range h.pairs() {
		if pr.url == "" {
			continue
		}
		if err := checkURL(method, pr.key, pr.url); err != nil {
			return err
		}
		p[pr.key] = pr.url
	}
	return nil
}

// BotRegistration is the request of [BotService.Register].
type BotRegistration struct {
	Code       string     // CODE, required, unique on the portal
	Type       BotType    // TYPE ("" = TypeBot)
	Openline   bool       // OPENLINE=Y: the bot serves Open Channels
	Handlers   Handlers   // event handler URLs
	Properties Properties // PROPERTIES; NAME or LAST_NAME required
}

// Register registers a bot (imbot.register) and returns its id.
//
// A portal allows 5 bots per application (MAX_COUNT_ERROR beyond), and all
// bots of one application share one set of handler URLs.
//
// Bitrix24 method: [imbot.register].
//
// [imbot.register]: https://apidocs.bitrix24.com/api-reference/chat-bots/outdated/bots/imbot-register.html
func (s *BotService) Register(ctx context.Context, r BotRegistration) (int, error) {
	const method = "imbot.register"
	if strings.TrimSpace(r.Code) == "" {
		return 0, invalid(method, "CODE", "required")
	}
	p := bitrix.Params{"CODE": r.Code}
	switch r.Type {
	case "":
	case TypeBot, TypeOpenline, TypeHuman, TypeSupervisor:
		p["TYPE"] = string(r.Type)
	default:
		return 0, invalid(method, "TYPE", "want B, O, H or S (imbot.Type* constants), got %q", r.Type)
	}
	if r.Openline {
		p["OPENLINE"] = "Y"
	}
	if err := r.Handlers.apply(method, p, true); err != nil {
		return 0, err
	}
	props, err := r.Properties.params(method, true)
	if err != nil {
		return 0, err
	}
	p["PROPERTIES"] = props
	return s.c.callID(ctx, method, p)
}

// Unregister removes the bot (imbot.unregister).
//
// Bitrix24 method: [imbot.unregister].
//
// [imbot.unregister]: https://apidocs.bitrix24.com/api-reference/chat-bots/outdated/bots/imbot-unregister.html
func (s *BotService) Unregister(ctx context.Context, botID int) error {
	const method = "imbot.unregister"
	if err := checkID(method, "BOT_ID", botID); err != nil {
		return err
	}
	return s.c.callTrue(ctx, method, bitrix.Params{"BOT_ID": botID})
}

// BotUpdate is the request of [BotService.Update]; nil and empty fields are
// left unchanged. TYPE and OPENLINE cannot be changed.
type BotUpdate struct {
	Code       *string     // CODE
	Handlers   *Handlers   // event handler URLs (only the non-empty ones are sent)
	Properties *Properties // PROPERTIES (only the non-nil ones are sent)
}

// Update changes a bot (imbot.update). An update without fields is refused
// before sending, as the portal would refuse it.
//
// Bitrix24 method: [imbot.update].
//
// [imbot.update]: https://apidocs.bitrix24.com/api-reference/chat-bots/outdated/bots/imbot-update.html
func (s *BotService) Update(ctx context.Context, botID int, u BotUpdate) error {
	const method = "imbot.update"
	if err := checkID(method, "BOT_ID", botID); err != nil {
		return err
	}
	fields := bitrix.Params{}
	if u.Code != nil {
		if strings.TrimSpace(*u.Code) == "" {
			return invalid(method, "FIELDS.CODE", "empty code")
		}
		fields["CODE"] = *u.Code
	}
	if u.Handlers != nil && !u.Handlers.empty() {
		if err := u.Handlers.apply(method, fields, false); err != nil {
			return withMethod(err, method, "FIELDS")
		}
	}
	if u.Properties != nil && !u.Properties.empty() {
		props, err := u.Properties.params(method, false)
		if err != nil {
			return err
		}
		fields["PROPERTIES"] = props
	}
	if len(fields) == 0 {
		return invalid(method, "FIELDS", "nothing to update")
	}
	return s.c.callTrue(ctx, method, bitrix.Params{"BOT_ID": botID, "FIELDS": fields})
}

// Bot is one entry of imbot.bot.list.
type Bot struct {
	ID       int
	Name     string
	Code     string
	Openline bool
	// Extra keeps the fields the SDK does not model.
	Extra map[string]json.RawMessage
}

type wireBot struct {
	ID       bitrix.Int  `json:"ID"`
	Name     string      `json:"NAME"`
	Code     string      `json:"CODE"`
	Openline bitrix.Bool `json:"OPENLINE"`
}

// UnmarshalJSON decodes a bot entry, keeping unknown fields in Extra.
func (b *Bot) UnmarshalJSON(data []byte) error {
	var w wireBot
	extra, err := wire.DecodeExtra(data, &w)
	if err != nil {
		return fmt.Errorf("imbot: decoding bot: %w", err)
	}
	*b = Bot{ID: int(w.ID), Name: w.Name, Code: w.Code, Openline: bool(w.Openline), Extra: extra}
	return nil
}

// List returns the bots of the calling application (imbot.bot.list), in id
// order. The portal answers a map keyed by bot id (or [] when there are none).
//
// Bitrix24 method: [imbot.bot.list].
//
// [imbot.bot.list]: https://apidocs.bitrix24.com/api-reference/chat-bots/outdated/bots/imbot-bot-list.html
func (s *BotService) List(ctx context.Context) ([]Bot, error) {
	var raw json.RawMessage
	if err := s.c.call(ctx, "imbot.bot.list", bitrix.Params{}, &raw); err != nil {
		return nil, err
	}
	return decodeBotList(raw)
}

func decodeBotList(raw json.RawMessage) ([]Bot, error) {
	out, err := wire.IDKeyed(raw, func(id int, b *Bot) {
		if b.ID == 0 {
			b.ID = id
		}
	})
	if err != nil {
		return nil, fmt.Errorf("imbot: imbot.bot.list: %w", err)
	}
	slices.SortFunc(out, func(a, b Bot) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}
