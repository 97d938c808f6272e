package events

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/b24go/sdk/bitrix"
)

// Event names with a typed Data. Names are upper-case, as delivered.
const (
	OnAppInstall   = "ONAPPINSTALL"   // Data: *AppInstall
	OnAppUpdate    = "ONAPPUPDATE"    // Data: *AppInstall
	OnAppUninstall = "ONAPPUNINSTALL" // Data: *AppUninstall
	OnAppTest      = "ONAPPTEST"      // Data: *AppTest

	OnBotMessageAdd    = "ONIMBOTMESSAGEADD"    // Data: *BotMessage
	OnBotMessageUpdate = "ONIMBOTMESSAGEUPDATE" // Data: *BotMessage
	OnBotMessageDelete = "ONIMBOTMESSAGEDELETE" // Data: *BotMessage
	OnBotJoinChat      = "ONIMBOTJOINCHAT"      // Data: *BotMessage
	OnBotDelete        = "ONIMBOTDELETE"        // Data: *BotDelete
	OnCommandAdd       = "ONIMCOMMANDADD"       // Data: *CommandAdd

	OnCRMLeadAdd           = "ONCRMLEADADD"           // Data: *CRMEntity
	OnCRMLeadUpdate        = "ONCRMLEADUPDATE"        // Data: *CRMEntity
	OnCRMLeadDelete        = "ONCRMLEADDELETE"        // Data: *CRMEntity
	OnCRMDealAdd           = "ONCRMDEALADD"           // Data: *CRMEntity
	OnCRMDealUpdate        = "ONCRMDEALUPDATE"        // Data: *CRMEntity
	OnCRMDealDelete        = "ONCRMDEALDELETE"        // Data: *CRMEntity
	OnCRMContactAdd        = "ONCRMCONTACTADD"        // Data: *CRMEntity
	OnCRMContactUpdate     = "ONCRMCONTACTUPDATE"     // Data: *CRMEntity
	OnCRMContactDelete     = "ONCRMCONTACTDELETE"     // Data: *CRMEntity
	OnCRMCompanyAdd        = "ONCRMCOMPANYADD"        // Data: *CRMEntity
	OnCRMCompanyUpdate     = "ONCRMCOMPANYUPDATE"     // Data: *CRMEntity
	OnCRMCompanyDelete     = "ONCRMCOMPANYDELETE"     // Data: *CRMEntity
	OnCRMDynamicItemAdd    = "ONCRMDYNAMICITEMADD"    // Data: *CRMEntity
	OnCRMDynamicItemUpdate = "ONCRMDYNAMICITEMUPDATE" // Data: *CRMEntity
	OnCRMDynamicItemDelete = "ONCRMDYNAMICITEMDELETE" // Data: *CRMEntity

	OnTaskAdd    = "ONTASKADD"    // Data: *Task
	OnTaskUpdate = "ONTASKUPDATE" // Data: *Task
	OnTaskDelete = "ONTASKDELETE" // Data: *Task

	OnOfflineEvent = "ONOFFLINEEVENT" // Data: *OfflineNotice
)

// crmTypeIDs maps the CRM entity part of an event name to its entity type id.
var crmTypeIDs = map[string]int{"LEAD": 1, "DEAL": 2, "CONTACT": 3, "COMPANY": 4}

var types = map[string]func() any{
	OnAppInstall:       func() any { return new(AppInstall) },
	OnAppUpdate:        func() any { return new(AppInstall) },
	OnAppUninstall:     func() any { return new(AppUninstall) },
	OnAppTest:          func() any { return new(AppTest) },
	OnBotMessageAdd:    func() any { return new(BotMessage) },
	OnBotMessageUpdate: func() any { return new(BotMessage) },
	OnBotMessageDelete: func() any { return new(BotMessage) },
	OnBotJoinChat:      func() any { return new(BotMessage) },
	OnBotDelete:        func() any { return new(BotDelete) },
	OnCommandAdd:       func() any { return new(CommandAdd) },
	OnTaskAdd:          func() any { return new(Task) },
	OnTaskUpdate:       func() any { return new(Task) },
	OnTaskDelete:       func() any { return new(Task) },
	OnOfflineEvent:     func() any { return new(OfflineNotice) },
}

func init() {
	for _, e := range []string{"LEAD", "DEAL", "CONTACT", "COMPANY", "DYNAMICITEM"} {
		for _, a := range []string{"ADD", "UPDATE", "DELETE"} {
			types["ONCRM"+e+a] = func() any { return new(CRMEntity) }
		}
	}
}

// NewData returns a new zero value of the Data type for the event name
// (case-insensitive), or nil when the name has no typed Data. The per-type
// dynamic-item names ("ONCRMDYNAMICITEMADD_31") have a *CRMEntity.
func NewData(name string) any {
	name = strings.ToUpper(name)
	if f, ok := types[name]; ok {
		return f()
	}
	if _, t, ok := DynamicItemEventOf(name); ok && t != 0 {
		return new(CRMEntity)
	}
	return nil
}

// Names returns the event names with a typed Data, sorted. The per-type
// dynamic-item names are not listed (there is one per smart process).
func Names() []string { return slices.Sorted(maps.Keys(types)) }

// dynamicItemStem is the name of the dynamic-item events without the action.
const dynamicItemStem = "ONCRMDYNAMICITEM"

// maxEntityTypeID bounds the entity type id of a per-type event name.
// api-reference/crm/universal/user-defined-object-types/crm-type-add.md
// allows smart processes 128-192 and even ids from 1030, with no upper
// bound; we stop at the largest 32-bit integer.
const maxEntityTypeID = 1<<31 - 1

// DynamicItemEventOf splits the name of a dynamic-item event into its
// action (ADD, UPDATE or DELETE) and the entity type id of its per-type
// suffix: "ONCRMDYNAMICITEMUPDATE" → ("UPDATE", 0, true),
// "ONCRMDYNAMICITEMADD_31" → ("ADD", 31, true). The match is strict and
// case-insensitive: the suffix is "_" and a decimal id from 1 without
// leading zeros, nothing else follows. Source: [smart process events]
// ("Event for a Single Smart Process") and [event list]
// (ONCRMDYNAMICITEMADD_147).
//
// [smart process events]: https://apidocs.bitrix24.com/api-reference/crm/universal/events/index.html
// [event list]: https://apidocs.bitrix24.com/api-reference/events/events.html
func DynamicItemEventOf(name string) (action string, entityTypeID int, ok bool) {
	rest, found := cutPrefixFold(name, dynamicItemStem)
	if !found {
		return "", 0, false
	}
	for _, a := range []string{"ADD", "UPDATE", "DELETE"} {
		tail, found := cutPrefixFold(rest, a)
		if !found {
			continue
		}
		if tail == "" {
			return a, 0, true
		}
		digits, found := strings.CutPrefix(tail, "_")
		if !found || digits == "" || len(digits) > 10 || digits[0] == '0' {
			return "", 0, false
		}
		n := 0
		for i := range len(digits) {
			c := digits[i]
			if c < '0' || c > '9' {
				return "", 0, false
			}
			n = n*10 + int(c-'0')
		}
		if n > maxEntityTypeID {
			return "", 0, false
		}
		return a, n, true
	}
	return "", 0, false
}

// cutPrefixFold is strings.CutPrefix ignoring ASCII case only (prefix is
// upper-case ASCII).
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) {
		return s, false
	}
	for i := range len(prefix) {
		c := s[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != prefix[i] {
			return s, false
		}
	}
	return s[len(prefix):], true
}

// DynamicItemEvent returns the event name of a dynamic-item event for one
// entity type: DynamicItemEvent(OnCRMDynamicItemAdd, 31) is
// "ONCRMDYNAMICITEMADD_31". An entityTypeID of 0 returns the generic name.
// It returns "" when event is not one of the three dynamic-item events or
// the id is out of range.
func DynamicItemEvent(event string, entityTypeID int) string {
	action, t, ok := DynamicItemEventOf(event)
	if !ok || t != 0 || entityTypeID < 0 || entityTypeID > maxEntityTypeID {
		return ""
	}
	if entityTypeID == 0 {
		return dynamicItemStem + action
	}
	return dynamicItemStem + action + "_" + strconv.Itoa(entityTypeID)
}

// settle completes typed data from the event name: the data of a per-type
// dynamic-item event gets its entity type id from the name's suffix when
// the payload lacks it. A payload naming another type than the name is
// refused: a per-type handler must not act on another type's items.
func settle(name string, v any) error {
	d, ok := v.(*CRMEntity)
	if !ok {
		return nil
	}
	_, t, ok := DynamicItemEventOf(name)
	if !ok || t == 0 {
		return nil
	}
	switch int(d.Fields.EntityTypeID) {
	case 0:
		d.Fields.EntityTypeID = bitrix.Int(t)
	case t:
	default:
		return fmt.Errorf("%w: data of %s: data[FIELDS][ENTITY_TYPE_ID] names another entity type than the event", ErrMalformed, name)
	}
	return nil
}

// decodeTreeData decodes an event's data tree (nil: no data) into the
// type registered for name, or *Unknown with the tree's JSON.
func decodeTreeData(name string, tree any, raw *rawData) (any, error) {
	v := NewData(name)
	if v == nil {
		return &Unknown{Raw: raw.get()}, nil
	}
	if tree != nil {
		if err := decodeTree(tree, v); err != nil {
			return nil, fmt.Errorf("%w: data of %s: %v", ErrMalformed, name, redactJSONError(err))
		}
	}
	if err := settle(name, v); err != nil {
		return nil, err
	}
	return v, nil
}

// decodeData decodes an event's data JSON (nil: no data) into the type
// registered for name, or *Unknown.
func decodeData(name string, raw json.RawMessage) (any, error) {
	v := NewData(name)
	if v == nil {
		return &Unknown{Raw: raw}, nil
	}
	if raw != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			return nil, fmt.Errorf("%w: data of %s: %v", ErrMalformed, name, redactJSONError(err))
		}
	}
	if err := settle(strings.ToUpper(name), v); err != nil {
		return nil, err
	}
	return v, nil
}

// redactJSONError keeps the location of a decoding error but not values
// that a custom decoder may have quoted.
func redactJSONError(err error) string {
	switch e := err.(type) {
	case *json.UnmarshalTypeError:
		return fmt.Sprintf("field %s: cannot decode a JSON %s into %s", e.Field, e.Value, e.Type)
	case *json.SyntaxError:
		return "invalid JSON"
	}
	return "unexpected shape"
}

// Unknown is the Data of an event without a registered type. Raw is the
// data tree as JSON (see [Event.RawData]). It prints only its size, since
// the tree may hold tokens.
type Unknown struct {
	Raw json.RawMessage
}

// Decode decodes Raw into out.
func (u *Unknown) Decode(out any) error {
	if u.Raw == nil {
		return nil
	}
	return json.Unmarshal(u.Raw, out)
}

// Format implements fmt.Formatter without printing the tree.
func (u *Unknown) Format(f fmt.State, _ rune) {
	if u == nil {
		_, _ = io.WriteString(f, "events.Unknown(nil)")
		return
	}
	fmt.Fprintf(f, "events.Unknown(%d bytes)", len(u.Raw))
}

// LogValue implements slog.LogValuer without printing the tree.
func (u *Unknown) LogValue() slog.Value { return slog.IntValue(len(u.Raw)) }

// AppInstall is the data of ONAPPINSTALL and ONAPPUPDATE.
type AppInstall struct {
	Version         string      `json:"VERSION"`
	PreviousVersion string      `json:"PREVIOUS_VERSION,omitempty"` // ONAPPUPDATE
	Active          bitrix.Bool `json:"ACTIVE"`
	Installed       bitrix.Bool `json:"INSTALLED"`
	LanguageID      string      `json:"LANGUAGE_ID"`
}

// AppUninstall is the data of ONAPPUNINSTALL.
type AppUninstall struct {
	LanguageID string `json:"LANGUAGE_ID"`
	// Clean is set when the admin asked to delete the app's data.
	Clean bitrix.Bool `json:"CLEAN"`
}

// AppTest is the data of ONAPPTEST, fired by the event.test method.
type AppTest struct {
	// Query is the params of the event.test call, as JSON.
	Query      json.RawMessage `json:"QUERY,omitempty"`
	LanguageID string          `json:"LANGUAGE_ID"`
}

// OfflineNotice is the (empty) data of ONOFFLINEEVENT: new records wait in
// the offline queue (see [Consumer]).
type OfflineNotice struct{}

// CRMEntity is the data of the ONCRM{LEAD,DEAL,CONTACT,COMPANY,
// DYNAMICITEM}{ADD,UPDATE,DELETE} events and of the per-type dynamic-item
// events (ONCRMDYNAMICITEMADD_31, ...): the id of the changed item (and,
// for dynamic items, its entity type id). Fetch the item itself with the
// REST API.
type CRMEntity struct {
	Fields CRMFields `json:"FIELDS"`
}

// CRMFields is data[FIELDS] of a CRM event.
type CRMFields struct {
	ID bitrix.Int `json:"ID"`
	// EntityTypeID is set for dynamic items only (smart processes, and
	// smart invoices with 31). For a per-type event name the decoder fills
	// it from the name's suffix when the payload lacks it.
	EntityTypeID bitrix.Int `json:"ENTITY_TYPE_ID,omitempty"`
}

// EntityID returns the id of the CRM item.
func (c *CRMEntity) EntityID() int { return int(c.Fields.ID) }

// Task is the data of ONTASKADD, ONTASKUPDATE and ONTASKDELETE. The portal
// sends the literal string "undefined" for a side that does not exist (the
// "before" of an add, the "after" of a delete).
type Task struct {
	FieldsBefore       TaskFields `json:"FIELDS_BEFORE"`
	FieldsAfter        TaskFields `json:"FIELDS_AFTER"`
	IsAccessibleBefore TriState   `json:"IS_ACCESSIBLE_BEFORE"`
	IsAccessibleAfter  TriState   `json:"IS_ACCESSIBLE_AFTER"`
}

// TaskID returns the id of the task (from the "after" side, else "before").
func (t *Task) TaskID() int {
	if t.FieldsAfter.ID != 0 {
		return int(t.FieldsAfter.ID)
	}
	return int(t.FieldsBefore.ID)
}

// TaskFields is one side of a task event. Undefined is set when the
// portal sent "undefined" instead of fields.
type TaskFields struct {
	ID        bitrix.Int `json:"ID"`
	Undefined bool       `json:"-"`
}

// UnmarshalJSON accepts an object with ID, the string "undefined", or "".
func (t *TaskFields) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*t = TaskFields{Undefined: s == "undefined" || s == ""}
		if !t.Undefined {
			return fmt.Errorf("events: task fields: unexpected string")
		}
		return nil
	}
	type plain TaskFields
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*t = TaskFields(p)
	return nil
}

func (t *TaskFields) unmarshalTree(d *treeDecoder, n node) error {
	switch {
	case n.isLeaf: // as UnmarshalJSON reads a JSON string
		*t = TaskFields{Undefined: true}
		if s := jsonString(n.s); s != "undefined" && s != "" {
			*t = TaskFields{}
			return fmt.Errorf("events: task fields: unexpected string")
		}
		return nil
	case n.m != nil:
		type plain TaskFields
		var p plain
		if err := d.decode(n, &p); err != nil {
			return err
		}
		*t = TaskFields(p)
		return nil
	}
	b, err := d.jsonOf(n)
	if err != nil {
		return err
	}
	return t.UnmarshalJSON(b)
}

// TriState is a Y/N flag that may also be "undefined".
type TriState int8

// TriState values.
const (
	Undefined TriState = iota // "undefined" or absent
	Yes                       // "Y"
	No                        // "N"
)

// String returns "Y", "N" or "undefined".
func (s TriState) String() string {
	switch s {
	case Yes:
		return "Y"
	case No:
		return "N"
	}
	return "undefined"
}

// UnmarshalJSON accepts Y/N (any bitrix.Bool spelling) and "undefined".
func (s *TriState) UnmarshalJSON(b []byte) error {
	var str string
	if json.Unmarshal(b, &str) == nil && (str == "undefined" || str == "") {
		*s = Undefined
		return nil
	}
	var v bitrix.Bool
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v {
		*s = Yes
	} else {
		*s = No
	}
	return nil
}

// MarshalJSON writes "Y", "N" or "undefined".
func (s TriState) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// BotDelete is the data of ONIMBOTDELETE.
type BotDelete struct {
	BotID   bitrix.Int `json:"BOT_ID"`
	BotCode string     `json:"BOT_CODE"`
}

// Bot is one entry of data[BOT] in chat-bot events: a bot of the receiving
// app with its own OAuth auth (use it to answer as the bot; the event's
// top-level auth belongs to the message author). Webhook-registered bots
// get no tokens here.
type Bot struct {
	BotID   bitrix.Int
	BotCode string
	Auth    Auth
}

type wireBot struct {
	wireAuth
	BotID   bitrix.Int `json:"BOT_ID"`
	BotCode string     `json:"BOT_CODE"`
}

func (w wireBot) bot() (Bot, error) {
	a, err := w.auth()
	return Bot{BotID: w.BotID, BotCode: w.BotCode, Auth: a}, err
}

// UnmarshalJSON reads the flat wire entry (auth keys next to BOT_ID).
func (b *Bot) UnmarshalJSON(data []byte) error {
	var w wireBot
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	return b.set(&w)
}

func (b *Bot) unmarshalTree(d *treeDecoder, n node) error {
	var w wireBot
	if err := d.decode(n, &w); err != nil {
		return err
	}
	return b.set(&w)
}

func (b *Bot) set(w *wireBot) error {
	bot, err := w.bot()
	if err != nil {
		return err
	}
	*b = bot
	return nil
}

// Command is one entry of data[COMMAND] in ONIMCOMMANDADD: the command
// typed, with the bot's own auth.
type Command struct {
	Bot
	CommandID bitrix.Int
	// Command is the command without the slash ("echo").
	Command string
	// Params is the text after the command ("test").
	Params string
	// Context is "TEXTAREA" (typed) or "KEYBOARD" (a keyboard button).
	Context string
	// MessageID is the message that carried the command; answer it with
	// imbot.command.answer.
	MessageID bitrix.Int
}

type wireCommand struct {
	wireBot
	CommandID bitrix.Int `json:"COMMAND_ID"`
	Command   string     `json:"COMMAND"`
	Params    string     `json:"COMMAND_PARAMS"`
	Context   string     `json:"COMMAND_CONTEXT"`
	MessageID bitrix.Int `json:"MESSAGE_ID"`
}

// UnmarshalJSON reads the flat wire entry.
func (c *Command) UnmarshalJSON(data []byte) error {
	var w wireCommand
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	return c.set(&w)
}

func (c *Command) unmarshalTree(d *treeDecoder, n node) error {
	var w wireCommand
	if err := d.decode(n, &w); err != nil {
		return err
	}
	return c.set(&w)
}

func (c *Command) set(w *wireCommand) error {
	a, err := w.auth()
	if err != nil {
		return err
	}
	*c = Command{
		Bot:       Bot{BotID: w.BotID, BotCode: w.BotCode, Auth: a},
		CommandID: w.CommandID, Command: w.Command, Params: w.Params,
		Context: w.Context, MessageID: w.MessageID,
	}
	return nil
}

// MessageParams is data[PARAMS] of chat-bot events (message add, update,
// delete, join chat, command). Fields a given event does not send are zero.
type MessageParams struct {
	// ID is the message id (update and delete events).
	ID        bitrix.Int `json:"ID"`
	MessageID bitrix.Int `json:"MESSAGE_ID"`
	Message   string     `json:"MESSAGE"`
	// MessageOriginal is the text with mentions as BB-codes (group chats).
	MessageOriginal string `json:"MESSAGE_ORIGINAL"`
	TemplateID      string `json:"TEMPLATE_ID"`
	// MessageType is P (private), C (group chat), O (open), L (open line), S
	// (system) and more.
	MessageType string `json:"MESSAGE_TYPE"`
	ChatType    string `json:"CHAT_TYPE"`
	// DialogID is where to answer: the author's user id in a private
	// dialog, "chat<id>" in a chat.
	DialogID   string      `json:"DIALOG_ID"`
	FromUserID bitrix.Int  `json:"FROM_USER_ID"`
	ToUserID   bitrix.Int  `json:"TO_USER_ID"`
	ToChatID   bitrix.Int  `json:"TO_CHAT_ID"`
	AuthorID   bitrix.Int  `json:"AUTHOR_ID"`
	BotID      bitrix.Int  `json:"BOT_ID"`  // join chat
	UserID     bitrix.Int  `json:"USER_ID"` // join chat
	System     bitrix.Bool `json:"SYSTEM"`

	ChatID          bitrix.Int `json:"CHAT_ID"`
	ChatTitle       string     `json:"CHAT_TITLE"`
	ChatAuthorID    bitrix.Int `json:"CHAT_AUTHOR_ID"`
	ChatColor       string     `json:"CHAT_COLOR"`
	ChatEntityType  string     `json:"CHAT_ENTITY_TYPE"`
	ChatEntityID    string     `json:"CHAT_ENTITY_ID"`
	ChatEntityData1 string     `json:"CHAT_ENTITY_DATA_1"`
	ChatEntityData2 string     `json:"CHAT_ENTITY_DATA_2"`
	ChatEntityData3 string     `json:"CHAT_ENTITY_DATA_3"`
	ChatUserCount   bitrix.Int `json:"CHAT_USER_COUNT"`

	CommandContext  string `json:"COMMAND_CONTEXT"`
	PlatformContext string `json:"PLATFORM_CONTEXT"`
	Language        string `json:"LANGUAGE"`
}

// User is data[USER] of chat-bot events: the message author (or the user
// who added the bot). It is empty for messages without a user author.
type User struct {
	ID           bitrix.Int  `json:"ID"`
	Name         string      `json:"NAME"`
	FirstName    string      `json:"FIRST_NAME"`
	LastName     string      `json:"LAST_NAME"`
	WorkPosition string      `json:"WORK_POSITION"`
	Gender       string      `json:"GENDER"`
	IsBot        bitrix.Bool `json:"IS_BOT"`
	IsConnector  bitrix.Bool `json:"IS_CONNECTOR"`
	IsNetwork    bitrix.Bool `json:"IS_NETWORK"`
	IsExtranet   bitrix.Bool `json:"IS_EXTRANET"`
}

// BotMessage is the data of ONIMBOTMESSAGEADD, ONIMBOTMESSAGEUPDATE,
// ONIMBOTMESSAGEDELETE and ONIMBOTJOINCHAT.
type BotMessage struct {
	// Bot holds the receiving app's bots in the dialog, keyed by bot id.
	Bot    map[int]Bot   `json:"BOT"`
	Params MessageParams `json:"PARAMS"`
	User   User          `json:"USER"`
}

type wireBotMessage struct {
	Bot    map[int]wireBot `json:"BOT"`
	Params MessageParams   `json:"PARAMS"`
	User   User            `json:"USER"`
}

// UnmarshalJSON decodes the wire shape in one pass (the bot entries'
// auth keys sit next to BOT_ID).
func (m *BotMessage) UnmarshalJSON(b []byte) error {
	var w wireBotMessage
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	return m.set(&w)
}

// wireBotMessages recycles the wire structs of unmarshalTree, with their
// BOT maps.
var wireBotMessages = sync.Pool{New: func() any { return &wireBotMessage{Bot: map[int]wireBot{}} }}

func (m *BotMessage) unmarshalTree(d *treeDecoder, n node) error {
	w := wireBotMessages.Get().(*wireBotMessage)
	defer func() {
		clear(w.Bot)
		*w = wireBotMessage{Bot: w.Bot}
		wireBotMessages.Put(w)
	}()
	if err := d.decode(n, w); err != nil {
		return err
	}
	if len(w.Bot) == 0 {
		// The map is recycled, so it is never nil here: a data[BOT] in a
		// form is never empty (it has a key, or fails to decode), so an
		// empty map means there was none.
		return m.set(&wireBotMessage{Params: w.Params, User: w.User})
	}
	return m.set(w)
}

func (m *BotMessage) set(w *wireBotMessage) error {
	*m = BotMessage{Params: w.Params, User: w.User}
	if w.Bot != nil {
		m.Bot = make(map[int]Bot, len(w.Bot))
		for id, wb := range w.Bot {
			bot, err := wb.bot()
			if err != nil {
				return err
			}
			m.Bot[id] = bot
		}
	}
	return nil
}

// ReplyTarget is where and as whom to answer an event: pass DialogID and
// BotID to imbot.message.add (with the app's client, or a client built
// from Auth, the bot's own token).
type ReplyTarget struct {
	DialogID string
	BotID    int
	BotCode  string
	// Auth is the bot's own auth block (no tokens for webhook bots).
	Auth Auth
}

// ReplyTarget returns the dialog and bot to answer with. The bot is the
// one the message was addressed to (TO_USER_ID, or BOT_ID for join
// events) when it is among data[BOT], else the lowest bot id. It reports
// false when the event names no dialog or no bot.
func (m *BotMessage) ReplyTarget() (ReplyTarget, bool) {
	if m == nil || m.Params.DialogID == "" {
		return ReplyTarget{}, false
	}
	b, ok := pickBot(m.Bot, int(m.Params.ToUserID), int(m.Params.BotID))
	if !ok {
		if id := int(m.Params.BotID); id != 0 { // join chat without auth blocks
			return ReplyTarget{DialogID: m.Params.DialogID, BotID: id}, true
		}
		return ReplyTarget{}, false
	}
	return ReplyTarget{DialogID: m.Params.DialogID, BotID: int(b.BotID), BotCode: b.BotCode, Auth: b.Auth}, true
}

func pickBot(bots map[int]Bot, prefer ...int) (Bot, bool) {
	for _, id := range prefer {
		if b, ok := bots[id]; ok && id != 0 {
			return fillID(b, id), true
		}
	}
	if len(bots) == 0 {
		return Bot{}, false
	}
	id := slices.Min(slices.Collect(maps.Keys(bots)))
	return fillID(bots[id], id), true
}

func fillID(b Bot, id int) Bot {
	if b.BotID == 0 {
		b.BotID = bitrix.Int(id)
	}
	return b
}

// CommandAdd is the data of ONIMCOMMANDADD.
type CommandAdd struct {
	// Command holds the commands typed, keyed by command id (one entry per
	// receiving bot).
	Command map[int]Command `json:"COMMAND"`
	Params  MessageParams   `json:"PARAMS"`
	User    User            `json:"USER"`
}

// First returns the command entry with the lowest command id.
func (c *CommandAdd) First() (Command, bool) {
	if c == nil || len(c.Command) == 0 {
		return Command{}, false
	}
	id := slices.Min(slices.Collect(maps.Keys(c.Command)))
	cmd := c.Command[id]
	if cmd.CommandID == 0 {
		cmd.CommandID = bitrix.Int(id)
	}
	return cmd, true
}

// ReplyTarget returns the dialog of the command message and the bot that
// owns the command (see [CommandAdd.First]).
func (c *CommandAdd) ReplyTarget() (ReplyTarget, bool) {
	cmd, ok := c.First()
	if !ok || c.Params.DialogID == "" {
		return ReplyTarget{}, false
	}
	return ReplyTarget{DialogID: c.Params.DialogID, BotID: int(cmd.BotID), BotCode: cmd.BotCode, Auth: cmd.Auth}, true
}

// EntityID returns the id of the CRM item of a CRM event (data[FIELDS][ID])
// or the task id of a task event; false for other events.
func (e *Event) EntityID() (int, bool) {
	switch d := e.Data.(type) {
	case *CRMEntity:
		return d.EntityID(), d.Fields.ID != 0
	case *Task:
		return d.TaskID(), d.TaskID() != 0
	}
	return 0, false
}

// EntityTypeID returns the CRM entity type id of a CRM event: 1 lead, 2
// deal, 3 contact, 4 company, or data[FIELDS][ENTITY_TYPE_ID] for dynamic
// items (smart processes, 31 for smart invoices; for a per-type name such
// as ONCRMDYNAMICITEMADD_31 the name's id when the payload lacks it);
// false for other events.
func (e *Event) EntityTypeID() (int, bool) {
	d, ok := e.Data.(*CRMEntity)
	if !ok {
		return 0, false
	}
	if d.Fields.EntityTypeID != 0 {
		return int(d.Fields.EntityTypeID), true
	}
	entity, _, ok := CRMEntityOf(e.Name)
	if id, known := crmTypeIDs[entity]; ok && known {
		return id, true
	}
	return 0, false
}

// CRMEntityOf splits a CRM event name into entity and action:
// "ONCRMDEALUPDATE" → ("DEAL", "UPDATE", true); a per-type dynamic-item
// name "ONCRMDYNAMICITEMADD_31" → ("DYNAMICITEM", "ADD", true) (see
// [DynamicItemEventOf] for its type id).
func CRMEntityOf(name string) (entity, action string, ok bool) {
	if a, _, ok := DynamicItemEventOf(name); ok {
		return "DYNAMICITEM", a, true
	}
	rest, found := strings.CutPrefix(strings.ToUpper(name), "ONCRM")
	if !found {
		return "", "", false
	}
	for _, a := range []string{"ADD", "UPDATE", "DELETE"} {
		if e, found := strings.CutSuffix(rest, a); found && e != "" {
			return e, a, true
		}
	}
	return "", "", false
}
