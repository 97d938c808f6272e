package bitrixtest

import (
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/b24go/sdk/internal/phpform"
)

var imv2Methods = []method{
	{"imbot.v2.Revision.get", "imbot", imbotV2RevisionGet},
	{"imbot.v2.Bot.register", "imbot", imbotV2BotRegister},
	{"imbot.v2.Bot.update", "imbot", imbotV2BotUpdate},
	{"imbot.v2.Bot.get", "imbot", imbotV2BotGet},
	{"imbot.v2.Bot.list", "imbot", imbotV2BotList},
	{"imbot.v2.Bot.unregister", "imbot", imbotV2BotUnregister},
	{"imbot.v2.Event.get", "imbot", imbotV2EventGet},
	{"imbot.v2.Chat.Message.send", "imbot", imbotV2ChatMessageSend},
	{"imbot.v2.Chat.Message.update", "imbot", imbotV2ChatMessageUpdate},
	{"imbot.v2.Chat.Message.delete", "imbot", imbotV2ChatMessageDelete},
	{"imbot.v2.Chat.Message.get", "imbot", imbotV2ChatMessageGet},
	{"imbot.v2.Chat.Message.read", "imbot", imbotV2ChatMessageRead},
	{"imbot.v2.Chat.get", "imbot", imbotV2ChatGet},
	{"imbot.v2.Chat.add", "imbot", imbotV2ChatAdd},
	{"imbot.v2.Chat.leave", "imbot", imbotV2ChatLeave},
	{"imbot.v2.Chat.User.add", "imbot", imbotV2ChatUserAdd},
	{"imbot.v2.Chat.User.delete", "imbot", imbotV2ChatUserDelete},
	{"imbot.v2.Chat.setOwner", "imbot", imbotV2ChatSetOwner},
	{"imbot.v2.Chat.Manager.add", "imbot", imbotV2ChatManagerAdd},
	{"imbot.v2.Chat.Manager.delete", "imbot", imbotV2ChatManagerDelete},
	{"imbot.v2.Chat.Message.Reaction.add", "imbot", imbotV2ChatMessageReactionAdd},
	{"imbot.v2.Chat.Message.Reaction.delete", "imbot", imbotV2ChatMessageReactionDelete},
	{"imbot.v2.Chat.User.list", "imbot", imbotV2ChatUserList},
	{"imbot.v2.Chat.InputAction.notify", "imbot", imbotV2ChatInputActionNotify},
	{"imbot.v2.Chat.TextField.enabled", "imbot", imbotV2ChatTextFieldEnabled},
	{"imbot.v2.Command.register", "imbot", imbotV2CommandRegister},
	{"imbot.v2.Command.update", "imbot", imbotV2CommandUpdate},
	{"imbot.v2.Command.list", "imbot", imbotV2CommandList},
	{"imbot.v2.Command.unregister", "imbot", imbotV2CommandUnregister},
	{"imbot.v2.Command.answer", "imbot", imbotV2CommandAnswer},
	{"imbot.v2.File.upload", "imbot", imbotV2FileUpload},
	{"imbot.v2.File.download", "imbot", imbotV2FileDownload},
}

// imbotV2RevisionGet implements imbot.v2.Revision.get.
func imbotV2RevisionGet(c *Request) (Result, error) {
	// revision-get.md: rest 33 in the sample; the fake follows 36.
	return ok(map[string]any{"rest": V2RESTRevision, "web": 130, "mobile": 23, "desktop": 6})
}

// imbotV2BotGet implements imbot.v2.Bot.get.
func imbotV2BotGet(c *Request) (Result, error) {
	var b *v2bot
	if code := c.params.String("code"); code != "" && ciGet(c.params, "botId") == nil {
		if c.auth.kind == AuthWebhook && c.params.String("botToken") == "" {
			return Result{}, v2err(400, "BOT_TOKEN_NOT_SPECIFIED", "Bot token is not specified")
		}
		for _, x := range c.s.v2.bots {
			if x.code == code && x.owner == c.v2owner() && (c.auth.kind != AuthWebhook || x.token == c.params.String("botToken")) {
				b = x
			}
		}
		if b == nil {
			return Result{}, v2err(404, "BOT_NOT_FOUND", "Bot not found")
		}
	} else {
		var e *APIError
		if b, e = c.v2bot(); e != nil {
			return Result{}, e
		}
	}
	return ok(map[string]any{"bot": c.s.v2botObject(b), "users": []any{c.s.v2user(b.id)}})
}

// imbotV2BotList implements imbot.v2.Bot.list.
func imbotV2BotList(c *Request) (Result, error) {
	if c.auth.kind == AuthWebhook && c.params.String("botToken") == "" {
		return Result{}, v2err(400, "BOT_TOKEN_NOT_SPECIFIED", "Bot token is not specified")
	}
	typ := ""
	if f := ciMap(c.params, "filter"); f != nil {
		typ = f.String("type")
	}
	var ids []int
	for id, b := range c.s.v2.bots {
		if b.owner == c.v2owner() && (typ == "" || b.typ == typ) {
			ids = append(ids, id)
		}
	}
	sort.Ints(ids)
	limit, offset := toInt(ciGet(c.params, "limit")), toInt(ciGet(c.params, "offset"))
	if limit <= 0 {
		limit = 50
	}
	from, to := min(offset, len(ids)), min(offset+limit, len(ids))
	bots, users := []any{}, []any{}
	for _, id := range ids[from:to] {
		bots = append(bots, c.s.v2botObject(c.s.v2.bots[id]))
		users = append(users, c.s.v2user(id))
	}
	return ok(map[string]any{"bots": bots, "users": users, "hasNextPage": to < len(ids)})
}

// imbotV2BotUnregister implements imbot.v2.Bot.unregister.
func imbotV2BotUnregister(c *Request) (Result, error) {
	b, e := c.v2bot()
	if e != nil {
		return Result{}, e
	}
	// ONIMBOTV2DELETE is the last event the bot gets (events.md).
	*c.out = append(*c.out, c.s.v2emit(b, "ONIMBOTV2DELETE", map[string]any{})...)
	delete(c.s.v2.bots, b.id)
	for id, x := range c.s.v2.commands {
		if x.botID == b.id {
			delete(c.s.v2.commands, id)
		}
	}
	return ok(map[string]any{"result": true})
}

// imbotV2ChatMessageUpdate implements imbot.v2.Chat.Message.update.
func imbotV2ChatMessageUpdate(c *Request) (Result, error) {
	b, m, e := c.v2ownMessage()
	if e != nil {
		return Result{}, e
	}
	f := ciMap(c.params, "fields")
	if f == nil {
		return Result{}, v2err(400, "FIELDS_REQUIRED", "fields are required")
	}
	if v, ok := f.Get("message"); ok {
		m.text, _ = phpform.LeafString(v)
	}
	if v, ok := f.Get("keyboard"); ok {
		m.keyboard = plainJSON(v)
	}
	if v, ok := f.Get("attach"); ok {
		m.attach = plainJSON(v)
	}
	m.edited = true
	_ = b
	return ok(map[string]any{"result": true})
}

// imbotV2ChatMessageDelete implements imbot.v2.Chat.Message.delete.
func imbotV2ChatMessageDelete(c *Request) (Result, error) {
	_, m, e := c.v2ownMessage()
	if e != nil {
		return Result{}, e
	}
	m.deleted = true
	if v2bool(ciGet(c.params, "complete"), false) {
		delete(c.s.im.messages, m.id)
	}
	return ok(map[string]any{"result": true})
}

// imbotV2ChatMessageGet implements imbot.v2.Chat.Message.get.
func imbotV2ChatMessageGet(c *Request) (Result, error) {
	b, e := c.v2bot()
	if e != nil {
		return Result{}, e
	}
	if b.typ != "supervisor" && b.typ != "personal" {
		return Result{}, v2err(403, "ACCESS_DENIED", "Only supervisor and personal bots may read messages")
	}
	m := c.s.im.messages[toInt(ciGet(c.params, "messageId"))]
	if m == nil || m.deleted || !containsInt(c.s.im.chats[m.chatID].users, b.id) {
		return Result{}, v2err(404, "MESSAGE_NOT_FOUND", "Message not found")
	}
	return ok(map[string]any{"message": c.s.v2message(m), "user": c.s.v2user(m.authorID)})
}

// imbotV2ChatMessageRead implements imbot.v2.Chat.Message.read.
func imbotV2ChatMessageRead(c *Request) (Result, error) {
	b, ch, e := c.v2chatOf(true)
	if e != nil {
		return Result{}, e
	}
	var ids []int
	for id, m := range c.s.im.messages {
		if m.chatID == ch.id && m.authorID != b.id && !m.deleted {
			ids = append(ids, id)
		}
	}
	sort.Ints(ids)
	last := 0
	if len(ids) > 0 {
		last = ids[len(ids)-1]
	}
	return ok(map[string]any{"chatId": ch.id, "lastId": last, "counter": 0, "viewedMessages": ids})
}

// imbotV2ChatGet implements imbot.v2.Chat.get.
func imbotV2ChatGet(c *Request) (Result, error) {
	b, ch, e := c.v2chatOf(true)
	if e != nil {
		return Result{}, e
	}
	return ok(map[string]any{"chat": c.s.v2chat(ch, b.id, true)})
}

// imbotV2ChatAdd implements imbot.v2.Chat.add.
func imbotV2ChatAdd(c *Request) (Result, error) {
	b, e := c.v2bot()
	if e != nil {
		return Result{}, e
	}
	f := ciMap(c.params, "fields")
	ch := &chat{typ: "C", owner: b.id, users: []int{b.id}, created: c.s.now()}
	if f != nil {
		ch.title, ch.description, ch.color = f.String("title"), f.String("description"), f.String("color")
		if o := toInt(ciGet(f, "ownerId")); o > 0 {
			ch.owner = o
		}
		for _, v := range listValues(ciGet(f, "userIds")) {
			if id := toInt(v); id > 0 && !containsInt(ch.users, id) {
				ch.users = append(ch.users, id)
			}
		}
	}
	c.s.im.nextChat++
	ch.id = c.s.im.nextChat
	c.s.im.chats[ch.id] = ch
	users := []any{}
	for _, u := range ch.users {
		users = append(users, c.s.v2user(u))
	}
	return ok(map[string]any{"chat": c.s.v2chat(ch, b.id, true), "users": users})
}

// imbotV2ChatLeave implements imbot.v2.Chat.leave.
func imbotV2ChatLeave(c *Request) (Result, error) {
	b, ch, e := c.v2chatOf(true)
	if e != nil {
		return Result{}, e
	}
	ch.users = removeInt(ch.users, b.id)
	return ok(map[string]any{"result": true})
}

// imbotV2ChatUserList implements imbot.v2.Chat.User.list.
func imbotV2ChatUserList(c *Request) (Result, error) {
	_, ch, e := c.v2chatOf(true)
	if e != nil {
		return Result{}, e
	}
	ids := slices.Clone(ch.users)
	sort.Ints(ids)
	if o := ciMap(c.params, "order"); o != nil && strings.EqualFold(o.String("id"), "DESC") {
		slices.Reverse(ids)
	}
	limit := toInt(ciGet(c.params, "limit"))
	if limit <= 0 {
		limit = 50
	}
	out := []any{}
	for _, id := range ids[:min(limit, len(ids))] {
		out = append(out, c.s.v2user(id))
	}
	return ok(out)
}

// imbotV2ChatInputActionNotify implements imbot.v2.Chat.InputAction.notify.
func imbotV2ChatInputActionNotify(c *Request) (Result, error) {
	if _, _, e := c.v2chatOf(true); e != nil {
		return Result{}, e
	}
	if d := toInt(ciGet(c.params, "duration")); ciGet(c.params, "duration") != nil && (d < 1 || d > 600) {
		return Result{}, v2err(400, "INVALID_DURATION", "Duration must be 1-600")
	}
	return ok(map[string]any{"result": true})
}

// imbotV2ChatTextFieldEnabled implements imbot.v2.Chat.TextField.enabled.
func imbotV2ChatTextFieldEnabled(c *Request) (Result, error) {
	if _, _, e := c.v2chatOf(true); e != nil {
		return Result{}, e
	}
	return ok(map[string]any{"result": true})
}

// imbotV2CommandUpdate implements imbot.v2.Command.update.
func imbotV2CommandUpdate(c *Request) (Result, error) {
	_, x, e := c.v2command()
	if e != nil {
		return Result{}, e
	}
	f := ciMap(c.params, "fields")
	if f == nil {
		return Result{}, v2err(400, "FIELDS_REQUIRED", "fields are required")
	}
	if v := f.String("command"); v != "" {
		x.command = strings.TrimPrefix(v, "/")
	}
	for key, dst := range map[string]map[string]string{"title": x.title, "params": x.params} {
		if m := f.Map(key); m != nil {
			for _, l := range m.Keys() {
				if v, _ := m.Get(l); v == nil {
					delete(dst, l)
				} else {
					dst[l] = m.String(l)
				}
			}
		}
	}
	x.common = v2bool(ciGet(f, "common"), x.common)
	x.hidden = v2bool(ciGet(f, "hidden"), x.hidden)
	x.extranet = v2bool(ciGet(f, "extranetSupport"), x.extranet)
	return ok(map[string]any{"command": x.view(false)})
}

// imbotV2CommandList implements imbot.v2.Command.list.
func imbotV2CommandList(c *Request) (Result, error) {
	b, e := c.v2bot()
	if e != nil {
		return Result{}, e
	}
	var ids []int
	for id, x := range c.s.v2.commands {
		if x.botID == b.id {
			ids = append(ids, id)
		}
	}
	sort.Ints(ids)
	out := []any{}
	for _, id := range ids {
		out = append(out, c.s.v2.commands[id].view(true))
	}
	return ok(map[string]any{"commands": out})
}

// imbotV2CommandUnregister implements imbot.v2.Command.unregister.
func imbotV2CommandUnregister(c *Request) (Result, error) {
	_, x, e := c.v2command()
	if e != nil {
		return Result{}, e
	}
	delete(c.s.v2.commands, x.id)
	return ok(map[string]any{"result": true})
}

// imbotV2CommandAnswer implements imbot.v2.Command.answer.
func imbotV2CommandAnswer(c *Request) (Result, error) {
	b, x, e := c.v2command()
	if e != nil {
		return Result{}, e
	}
	_, ch, e := c.v2chatOf(true)
	if e != nil {
		return Result{}, e
	}
	if c.s.im.messages[toInt(ciGet(c.params, "messageId"))] == nil {
		return Result{}, v2err(404, "MESSAGE_NOT_FOUND", "Message not found")
	}
	m, e := c.v2post(b, ch)
	if e != nil {
		return Result{}, e
	}
	c.s.v2.answers = append(c.s.v2.answers, V2Message{ID: m.id, BotID: b.id, ChatID: ch.id, DialogID: c.params.String("dialogId"), Text: m.text, CommandID: x.id})
	return ok(map[string]any{"result": true})
}

// imbotV2FileUpload implements imbot.v2.File.upload.
func imbotV2FileUpload(c *Request) (Result, error) {
	b, ch, e := c.v2chatOf(true)
	if e != nil {
		return Result{}, e
	}
	f := ciMap(c.params, "fields")
	if f == nil || f.String("name") == "" || f.String("content") == "" {
		return Result{}, v2err(400, "FILE_REQUIRED", "fields.name and fields.content are required")
	}
	c.s.im.nextMsg++
	m := &message{id: c.s.im.nextMsg, chatID: ch.id, authorID: b.id, text: f.String("message")}
	c.s.im.messages[m.id] = m
	fid := c.s.seq("file")
	c.s.v2.files[fid] = f.String("name")
	name := f.String("name")
	ext := ""
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		ext = strings.ToLower(name[i+1:])
	}
	return ok(map[string]any{
		"file":      map[string]any{"id": fid, "chatId": ch.id, "name": name, "extension": ext, "size": len(f.String("content")) * 3 / 4},
		"messageId": m.id, "chatId": ch.id, "dialogId": v2dialog(ch, b.id),
	})
}

// imbotV2FileDownload implements imbot.v2.File.download.
func imbotV2FileDownload(c *Request) (Result, error) {
	if _, e := c.v2bot(); e != nil {
		return Result{}, e
	}
	id := toInt(ciGet(c.params, "fileId"))
	if c.s.v2.files[id] == "" {
		return Result{}, v2err(404, "FILE_NOT_FOUND", "File not found")
	}
	return ok(map[string]any{"downloadUrl": c.s.base + "/rest/download.json?token=imbot%7C" + randHex(8)})
}

// imbotV2ChatMessageReactionAdd implements imbot.v2.Chat.Message.Reaction.add.
func imbotV2ChatMessageReactionAdd(c *Request) (Result, error) { return c.v2reaction() }

// imbotV2ChatMessageReactionDelete implements imbot.v2.Chat.Message.Reaction.delete.
func imbotV2ChatMessageReactionDelete(c *Request) (Result, error) { return c.v2reaction() }

// v2reaction checks a reaction call; the fake keeps no reactions a bot sets.
func (c *Request) v2reaction() (Result, error) {
	b, e := c.v2bot()
	if e != nil {
		return Result{}, e
	}
	m := c.s.im.messages[toInt(ciGet(c.params, "messageId"))]
	if m == nil || m.deleted || !containsInt(c.s.im.chats[m.chatID].users, b.id) {
		return Result{}, v2err(404, "MESSAGE_NOT_FOUND", "Message not found")
	}
	if c.params.String("reaction") == "" {
		return Result{}, v2err(400, "REACTION_REQUIRED", "Reaction is required")
	}
	return ok(map[string]any{"result": true})
}

// imbotV2ChatUserAdd implements imbot.v2.Chat.User.add.
func imbotV2ChatUserAdd(c *Request) (Result, error) {
	return c.v2userOp(true, func(ch *chat, ids []int) *APIError {
		for _, id := range ids {
			c.s.ensureUser(id)
			if !containsInt(ch.users, id) {
				ch.users = append(ch.users, id)
			}
		}
		return nil
	})
}

// imbotV2ChatUserDelete implements imbot.v2.Chat.User.delete.
func imbotV2ChatUserDelete(c *Request) (Result, error) {
	return c.v2userOp(false, func(ch *chat, ids []int) *APIError {
		ch.users = removeInt(ch.users, ids[0])
		return nil
	})
}

// imbotV2ChatSetOwner implements imbot.v2.Chat.setOwner.
func imbotV2ChatSetOwner(c *Request) (Result, error) {
	return c.v2userOp(false, func(ch *chat, ids []int) *APIError {
		if !containsInt(ch.users, ids[0]) {
			return v2err(400, "USER_NOT_IN_CHAT", "User is not a member of the chat")
		}
		ch.owner = ids[0]
		return nil
	})
}

// imbotV2ChatManagerAdd implements imbot.v2.Chat.Manager.add (the fake
// keeps no managers).
func imbotV2ChatManagerAdd(c *Request) (Result, error) {
	return c.v2userOp(true, func(*chat, []int) *APIError { return nil })
}

// imbotV2ChatManagerDelete implements imbot.v2.Chat.Manager.delete.
func imbotV2ChatManagerDelete(c *Request) (Result, error) {
	return c.v2userOp(true, func(*chat, []int) *APIError { return nil })
}

// v2userOp runs op on the chat and the user ids of the call (userIds when
// many, else userId) after checking the bot is a member.
func (c *Request) v2userOp(many bool, op func(ch *chat, ids []int) *APIError) (Result, error) {
	_, ch, e := c.v2chatOf(true)
	if e != nil {
		return Result{}, e
	}
	var ids []int
	if many {
		for _, v := range listValues(ciGet(c.params, "userIds")) {
			ids = append(ids, toInt(v))
		}
	} else {
		ids = []int{toInt(ciGet(c.params, "userId"))}
	}
	if len(ids) == 0 || slices.Contains(ids, 0) {
		return Result{}, v2err(400, "USER_ID_REQUIRED", "User IDs are required")
	}
	if e := op(ch, ids); e != nil {
		return Result{}, e
	}
	return ok(map[string]any{"result": true})
}

// imbotV2BotRegister implements imbot.v2.Bot.register.
func imbotV2BotRegister(c *Request) (Result, error) {
	f := ciMap(c.params, "fields")
	if f == nil {
		return Result{}, v2err(400, "BOT_CODE_REQUIRED", "Bot code is required")
	}
	token, e := c.v2registerToken(f)
	if e != nil {
		return Result{}, e
	}
	code := f.String("code")
	if code == "" {
		return Result{}, v2err(400, "BOT_CODE_REQUIRED", "Bot code is required")
	}
	props := map[string]string{}
	if pm := f.Map("properties"); pm != nil {
		for _, k := range pm.Keys() {
			props[k] = pm.String(k)
		}
	}
	if props["name"] == "" {
		return Result{}, v2err(400, "BOT_PROPERTIES_REQUIRED", "Bot properties are required")
	}
	owner := c.v2owner()
	for _, b := range c.s.v2.bots {
		if b.code == code {
			if b.owner == owner && (c.auth.kind != AuthWebhook || b.token == token) {
				return ok(map[string]any{"bot": c.s.v2botObject(b), "users": []any{c.s.v2user(b.id)}})
			}
			return Result{}, v2err(400, "BOT_CODE_ALREADY_TAKEN", "Bot code is already taken")
		}
	}
	typ := f.String("type")
	if typ == "" {
		typ = "bot"
	}
	if !slices.Contains([]string{"bot", "network", "openline", "supervisor", "personal"}, typ) {
		return Result{}, v2err(400, "BOT_INVALID_TYPE", "Invalid bot type")
	}
	mode, hook, e := v2eventMode(f)
	if e != nil {
		return Result{}, e
	}
	n := 0
	for _, b := range c.s.v2.bots {
		if b.owner == owner {
			n++
		}
	}
	if n >= 100 { // bot-register.md: BOT_LIMIT_EXCEEDED (100 bots)
		return Result{}, v2err(400, "BOT_LIMIT_EXCEEDED", "Bot limit exceeded")
	}
	id := c.s.seq("user")
	c.s.users[id] = &user{ID: id, Name: props["name"], LastName: props["lastName"], IsBot: true, Active: true, Position: props["workPosition"], Gender: props["gender"]}
	b := &v2bot{id: id, code: code, typ: typ, mode: mode, webhookURL: hook, owner: owner, props: props,
		hidden: v2bool(ciGet(f, "isHidden"), false), reactions: v2bool(ciGet(f, "isReactionsEnabled"), true),
		openline: v2bool(ciGet(f, "isSupportOpenline"), false), background: v2background(f.String("backgroundId"))}
	if c.auth.kind == AuthWebhook {
		b.token = token
		b.appToken = randHex(16)
	} else {
		b.appToken = c.s.app.ApplicationToken
	}
	c.s.v2.bots[id] = b
	return ok(map[string]any{"bot": c.s.v2botObject(b), "users": []any{c.s.v2user(id)}})
}

// v2registerToken reads fields.botToken, which a bot registered through an
// inbound webhook needs.
func (c *Request) v2registerToken(f *phpform.Map) (string, *APIError) {
	token := f.String("botToken")
	if c.auth.kind != AuthWebhook {
		return token, nil
	}
	if token == "" {
		// bot-register.md passes botToken in fields; quick-start.md at
		// the top level. The fake takes fields.botToken only.
		return "", v2err(400, "BOT_TOKEN_NOT_SPECIFIED", "Bot token is not specified")
	}
	if len([]rune(token)) > 40 { // change-log.md BOT-BC-0506-1 (from 06.08.2026)
		return "", v2err(400, "BOT_TOKEN_INVALID_LENGTH", "Bot token must not be longer than 40 characters")
	}
	return token, nil
}

// v2eventMode reads fields.eventMode (default fetch) and, for webhook,
// fields.webhookUrl.
func v2eventMode(f *phpform.Map) (mode, hook string, e *APIError) {
	mode = f.String("eventMode")
	if mode == "" {
		mode = "fetch"
	}
	if mode != "fetch" && mode != "webhook" {
		return "", "", v2err(400, "BOT_INVALID_EVENT_MODE", "Invalid event mode")
	}
	hook = f.String("webhookUrl")
	if mode == "webhook" {
		if hook == "" {
			return "", "", v2err(400, "BOT_WEBHOOK_URL_REQUIRED", "Webhook URL is required")
		}
		if !validURL(hook) {
			return "", "", v2err(400, "BOT_INVALID_CALLBACK", "Invalid callback URL")
		}
	}
	return mode, hook, nil
}

// imbotV2BotUpdate implements imbot.v2.Bot.update.
func imbotV2BotUpdate(c *Request) (Result, error) {
	b, e := c.v2bot()
	if e != nil {
		return Result{}, e
	}
	f := ciMap(c.params, "fields")
	if f == nil {
		return Result{}, v2err(400, "FIELDS_REQUIRED", "fields are required")
	}
	if pm := f.Map("properties"); pm != nil {
		for _, k := range pm.Keys() {
			b.props[k] = pm.String(k)
		}
		if u := c.s.users[b.id]; u != nil {
			u.Name, u.LastName = b.props["name"], b.props["lastName"]
		}
	}
	b.hidden = v2bool(ciGet(f, "isHidden"), b.hidden)
	b.reactions = v2bool(ciGet(f, "isReactionsEnabled"), b.reactions)
	b.openline = v2bool(ciGet(f, "isSupportOpenline"), b.openline)
	if v, ok := f.Get("backgroundId"); ok {
		s, _ := phpform.LeafString(v)
		b.background = v2background(s)
	}
	if mode := f.String("eventMode"); mode != "" {
		if mode != "fetch" && mode != "webhook" {
			return Result{}, v2err(400, "BOT_INVALID_EVENT_MODE", "Invalid event mode")
		}
		hook := f.String("webhookUrl")
		if mode == "webhook" && hook == "" && b.webhookURL == "" {
			return Result{}, v2err(400, "BOT_WEBHOOK_URL_REQUIRED", "Webhook URL is required")
		}
		b.mode = mode
		if mode == "fetch" {
			b.webhookURL = "" // BOT-FIX-0501-1: subscriptions are dropped
		}
	}
	if hook := f.String("webhookUrl"); hook != "" {
		if !validURL(hook) {
			return Result{}, v2err(400, "BOT_INVALID_CALLBACK", "Invalid callback URL")
		}
		b.webhookURL = hook
	}
	if tok := f.String("botToken"); tok != "" {
		if len([]rune(tok)) > 40 { // change-log.md BOT-NEW-0501-2
			return Result{}, v2err(400, "BOT_TOKEN_INVALID_LENGTH", "Bot token must not be longer than 40 characters")
		}
		for _, x := range c.s.v2.bots {
			if x != b && x.owner == b.owner && x.token == tok {
				return Result{}, v2err(400, "BOT_TOKEN_ROTATION_FAILED", "Bot token collision")
			}
		}
		b.token = tok
	}
	return ok(map[string]any{"bot": c.s.v2botObject(b), "users": []any{c.s.v2user(b.id)}})
}

// imbotV2EventGet serves a fetch-mode bot's queue: offset confirms (drops)
// every event below it; the answer holds up to limit events from the
// cursor on, nextOffset and hasMore (imbot.v2/events/event-get.md).
func imbotV2EventGet(c *Request) (Result, error) {
	b, e := c.v2bot()
	if e != nil {
		return Result{}, e
	}
	if b.mode != "fetch" {
		return Result{}, v2err(400, "BOT_EVENT_MODE_NOT_FETCH", "The bot delivers its events by webhook")
	}
	if v2bool(ciGet(c.params, "withUserEvents"), false) {
		// im.v2.Event.subscribe is not modelled: refuse rather than invent.
		return Result{}, v2err(400, "USER_NOT_SUBSCRIBED", "User not subscribed")
	}
	limit := 100
	if v := ciGet(c.params, "limit"); v != nil {
		limit = toInt(v)
		if limit < 1 || limit > 1000 {
			return Result{}, v2err(400, "INVALID_LIMIT", "limit must be 1-1000")
		}
	}
	offset := int64(toInt(ciGet(c.params, "offset")))
	i := 0
	for i < len(b.queue) && b.queue[i].id < offset {
		i++
	}
	b.queue = b.queue[i:]
	n := min(limit, len(b.queue))
	evs := make([]any, 0, n)
	for _, ev := range b.queue[:n] {
		evs = append(evs, map[string]any{"eventId": ev.id, "type": ev.typ, "date": ev.date.Format(time.RFC3339), "data": ev.data})
	}
	next := offset
	if n > 0 {
		next = b.queue[n-1].id + 1
	} else if next == 0 {
		next = c.s.v2.nextEvent + 1
	}
	return ok(map[string]any{"events": evs, "nextOffset": next, "hasMore": n < len(b.queue)})
}

// imbotV2ChatMessageSend implements imbot.v2.Chat.Message.send.
func imbotV2ChatMessageSend(c *Request) (Result, error) {
	b, ch, e := c.v2chatOf(true)
	if e != nil {
		return Result{}, e
	}
	m, e := c.v2post(b, ch)
	if e != nil {
		return Result{}, e
	}
	uuids := map[string]any{}
	if f := ciMap(c.params, "fields"); f != nil {
		if fw := f.Map("forwardIds"); fw != nil {
			for _, k := range fw.Keys() {
				c.s.im.nextMsg++
				uuids[k] = c.s.im.nextMsg
			}
		}
	}
	return ok(map[string]any{"id": m.id, "uuidMap": uuids})
}

// imbotV2CommandRegister implements imbot.v2.Command.register.
func imbotV2CommandRegister(c *Request) (Result, error) {
	b, e := c.v2bot()
	if e != nil {
		return Result{}, e
	}
	f := ciMap(c.params, "fields")
	if f == nil {
		f = c.params // legacy flat format until 30.09.2026 (change-log.md BOT-BC-0330-1)
	}
	name := strings.TrimPrefix(f.String("command"), "/")
	if name == "" || !commandRE.MatchString(name) {
		return Result{}, v2err(400, "COMMAND_REQUIRED", "Command is required")
	}
	hidden := v2bool(ciGet(f, "hidden"), false)
	title, params := map[string]string{}, map[string]string{}
	for key, dst := range map[string]map[string]string{"title": title, "params": params} {
		if m := f.Map(key); m != nil {
			for _, l := range m.Keys() {
				dst[l] = m.String(l)
			}
		}
	}
	if !hidden && len(title) == 0 {
		return Result{}, v2err(400, "COMMAND_TITLE_REQUIRED", "Title is required for a visible command")
	}
	for _, x := range c.s.v2.commands {
		if x.botID == b.id && strings.EqualFold(x.command, name) {
			return Result{}, v2err(400, "COMMAND_ALREADY_EXISTS", "Command already exists")
		}
	}
	c.s.v2.nextCmd++
	x := &v2command{id: c.s.v2.nextCmd, botID: b.id, command: name, title: title, params: params, hidden: hidden,
		common: v2bool(ciGet(f, "common"), false), extranet: v2bool(ciGet(f, "extranetSupport"), false)}
	c.s.v2.commands[x.id] = x
	return ok(map[string]any{"command": x.view(false)})
}
