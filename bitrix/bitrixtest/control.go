package bitrixtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/b24go/sdk/internal/phpform"
)

// ControlRoot is the path of the control API, version 1, on every
// [Server] (and so on cmd/fakeportal): a path no real portal serves. The
// API lets a test in any language do what the Go helpers do: install the
// app, act as a portal user, read the portal's state, move its clock, set
// limits, inject faults and reset it. Requests and answers are JSON; see
// [Server.ControlURL] for the list of calls.
const ControlRoot = controlPrefix + "v1/"

// controlPrefix is the part of ControlRoot shared by every version.
const controlPrefix = "/_bitrixtest/"

// maxControlWait caps the wait parameter of the reading calls.
const maxControlWait = time.Minute

// ctlState is the control API's side of the server: a broadcast of "the
// portal may have changed" for waiting readers.
type ctlState struct {
	mu      sync.Mutex
	changed chan struct{}
}

// notify wakes every reader waiting for a change.
func (c *ctlState) notify() {
	c.mu.Lock()
	if c.changed != nil {
		close(c.changed)
		c.changed = nil
	}
	c.mu.Unlock()
}

// next returns a channel closed at the next notify.
func (c *ctlState) next() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.changed == nil {
		c.changed = make(chan struct{})
	}
	return c.changed
}

// ControlURL returns the base URL of the control API,
// URL()+"/_bitrixtest/v1/". The calls (request and answer bodies are JSON;
// GET parameters go in the query; every answer is an object):
//
//	GET  ""                      portal facts: urls, app credentials, clock
//	POST app/install             {"handler_url"}: install the app, ONAPPINSTALL with tokens
//	POST app/uninstall           {}: ONAPPUNINSTALL, app handlers and tokens dropped
//	GET  bots                    registered bots, v1 and v2
//	POST chats                   {"title","owner_id","members"}: create a group chat
//	POST bots/join               {"bot_id"|"bot_code","chat_id","user_id"}: add a bot to a chat
//	POST bots/open               {"bot_id"|"bot_code","user_id","context"}: v2 context link
//	POST messages/send           {"bot_id"|"bot_code"|"chat_id","from_user_id","text"}: every bot of a chat, v1 and v2
//	POST messages/command        {"bot_id"|"bot_code","chat_id","from_user_id","command","params"}
//	POST messages/edit           {"message_id","text"}: every bot of the chat, v1 and v2
//	POST messages/delete         {"message_id"}
//	POST messages/react          {"message_id","from_user_id","reaction","remove"}: v2
//	GET  messages                ?bot_id|bot_code&chat_id&dialog_id&after&wait: what bots sent
//	GET  crm/items               ?entity_type_id
//	POST crm/items/{add,update,delete}      {"entity_type_id","id","fields","user_id"}
//	GET  lists/elements          ?iblock_id
//	POST lists/elements/{add,update,delete} {"iblock_type_id","iblock_id","element_id","element_code","fields","user_id"}
//	GET  deliveries              ?after&event&wait: events sent, with their outcome
//	GET  clock; POST clock/advance {"by"}; POST clock/set {"time"}
//	POST limits                  {"rate_per_second","rate_burst","operating_limit","method_cost"}
//	POST faults                  {"kind","method","status","code","description","times","latency"}
//	POST faults/rate             {"p","seed","kinds"}; POST faults/latency {"latency"}
//	POST faults/clear            {}
//	POST reset                   {}: see [Server.Reset]
//
// User actions deliver their events before they answer, like the Go
// helpers they call ([Server.SendBotMessage], [Server.InstallApp], ...);
// CRM and list changes run the REST method itself as the user (default
// user 1), so they fire exactly the events the REST call fires. An action
// answers "deliveries_from": the length of the delivery log before it ran
// (GET deliveries?after=<it> lists what it sent), and "delivery_error"
// when a delivery failed (the action itself still happened). Errors
// answer an HTTP error status (4xx for bad input; 500 SEED_FAILED when
// the seed of a reset fails) and {"error": CODE, "error_description":
// text}; a REST method's own error keeps its code and status.
//
// Control requests are not REST calls: no rate limit, fault, latency or
// call log applies to them, and [Server.Requests] counts them. The API
// hands out the portal's secrets (it is a local fake) and has no
// authentication: serve it on loopback only.
//
// Readers take wait=<Go duration> (at most one minute): GET messages and
// GET deliveries then answer as soon as something matches, or with an
// empty list when the wait ends.
//
// The clock calls move the portal's clock ([Server.Advance],
// [Server.SetTime]): an offset on top of its source, [WithClock]'s
// function or time.Now, so they work with either. Token expiry, the rate
// limit, operating-time windows and dates in answers follow it; the Go
// runtime's clock does not move, so latency, delivery timeouts and the
// readers' wait run in real time (or a testing/synctest bubble's).
// clock/advance refuses a negative duration; clock/set takes any time and
// freezes the clock there (clock/advance then moves the frozen time).
func (s *Server) ControlURL() string { return s.base + ControlRoot }

// ctlError is an error answer of the control API.
type ctlError struct {
	status int
	code   string
	desc   string
}

func ctlErrf(status int, code, format string, args ...any) *ctlError {
	return &ctlError{status: status, code: code, desc: fmt.Sprintf(format, args...)}
}

func badArg(format string, args ...any) *ctlError {
	return ctlErrf(http.StatusBadRequest, "INVALID_ARGUMENT", format, args...)
}

type ctlHandler func(s *Server, r *http.Request) (any, *ctlError)

// ctlRoutes maps "METHOD path" (path after ControlRoot) to its handler.
var ctlRoutes = map[string]ctlHandler{
	"GET ":                       ctlInfo,
	"POST app/install":           ctlInstall,
	"POST app/uninstall":         ctlUninstall,
	"GET bots":                   ctlBots,
	"POST chats":                 ctlCreateChat,
	"POST bots/join":             ctlJoin,
	"POST bots/open":             ctlOpen,
	"POST messages/send":         ctlSend,
	"POST messages/command":      ctlCommand,
	"POST messages/edit":         ctlEdit,
	"POST messages/delete":       ctlDelete,
	"POST messages/react":        ctlReact,
	"GET messages":               ctlMessages,
	"GET crm/items":              ctlCRMItems,
	"POST crm/items/add":         ctlCRMWrite("crm.item.add"),
	"POST crm/items/update":      ctlCRMWrite("crm.item.update"),
	"POST crm/items/delete":      ctlCRMWrite("crm.item.delete"),
	"GET lists/elements":         ctlListElements,
	"POST lists/elements/add":    ctlListWrite("lists.element.add"),
	"POST lists/elements/update": ctlListWrite("lists.element.update"),
	"POST lists/elements/delete": ctlListWrite("lists.element.delete"),
	"GET deliveries":             ctlDeliveries,
	"GET clock":                  ctlClock,
	"POST clock/advance":         ctlAdvance,
	"POST clock/set":             ctlSetTime,
	"POST limits":                ctlLimits,
	"POST faults":                ctlFault,
	"POST faults/rate":           ctlFaultRate,
	"POST faults/latency":        ctlFaultLatency,
	"POST faults/clear":          ctlFaultClear,
	"POST reset":                 ctlReset,
}

// serveControl answers the control API under ControlRoot.
func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	rest, versioned := strings.CutPrefix(r.URL.Path, ControlRoot)
	if !versioned && r.URL.Path+"/" == ControlRoot {
		rest, versioned = "", true
	}
	p := strings.Trim(rest, "/")
	h := ctlRoutes[r.Method+" "+p]
	var res any
	var e *ctlError
	switch {
	case !versioned:
		e = ctlErrf(http.StatusNotFound, "NOT_FOUND", "this portal serves control API version 1 at %s", ControlRoot)
	case h != nil:
		res, e = h(s, r)
	case ctlRoutes["GET "+p] != nil || ctlRoutes["POST "+p] != nil:
		e = ctlErrf(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "%s is not allowed on %s%s", r.Method, ControlRoot, p)
	default:
		e = ctlErrf(http.StatusNotFound, "NOT_FOUND", "no control call %s%s (see %s)", ControlRoot, p, ControlRoot)
	}
	if e != nil {
		writeJSON(w, e.status, map[string]string{"error": e.code, "error_description": e.desc})
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// decodeBody reads a JSON object body into v; unknown fields are refused
// so that a misspelt field is an error, not a silent default. An empty
// body is the empty object.
func decodeBody(r *http.Request, v any) *ctlError {
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return badArg("read body: %v", err)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = []byte("{}")
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return ctlErrf(http.StatusBadRequest, "INVALID_JSON", "body: %v", err)
	}
	return nil
}

// queryInt reads an integer query parameter (0 when absent).
func queryInt(r *http.Request, name string) (int, *ctlError) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, badArg("%s must be an integer, not %q", name, v)
	}
	return n, nil
}

// ctlDuration is a Go duration in the control API's JSON ("90s", "1h30m").
type ctlDuration time.Duration

func (d *ctlDuration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New(`a duration is a string such as "90s"`)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = ctlDuration(v)
	return nil
}

// waitParam reads ?wait=<duration>.
func waitParam(r *http.Request) (time.Duration, *ctlError) {
	v := r.URL.Query().Get("wait")
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, badArg("wait must be a duration such as 5s, not %q", v)
	}
	return min(d, maxControlWait), nil
}

// waitFor runs read until it reports a match, the wait ends or the client
// goes away; every portal change (any request served) re-runs it.
func (s *Server) waitFor(r *http.Request, wait time.Duration, read func() bool) {
	if read() || wait <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), wait)
	defer cancel()
	for {
		ch := s.ctl.next()
		if read() {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			read()
			return
		}
	}
}

// ---- portal facts ----

// ctlInfoApp is the app in GET "" (secrets included: it is a local fake).
type ctlInfoApp struct {
	ClientID         string `json:"client_id"`
	ClientSecret     string `json:"client_secret"`
	ApplicationToken string `json:"application_token"`
	MemberID         string `json:"member_id"`
	Domain           string `json:"domain"`
	ClientEndpoint   string `json:"client_endpoint"`
	ServerEndpoint   string `json:"server_endpoint"`
	TokenURL         string `json:"token_url"`
}

func ctlInfo(s *Server, _ *http.Request) (any, *ctlError) {
	a := s.App()
	return map[string]any{
		"api_version": 1,
		"url":         s.URL(),
		"webhook_url": s.WebhookURL(),
		"control_url": s.ControlURL(),
		"app":         ctlInfoApp(a),
		"now":         s.Now().Format(time.RFC3339Nano),
	}, nil
}

// ---- app ----

// actionResult is the common part of an action's answer.
type actionResult struct {
	DeliveriesFrom int    `json:"deliveries_from"`
	DeliveryError  string `json:"delivery_error,omitempty"`
}

func (s *Server) deliveryCount() int {
	s.deliv.mu.Lock()
	defer s.deliv.mu.Unlock()
	return len(s.deliv.list)
}

// act runs f, a user action whose error can only be a delivery error, and
// reports it.
func (s *Server) act(f func() error) actionResult {
	res := actionResult{DeliveriesFrom: s.deliveryCount()}
	if err := f(); err != nil {
		res.DeliveryError = err.Error()
	}
	s.ctl.notify()
	return res
}

func ctlInstall(s *Server, r *http.Request) (any, *ctlError) {
	var req struct {
		HandlerURL string `json:"handler_url"`
	}
	if e := decodeBody(r, &req); e != nil {
		return nil, e
	}
	if req.HandlerURL != "" {
		if u, err := url.Parse(req.HandlerURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, badArg("handler_url must be an http(s) URL")
		}
	}
	var tok Tokens
	res := s.act(func() (err error) {
		tok, err = s.InstallApp(req.HandlerURL)
		return err
	})
	return struct {
		actionResult
		UserID       int    `json:"user_id"`
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		Expires      string `json:"expires"`
	}{res, tok.UserID, tok.AccessToken, tok.RefreshToken, tok.Expires.Format(time.RFC3339)}, nil
}

func ctlUninstall(s *Server, r *http.Request) (any, *ctlError) {
	if e := decodeBody(r, &struct{}{}); e != nil {
		return nil, e
	}
	return s.act(s.UninstallApp), nil
}

// ---- bots and chats ----

// ctlBot is a bot in GET bots.
type ctlBot struct {
	ID         int               `json:"id"`
	Code       string            `json:"code"`
	API        string            `json:"api"` // "v1" (imbot.*) or "v2" (imbot.v2.*)
	Type       string            `json:"type"`
	Handlers   map[string]string `json:"handlers,omitempty"`    // v1
	Commands   []string          `json:"commands,omitempty"`    // v1
	EventMode  string            `json:"event_mode,omitempty"`  // v2: fetch or webhook
	WebhookURL string            `json:"webhook_url,omitempty"` // v2
	Pending    int               `json:"pending,omitempty"`     // v2 fetch mode: unconfirmed events
}

func (s *Server) allBots() []ctlBot {
	var out []ctlBot
	for _, b := range s.Bots() {
		out = append(out, ctlBot{ID: b.ID, Code: b.Code, API: "v1", Type: b.Type, Handlers: b.Handlers, Commands: b.Commands})
	}
	for _, b := range s.V2Bots() {
		out = append(out, ctlBot{ID: b.ID, Code: b.Code, API: "v2", Type: b.Type, EventMode: b.EventMode, WebhookURL: b.WebhookURL, Pending: b.Pending})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func ctlBots(s *Server, _ *http.Request) (any, *ctlError) {
	bots := s.allBots()
	if bots == nil {
		bots = []ctlBot{}
	}
	return map[string]any{"bots": bots}, nil
}

// botRef names a bot by id or code.
type botRef struct {
	BotID   int    `json:"bot_id"`
	BotCode string `json:"bot_code"`
}

// resolveBot finds the bot named by ref.
func (s *Server) resolveBot(ref botRef) (ctlBot, *ctlError) {
	if ref.BotID == 0 && ref.BotCode == "" {
		return ctlBot{}, badArg("bot_id or bot_code is required")
	}
	var hit []ctlBot
	for _, b := range s.allBots() {
		if (ref.BotID != 0 && b.ID == ref.BotID) || (ref.BotID == 0 && b.Code == ref.BotCode) {
			hit = append(hit, b)
		}
	}
	switch len(hit) {
	case 0:
		return ctlBot{}, ctlErrf(http.StatusNotFound, "BOT_NOT_FOUND", "no bot %s", ref)
	case 1:
		return hit[0], nil
	}
	return ctlBot{}, badArg("bot_code %q names a v1 and a v2 bot; use bot_id", ref.BotCode)
}

func (r botRef) String() string {
	if r.BotID != 0 {
		return strconv.Itoa(r.BotID)
	}
	return strconv.Quote(r.BotCode)
}

func ctlCreateChat(s *Server, r *http.Request) (any, *ctlError) {
	var req struct {
		Title   string `json:"title"`
		OwnerID int    `json:"owner_id"`
		Members []int  `json:"members"`
	}
	if e := decodeBody(r, &req); e != nil {
		return nil, e
	}
	if strings.TrimSpace(req.Title) == "" {
		return nil, badArg("title is required")
	}
	if req.OwnerID == 0 {
		req.OwnerID = 1
	}
	id := s.CreateChat(req.Title, req.OwnerID, req.Members...)
	s.ctl.notify()
	return map[string]int{"chat_id": id}, nil
}

// groupChat reports whether chat id exists and is a group chat.
func (s *Server) groupChat(id int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.im.chats[id]
	return ch != nil && ch.typ != "P"
}

func ctlJoin(s *Server, r *http.Request) (any, *ctlError) {
	var req struct {
		botRef
		ChatID int `json:"chat_id"`
		UserID int `json:"user_id"`
	}
	if e := decodeBody(r, &req); e != nil {
		return nil, e
	}
	b, e := s.resolveBot(req.botRef)
	if e != nil {
		return nil, e
	}
	if req.ChatID != 0 && !s.groupChat(req.ChatID) {
		return nil, ctlErrf(http.StatusNotFound, "CHAT_NOT_FOUND", "no group chat %d", req.ChatID)
	}
	if req.UserID == 0 {
		req.UserID = 1
	}
	if b.API == "v1" {
		if req.UserID != 1 {
			return nil, badArg("a v1 bot is added by user 1 (ONIMBOTJOINCHAT names user 1)")
		}
		return s.act(func() error { return s.AddBotToChat(b.ID, req.ChatID) }), nil
	}
	return s.act(func() error { return s.V2AddBotToChat(b.ID, req.ChatID, req.UserID) }), nil
}

func ctlOpen(s *Server, r *http.Request) (any, *ctlError) {
	var req struct {
		botRef
		UserID  int            `json:"user_id"`
		Context map[string]any `json:"context"`
	}
	if e := decodeBody(r, &req); e != nil {
		return nil, e
	}
	b, e := s.resolveBot(req.botRef)
	if e != nil {
		return nil, e
	}
	if b.API != "v2" {
		return nil, badArg("bots/open is for v2 bots (ONIMBOTV2CONTEXTGET); bot %d is v1", b.ID)
	}
	if req.UserID == 0 {
		req.UserID = 1
	}
	return s.act(func() error { return s.V2OpenWithContext(b.ID, req.UserID, req.Context) }), nil
}

// ---- messages ----

type sendResult struct {
	actionResult
	MessageID int    `json:"message_id"`
	API       string `json:"api,omitempty"` // the named bot's API; a chat message goes to the bots of both
}

// sendText posts text as a user to a bot's private dialog (b set) or to a
// group chat, where every bot is told in its own API's format
// ([Server.SendChatMessage]).
func (s *Server) sendText(b *ctlBot, chatID, from int, text string) (any, *ctlError) {
	if from == 0 {
		from = 1
	}
	if strings.TrimSpace(text) == "" {
		return nil, badArg("text is required")
	}
	var id int
	var api string
	var send func() error
	switch {
	case b != nil && b.API == "v1":
		api, send = "v1", func() (err error) { id, err = s.SendBotMessage(b.ID, from, text); return err }
	case b != nil:
		api, send = "v2", func() (err error) { id, err = s.V2SendMessage(b.ID, from, text); return err }
	default:
		if !s.groupChat(chatID) {
			return nil, ctlErrf(http.StatusNotFound, "CHAT_NOT_FOUND", "no group chat %d", chatID)
		}
		send = func() (err error) { id, err = s.SendChatMessage(chatID, from, text); return err }
	}
	res := s.act(send)
	return sendResult{res, id, api}, nil
}

func ctlSend(s *Server, r *http.Request) (any, *ctlError) {
	var req struct {
		botRef
		ChatID     int    `json:"chat_id"`
		FromUserID int    `json:"from_user_id"`
		Text       string `json:"text"`
	}
	if e := decodeBody(r, &req); e != nil {
		return nil, e
	}
	named := req.BotID != 0 || req.BotCode != ""
	if named == (req.ChatID != 0) {
		return nil, badArg("give a bot (bot_id or bot_code: its private dialog) or a chat_id, not both")
	}
	if !named {
		return s.sendText(nil, req.ChatID, req.FromUserID, req.Text)
	}
	b, e := s.resolveBot(req.botRef)
	if e != nil {
		return nil, e
	}
	return s.sendText(&b, 0, req.FromUserID, req.Text)
}

// hasCommand reports whether the bot has the slash command name.
func (s *Server) hasCommand(b ctlBot, name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b.API == "v1" {
		for _, x := range s.im.commands {
			if x.botID == b.ID && strings.EqualFold(x.command, name) {
				return true
			}
		}
		return false
	}
	for _, x := range s.v2.commands {
		if x.botID == b.ID && strings.EqualFold(x.command, name) {
			return true
		}
	}
	return false
}

func ctlCommand(s *Server, r *http.Request) (any, *ctlError) {
	var req struct {
		botRef
		ChatID     int    `json:"chat_id"`
		FromUserID int    `json:"from_user_id"`
		Command    string `json:"command"`
		Params     string `json:"params"`
	}
	if e := decodeBody(r, &req); e != nil {
		return nil, e
	}
	b, e := s.resolveBot(req.botRef)
	if e != nil {
		return nil, e
	}
	name := strings.TrimPrefix(strings.TrimSpace(req.Command), "/")
	if name == "" {
		return nil, badArg("command is required")
	}
	if !s.hasCommand(b, name) {
		return nil, ctlErrf(http.StatusNotFound, "COMMAND_NOT_FOUND", "bot %d has no command /%s", b.ID, name)
	}
	text := "/" + name
	if p := strings.TrimSpace(req.Params); p != "" {
		text += " " + p
	}
	if req.ChatID == 0 {
		return s.sendText(&b, 0, req.FromUserID, text)
	}
	// In a group chat the message is the command alone ("MESSAGE":
	// "/echo test" in the group-chat sample of
	// chat-bots/outdated/commands/events/on-im-command-add.md).
	return s.sendText(nil, req.ChatID, req.FromUserID, text)
}

// checkUserMessage refuses an id that is not a live user's (not a bot's)
// message.
func (s *Server) checkUserMessage(id int) *ctlError {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.im.messages[id]
	if m == nil || m.deleted {
		return ctlErrf(http.StatusNotFound, "MESSAGE_NOT_FOUND", "no message %d", id)
	}
	if u := s.users[m.authorID]; u != nil && u.IsBot {
		return badArg("message %d is a bot's; a bot changes its messages through REST", id)
	}
	return nil
}

func ctlEditOrDelete(s *Server, r *http.Request, del bool) (any, *ctlError) {
	var req struct {
		MessageID int    `json:"message_id"`
		Text      string `json:"text"`
	}
	if e := decodeBody(r, &req); e != nil {
		return nil, e
	}
	if !del && strings.TrimSpace(req.Text) == "" {
		return nil, badArg("text is required")
	}
	if e := s.checkUserMessage(req.MessageID); e != nil {
		return nil, e
	}
	// One path for both APIs: every bot of the chat is told in its own
	// version's format ([Server.changeUserMessage]).
	if del {
		return s.act(func() error { return s.DeleteUserMessage(req.MessageID) }), nil
	}
	return s.act(func() error { return s.EditUserMessage(req.MessageID, req.Text) }), nil
}

func ctlEdit(s *Server, r *http.Request) (any, *ctlError)   { return ctlEditOrDelete(s, r, false) }
func ctlDelete(s *Server, r *http.Request) (any, *ctlError) { return ctlEditOrDelete(s, r, true) }

func ctlReact(s *Server, r *http.Request) (any, *ctlError) {
	var req struct {
		MessageID  int    `json:"message_id"`
		FromUserID int    `json:"from_user_id"`
		Reaction   string `json:"reaction"`
		Remove     bool   `json:"remove"`
	}
	if e := decodeBody(r, &req); e != nil {
		return nil, e
	}
	if req.Reaction == "" {
		return nil, badArg("reaction is required")
	}
	if req.FromUserID == 0 {
		req.FromUserID = 1
	}
	s.mu.Lock()
	m := s.im.messages[req.MessageID]
	v2 := m != nil && s.v2.bots[m.authorID] != nil
	s.mu.Unlock()
	if m == nil {
		return nil, ctlErrf(http.StatusNotFound, "MESSAGE_NOT_FOUND", "no message %d", req.MessageID)
	}
	if !v2 {
		return nil, badArg("message %d is not a v2 bot's; reactions are modelled for v2 bots", req.MessageID)
	}
	return s.act(func() error { return s.V2React(req.MessageID, req.FromUserID, req.Reaction, req.Remove) }), nil
}

// ctlMessage is a message a bot sent, in GET messages.
type ctlMessage struct {
	ID       int    `json:"id"`
	BotID    int    `json:"bot_id"`
	ChatID   int    `json:"chat_id"`
	DialogID string `json:"dialog_id"`
	Text     string `json:"text"`
	Attach   any    `json:"attach,omitempty"`
	Keyboard any    `json:"keyboard,omitempty"`
	Menu     any    `json:"menu,omitempty"`
	System   bool   `json:"system"`
	Edited   bool   `json:"edited"`
	Deleted  bool   `json:"deleted"`
}

func ctlMessages(s *Server, r *http.Request) (any, *ctlError) {
	q := r.URL.Query()
	botID, e := queryInt(r, "bot_id")
	if e != nil {
		return nil, e
	}
	if code := q.Get("bot_code"); code != "" && botID == 0 {
		b, e := s.resolveBot(botRef{BotCode: code})
		if e != nil {
			return nil, e
		}
		botID = b.ID
	}
	chatID, e := queryInt(r, "chat_id")
	if e != nil {
		return nil, e
	}
	after, e := queryInt(r, "after")
	if e != nil {
		return nil, e
	}
	wait, e := waitParam(r)
	if e != nil {
		return nil, e
	}
	dialog := q.Get("dialog_id")
	out := []ctlMessage{}
	s.waitFor(r, wait, func() bool {
		out = out[:0]
		for _, m := range s.BotMessages() {
			if m.ID <= after || (botID != 0 && m.BotID != botID) || (chatID != 0 && m.ChatID != chatID) || (dialog != "" && m.DialogID != dialog) {
				continue
			}
			out = append(out, ctlMessage{ID: m.ID, BotID: m.BotID, ChatID: m.ChatID, DialogID: m.DialogID, Text: m.Text,
				Attach: m.Attach, Keyboard: m.Keyboard, Menu: m.Menu, System: m.System, Edited: m.Edited, Deleted: m.Deleted})
		}
		return len(out) > 0
	})
	return map[string]any{"messages": out}, nil
}

// ---- CRM and lists ----

// invokeAs runs a REST method as user userID, the way a REST call runs it
// (same handler, same events) but outside the call log, rate limit and
// faults, and delivers its events before returning. It answers the
// method's result as JSON.
func (s *Server) invokeAs(method string, userID int, params map[string]any) (json.RawMessage, actionResult, *ctlError) {
	js, err := json.Marshal(params)
	if err != nil {
		return nil, actionResult{}, badArg("params: %v", err)
	}
	tree, err := phpform.ParseJSON(js)
	m, isMap := tree.(*phpform.Map)
	if err != nil || !isMap {
		return nil, actionResult{}, badArg("params: %v", err)
	}
	if userID == 0 {
		userID = 1
	}
	res := actionResult{DeliveriesFrom: s.deliveryCount()}
	var out []delivery
	s.mu.Lock()
	s.ensureUser(userID)
	n := len(s.calls)
	c := &Request{s: s, method: method, params: m, auth: authInfo{kind: AuthNone, userID: userID}, now: s.now(), out: &out}
	rep, _, aerr := s.invoke(c)
	s.calls = s.calls[:n] // a portal user's change, not a REST call
	var result json.RawMessage
	if aerr == nil {
		result = appendJSON(nil, rep.Value)
	}
	s.mu.Unlock()
	if err := s.deliverAll(out); err != nil {
		res.DeliveryError = err.Error()
	}
	s.ctl.notify()
	if aerr != nil {
		return nil, res, &ctlError{status: aerr.StatusCode, code: aerr.Code, desc: aerr.Description}
	}
	return result, res, nil
}

type writeResult struct {
	actionResult
	Result json.RawMessage `json:"result"`
}

func ctlCRMWrite(method string) ctlHandler {
	return func(s *Server, r *http.Request) (any, *ctlError) {
		var req struct {
			EntityTypeID int             `json:"entity_type_id"`
			ID           int             `json:"id"`
			Fields       json.RawMessage `json:"fields"`
			UserID       int             `json:"user_id"`
		}
		if e := decodeBody(r, &req); e != nil {
			return nil, e
		}
		if req.EntityTypeID == 0 {
			return nil, badArg("entity_type_id is required")
		}
		if method != "crm.item.add" && req.ID == 0 {
			return nil, badArg("id is required")
		}
		p := map[string]any{"entityTypeId": req.EntityTypeID}
		if req.ID != 0 {
			p["id"] = req.ID
		}
		if method != "crm.item.delete" {
			if len(req.Fields) == 0 {
				return nil, badArg("fields is required")
			}
			p["fields"] = req.Fields
		}
		out, res, e := s.invokeAs(method, req.UserID, p)
		if e != nil {
			return nil, e
		}
		return writeResult{res, out}, nil
	}
}

func ctlCRMItems(s *Server, r *http.Request) (any, *ctlError) {
	t, e := queryInt(r, "entity_type_id")
	if e != nil {
		return nil, e
	}
	if t == 0 {
		return nil, badArg("entity_type_id is required")
	}
	items := s.CRMItems(t)
	if items == nil {
		s.mu.Lock()
		known := s.crm.types[t] != nil
		s.mu.Unlock()
		if !known {
			return nil, ctlErrf(http.StatusNotFound, "ENTITY_TYPE_NOT_FOUND", "no CRM entity type %d", t)
		}
		items = []map[string]any{}
	}
	return map[string]any{"items": items}, nil
}

func ctlListWrite(method string) ctlHandler {
	return func(s *Server, r *http.Request) (any, *ctlError) {
		var req struct {
			IBlockTypeID string          `json:"iblock_type_id"`
			IBlockID     int             `json:"iblock_id"`
			IBlockCode   string          `json:"iblock_code"`
			ElementID    int             `json:"element_id"`
			ElementCode  string          `json:"element_code"`
			Fields       json.RawMessage `json:"fields"`
			UserID       int             `json:"user_id"`
		}
		if e := decodeBody(r, &req); e != nil {
			return nil, e
		}
		if req.IBlockTypeID == "" {
			req.IBlockTypeID = "lists"
		}
		p := map[string]any{"IBLOCK_TYPE_ID": req.IBlockTypeID}
		for k, v := range map[string]any{"IBLOCK_ID": req.IBlockID, "IBLOCK_CODE": req.IBlockCode, "ELEMENT_ID": req.ElementID, "ELEMENT_CODE": req.ElementCode} {
			if v != 0 && v != "" {
				p[k] = v
			}
		}
		if len(req.Fields) > 0 {
			p["FIELDS"] = req.Fields
		}
		out, res, e := s.invokeAs(method, req.UserID, p)
		if e != nil {
			return nil, e
		}
		return writeResult{res, out}, nil
	}
}

// ctlElement is a list element in GET lists/elements.
type ctlElement struct {
	ID         int                 `json:"id"`
	Code       string              `json:"code"`
	Name       string              `json:"name"`
	Properties map[string][]string `json:"properties"`
}

func ctlListElements(s *Server, r *http.Request) (any, *ctlError) {
	id, e := queryInt(r, "iblock_id")
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	known := s.lists.iblocks[id] != nil
	s.mu.Unlock()
	if !known {
		return nil, ctlErrf(http.StatusNotFound, "IBLOCK_NOT_FOUND", "no list %d", id)
	}
	out := []ctlElement{}
	for _, el := range s.ListElements(id) {
		out = append(out, ctlElement(el))
	}
	return map[string]any{"elements": out}, nil
}

// ---- deliveries ----

// ctlDelivery is an event delivery in GET deliveries.
type ctlDelivery struct {
	Seq       int    `json:"seq"` // 1-based position in the log
	Event     string `json:"event"`
	URL       string `json:"url"`    // the handler, without its query
	Status    int    `json:"status"` // the handler's HTTP status, 0 when the request failed
	Delivered bool   `json:"delivered"`
	Error     string `json:"error,omitempty"`
	Data      any    `json:"data"` // the posted body decoded, tokens redacted
}

// secretKeys are the body keys GET deliveries redacts.
var secretKeys = map[string]bool{"access_token": true, "refresh_token": true, "application_token": true}

// redactTree replaces the values of secretKeys anywhere in a decoded body.
func redactTree(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if secretKeys[k] {
				x[k] = "[REDACTED]"
				continue
			}
			x[k] = redactTree(e)
		}
	case []any:
		for i, e := range x {
			x[i] = redactTree(e)
		}
	}
	return v
}

func deliveryView(seq int, d Delivery) ctlDelivery {
	v := ctlDelivery{Seq: seq, Event: d.Event, URL: redactHandler(d.URL), Status: d.Status, Delivered: d.Err == nil && d.Status >= 200 && d.Status < 300}
	if d.Err != nil {
		v.Error = d.Err.Error()
	} else if !v.Delivered {
		v.Error = "handler answered HTTP " + strconv.Itoa(d.Status)
	}
	if strings.HasPrefix(d.Body, "{") {
		var tree any
		if json.Unmarshal([]byte(d.Body), &tree) == nil {
			v.Data = redactTree(tree)
		}
	} else {
		v.Data = redactTree(d.Data())
	}
	return v
}

func ctlDeliveries(s *Server, r *http.Request) (any, *ctlError) {
	after, e := queryInt(r, "after")
	if e != nil {
		return nil, e
	}
	wait, e := waitParam(r)
	if e != nil {
		return nil, e
	}
	event := strings.ToUpper(r.URL.Query().Get("event"))
	out := []ctlDelivery{}
	read := func() bool {
		out = out[:0]
		for i, d := range s.Deliveries() {
			if i+1 <= after || (event != "" && d.Event != event) {
				continue
			}
			out = append(out, deliveryView(i+1, d))
		}
		return len(out) > 0
	}
	if wait > 0 && !read() {
		// Deliveries complete outside requests: wait on the log itself.
		ctx, cancel := context.WithTimeout(r.Context(), wait)
		defer cancel()
		for n := s.deliveryCount() + 1; !read(); n++ {
			if _, err := s.WaitDeliveries(ctx, n); err != nil {
				read()
				break
			}
		}
		// Leave no channel made by this request behind: inside a
		// testing/synctest bubble it belongs to the bubble, and a delivery
		// outside it could not close it. Other waiters just look again.
		s.deliv.mu.Lock()
		if s.deliv.changed != nil {
			close(s.deliv.changed)
			s.deliv.changed = nil
		}
		s.deliv.mu.Unlock()
	} else {
		read()
	}
	return map[string]any{"deliveries": out}, nil
}

// ---- clock, limits, faults ----

func ctlClock(s *Server, _ *http.Request) (any, *ctlError) {
	return map[string]string{"now": s.Now().Format(time.RFC3339Nano)}, nil
}

func ctlAdvance(s *Server, r *http.Request) (any, *ctlError) {
	var req struct {
		By *ctlDuration `json:"by"`
	}
	if e := decodeBody(r, &req); e != nil {
		return nil, e
	}
	if req.By == nil || *req.By < 0 {
		return nil, badArg(`by is required: a non-negative duration such as "90s"`)
	}
	s.Advance(time.Duration(*req.By))
	s.ctl.notify()
	return ctlClock(s, r)
}

func ctlSetTime(s *Server, r *http.Request) (any, *ctlError) {
	var req struct {
		Time time.Time `json:"time"`
	}
	if e := decodeBody(r, &req); e != nil {
		return nil, e
	}
	if req.Time.IsZero() {
		return nil, badArg("time is required (RFC 3339)")
	}
	s.SetTime(req.Time)
	s.ctl.notify()
	return ctlClock(s, r)
}

func ctlLimits(s *Server, r *http.Request) (any, *ctlError) {
	var req struct {
		RatePerSecond  *float64                `json:"rate_per_second"`
		RateBurst      *int                    `json:"rate_burst"`
		OperatingLimit *ctlDuration            `json:"operating_limit"`
		MethodCost     map[string]*ctlDuration `json:"method_cost"`
	}
	if e := decodeBody(r, &req); e != nil {
		return nil, e
	}
	if (req.RatePerSecond == nil) != (req.RateBurst == nil) {
		return nil, badArg("rate_per_second and rate_burst go together (0 and 0 turn the limit off)")
	}
	for m, d := range req.MethodCost {
		if d == nil || *d < 0 {
			return nil, badArg("method_cost[%q] must be a non-negative duration", m)
		}
	}
	if req.OperatingLimit != nil && *req.OperatingLimit < 0 {
		return nil, badArg("operating_limit must be a non-negative duration (0 turns it off)")
	}
	if req.RatePerSecond != nil {
		s.SetRateLimit(*req.RatePerSecond, *req.RateBurst)
	}
	if req.OperatingLimit != nil {
		s.SetOperatingLimit(time.Duration(*req.OperatingLimit))
	}
	for m, d := range req.MethodCost {
		s.SetMethodCost(m, time.Duration(*d))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	costs := map[string]string{}
	for m, d := range s.cfg.methodCost {
		costs[m] = d.String()
	}
	lim := map[string]any{"rate_limit": s.cfg.rateLimit, "method_cost": costs, "operating_limit": "0s"}
	if s.cfg.rateLimit {
		lim["rate_per_second"], lim["rate_burst"] = s.cfg.ratePerSecond, s.cfg.rateBurst
	}
	if s.cfg.operatingOn {
		lim["operating_limit"] = s.cfg.operatingLimit.String()
	}
	return lim, nil
}

// SetOperatingLimit changes the per-method operating-time budget at run
// time, like [WithOperatingLimit]; d <= 0 turns the limiter off, like
// [WithoutOperatingLimit].
func (s *Server) SetOperatingLimit(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.operatingOn = d > 0
	if d > 0 {
		s.cfg.operatingLimit = d
	}
}

// faultKind maps a name of [FaultKind.String] back to its kind.
func faultKind(name string) (FaultKind, bool) {
	for k := FaultError; k <= FaultHTML500; k++ {
		if k.String() == name {
			return k, true
		}
	}
	return 0, false
}

func ctlFault(s *Server, r *http.Request) (any, *ctlError) {
	var req struct {
		Kind        string       `json:"kind"`
		Method      string       `json:"method"`
		Status      int          `json:"status"`
		Code        string       `json:"code"`
		Description string       `json:"description"`
		Times       int          `json:"times"`
		Latency     *ctlDuration `json:"latency"`
	}
	if e := decodeBody(r, &req); e != nil {
		return nil, e
	}
	if req.Kind == "" {
		req.Kind = FaultError.String()
	}
	k, ok := faultKind(req.Kind)
	if !ok {
		return nil, badArg("kind must be error, drop-before, drop-after, html-502 or html-500, not %q", req.Kind)
	}
	if req.Status != 0 && (req.Status < 400 || req.Status > 599) {
		return nil, badArg("status must be a 4xx or 5xx HTTP status")
	}
	f := Fault{Kind: k, Method: req.Method, Status: req.Status, Code: req.Code, Description: req.Description, Times: req.Times}
	if f.Kind == FaultError && f.Description == "" && f.Code != "" {
		f.Description = describe(f.Code)
	}
	if req.Latency != nil {
		f.Latency = time.Duration(*req.Latency)
	}
	s.InjectFault(f)
	return map[string]int{"injected": s.FaultsInjected()}, nil
}

func ctlFaultRate(s *Server, r *http.Request) (any, *ctlError) {
	var req struct {
		P     float64  `json:"p"`
		Seed  int64    `json:"seed"`
		Kinds []string `json:"kinds"`
	}
	if e := decodeBody(r, &req); e != nil {
		return nil, e
	}
	if req.P < 0 || req.P > 1 {
		return nil, badArg("p must be between 0 and 1")
	}
	var kinds []FaultKind
	for _, n := range req.Kinds {
		k, ok := faultKind(n)
		if !ok {
			return nil, badArg("unknown fault kind %q", n)
		}
		kinds = append(kinds, k)
	}
	s.FaultRate(req.P, req.Seed, kinds...)
	return map[string]int{"injected": s.FaultsInjected()}, nil
}

func ctlFaultLatency(s *Server, r *http.Request) (any, *ctlError) {
	var req struct {
		Latency *ctlDuration `json:"latency"`
	}
	if e := decodeBody(r, &req); e != nil {
		return nil, e
	}
	if req.Latency == nil || *req.Latency < 0 {
		return nil, badArg(`latency is required: a non-negative duration such as "200ms"`)
	}
	s.Latency(time.Duration(*req.Latency))
	return map[string]string{"latency": time.Duration(*req.Latency).String()}, nil
}

func ctlFaultClear(s *Server, r *http.Request) (any, *ctlError) {
	if e := decodeBody(r, &struct{}{}); e != nil {
		return nil, e
	}
	s.ClearFaults()
	return map[string]int{"injected": s.FaultsInjected()}, nil
}

func ctlReset(s *Server, r *http.Request) (any, *ctlError) {
	if e := decodeBody(r, &struct{}{}); e != nil {
		return nil, e
	}
	if err := s.Reset(); err != nil {
		return nil, ctlErrf(http.StatusInternalServerError, "SEED_FAILED", "%v", err)
	}
	return map[string]bool{"reset": true}, nil
}

// ---- reset ----

// Reset brings the portal back to the state [Start] left it in: users 1-3
// only; no CRM items, smart processes, lists, bots, chats, messages, event
// bindings (app handlers and outbound webhooks) or offline events; empty
// call and delivery logs; no injected faults or fault rate; rate-limit
// and operating-time counters drained; the clock back on its source
// (no [Server.Advance] offset, no [Server.SetTime]); then the seed of
// [WithSeed] runs again. What stays: the app's credentials and its
// installed state, the tokens issued so far, the inbound webhooks, the
// stubs ([Server.Handle]), the settings of the options and of the Set*
// methods, and the latency. It
// returns the seed's error. A background delivery still in flight (see
// [WithSyncDelivery]) lands in the emptied delivery log.
func (s *Server) Reset() error {
	s.mu.Lock()
	s.clockOffset, s.fixedNow = 0, nil
	s.bucketLevel, s.bucketAt = 0, time.Time{}
	s.operating = map[opKey]*opBuckets{}
	s.users = map[int]*user{}
	s.nextID = map[string]int{}
	s.seedUsers()
	for _, h := range s.webhooks {
		s.ensureUser(h.userID)
	}
	s.crm = newCRMStore()
	s.lists = newListStore()
	s.im = newIMStore()
	s.v2 = newIMV2Store()
	s.ev = newEventStore()
	s.calls = nil
	seed := s.cfg.seed
	s.mu.Unlock()
	s.deliv.mu.Lock()
	s.deliv.list = nil
	s.deliv.mu.Unlock()
	s.faults.mu.Lock()
	s.faults.list, s.faults.rate, s.faults.injected = nil, 0, 0
	s.faults.mu.Unlock()
	var err error
	if seed != nil {
		err = seed(s)
	}
	s.ctl.notify()
	return err
}
