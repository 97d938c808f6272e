package imbotv2

import (
	"context"
	"slices"
	"strings"

	"github.com/b24go/sdk/bitrix"
)

// BotService groups the imbot.v2.Bot.* methods ([docs]).
//
// [docs]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/bots/index.html
type BotService struct{ c *Client }

// Event delivery modes: the eventMode field of [imbot.v2.Bot.register].
//
// [imbot.v2.Bot.register]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/bots/bot-register.html
const (
	// ModeFetch: the bot pulls its events with imbot.v2.Event.get (the
	// portal's default); no public URL needed. See [Poller].
	ModeFetch = "fetch"
	// ModeWebhook: the portal POSTs each event to WebhookURL.
	ModeWebhook = "webhook"
)

// [Bot types]: the type field of imbot.v2.Bot.register, which refuses
// other values with BOT_INVALID_TYPE.
//
// [Bot types]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/index.html#bot-types
const (
	TypeBot        = "bot"        // answers mentions and private chats
	TypeSupervisor = "supervisor" // sees every message of its chats
	TypePersonal   = "personal"   // like supervisor, hidden from search
	TypeOpenline   = "openline"   // Open Channels bot
	TypeNetwork    = "network"
)

// Backgrounds lists the [documented chat backgrounds].
//
// [documented chat backgrounds]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/bots/bot-register.html#backgrounds
var Backgrounds = []string{"azure", "mint", "steel", "slate", "teal", "cornflower", "sky", "peach", "frost"}

// Properties is the bot's [profile].
//
// [profile]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/bots/bot-register.html#properties
type Properties struct {
	Name         string `json:"name"` // required at registration
	LastName     string `json:"lastName,omitempty"`
	WorkPosition string `json:"workPosition,omitempty"`
	Color        string `json:"color,omitempty"`
	Gender       string `json:"gender,omitempty"` // "M" or "F"
	// Avatar is the image as Base64 without a data: prefix.
	Avatar string `json:"avatar,omitempty"`
}

// Registration is the request of [BotService.Register].
type Registration struct {
	// Code is unique within the application (required).
	Code       string
	Properties Properties
	// Type is one of the Type constants ("" = the portal's default, bot).
	Type string
	// EventMode is ModeFetch or ModeWebhook ("" = the portal's default, fetch).
	EventMode string
	// WebhookURL receives the events in webhook mode (required there).
	WebhookURL         string
	IsHidden           *bool
	IsReactionsEnabled *bool
	IsSupportOpenline  *bool
	// BackgroundID is one of [Backgrounds] ("" = the user's own).
	BackgroundID string
}

// BotResult is the answer of Bot.register, get and update: the bot and its
// related users.
type BotResult struct {
	Bot   Bot    `json:"bot"`
	Users []User `json:"users"`
}

// Register calls imbot.v2.Bot.register. With an inbound webhook the
// client's botToken goes in fields.botToken (as the method page shows) and
// becomes the bot's credential.
//
// Bitrix24 method: [imbot.v2.Bot.register].
//
// [imbot.v2.Bot.register]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/bots/bot-register.html
func (s *BotService) Register(ctx context.Context, r Registration) (*BotResult, error) {
	const m = "imbot.v2.Bot.register"
	if strings.TrimSpace(r.Code) == "" {
		return nil, invalid(m, "fields.code", "required (BOT_CODE_REQUIRED)")
	}
	if strings.TrimSpace(r.Properties.Name) == "" {
		return nil, invalid(m, "fields.properties.name", "required (BOT_PROPERTIES_REQUIRED)")
	}
	f := params{"code": r.Code, "properties": r.Properties}
	if err := botFields(m, f, r.Type, r.EventMode, r.WebhookURL, r.BackgroundID, r.Properties.Gender); err != nil {
		return nil, err
	}
	setBool(f, "isHidden", r.IsHidden)
	setBool(f, "isReactionsEnabled", r.IsReactionsEnabled)
	setBool(f, "isSupportOpenline", r.IsSupportOpenline)
	if s.c.token != "" {
		// fields.botToken as bots/bot-register.md shows; quick-start.md puts
		// it at the top level instead (docs/CONFORMANCE.md, Chatbots 2.0).
		f["botToken"] = s.c.token.Reveal()
	}
	var out BotResult
	if err := s.c.send(ctx, m, 0, params{"fields": f}, &out); err != nil { // token in fields only
		return nil, err
	}
	return &out, nil
}

func botFields(m string, f params, typ, mode, hook, bg, gender string) error {
	if typ != "" {
		if !slices.Contains([]string{TypeBot, TypeSupervisor, TypePersonal, TypeOpenline, TypeNetwork}, typ) {
			return invalid(m, "fields.type", "unknown bot type %.30q (BOT_INVALID_TYPE)", typ)
		}
		f["type"] = typ
	}
	switch mode {
	case "":
		if hook != "" {
			return invalid(m, "fields.webhookUrl", "set without eventMode webhook")
		}
	case ModeFetch:
		if hook != "" {
			return invalid(m, "fields.webhookUrl", "set with eventMode fetch")
		}
		f["eventMode"] = mode
	case ModeWebhook:
		if err := checkURL(m, "fields.webhookUrl", hook); err != nil {
			return err
		}
		f["eventMode"] = mode
		f["webhookUrl"] = hook
	default:
		return invalid(m, "fields.eventMode", "want fetch or webhook, got %.30q (BOT_INVALID_EVENT_MODE)", mode)
	}
	if bg != "" {
		if !slices.Contains(Backgrounds, bg) {
			return invalid(m, "fields.backgroundId", "unknown background %.30q", bg)
		}
		f["backgroundId"] = bg
	}
	if gender != "" && gender != "M" && gender != "F" {
		return invalid(m, "fields.properties.gender", "want M or F")
	}
	return nil
}

func checkURL(m, field, u string) error {
	l := strings.ToLower(u)
	if u == "" {
		return invalid(m, field, "required with eventMode webhook (BOT_WEBHOOK_URL_REQUIRED)")
	}
	if !strings.HasPrefix(l, "https://") && !strings.HasPrefix(l, "http://") || strings.ContainsAny(u, " \t\r\n") {
		return invalid(m, field, "must be an absolute http(s) URL")
	}
	return nil
}

func setBool(f params, k string, v *bool) {
	if v != nil {
		f[k] = *v
	}
}

// BotUpdate is the request of [BotService.Update]; nil and "" fields are
// left unchanged.
type BotUpdate struct {
	Properties         *Properties
	IsHidden           *bool
	IsReactionsEnabled *bool
	IsSupportOpenline  *bool
	BackgroundID       string
	// EventMode and WebhookURL switch the delivery mode; the portal moves
	// the bot's subscriptions itself (change log entry BOT-FIX-0501-1).
	EventMode  string
	WebhookURL string
	// NewBotToken rotates the botToken (change log entry BOT-NEW-0501-2): the
	// call authenticates with the client's current token, the old token
	// stops working at once; build a new Client with the new one.
	NewBotToken bitrix.Secret
}

// Update calls imbot.v2.Bot.update.
//
// Bitrix24 method: [imbot.v2.Bot.update].
//
// [imbot.v2.Bot.update]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/bots/bot-update.html
func (s *BotService) Update(ctx context.Context, botID int, u BotUpdate) (*BotResult, error) {
	const m = "imbot.v2.Bot.update"
	if err := checkBot(m, botID); err != nil {
		return nil, err
	}
	f := params{}
	gender := ""
	if u.Properties != nil {
		f["properties"] = u.Properties
		gender = u.Properties.Gender
	}
	if err := botFields(m, f, "", u.EventMode, u.WebhookURL, u.BackgroundID, gender); err != nil {
		return nil, err
	}
	setBool(f, "isHidden", u.IsHidden)
	setBool(f, "isReactionsEnabled", u.IsReactionsEnabled)
	setBool(f, "isSupportOpenline", u.IsSupportOpenline)
	if u.NewBotToken != "" {
		if err := CheckBotToken(u.NewBotToken); err != nil {
			return nil, invalid(m, "fields.botToken", "%s", err.(*bitrix.ValidationError).Reason)
		}
		f["botToken"] = u.NewBotToken.Reveal()
	}
	if len(f) == 0 {
		return nil, invalid(m, "fields", "nothing to update")
	}
	var out BotResult
	if err := s.c.call(ctx, m, botID, params{"fields": f}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Get calls imbot.v2.Bot.get by id.
//
// Bitrix24 method: [imbot.v2.Bot.get].
//
// [imbot.v2.Bot.get]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/bots/bot-get.html
func (s *BotService) Get(ctx context.Context, botID int) (*BotResult, error) {
	const m = "imbot.v2.Bot.get"
	if err := checkBot(m, botID); err != nil {
		return nil, err
	}
	var out BotResult
	if err := s.c.call(ctx, m, botID, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetByCode calls imbot.v2.Bot.get by the bot's code.
//
// Bitrix24 method: [imbot.v2.Bot.get].
//
// [imbot.v2.Bot.get]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/bots/bot-get.html
func (s *BotService) GetByCode(ctx context.Context, code string) (*BotResult, error) {
	const m = "imbot.v2.Bot.get"
	if strings.TrimSpace(code) == "" {
		return nil, invalid(m, "code", "empty code")
	}
	var out BotResult
	if err := s.c.call(ctx, m, 0, params{"code": code}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// BotListOptions filters and pages [BotService.List].
type BotListOptions struct {
	Type   string // filter.type ("" = all)
	Limit  int    // 0 = the portal's default, 50
	Offset int
}

// BotList is one page of imbot.v2.Bot.list.
type BotList struct {
	Bots        []Bot       `json:"bots"`
	Users       []User      `json:"users"`
	HasNextPage bitrix.Bool `json:"hasNextPage"`
}

// List calls imbot.v2.Bot.list: the application's bots.
//
// Bitrix24 method: [imbot.v2.Bot.list].
//
// [imbot.v2.Bot.list]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/bots/bot-list.html
func (s *BotService) List(ctx context.Context, o BotListOptions) (*BotList, error) {
	const m = "imbot.v2.Bot.list"
	p := params{}
	if o.Type != "" {
		p["filter"] = params{"type": o.Type}
	}
	if o.Limit < 0 || o.Offset < 0 {
		return nil, invalid(m, "limit", "limit and offset must not be negative")
	}
	if o.Limit > 0 {
		p["limit"] = o.Limit
	}
	if o.Offset > 0 {
		p["offset"] = o.Offset
	}
	var out BotList
	if err := s.c.call(ctx, m, 0, p, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Unregister calls imbot.v2.Bot.unregister; the portal drops the bot's
// event subscriptions itself (change log entry BOT-FIX-0501-1).
//
// Bitrix24 method: [imbot.v2.Bot.unregister].
//
// [imbot.v2.Bot.unregister]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/bots/bot-unregister.html
func (s *BotService) Unregister(ctx context.Context, botID int) error {
	const m = "imbot.v2.Bot.unregister"
	if err := checkBot(m, botID); err != nil {
		return err
	}
	return s.c.callTrue(ctx, m, botID, nil)
}
