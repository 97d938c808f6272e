package bitrixtest

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/b24go/sdk/internal/phpform"
)

type bot struct {
	id       int
	code     string
	typ      string
	openline string
	appID    string // "app:<client_id>" or "custom<CLIENT_ID>"
	clientID string // webhook bots: the CLIENT_ID passed at registration
	handlers map[string]string
	props    map[string]string
}

type command struct {
	id       int
	botID    int
	command  string
	handler  string
	common   string
	hidden   string
	appID    string
	clientID string
}

type chat struct {
	id          int
	typ         string // P private, C chat, O open
	title       string
	description string
	color       string
	owner       int
	users       []int
	entityType  string
	entityID    string
	created     time.Time
}

type message struct {
	id       int
	chatID   int
	authorID int
	text     string
	attach   any
	keyboard any
	menu     any
	system   bool
	edited   bool
	deleted  bool
	likes    map[int]bool
}

type imStore struct {
	bots     map[int]*bot
	commands map[int]*command
	chats    map[int]*chat
	messages map[int]*message
	private  map[[2]int]int
	nextChat int
	nextMsg  int
	nextCmd  int
}

func newIMStore() *imStore {
	return &imStore{bots: map[int]*bot{}, commands: map[int]*command{}, chats: map[int]*chat{}, messages: map[int]*message{}, private: map[[2]int]int{}}
}

// appIdentity resolves which application an imbot call acts for.
func (c *Request) appIdentity() (appID, clientID string, e *APIError) {
	cid := ciString(c.params, "CLIENT_ID")
	if c.auth.kind == AuthOAuth {
		return "app:" + c.auth.clientID, "", nil
	}
	if cid == "" {
		return "", "", errf(403, "ACCESS_DENIED", "Access denied! Client ID not specified")
	}
	return "custom" + cid, cid, nil
}

func (c *Request) botFor(required bool) (*bot, *APIError) {
	appID, _, e := c.appIdentity()
	if e != nil {
		return nil, e
	}
	id := ciInt(c.params, "BOT_ID")
	if id == 0 && !required {
		var ids []int
		for bid, b := range c.s.im.bots {
			if b.appID == appID {
				ids = append(ids, bid)
			}
		}
		sort.Ints(ids)
		if len(ids) > 0 {
			id = ids[0]
		}
	}
	b := c.s.im.bots[id]
	if b == nil {
		return nil, errf(400, "BOT_ID_ERROR", "Bot not found")
	}
	if b.appID != appID {
		return nil, errf(400, "APP_ID_ERROR", "Bot was installed by another REST application")
	}
	return b, nil
}

var commandRE = regexp.MustCompile(`^[A-Za-z0-9_\-]+$`)

func withClientID(u, cid string) string {
	if cid == "" || u == "" {
		return u
	}
	if strings.Contains(u, "?") {
		return u + "&CLIENT_ID=" + cid
	}
	return u + "?CLIENT_ID=" + cid
}

func validURL(u string) bool { return checkHandlerURL(u) == nil }

// keyedObject forces a JSON object even when the keys look like a list.
type keyedObject struct{ m *phpform.Map }

func (k keyedObject) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, key := range k.m.Keys() {
		if i > 0 {
			b.WriteByte(',')
		}
		v, _ := k.m.Get(key)
		js, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		b.WriteString(strconv.Quote(key) + ":" + string(js))
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func removeInt(s []int, v int) []int {
	out := s[:0]
	for _, x := range s {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}

func (s *Server) removeBot(id int) {
	delete(s.im.bots, id)
	for cid, x := range s.im.commands {
		if x.botID == id {
			delete(s.im.commands, cid)
		}
	}
	if u := s.users[id]; u != nil {
		u.Active = false
	}
}

// dialogChat resolves a DIALOG_ID ("chat12" or a user id) as seen by
// userID; private chats are created on demand when create is set.
func (s *Server) dialogChat(dialogID string, userID int, create bool) *chat {
	if strings.HasPrefix(strings.ToLower(dialogID), "chat") {
		return s.im.chats[toInt(dialogID[4:])]
	}
	other := toInt(dialogID)
	if other <= 0 {
		return nil
	}
	return s.privateChat(userID, other, create)
}

func (s *Server) privateChat(a, b int, create bool) *chat {
	key := [2]int{min(a, b), max(a, b)}
	if id, ok := s.im.private[key]; ok {
		return s.im.chats[id]
	}
	if !create {
		return nil
	}
	s.im.nextChat++
	ch := &chat{id: s.im.nextChat, typ: "P", owner: 0, users: []int{key[0], key[1]}, created: s.now()}
	s.im.chats[ch.id] = ch
	s.im.private[key] = ch.id
	return ch
}

func (s *Server) chatView(ch *chat, dialogID string) *phpform.Map {
	m := phpform.NewMap()
	m.Set("id", ch.id)
	m.Set("parent_chat_id", 0)
	m.Set("parent_message_id", 0)
	m.Set("name", ch.title)
	m.Set("description", ch.description)
	m.Set("owner", ch.owner)
	m.Set("extranet", false)
	m.Set("avatar", "")
	m.Set("color", "#f76187")
	typ := map[string]string{"P": "private", "C": "chat", "O": "open"}[ch.typ]
	m.Set("type", typ)
	m.Set("counter", 0)
	m.Set("user_counter", len(ch.users))
	n, last := 0, 0
	for _, msg := range s.im.messages {
		if msg.chatID == ch.id {
			n++
			last = max(last, msg.id)
		}
	}
	m.Set("message_count", n)
	m.Set("unread_id", 0)
	r := phpform.NewMap()
	for _, k := range []string{"avatar", "rename", "extend", "call", "mute", "leave", "leave_owner", "send", "user_list"} {
		r.Set(k, true)
	}
	m.Set("restrictions", r)
	m.Set("last_message_id", last)
	m.Set("last_id", last)
	m.Set("marked_id", 0)
	m.Set("disk_folder_id", 0)
	m.Set("entity_type", ch.entityType)
	m.Set("entity_id", ch.entityID)
	m.Set("entity_data_1", "")
	m.Set("entity_data_2", "")
	m.Set("entity_data_3", "")
	m.Set("mute_list", phpform.NewMap())
	m.Set("date_create", s.fmtTime(ch.created))
	m.Set("message_type", ch.typ)
	m.Set("public", "")
	m.Set("role", "member")
	el := phpform.NewMap()
	el.Set("type", ch.entityType)
	el.Set("url", "")
	el.Set("id", ch.entityID)
	m.Set("entity_link", el)
	m.Set("text_field_enabled", true)
	m.Set("background_id", nil)
	p := phpform.NewMap()
	for _, kv := range [][2]string{{"manage_users_add", "member"}, {"manage_users_delete", "manager"}, {"manage_ui", "member"}, {"manage_settings", "owner"}, {"manage_messages", "member"}, {"can_post", "member"}} {
		p.Set(kv[0], kv[1])
	}
	m.Set("permissions", p)
	m.Set("is_new", false)
	m.Set("readed_list", []any{})
	m.Set("manager_list", []any{ch.owner})
	lv := phpform.NewMap()
	lv.Set("message_id", last)
	lv.Set("first_viewers", []any{})
	lv.Set("count_of_viewers", 0)
	m.Set("last_message_views", lv)
	m.Set("dialog_id", dialogID)
	return m
}

const attachLimit = 30 * 1024

// postBotMessage validates MESSAGE/ATTACH/KEYBOARD/MENU and stores a message
// from the bot.
func (s *Server) postBotMessage(c *Request, botID, chatID int) (*message, *APIError) {
	text := strings.TrimSpace(ciString(c.params, "MESSAGE"))
	m := &message{chatID: chatID, authorID: botID, text: text, system: strings.EqualFold(ciString(c.params, "SYSTEM"), "Y")}
	if ciInt(c.params, "FROM_USER_ID") > 0 {
		m.system = true
	}
	for k, dst := range map[string]*any{"ATTACH": &m.attach, "KEYBOARD": &m.keyboard, "MENU": &m.menu} {
		v := ciGet(c.params, k)
		if v == nil {
			continue
		}
		js, _ := json.Marshal(v)
		if len(js) > attachLimit {
			return nil, errf(400, k+"_OVERSIZE", "You have exceeded the maximum allowable size of %s", strings.ToLower(k))
		}
		if sv, isStr := v.(string); isStr {
			if sv == "" {
				continue
			}
			tree, err := phpform.ParseJSON([]byte(sv))
			if err != nil {
				return nil, errf(400, k+"_ERROR", "Incorrect %s params", strings.ToLower(k))
			}
			v = tree
		}
		*dst = plainValue(v)
	}
	if text == "" && m.attach == nil {
		return nil, errf(400, "MESSAGE_EMPTY", "Message can't be empty")
	}
	s.im.nextMsg++
	m.id = s.im.nextMsg
	s.im.messages[m.id] = m
	return m, nil
}

func (c *Request) botMessage() (*bot, *message, *APIError) {
	b, e := c.botFor(false)
	if e != nil {
		return nil, nil, e
	}
	m := c.s.im.messages[ciInt(c.params, "MESSAGE_ID")]
	if m == nil || m.authorID != b.id {
		return nil, nil, errf(400, "MESSAGE_ID_ERROR", "Message ID can't be empty")
	}
	return b, m, nil
}

// ---- inspection ----

// BotMessage is a message a bot has sent (imbot.message.add,
// imbot.command.answer, imbot.chat.add's first message).
type BotMessage struct {
	ID       int
	BotID    int
	ChatID   int
	DialogID string // "chat<id>" for group chats, the other user's id for private ones
	Text     string
	Attach   any // decoded JSON shape (map[string]any / []any), nil if none
	Keyboard any
	Menu     any
	System   bool
	Edited   bool
	Deleted  bool
	Likes    int
}

// BotMessages returns the messages sent by bots, oldest first.
func (s *Server) BotMessages() []BotMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []BotMessage
	for _, m := range s.im.messages {
		if _, isBot := s.im.bots[m.authorID]; !isBot {
			if u := s.users[m.authorID]; u == nil || !u.IsBot {
				continue
			}
		}
		ch := s.im.chats[m.chatID]
		d := "chat" + strconv.Itoa(m.chatID)
		if ch != nil && ch.typ == "P" {
			for _, u := range ch.users {
				if u != m.authorID {
					d = strconv.Itoa(u)
				}
			}
		}
		out = append(out, BotMessage{ID: m.id, BotID: m.authorID, ChatID: m.chatID, DialogID: d, Text: m.text, Attach: m.attach,
			Keyboard: m.keyboard, Menu: m.menu, System: m.system, Edited: m.edited, Deleted: m.deleted, Likes: len(m.likes)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Bot describes a registered chat bot.
type Bot struct {
	ID       int
	Code     string
	Type     string // B, O, H or S
	ClientID string // CLIENT_ID of a webhook bot ("" for the app's bots)
	Handlers map[string]string
	Commands []string
}

// Bots returns the registered bots in id order.
func (s *Server) Bots() []Bot {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Bot
	for _, b := range s.im.bots {
		h := map[string]string{}
		for k, v := range b.handlers {
			if v != "" {
				h[k] = v
			}
		}
		var cmds []string
		for _, x := range s.im.commands {
			if x.botID == b.id {
				cmds = append(cmds, x.command)
			}
		}
		sort.Strings(cmds)
		out = append(out, Bot{ID: b.id, Code: b.code, Type: b.typ, ClientID: b.clientID, Handlers: h, Commands: cmds})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// ---- user actions and bot events ----

func (s *Server) botBlock(b *bot) *phpform.Map {
	m := phpform.NewMap()
	if b.clientID == "" && s.installed {
		// The bot's own token block; client_id goes before application_token.
		a := s.appAuth(b.id, true)
		auth := phpform.NewMap()
		for _, k := range a.Keys() {
			v, _ := a.Get(k)
			if k == "application_token" {
				auth.Set("client_id", s.app.ClientID)
			}
			auth.Set(k, v)
		}
		for _, k := range auth.Keys() {
			v, _ := auth.Get(k)
			m.Set(k, v)
		}
		m.Set("AUTH", auth)
	}
	m.Set("BOT_ID", strconv.Itoa(b.id))
	m.Set("BOT_CODE", b.code)
	return m
}

func (s *Server) topAuth(b *bot, userID int) *phpform.Map {
	if b.clientID != "" {
		return s.plainAuth(b.clientID)
	}
	return s.appAuth(userID, true)
}

func (s *Server) userBlock(id int, full bool) *phpform.Map {
	u := s.ensureUser(id)
	m := phpform.NewMap()
	m.Set("ID", strconv.Itoa(u.ID))
	m.Set("NAME", u.fullName())
	m.Set("FIRST_NAME", u.Name)
	m.Set("LAST_NAME", u.LastName)
	m.Set("WORK_POSITION", u.Position)
	m.Set("GENDER", u.Gender)
	if full {
		m.Set("IS_BOT", yn(u.IsBot))
		m.Set("IS_CONNECTOR", "N")
		m.Set("IS_NETWORK", "N")
		m.Set("IS_EXTRANET", "N")
	}
	return m
}

func yn(b bool) string {
	if b {
		return "Y"
	}
	return "N"
}

var mentionRE = regexp.MustCompile(`(?i)\[USER=(\d+)\]`)

// mentioned reports whether text mentions user id, in either spelling of
// the tag (see mentionTagRE).
func mentioned(text string, id int) bool {
	for _, m := range mentionRE.FindAllStringSubmatch(text, -1) {
		if m[1] == strconv.Itoa(id) {
			return true
		}
	}
	return false
}

// mentionTagRE is a whole mention, the tag, the name shown and the closing
// tag: "[USER=567]NewBot[/USER]" in the group-chat sample of
// chat-bots/outdated/messages/events/on-imbot-message-add.md
// (MESSAGE_ORIGINAL), whose MESSAGE is the text with the mention taken out;
// v2 writes it "[user=123]John[/user]"
// (chat-bots-v2/imbot.v2/messages/message-formatting.md).
var mentionTagRE = regexp.MustCompile(`(?i)\[USER=\d+\].*?\[/USER\]`)

// commandText is text with its mentions taken out, as the portal reads a
// slash command: "[USER=5]Bot[/USER] /echo x" is the command "/echo x".
func commandText(text string) string {
	return strings.TrimSpace(mentionTagRE.ReplaceAllString(text, ""))
}

// messageParams builds data[PARAMS] of a message event.
func (s *Server) messageParams(m *message, ch *chat, b *bot, extra map[string]string) *phpform.Map {
	p := phpform.NewMap()
	set := func(k, v string) { p.Set(k, v) }
	set("MESSAGE", m.text)
	set("TEMPLATE_ID", fmt.Sprintf("%08x-0000-4000-8000-%012x", m.id, m.chatID))
	set("MESSAGE_TYPE", ch.typ)
	set("FROM_USER_ID", strconv.Itoa(m.authorID))
	if ch.typ == "P" {
		set("DIALOG_ID", strconv.Itoa(m.authorID))
	} else {
		set("DIALOG_ID", "chat"+strconv.Itoa(ch.id))
	}
	set("TO_CHAT_ID", strconv.Itoa(ch.id))
	set("AUTHOR_ID", strconv.Itoa(m.authorID))
	set("SYSTEM", yn(m.system))
	if ch.typ == "P" {
		set("TO_USER_ID", strconv.Itoa(b.id))
	} else {
		set("CHAT_ID", strconv.Itoa(ch.id))
		set("CHAT_TITLE", ch.title)
		set("CHAT_AUTHOR_ID", strconv.Itoa(ch.owner))
		set("CHAT_COLOR", "MINT")
		set("CHAT_ENTITY_TYPE", ch.entityType)
		set("CHAT_ENTITY_ID", ch.entityID)
		set("CHAT_ENTITY_DATA_1", "")
		set("CHAT_ENTITY_DATA_2", "")
		set("CHAT_ENTITY_DATA_3", "")
		ml := phpform.NewMap()
		for _, mm := range mentionRE.FindAllStringSubmatch(m.text, -1) {
			ml.Set(mm[1], mm[1])
		}
		if ml.Len() > 0 {
			p.Set("MENTIONED_LIST", keyedObjectMap(ml))
			set("TO_USER_ID", strconv.Itoa(b.id))
		}
		set("MESSAGE_ORIGINAL", m.text)
	}
	for _, k := range []string{"PUSH:Y", "PUSH_IMPORTANT:N", "RECENT_SKIP_AUTHOR:N", "CONVERT:N", "SKIP_COMMAND:N", "SKIP_COUNTER_INCREMENTS:N", "SILENT_CONNECTOR:N", "SKIP_CONNECTOR:N", "IMPORTANT_CONNECTOR:N", "NO_SESSION_OL:N", "FAKE_RELATION:0", "SKIP_URL_INDEX:N", "COMMAND_CONTEXT:TEXTAREA"} {
		kk, v, _ := strings.Cut(k, ":")
		set(kk, v)
	}
	set("CHAT_USER_COUNT", strconv.Itoa(len(ch.users)))
	set("PLATFORM_CONTEXT", "web")
	for k, v := range extra {
		set(k, v)
	}
	set("MESSAGE_ID", strconv.Itoa(m.id))
	set("CHAT_TYPE", ch.typ)
	set("LANGUAGE", "en")
	return p
}

// keyedObjectMap is a *Map kept as an object on form encoding: it is only
// form-encoded, where keys are always explicit, so it is returned as is.
func keyedObjectMap(m *phpform.Map) *phpform.Map { return m }

func (s *Server) botEvent(b *bot, event, handlerKey string, data *phpform.Map, userID int) []delivery {
	url := b.handlers[handlerKey]
	if url == "" || (b.clientID == "" && !s.installed) {
		return nil
	}
	auth := s.topAuth(b, userID)
	if event == "ONIMBOTJOINCHAT" {
		auth.Delete("refresh_token") // as in the docs sample
	}
	return []delivery{{event: event, url: url, body: s.payload(event, 0, data, auth)}}
}

// userMessage is the one path of a portal user's new message, whichever
// helper or control call posted it: it stores the message and tells every
// bot of the chat in its own API version's format, as [Server.changeUserMessage]
// does for edits and deletions. Each version's page ties its event to a
// message in a chat with the bot, not to an API (v1
// chat-bots/outdated/messages/events/on-imbot-message-add.md, v2
// chat-bots-v2/imbot.v2/events/events.md#onimbotv2messageadd;
// docs/CONFORMANCE.md).
func (s *Server) userMessage(ch *chat, fromUserID int, text string) (*message, []delivery) {
	s.ensureUser(fromUserID)
	s.im.nextMsg++
	m := &message{id: s.im.nextMsg, chatID: ch.id, authorID: fromUserID, text: text}
	s.im.messages[m.id] = m
	var out []delivery
	for _, uid := range ch.users {
		if uid == fromUserID {
			continue
		}
		if b := s.im.bots[uid]; b != nil {
			out = append(out, s.v1MessageAdded(b, m, ch)...)
		}
		if b := s.v2.bots[uid]; b != nil {
			out = append(out, s.v2MessageAdded(b, m, ch)...)
		}
	}
	return m, out
}

// v1MessageAdded builds ONIMBOTMESSAGEADD, or ONIMCOMMANDADD for one of the
// bot's slash commands, for a v1 bot in the chat.
func (s *Server) v1MessageAdded(b *bot, m *message, ch *chat) []delivery {
	if ch.typ != "P" && b.typ != "S" && !mentioned(m.text, b.id) {
		return nil // in group chats bots see only messages addressed to them
	}
	if x := s.matchCommand(b, m.text); x != nil {
		return s.commandEvent(b, x, m, ch, m.text)
	}
	data := phpform.NewMap()
	bm := phpform.NewMap()
	bm.Set(strconv.Itoa(b.id), s.botBlock(b))
	data.Set("BOT", bm)
	data.Set("PARAMS", s.messageParams(m, ch, b, nil))
	data.Set("USER", s.userBlock(m.authorID, true))
	return s.botEvent(b, "ONIMBOTMESSAGEADD", "MESSAGE_ADD", data, m.authorID)
}

func (s *Server) matchCommand(b *bot, text string) *command {
	t := commandText(text)
	if !strings.HasPrefix(t, "/") {
		return nil
	}
	name, _, _ := strings.Cut(t[1:], " ")
	for _, x := range s.im.commands {
		if x.botID == b.id && strings.EqualFold(x.command, name) {
			return x
		}
	}
	return nil
}

func (s *Server) commandEvent(b *bot, x *command, m *message, ch *chat, text string) []delivery {
	t := commandText(text)
	_, params, _ := strings.Cut(t[1:], " ")
	entry := s.botBlock(b)
	entry.Set("COMMAND", x.command)
	entry.Set("COMMAND_ID", strconv.Itoa(x.id))
	entry.Set("COMMAND_PARAMS", strings.TrimSpace(params))
	entry.Set("COMMAND_CONTEXT", "TEXTAREA")
	entry.Set("MESSAGE_ID", strconv.Itoa(m.id))
	cm := phpform.NewMap()
	cm.Set(strconv.Itoa(x.id), entry)
	data := phpform.NewMap()
	data.Set("COMMAND", cm)
	data.Set("PARAMS", s.messageParams(m, ch, b, nil))
	data.Set("USER", s.userBlock(m.authorID, false))
	if x.handler == "" {
		return nil
	}
	return []delivery{{event: "ONIMCOMMANDADD", url: x.handler, body: s.payload("ONIMCOMMANDADD", 0, data, s.topAuth(b, m.authorID))}}
}

// SendBotMessage posts text from user fromUserID to the bot in their private
// dialog and delivers ONIMBOTMESSAGEADD (or ONIMCOMMANDADD when the text is
// one of the bot's slash commands, e.g. "/echo hi") synchronously. It returns
// the new message id and the delivery error, if any.
func (s *Server) SendBotMessage(botID, fromUserID int, text string) (int, error) {
	s.mu.Lock()
	b := s.im.bots[botID]
	if b == nil {
		s.mu.Unlock()
		return 0, fmt.Errorf("bitrixtest: no bot %d", botID)
	}
	ch := s.privateChat(fromUserID, botID, true)
	m, out := s.userMessage(ch, fromUserID, text)
	s.mu.Unlock()
	return m.id, s.deliverAll(out)
}

// SendChatMessage posts text from fromUserID to group chat chatID. Every
// bot in the chat is told in its own API's format: v1 bots get
// ONIMBOTMESSAGEADD (ONIMCOMMANDADD for one of their commands) when
// mentioned ("[USER=<botID>]name[/USER]") or when they are supervisor bots
// (TYPE S); v2 bots get ONIMBOTV2MESSAGEADD (ONIMBOTV2COMMANDADD) under
// their version's rules (see [Server.V2SendChatMessage]). Delivery is
// synchronous.
func (s *Server) SendChatMessage(chatID, fromUserID int, text string) (int, error) {
	s.mu.Lock()
	ch := s.im.chats[chatID]
	if ch == nil || ch.typ == "P" {
		s.mu.Unlock()
		return 0, fmt.Errorf("bitrixtest: no group chat %d", chatID)
	}
	if !containsInt(ch.users, fromUserID) {
		ch.users = append(ch.users, fromUserID)
	}
	m, out := s.userMessage(ch, fromUserID, text)
	s.mu.Unlock()
	return m.id, s.deliverAll(out)
}

// CreateChat creates a group chat owned by ownerID with the given members
// and returns its id.
func (s *Server) CreateChat(title string, ownerID int, members ...int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.im.nextChat++
	ch := &chat{id: s.im.nextChat, typ: "C", title: title, owner: ownerID, users: []int{ownerID}, created: s.now()}
	for _, u := range members {
		if !containsInt(ch.users, u) {
			ch.users = append(ch.users, u)
		}
	}
	s.im.chats[ch.id] = ch
	return ch.id
}

// AddBotToChat adds a bot to group chat chatID (as user 1 would) and
// delivers ONIMBOTJOINCHAT to the bot's welcome handler. Use chatID 0 to
// open the private dialog of user 1 with the bot instead.
func (s *Server) AddBotToChat(botID, chatID int) error {
	s.mu.Lock()
	b := s.im.bots[botID]
	if b == nil {
		s.mu.Unlock()
		return fmt.Errorf("bitrixtest: no bot %d", botID)
	}
	var ch *chat
	if chatID == 0 {
		ch = s.privateChat(1, botID, true)
	} else if ch = s.im.chats[chatID]; ch == nil {
		s.mu.Unlock()
		return fmt.Errorf("bitrixtest: no chat %d", chatID)
	}
	if !containsInt(ch.users, botID) {
		ch.users = append(ch.users, botID)
	}
	data := phpform.NewMap()
	bm := phpform.NewMap()
	bm.Set(strconv.Itoa(b.id), s.botBlock(b))
	data.Set("BOT", bm)
	p := phpform.NewMap()
	p.Set("CHAT_TYPE", ch.typ)
	p.Set("MESSAGE_TYPE", ch.typ)
	p.Set("BOT_ID", strconv.Itoa(b.id))
	p.Set("USER_ID", "1")
	if ch.typ == "P" {
		p.Set("TO_USER_ID", "1")
		p.Set("FROM_USER_ID", strconv.Itoa(b.id))
		p.Set("DIALOG_ID", "1")
	} else {
		p.Set("TO_USER_ID", "0")
		p.Set("FROM_USER_ID", strconv.Itoa(b.id))
		p.Set("DIALOG_ID", "chat"+strconv.Itoa(ch.id))
		p.Set("CHAT_ID", strconv.Itoa(ch.id))
		p.Set("CHAT_AUTHOR_ID", strconv.Itoa(ch.owner))
		p.Set("CHAT_ENTITY_TYPE", ch.entityType)
		p.Set("CHAT_ENTITY_ID", ch.entityID)
		p.Set("ACCESS_HISTORY", "1")
	}
	p.Set("LANGUAGE", "en")
	data.Set("PARAMS", p)
	data.Set("USER", s.userBlock(1, false))
	out := s.botEvent(b, "ONIMBOTJOINCHAT", "WELCOME_MESSAGE", data, 1)
	s.mu.Unlock()
	return s.deliverAll(out)
}

// DeleteBot deletes a bot as an administrator would in the UI and delivers
// ONIMBOTDELETE to its handler.
func (s *Server) DeleteBot(botID int) error {
	s.mu.Lock()
	b := s.im.bots[botID]
	if b == nil {
		s.mu.Unlock()
		return fmt.Errorf("bitrixtest: no bot %d", botID)
	}
	data := phpform.NewMap()
	data.Set("BOT_ID", strconv.Itoa(b.id))
	data.Set("BOT_CODE", b.code)
	var out []delivery
	if u := b.handlers["BOT_DELETE"]; u != "" && (b.clientID != "" || s.installed) {
		auth := s.topAuth(b, 1)
		auth.Delete("refresh_token")
		out = append(out, delivery{event: "ONIMBOTDELETE", url: u, body: s.payload("ONIMBOTDELETE", 0, data, auth)})
	}
	s.removeBot(botID)
	s.mu.Unlock()
	return s.deliverAll(out)
}

// EditUserMessage changes the text of user message messageID as its author
// would. The bots in its chat are told in their API's format: v1 bots with
// an EVENT_MESSAGE_UPDATE handler get ONIMBOTMESSAGEUPDATE, v2 bots get
// ONIMBOTV2MESSAGEUPDATE. A deleted message or a bot's message is refused.
func (s *Server) EditUserMessage(messageID int, text string) error {
	return s.changeUserMessage(messageID, text, false)
}

// DeleteUserMessage deletes user message messageID as its author would; v1
// bots with an EVENT_MESSAGE_DELETE handler get ONIMBOTMESSAGEDELETE, v2
// bots ONIMBOTV2MESSAGEDELETE (see [Server.EditUserMessage]).
func (s *Server) DeleteUserMessage(messageID int) error {
	return s.changeUserMessage(messageID, "", true)
}

// changeUserMessage is the one path of a portal user's edit or deletion,
// whichever helper or control call asked for it. Each API's docs tie its
// event to the change in a chat with the bot, not to the API the bot uses
// (outdated/messages/events/on-imbot-message-update.md, -delete.md:
// "triggered when a message is updated/deleted in a chat with the chat
// bot"; chat-bots-v2/imbot.v2/events/events.md#onimbotv2messageupdate: "a
// message in the bot's chat"), so every bot in the chat is told, each in its
// version's format (docs/CONFORMANCE.md).
func (s *Server) changeUserMessage(id int, text string, del bool) error {
	s.mu.Lock()
	m := s.im.messages[id]
	if m == nil || m.deleted {
		s.mu.Unlock()
		return fmt.Errorf("bitrixtest: no message %d", id)
	}
	if s.im.bots[m.authorID] != nil || s.v2.bots[m.authorID] != nil {
		s.mu.Unlock()
		return fmt.Errorf("bitrixtest: message %d is a bot's; change it with imbot.message.* or imbot.v2.Chat.Message.*", id)
	}
	ch := s.im.chats[m.chatID]
	if del {
		m.deleted = true
		// on-imbot-message-delete.md: PARAMS.MESSAGE of the sample.
		m.text = "Message from " + s.now().In(s.cfg.loc).Format("01/02/2006 15:04:05") + " has been deleted"
	} else {
		m.text, m.edited = text, true
	}
	var out []delivery
	for _, uid := range ch.users {
		if b := s.im.bots[uid]; b != nil {
			out = append(out, s.v1MessageChanged(b, m, ch, del)...)
		}
		if b := s.v2.bots[uid]; b != nil {
			out = append(out, s.v2MessageChanged(b, m, ch, del)...)
		}
	}
	s.mu.Unlock()
	return s.deliverAll(out)
}

// v1MessageChanged builds ONIMBOTMESSAGEUPDATE or ONIMBOTMESSAGEDELETE for
// a v1 bot that bound the handler.
func (s *Server) v1MessageChanged(b *bot, m *message, ch *chat, del bool) []delivery {
	event, key := "ONIMBOTMESSAGEUPDATE", "MESSAGE_UPDATE"
	if del {
		event, key = "ONIMBOTMESSAGEDELETE", "MESSAGE_DELETE"
	}
	if b.handlers[key] == "" {
		return nil
	}
	data := phpform.NewMap()
	bm := phpform.NewMap()
	bm.Set(strconv.Itoa(b.id), s.botBlock(b))
	data.Set("BOT", bm)
	data.Set("PARAMS", s.messageParams(m, ch, b, map[string]string{"ID": strconv.Itoa(m.id)}))
	// on-imbot-message-update.md and -delete.md: USER is the author's data
	// in both (the delete sample has it too).
	data.Set("USER", s.userBlock(m.authorID, true))
	return s.botEvent(b, event, key, data, m.authorID)
}
