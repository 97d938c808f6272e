package bitrixtest

import (
	"sort"
	"strconv"
	"strings"

	"github.com/b24go/sdk/internal/phpform"
)

var imMethods = []method{
	{"imbot.register", "imbot", imbotRegister},
	{"imbot.unregister", "imbot", imbotUnregister},
	{"imbot.update", "imbot", imbotUpdate},
	{"imbot.bot.list", "imbot", imbotBotList},
	{"imbot.message.add", "imbot", imbotMessageAdd},
	{"imbot.message.update", "imbot", imbotMessageUpdate},
	{"imbot.message.delete", "imbot", imbotMessageDelete},
	{"imbot.message.like", "imbot", imbotMessageLike},
	{"imbot.chat.sendtyping", "imbot", imbotChatSendtyping},
	{"imbot.command.register", "imbot", imbotCommandRegister},
	{"imbot.command.unregister", "imbot", imbotCommandUnregister},
	{"imbot.command.update", "imbot", imbotCommandUpdate},
	{"imbot.command.answer", "imbot", imbotCommandAnswer},
	{"imbot.dialog.get", "imbot", imbotDialogGet},
	{"imbot.chat.add", "imbot", imbotChatAdd},
	{"imbot.chat.get", "imbot", imbotChatGet},
	{"imbot.chat.user.add", "imbot", imbotChatUserAdd},
	{"imbot.chat.user.delete", "imbot", imbotChatUserDelete},
	{"imbot.chat.user.list", "imbot", imbotChatUserList},
	{"imbot.chat.leave", "imbot", imbotChatLeave},
	{"imbot.chat.updatetitle", "imbot", imbotChatUpdatetitle},
	{"imbot.chat.setowner", "imbot", imbotChatSetowner},
}

// imbotUnregister implements imbot.unregister.
func imbotUnregister(c *Request) (Result, error) {
	b, e := c.botFor(true)
	if e != nil {
		return Result{}, e
	}
	c.s.removeBot(b.id)
	return ok(true)
}

// imbotUpdate implements imbot.update.
func imbotUpdate(c *Request) (Result, error) {
	b, e := c.botFor(true)
	if e != nil {
		return Result{}, e
	}
	f := ciMap(c.params, "FIELDS")
	if f.Len() == 0 {
		return Result{}, errf(400, "WRONG_REQUEST", "Update fields can't be empty")
	}
	if v := ciString(f, "CODE"); v != "" {
		b.code = v
	}
	for _, k := range []string{"MESSAGE_ADD", "MESSAGE_UPDATE", "MESSAGE_DELETE", "WELCOME_MESSAGE", "BOT_DELETE"} {
		v := ciString(f, "EVENT_"+k)
		if v == "" {
			v = ciString(f, "EVENT_HANDLER")
		}
		if v != "" {
			if !validURL(v) {
				return Result{}, errf(400, "EVENT_"+k+"_ERROR", "Wrong handler URL")
			}
			b.handlers[k] = withClientID(v, b.clientID)
		}
	}
	if pm := ciMap(f, "PROPERTIES"); pm != nil {
		for _, k := range pm.Keys() {
			b.props[strings.ToUpper(k)] = pm.String(k)
		}
		u := c.s.users[b.id]
		u.Name, u.LastName = b.props["NAME"], b.props["LAST_NAME"]
	}
	return ok(true)
}

// imbotBotList implements imbot.bot.list.
func imbotBotList(c *Request) (Result, error) {
	ids := make([]int, 0, len(c.s.im.bots))
	for id := range c.s.im.bots {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	out := phpform.NewMap()
	for _, id := range ids {
		b := c.s.im.bots[id]
		m := phpform.NewMap()
		m.Set("ID", id)
		m.Set("NAME", strings.TrimSpace(b.props["NAME"]+" "+b.props["LAST_NAME"]))
		m.Set("CODE", b.code)
		m.Set("OPENLINE", b.openline)
		out.Set(strconv.Itoa(id), m)
	}
	if out.Len() == 0 {
		return ok(phpform.NewMap())
	}
	return ok(keyedObject{out})
}

// imbotMessageUpdate implements imbot.message.update.
func imbotMessageUpdate(c *Request) (Result, error) {
	b, m, e := c.botMessage()
	if e != nil {
		return Result{}, e
	}
	_ = b
	if ciHas(c.params, "MESSAGE") {
		text := strings.TrimSpace(ciString(c.params, "MESSAGE"))
		if text == "" {
			m.deleted = true
		}
		m.text = text
	}
	for k, dst := range map[string]*any{"ATTACH": &m.attach, "KEYBOARD": &m.keyboard, "MENU": &m.menu} {
		if ciHas(c.params, k) {
			v := ciGet(c.params, k)
			if s, isStr := v.(string); isStr && (s == "" || s == "N") {
				*dst = nil
			} else {
				*dst = plainValue(v)
			}
		}
	}
	m.edited = true
	return ok(true)
}

// imbotMessageDelete implements imbot.message.delete.
func imbotMessageDelete(c *Request) (Result, error) {
	_, m, e := c.botMessage()
	if e != nil {
		return Result{}, e
	}
	m.deleted = true
	if strings.EqualFold(ciString(c.params, "COMPLETE"), "Y") {
		delete(c.s.im.messages, m.id)
	}
	return ok(true)
}

// imbotMessageLike implements imbot.message.like.
func imbotMessageLike(c *Request) (Result, error) {
	b, e := c.botFor(false)
	if e != nil {
		return Result{}, e
	}
	m := c.s.im.messages[ciInt(c.params, "MESSAGE_ID")]
	if m == nil {
		return Result{}, errf(400, "MESSAGE_ID_ERROR", "Message ID can't be empty")
	}
	if m.likes == nil {
		m.likes = map[int]bool{}
	}
	action := strings.ToLower(ciString(c.params, "ACTION"))
	had := m.likes[b.id]
	switch action {
	case "plus":
		if had {
			return Result{}, errf(400, "WITHOUT_CHANGES", "Action completed without changes")
		}
		m.likes[b.id] = true
	case "minus":
		if !had {
			return Result{}, errf(400, "WITHOUT_CHANGES", "Action completed without changes")
		}
		delete(m.likes, b.id)
	default:
		if had {
			delete(m.likes, b.id)
		} else {
			m.likes[b.id] = true
		}
	}
	return ok(true)
}

// imbotChatSendtyping implements imbot.chat.sendtyping.
func imbotChatSendtyping(c *Request) (Result, error) {
	if _, e := c.botFor(false); e != nil {
		return Result{}, e
	}
	if ciString(c.params, "DIALOG_ID") == "" {
		return Result{}, errf(400, "DIALOG_ID_EMPTY", "Dialog ID can't be empty")
	}
	return ok(true)
}

// imbotCommandRegister implements imbot.command.register.
func imbotCommandRegister(c *Request) (Result, error) {
	b, e := c.botFor(true)
	if e != nil {
		return Result{}, e
	}
	cmd := strings.TrimPrefix(ciString(c.params, "COMMAND"), "/")
	if cmd == "" || !commandRE.MatchString(cmd) {
		return Result{}, errf(400, "COMMAND_ERROR", "Command isn't specified")
	}
	h := ciString(c.params, "EVENT_COMMAND_ADD")
	if h == "" || !validURL(h) {
		return Result{}, errf(400, "EVENT_COMMAND_ADD_ERROR", "Handler for \"Command add\" event isn't specified")
	}
	if ciMap(c.params, "LANG").Len() == 0 {
		return Result{}, errf(400, "LANG_ERROR", "Lang set can't be empty")
	}
	for _, x := range c.s.im.commands {
		if x.botID == b.id && strings.EqualFold(x.command, cmd) {
			return ok(x.id)
		}
	}
	c.s.im.nextCmd++
	x := &command{id: c.s.im.nextCmd, botID: b.id, command: cmd, handler: withClientID(h, b.clientID), common: ciString(c.params, "COMMON"), hidden: ciString(c.params, "HIDDEN"), appID: b.appID, clientID: b.clientID}
	c.s.im.commands[x.id] = x
	return ok(x.id)
}

// imbotCommandUnregister implements imbot.command.unregister.
func imbotCommandUnregister(c *Request) (Result, error) {
	x, e := c.cmdFor()
	if e != nil {
		return Result{}, e
	}
	delete(c.s.im.commands, x.id)
	return ok(true)
}

// imbotCommandUpdate implements imbot.command.update.
func imbotCommandUpdate(c *Request) (Result, error) {
	x, e := c.cmdFor()
	if e != nil {
		return Result{}, e
	}
	f := ciMap(c.params, "FIELDS")
	if f.Len() == 0 {
		return Result{}, errf(400, "WRONG_REQUEST", "Update fields can't be empty")
	}
	if v := ciString(f, "COMMAND"); v != "" {
		x.command = v
	}
	if v := ciString(f, "EVENT_COMMAND_ADD"); v != "" {
		x.handler = withClientID(v, x.clientID)
	}
	if ciHas(f, "HIDDEN") {
		x.hidden = ciString(f, "HIDDEN")
	}
	return ok(true)
}

// imbotCommandAnswer implements imbot.command.answer.
func imbotCommandAnswer(c *Request) (Result, error) {
	x, e := c.cmdFor()
	if e != nil {
		return Result{}, e
	}
	// commands/imbot-command-answer.md documents MESSAGE_ID_EMPTY
	// only; the fake answers it for unknown ids too.
	orig := c.s.im.messages[ciInt(c.params, "MESSAGE_ID")]
	if orig == nil {
		return Result{}, errf(400, "MESSAGE_ID_EMPTY", "Message ID can't be empty")
	}
	m, e := c.s.postBotMessage(c, x.botID, orig.chatID)
	if e != nil {
		return Result{}, e
	}
	return ok(m.id)
}

// imbotDialogGet implements imbot.dialog.get.
func imbotDialogGet(c *Request) (Result, error) {
	ch := c.s.dialogChat(ciString(c.params, "DIALOG_ID"), c.auth.userID, false)
	if ch == nil {
		return Result{}, errf(400, "ACCESS_ERROR", "You do not have access to the specified dialog")
	}
	return ok(c.s.chatView(ch, ciString(c.params, "DIALOG_ID")))
}

// imbotChatAdd implements imbot.chat.add.
func imbotChatAdd(c *Request) (Result, error) {
	b, e := c.botFor(false)
	if e != nil {
		return Result{}, e
	}
	typ := "C"
	if strings.EqualFold(ciString(c.params, "TYPE"), "OPEN") {
		typ = "O"
	}
	c.s.im.nextChat++
	ch := &chat{id: c.s.im.nextChat, typ: typ, title: ciString(c.params, "TITLE"), description: ciString(c.params, "DESCRIPTION"),
		color: ciString(c.params, "COLOR"), owner: b.id, users: []int{b.id}, entityType: ciString(c.params, "ENTITY_TYPE"), entityID: ciString(c.params, "ENTITY_ID"), created: c.now}
	if ch.title == "" {
		ch.title = "Chat " + strconv.Itoa(ch.id)
	}
	for _, u := range listValues(ciGet(c.params, "USERS")) {
		if id := toInt(u); id > 0 && !containsInt(ch.users, id) {
			ch.users = append(ch.users, id)
		}
	}
	c.s.im.chats[ch.id] = ch
	if msg := ciString(c.params, "MESSAGE"); msg != "" {
		c.s.im.nextMsg++
		c.s.im.messages[c.s.im.nextMsg] = &message{id: c.s.im.nextMsg, chatID: ch.id, authorID: b.id, text: msg, system: true}
	}
	return ok(ch.id)
}

// imbotChatGet implements imbot.chat.get.
func imbotChatGet(c *Request) (Result, error) {
	if _, e := c.botFor(false); e != nil {
		return Result{}, e
	}
	// chats/imbot-chat-get.md: {"ID": n}; null when ENTITY_TYPE or
	// ENTITY_ID is missing (and, in the fake, when no chat matches).
	et, eid := ciString(c.params, "ENTITY_TYPE"), ciString(c.params, "ENTITY_ID")
	if et == "" || eid == "" {
		return ok(nil)
	}
	for _, ch := range c.s.im.chats {
		if ch.entityType == et && ch.entityID == eid {
			m := phpform.NewMap()
			m.Set("ID", ch.id)
			return ok(m)
		}
	}
	return ok(nil)
}

// imbotChatUserAdd implements imbot.chat.user.add.
func imbotChatUserAdd(c *Request) (Result, error) {
	_, ch, e := c.chatFor()
	if e != nil {
		return Result{}, e
	}
	for _, u := range listValues(ciGet(c.params, "USERS")) {
		if id := toInt(u); id > 0 && !containsInt(ch.users, id) {
			ch.users = append(ch.users, id)
		}
	}
	return ok(true)
}

// imbotChatUserDelete implements imbot.chat.user.delete.
func imbotChatUserDelete(c *Request) (Result, error) {
	_, ch, e := c.chatFor()
	if e != nil {
		return Result{}, e
	}
	ch.users = removeInt(ch.users, ciInt(c.params, "USER_ID"))
	return ok(true)
}

// imbotChatUserList implements imbot.chat.user.list.
func imbotChatUserList(c *Request) (Result, error) {
	_, ch, e := c.chatFor()
	if e != nil {
		return Result{}, e
	}
	out := []any{}
	for _, u := range ch.users {
		out = append(out, u)
	}
	return ok(out)
}

// imbotChatLeave implements imbot.chat.leave.
func imbotChatLeave(c *Request) (Result, error) {
	b, ch, e := c.chatFor()
	if e != nil {
		return Result{}, e
	}
	ch.users = removeInt(ch.users, b.id)
	return ok(true)
}

// imbotChatUpdatetitle implements imbot.chat.updatetitle.
func imbotChatUpdatetitle(c *Request) (Result, error) {
	_, ch, e := c.chatFor()
	if e != nil {
		return Result{}, e
	}
	ch.title = ciString(c.params, "TITLE")
	return ok(true)
}

// imbotChatSetowner implements imbot.chat.setowner.
func imbotChatSetowner(c *Request) (Result, error) {
	_, ch, e := c.chatFor()
	if e != nil {
		return Result{}, e
	}
	ch.owner = ciInt(c.params, "USER_ID")
	return ok(true)
}

// cmdFor finds the command of COMMAND_ID (or COMMAND) owned by the calling app.
func (c *Request) cmdFor() (*command, *APIError) {
	appID, _, e := c.appIdentity()
	if e != nil {
		return nil, e
	}
	x := c.s.im.commands[ciInt(c.params, "COMMAND_ID")]
	if x == nil && ciString(c.params, "COMMAND") != "" {
		for _, y := range c.s.im.commands {
			if y.appID == appID && strings.EqualFold(y.command, ciString(c.params, "COMMAND")) {
				x = y
			}
		}
	}
	if x == nil {
		return nil, errf(400, "COMMAND_ID_ERROR", "Command not found")
	}
	if x.appID != appID {
		return nil, errf(400, "APP_ID_ERROR", "Command was installed by another REST application")
	}
	return x, nil
}

// chatFor resolves BOT_ID and a group CHAT_ID.
func (c *Request) chatFor() (*bot, *chat, *APIError) {
	b, e := c.botFor(false)
	if e != nil {
		return nil, nil, e
	}
	ch := c.s.im.chats[ciInt(c.params, "CHAT_ID")]
	if ch == nil || ch.typ == "P" {
		return nil, nil, errf(400, "CHAT_ID_EMPTY", "Chat ID can't be empty")
	}
	return b, ch, nil
}

// imbotRegister implements imbot.register.
func imbotRegister(c *Request) (Result, error) {
	appID, cid, e := c.appIdentity()
	if e != nil {
		return Result{}, e
	}
	code := ciString(c.params, "CODE")
	if code == "" {
		return Result{}, errf(400, "CODE_ERROR", "Bot code isn't specified")
	}
	for _, b := range c.s.im.bots {
		if strings.EqualFold(b.code, code) {
			if b.appID == appID {
				return ok(b.id)
			}
			return Result{}, errf(400, "CODE_ERROR", "Bot with this code is already registered")
		}
	}
	h := ciString(c.params, "EVENT_HANDLER")
	get := func(k string) string {
		if v := ciString(c.params, k); v != "" {
			return v
		}
		return h
	}
	handlers := map[string]string{
		"MESSAGE_ADD": get("EVENT_MESSAGE_ADD"), "MESSAGE_UPDATE": get("EVENT_MESSAGE_UPDATE"), "MESSAGE_DELETE": get("EVENT_MESSAGE_DELETE"),
		"WELCOME_MESSAGE": get("EVENT_WELCOME_MESSAGE"), "BOT_DELETE": get("EVENT_BOT_DELETE"),
	}
	for _, k := range []struct{ key, code, name string }{
		{"MESSAGE_ADD", "EVENT_MESSAGE_ADD_ERROR", "Message add"},
		{"WELCOME_MESSAGE", "EVENT_WELCOME_MESSAGE_ERROR", "Welcome message"},
		{"BOT_DELETE", "EVENT_BOT_DELETE_ERROR", "Bot delete"},
	} {
		if handlers[k.key] == "" {
			return Result{}, errf(400, k.code, "Handler for \"%s\" event isn't specified", k.name)
		}
		if !validURL(handlers[k.key]) {
			return Result{}, errf(400, k.code, "Wrong handler URL")
		}
	}
	props := map[string]string{}
	if pm := ciMap(c.params, "PROPERTIES"); pm != nil {
		for _, k := range pm.Keys() {
			props[strings.ToUpper(k)] = pm.String(k)
		}
	}
	if props["NAME"] == "" && props["LAST_NAME"] == "" {
		return Result{}, errf(400, "NAME_ERROR", "Bot name isn't specified")
	}
	n := 0
	for _, b := range c.s.im.bots {
		if b.appID == appID {
			n++
		}
	}
	if n >= c.s.cfg.maxBots {
		return Result{}, errf(400, "MAX_COUNT_ERROR", "Has reached the maximum number of bots for application (max: %d)", c.s.cfg.maxBots)
	}
	typ := strings.ToUpper(ciString(c.params, "TYPE"))
	switch typ {
	case "B", "O", "H", "S":
	default:
		typ = "B"
	}
	openline := "N"
	if typ == "O" || strings.EqualFold(ciString(c.params, "OPENLINE"), "Y") {
		openline = "Y"
	}
	if !(typ == "S" || typ == "O" || openline == "Y") {
		handlers["MESSAGE_UPDATE"], handlers["MESSAGE_DELETE"] = "", ""
	}
	for k, v := range handlers {
		handlers[k] = withClientID(v, cid)
	}
	id := c.s.seq("user")
	c.s.users[id] = &user{ID: id, Name: props["NAME"], LastName: props["LAST_NAME"], IsBot: true, Active: true, Position: props["WORK_POSITION"], Gender: props["PERSONAL_GENDER"]}
	c.s.im.bots[id] = &bot{id: id, code: code, typ: typ, openline: openline, appID: appID, clientID: cid, handlers: handlers, props: props}
	return ok(id)
}

// imbotMessageAdd implements imbot.message.add.
func imbotMessageAdd(c *Request) (Result, error) {
	b, e := c.botFor(false)
	if e != nil {
		return Result{}, e
	}
	var ch *chat
	if from, to := ciInt(c.params, "FROM_USER_ID"), ciInt(c.params, "TO_USER_ID"); from > 0 && to > 0 {
		ch = c.s.privateChat(from, to, true)
	} else {
		d := ciString(c.params, "DIALOG_ID")
		if d == "" {
			return Result{}, errf(400, "DIALOG_ID_EMPTY", "Dialog ID can't be empty")
		}
		// messages/imbot-message-add.md: DIALOG_ID_EMPTY when "a valid
		// DIALOG_ID was not provided".
		ch = c.s.dialogChat(d, b.id, true)
		if ch == nil {
			return Result{}, errf(400, "DIALOG_ID_EMPTY", "Dialog ID can't be empty")
		}
	}
	m, e := c.s.postBotMessage(c, b.id, ch.id)
	if e != nil {
		return Result{}, e
	}
	return ok(m.id)
}
