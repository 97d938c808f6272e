package bitrixtest

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/b24go/sdk/internal/phpform"
)

// Chatbots 2.0 (imbot.v2.*), after api-reference/chat-bots/chat-bots-v2/
// in bitrix24/b24restdocs (commit 5988ed13, change-log REST revision 36).
// v2 bots live beside the v1 ones and share users, chats and messages;
// they get only v2 events (index.md: "a bot receives events only in the
// format of the API version it was registered through").
//
// Modelled: Bot.register/update/get/list/unregister, Event.get with
// offsets, Chat.get/add/leave, Chat.User.add/delete/list,
// Chat.Manager.add/delete, Chat.setOwner, Chat.InputAction.notify,
// Chat.TextField.enabled, Chat.Message.send/update/delete/get/read,
// Chat.Message.Reaction.add/delete, Command.register/update/list/
// unregister/answer, File.upload/download and Revision.get. Others answer
// ERROR_METHOD_NOT_FOUND.

type v2bot struct {
	id         int
	code       string
	typ        string
	mode       string // fetch or webhook
	webhookURL string
	token      string // botToken of bots registered through an inbound webhook
	owner      string // "app:<client_id>" or "hook:<secret>" (who may call for it)
	props      map[string]string
	hidden     bool
	reactions  bool
	openline   bool
	background string
	appToken   string // application_token of its webhook deliveries
	queue      []v2event
	sent       int
}

type v2event struct {
	id   int64
	typ  string
	date time.Time
	data map[string]any
}

type v2command struct {
	id       int
	botID    int
	command  string
	title    map[string]string
	params   map[string]string
	common   bool
	hidden   bool
	extranet bool
}

type imv2Store struct {
	bots        map[int]*v2bot
	commands    map[int]*v2command
	nextEvent   int64
	nextCmd     int
	webhookJSON bool
	answers     []V2Message
	files       map[int]string
}

func newIMV2Store() *imv2Store {
	return &imv2Store{bots: map[int]*v2bot{}, commands: map[int]*v2command{}, nextEvent: 1000, files: map[int]string{}}
}

// V2RESTRevision is the imbot.v2 REST revision the fake follows.
const V2RESTRevision = 36

func v2err(status int, code, desc string) *APIError { return errf(status, code, "%s", desc) }

// v2bool reads a v2 boolean: JSON true/false or "Y"/"N" (index.md,
// "Boolean Parameters"; change-log.md BOT-FIX-0402-2).
func v2bool(v any, def bool) bool {
	switch x := v.(type) {
	case nil:
		return def
	case bool:
		return x
	}
	s, _ := phpform.LeafString(v)
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "Y", "TRUE", "1":
		return true
	case "N", "FALSE", "0", "":
		return false
	}
	return def
}

// v2owner is who is calling: an OAuth app or an inbound webhook.
func (c *Request) v2owner() string {
	if c.auth.kind == AuthOAuth {
		return "app:" + c.auth.clientID
	}
	return "hook:" + c.auth.secret
}

// v2bot resolves botId (and botToken for webhook auth) the way the
// BotController does (change-log.md BOT-NEW-0408-1: BOT_TOKEN_NOT_SPECIFIED,
// BOT_ID_REQUIRED, BOT_NOT_FOUND, BOT_OWNERSHIP_ERROR).
func (c *Request) v2bot() (*v2bot, *APIError) {
	token := c.params.String("botToken")
	if c.auth.kind == AuthWebhook && token == "" {
		return nil, v2err(400, "BOT_TOKEN_NOT_SPECIFIED", "Bot token is not specified")
	}
	id := toInt(ciGet(c.params, "botId"))
	if id == 0 {
		return nil, v2err(400, "BOT_ID_REQUIRED", "Bot ID is required")
	}
	b := c.s.v2.bots[id]
	if b == nil {
		return nil, v2err(404, "BOT_NOT_FOUND", "Bot not found")
	}
	if b.owner != c.v2owner() || c.auth.kind == AuthWebhook && b.token != token {
		return nil, v2err(403, "BOT_OWNERSHIP_ERROR", "Bot is registered by another application")
	}
	return b, nil
}

func (s *Server) v2botObject(b *v2bot) map[string]any {
	var bg any
	if b.background != "" {
		bg = b.background
	}
	nChats := 0
	for _, ch := range s.im.chats {
		if containsInt(ch.users, b.id) {
			nChats++
		}
	}
	return map[string]any{
		"id": b.id, "code": b.code, "type": b.typ, "isHidden": b.hidden, "isSupportOpenline": b.openline,
		"isReactionsEnabled": b.reactions, "backgroundId": bg, "language": "en", "moduleId": "rest",
		"eventMode": b.mode, "countMessage": b.sent, "countCommand": s.v2countCommands(b.id), "countChat": nChats, "countUser": 0,
	}
}

func (s *Server) v2countCommands(botID int) int {
	n := 0
	for _, x := range s.v2.commands {
		if x.botID == botID {
			n++
		}
	}
	return n
}

func (s *Server) v2user(id int) map[string]any {
	u := s.ensureUser(id)
	typ := "employee"
	ext := "default"
	if u.IsBot {
		typ, ext = "bot", "bot"
	}
	return map[string]any{
		"id": u.ID, "active": u.Active, "name": u.fullName(), "firstName": u.Name, "lastName": u.LastName,
		"workPosition": u.Position, "color": "#df532d", "avatar": "", "gender": u.Gender, "birthday": "",
		"extranet": false, "bot": u.IsBot, "connector": false, "externalAuthId": ext, "status": "online",
		"idle": false, "lastActivityDate": false, "absent": false, "departments": []int{1}, "phones": false, "type": typ,
	}
}

// v2dialog is the dialogId of ch as seen by viewer (index.md#dialog-id:
// in a private chat, the other side's id).
func v2dialog(ch *chat, viewer int) string {
	if ch.typ == "P" {
		for _, u := range ch.users {
			if u != viewer {
				return strconv.Itoa(u)
			}
		}
	}
	return "chat" + strconv.Itoa(ch.id)
}

func (s *Server) v2chat(ch *chat, viewer int, full bool) map[string]any {
	typ, mt := "chat", "C"
	if ch.typ == "P" {
		typ, mt = "private", "P"
	}
	color := ch.color
	if color == "" {
		color = "#ab7761"
	}
	m := map[string]any{
		"id": ch.id, "dialogId": v2dialog(ch, viewer), "type": typ, "name": ch.title, "entityType": ch.entityType,
		"owner": ch.owner, "avatar": "", "color": color,
	}
	if full {
		m["messageType"], m["description"] = mt, ch.description
		m["userCounter"] = len(ch.users)
		m["dateCreate"] = ch.created.Format(time.RFC3339)
		m["role"] = "member"
		if ch.owner == viewer {
			m["role"] = "owner"
		}
		n, last := 0, 0
		for _, msg := range s.im.messages {
			if msg.chatID == ch.id && !msg.deleted {
				n++
				last = max(last, msg.id)
			}
		}
		m["messageCount"], m["lastMessageId"] = n, last
	}
	return m
}

func (s *Server) v2message(m *message) map[string]any {
	params := map[string]any{}
	if m.keyboard != nil {
		params["KEYBOARD"] = m.keyboard
	}
	if m.attach != nil {
		params["ATTACH"] = m.attach
	}
	return map[string]any{
		"id": m.id, "chatId": m.chatID, "authorId": m.authorID, "date": s.now().Format(time.RFC3339),
		"text": m.text, "isSystem": m.system, "uuid": "", "forward": nil, "params": params, "viewedByOthers": false,
	}
}

// v2emit queues (fetch) or builds the delivery of (webhook) one event for b.
func (s *Server) v2emit(b *v2bot, typ string, data map[string]any) []delivery {
	s.v2.nextEvent++
	if b.mode == "fetch" {
		data["bot"] = s.v2botObject(b)
		b.queue = append(b.queue, v2event{id: s.v2.nextEvent, typ: typ, date: s.now(), data: data})
		return nil
	}
	// Webhook mode: the bot object is {id, code, auth} (events.md#bot-format);
	// the top-level auth carries the application_token to verify.
	bot := map[string]any{"id": b.id, "code": b.code}
	if strings.HasPrefix(b.owner, "app:") {
		t := s.issueLocked(b.id)
		bot["auth"] = map[string]any{
			"access_token": t.AccessToken, "expires": t.Expires.Unix(), "expires_in": int(t.Expires.Sub(s.now()) / time.Second),
			"scope": "imbot", "domain": s.app.Domain, "server_endpoint": s.app.ServerEndpoint, "status": "L",
			"client_endpoint": s.app.ClientEndpoint, "member_id": s.app.MemberID, "user_id": b.id, "application_token": b.appToken,
		}
	}
	data["bot"] = bot
	payload := map[string]any{
		"event": typ, "data": data, "ts": s.now().Unix(),
		"auth": map[string]any{"domain": s.app.Domain, "client_endpoint": s.app.ClientEndpoint, "server_endpoint": s.app.ServerEndpoint,
			"member_id": s.app.MemberID, "application_token": b.appToken},
	}
	var body string
	if s.v2.webhookJSON {
		js, _ := json.Marshal(payload)
		body = string(js)
	} else {
		body, _ = phpform.Encode(payload) // http_build_query: events.md#webhook-payload
	}
	return []delivery{{event: typ, url: b.webhookURL, body: body}}
}

func plainJSON(v any) any {
	if m, ok := v.(*phpform.Map); ok {
		return phpform.Plain(m)
	}
	if s, ok := v.(string); ok && (strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[")) {
		var out any
		if json.Unmarshal([]byte(s), &out) == nil {
			return out
		}
	}
	return v
}

func (x *v2command) view(list bool) map[string]any {
	m := map[string]any{"id": x.id, "botId": x.botID, "command": "/" + x.command, "common": x.common, "hidden": x.hidden, "extranetSupport": x.extranet}
	if list {
		m["title"], m["params"], m["category"], m["context"] = x.title["en"], x.params["en"], "", ""
	}
	return m
}

func (c *Request) v2command() (*v2bot, *v2command, *APIError) {
	b, e := c.v2bot()
	if e != nil {
		return nil, nil, e
	}
	x := c.s.v2.commands[toInt(ciGet(c.params, "commandId"))]
	if x == nil || x.botID != b.id {
		return nil, nil, v2err(404, "COMMAND_NOT_FOUND", "Command not found")
	}
	return b, x, nil
}

// v2chatOf resolves dialogId for the bot; member requires the bot in it.
func (c *Request) v2chatOf(member bool) (*v2bot, *chat, *APIError) {
	b, e := c.v2bot()
	if e != nil {
		return nil, nil, e
	}
	d := c.params.String("dialogId")
	if d == "" {
		return nil, nil, v2err(400, "DIALOG_ID_REQUIRED", "Dialog ID is required")
	}
	var ch *chat
	if strings.HasPrefix(d, "chat") {
		ch = c.s.im.chats[toInt(strings.TrimPrefix(d, "chat"))]
	} else if uid, err := strconv.Atoi(d); err == nil && uid > 0 {
		if _, known := c.s.users[uid]; known {
			ch = c.s.privateChat(uid, b.id, true)
		}
	}
	if ch == nil {
		return nil, nil, v2err(404, "CHAT_NOT_FOUND", "Chat not found")
	}
	if member && !containsInt(ch.users, b.id) {
		return nil, nil, v2err(403, "ACCESS_DENIED", "The bot is not a member of the chat")
	}
	return b, ch, nil
}

func (c *Request) v2ownMessage() (*v2bot, *message, *APIError) {
	b, e := c.v2bot()
	if e != nil {
		return nil, nil, e
	}
	m := c.s.im.messages[toInt(ciGet(c.params, "messageId"))]
	if m == nil || m.deleted {
		return nil, nil, v2err(404, "MESSAGE_NOT_FOUND", "Message not found")
	}
	if m.authorID != b.id {
		return nil, nil, v2err(403, "ACCESS_DENIED", "The message belongs to another author")
	}
	return b, m, nil
}

// v2post stores the message of fields in ch as the bot.
func (c *Request) v2post(b *v2bot, ch *chat) (*message, *APIError) {
	f := ciMap(c.params, "fields")
	m := &message{chatID: ch.id, authorID: b.id}
	if f != nil {
		m.text = f.String("message")
		if v, ok := f.Get("keyboard"); ok {
			m.keyboard = plainJSON(v)
		}
		if v, ok := f.Get("attach"); ok {
			m.attach = plainJSON(v)
		}
		m.system = v2bool(ciGet(f, "system"), false)
	}
	if strings.TrimSpace(m.text) == "" && m.attach == nil {
		return nil, v2err(400, "MESSAGE_EMPTY", "Message is empty")
	}
	if n := len([]rune(m.text)); n > 20000 { // entities.md#message
		m.text = string([]rune(m.text)[:20000]) + " (...)"
	}
	c.s.im.nextMsg++
	m.id = c.s.im.nextMsg
	c.s.im.messages[m.id] = m
	b.sent++
	return m, nil
}

// v2background normalizes like Background::normalizeBackgroundId
// (change-log.md BOT-FIX-0408-4): unknown values become null.
func v2background(s string) string {
	if slices.Contains([]string{"azure", "mint", "steel", "slate", "teal", "cornflower", "sky", "peach", "frost"}, s) {
		return s
	}
	return ""
}

// ---- test helpers: a user acting in the portal ----

// V2Bot describes a bot registered through imbot.v2.
type V2Bot struct {
	ID         int
	Code       string
	Type       string
	EventMode  string
	WebhookURL string
	// Pending is the number of queued events not yet confirmed (fetch mode).
	Pending int
}

// V2Bots returns the imbot.v2 bots, by id.
func (s *Server) V2Bots() []V2Bot {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []V2Bot
	for _, b := range s.v2.bots {
		out = append(out, V2Bot{ID: b.id, Code: b.code, Type: b.typ, EventMode: b.mode, WebhookURL: b.webhookURL, Pending: len(b.queue)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// V2PendingEvents returns the ids of a fetch-mode bot's events that are
// not confirmed yet.
func (s *Server) V2PendingEvents(botID int) []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.v2.bots[botID]
	if b == nil {
		return nil
	}
	var ids []int64
	for _, ev := range b.queue {
		ids = append(ids, ev.id)
	}
	return ids
}

// V2ApplicationToken returns the auth[application_token] of a bot's
// webhook-mode deliveries: the app's token for bots of the OAuth app; for
// bots registered through an inbound webhook the docs do not say, and the
// fake makes up one per bot.
func (s *Server) V2ApplicationToken(botID int) string {
	// The made-up token: docs/CONFORMANCE.md, "Chatbots 2.0".
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.v2.bots[botID]; b != nil {
		return b.appToken
	}
	return ""
}

// SetV2WebhookJSON makes webhook-mode deliveries JSON bodies (the handler
// sample of [webhook mode]) instead of http_build_query forms (as the
// [webhook payload] describes).
//
// [webhook mode]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/index.html#webhook
// [webhook payload]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/events/events.html#webhook-payload
func (s *Server) SetV2WebhookJSON(on bool) {
	s.mu.Lock()
	s.v2.webhookJSON = on
	s.mu.Unlock()
}

// V2Message is a message a v2 bot posted.
type V2Message struct {
	ID        int
	BotID     int
	ChatID    int
	DialogID  string // as the bot addressed it
	Text      string
	Keyboard  string // fields.keyboard as JSON ("" = none)
	Attach    string // fields.attach as JSON ("" = none)
	CommandID int    // set for Command.answer
}

// V2Messages returns the messages v2 bots posted (Chat.Message.send,
// Command.answer, File.upload), oldest first, with their current text.
func (s *Server) V2Messages() []V2Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	answered := map[int]int{}
	for _, a := range s.v2.answers {
		answered[a.ID] = a.CommandID
	}
	var out []V2Message
	for _, m := range s.im.messages {
		b := s.v2.bots[m.authorID]
		if b == nil || m.deleted {
			continue
		}
		ch := s.im.chats[m.chatID]
		vm := V2Message{ID: m.id, BotID: b.id, ChatID: m.chatID, Text: m.text, CommandID: answered[m.id]}
		if ch != nil {
			vm.DialogID = v2dialog(ch, b.id)
		}
		if m.keyboard != nil {
			js, _ := json.Marshal(m.keyboard)
			vm.Keyboard = string(js)
		}
		if m.attach != nil {
			js, _ := json.Marshal(m.attach)
			vm.Attach = string(js)
		}
		out = append(out, vm)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// V2SendMessage posts text from user fromUserID to the v2 bot in their
// private dialog: the bot gets ONIMBOTV2COMMANDADD when the text starts
// with one of its commands ("/help topic"), ONIMBOTV2MESSAGEADD otherwise,
// queued (fetch mode) or delivered before V2SendMessage returns (webhook
// mode). It returns the message id and the delivery error, if any.
func (s *Server) V2SendMessage(botID, fromUserID int, text string) (int, error) {
	s.mu.Lock()
	b := s.v2.bots[botID]
	if b == nil {
		s.mu.Unlock()
		return 0, fmt.Errorf("bitrixtest: no v2 bot %d", botID)
	}
	ch := s.privateChat(fromUserID, botID, true)
	m, out := s.userMessage(ch, fromUserID, text)
	s.mu.Unlock()
	return m.id, s.deliverAll(out)
}

// V2SendChatMessage is [Server.SendChatMessage]: a user's message in a
// group chat tells the v1 and the v2 bots of the chat alike. v2 bots of
// type bot and openline see it when mentioned
// ("[USER=<botID>]name[/USER]"); supervisor and personal bots see every
// message ([bot types]).
//
// [bot types]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/index.html#bot-types
func (s *Server) V2SendChatMessage(chatID, fromUserID int, text string) (int, error) {
	return s.SendChatMessage(chatID, fromUserID, text)
}

// v2MessageAdded builds ONIMBOTV2MESSAGEADD, or ONIMBOTV2COMMANDADD for one
// of the bot's commands, for a v2 bot in the chat.
func (s *Server) v2MessageAdded(b *v2bot, m *message, ch *chat) []delivery {
	if ch.typ != "P" && b.typ != "supervisor" && b.typ != "personal" && !mentioned(m.text, b.id) {
		return nil
	}
	base := func() map[string]any {
		return map[string]any{"message": s.v2message(m), "chat": s.v2chat(ch, b.id, false), "user": s.v2user(m.authorID), "language": "en"}
	}
	t := commandText(m.text)
	if strings.HasPrefix(t, "/") {
		name, params, _ := strings.Cut(t[1:], " ")
		var hit *v2command
		for _, x := range s.v2.commands {
			if x.botID == b.id && strings.EqualFold(x.command, name) {
				hit = x
			}
		}
		if hit != nil {
			d := base()
			d["command"] = map[string]any{"id": hit.id, "command": "/" + hit.command, "params": strings.TrimSpace(params), "context": "textarea"}
			return s.v2emit(b, "ONIMBOTV2COMMANDADD", d)
		}
	}
	return s.v2emit(b, "ONIMBOTV2MESSAGEADD", base())
}

// V2AddBotToChat adds the v2 bot to group chat chatID as user byUserID
// would, and gives the bot ONIMBOTV2JOINCHAT. chatID 0 opens the private
// dialog of byUserID with the bot instead.
func (s *Server) V2AddBotToChat(botID, chatID, byUserID int) error {
	s.mu.Lock()
	b := s.v2.bots[botID]
	if b == nil {
		s.mu.Unlock()
		return fmt.Errorf("bitrixtest: no v2 bot %d", botID)
	}
	var ch *chat
	if chatID == 0 {
		ch = s.privateChat(byUserID, botID, true)
	} else if ch = s.im.chats[chatID]; ch == nil {
		s.mu.Unlock()
		return fmt.Errorf("bitrixtest: no chat %d", chatID)
	}
	if !containsInt(ch.users, botID) {
		ch.users = append(ch.users, botID)
	}
	data := map[string]any{"dialogId": v2dialog(ch, botID), "chat": s.v2chat(ch, botID, false), "user": s.v2user(byUserID), "language": "en"}
	out := s.v2emit(b, "ONIMBOTV2JOINCHAT", data)
	s.mu.Unlock()
	return s.deliverAll(out)
}

// V2React adds (or with remove, deletes) user fromUserID's reaction to a
// v2 bot's message and gives the bot ONIMBOTV2REACTIONCHANGE.
func (s *Server) V2React(messageID, fromUserID int, reaction string, remove bool) error {
	s.mu.Lock()
	m := s.im.messages[messageID]
	if m == nil {
		s.mu.Unlock()
		return fmt.Errorf("bitrixtest: no message %d", messageID)
	}
	b := s.v2.bots[m.authorID]
	if b == nil {
		s.mu.Unlock()
		return fmt.Errorf("bitrixtest: message %d is not a v2 bot's", messageID)
	}
	action := "add"
	if remove {
		action = "delete"
	}
	data := map[string]any{"reaction": reaction, "action": action, "message": s.v2message(m),
		"chat": s.v2chat(s.im.chats[m.chatID], b.id, false), "user": s.v2user(fromUserID), "language": "en"}
	out := s.v2emit(b, "ONIMBOTV2REACTIONCHANGE", data)
	s.mu.Unlock()
	return s.deliverAll(out)
}

// V2EditMessage is [Server.EditUserMessage]: a user's edit tells the v1
// and the v2 bots of the chat alike.
func (s *Server) V2EditMessage(messageID int, text string) error {
	return s.changeUserMessage(messageID, text, false)
}

// V2DeleteMessage is [Server.DeleteUserMessage].
func (s *Server) V2DeleteMessage(messageID int) error {
	return s.changeUserMessage(messageID, "", true)
}

// v2MessageChanged builds ONIMBOTV2MESSAGEUPDATE or ONIMBOTV2MESSAGEDELETE
// (events.md) for a v2 bot.
func (s *Server) v2MessageChanged(b *v2bot, m *message, ch *chat, del bool) []delivery {
	d := map[string]any{"chat": s.v2chat(ch, b.id, false), "user": s.v2user(m.authorID), "language": "en"}
	typ := "ONIMBOTV2MESSAGEUPDATE"
	if del {
		typ = "ONIMBOTV2MESSAGEDELETE"
		d["messageId"] = m.id
	} else {
		d["message"] = s.v2message(m)
	}
	return s.v2emit(b, typ, d)
}

// V2OpenWithContext opens the private dialog of userID with the bot and
// passes context, as a BOT_CONTEXT link does ([bot context]): the bot gets
// ONIMBOTV2CONTEXTGET.
//
// [bot context]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/bot-context.html
func (s *Server) V2OpenWithContext(botID, userID int, context map[string]any) error {
	s.mu.Lock()
	b := s.v2.bots[botID]
	if b == nil {
		s.mu.Unlock()
		return fmt.Errorf("bitrixtest: no v2 bot %d", botID)
	}
	ch := s.privateChat(userID, botID, true)
	d := map[string]any{"dialogId": v2dialog(ch, botID), "context": context, "chat": s.v2chat(ch, botID, false), "user": s.v2user(userID), "language": "en"}
	out := s.v2emit(b, "ONIMBOTV2CONTEXTGET", d)
	s.mu.Unlock()
	return s.deliverAll(out)
}
