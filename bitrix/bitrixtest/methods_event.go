package bitrixtest

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/b24go/sdk/internal/phpform"
)

var eventMethods = []method{
	{"event.bind", "basic", eventBind},
	{"event.unbind", "basic", eventUnbind},
	{"event.get", "basic", eventGet},
	{"events", "basic", methodEvents},
	{"event.test", "basic", eventTest},
	{"event.offline.get", "basic", eventOfflineGet},
	{"event.offline.clear", "basic", eventOfflineClear},
	{"event.offline.error", "basic", eventOfflineError},
	{"event.offline.list", "basic", eventOfflineList},
}

// eventBind implements event.bind.
func eventBind(c *Request) (Result, error) {
	ev := strings.ToUpper(ciString(c.params, "event"))
	if ev == "" {
		return Result{}, errArgument("event")
	}
	if !c.s.offersEvent(ev) {
		// api-reference/events/event-bind.md, error table.
		return Result{}, errf(400, "ERROR_EVENT_NOT_FOUND", "Event not found")
	}
	offline := strings.EqualFold(ciString(c.params, "event_type"), "offline")
	authType := ciInt(c.params, "auth_type")
	admin := c.s.isAdmin(c.auth.userID)
	if offline && !admin {
		return Result{}, errf(403, "ACCESS_DENIED", "Access denied! Offline events binding requires administrator access rights")
	}
	if authType != 0 && authType != c.auth.userID && !admin {
		return Result{}, errf(403, "ACCESS_DENIED", "Access denied! Event binding with AUTH_TYPE requires administrator access rights")
	}
	handler := ciString(c.params, "handler")
	if !offline {
		if handler == "" {
			return Result{}, errArgument("handler")
		}
		if e := checkHandlerURL(handler); e != nil {
			return Result{}, e
		}
	}
	for _, h := range c.s.ev.handlers {
		if h.kind == kindApp && h.event == ev && h.offline == offline && h.handler == handler && h.authType == authType && h.connector == c.connector {
			return Result{}, errf(400, "ERROR_HANDLER_ALREADY_EXIST", "Handler already exists!")
		}
	}
	c.s.ev.nextID++
	h := &eventHandler{id: c.s.ev.nextID, event: ev, handler: handler, authType: authType, offline: offline, connector: c.connector, kind: kindApp, minTimeout: time.Second}
	if opts := ciMap(c.params, "options"); opts != nil && ciHas(opts, "minTimeout") {
		h.minTimeout = time.Duration(ciInt(opts, "minTimeout")) * time.Second
	}
	if offline {
		h.handler = ""
	}
	c.s.ev.handlers = append(c.s.ev.handlers, h)
	return ok(true)
}

// eventUnbind implements event.unbind.
func eventUnbind(c *Request) (Result, error) {
	ev := strings.ToUpper(ciString(c.params, "event"))
	if ev == "" {
		return Result{}, errArgument("event")
	}
	offline := strings.EqualFold(ciString(c.params, "event_type"), "offline")
	if offline && !c.s.isAdmin(c.auth.userID) {
		return Result{}, errf(403, "ACCESS_DENIED", "Access denied! Offline events unbinding requires administrator access rights")
	}
	handler := ciString(c.params, "handler")
	authType := ciInt(c.params, "auth_type")
	n := 0
	kept := c.s.ev.handlers[:0]
	for _, h := range c.s.ev.handlers {
		if h.kind == kindApp && h.event == ev && h.offline == offline && (offline || h.handler == handler) && h.authType == authType {
			n++
			continue
		}
		kept = append(kept, h)
	}
	c.s.ev.handlers = kept
	return ok(map[string]any{"count": n})
}

// eventGet implements event.get.
func eventGet(c *Request) (Result, error) {
	out := []any{}
	admin := c.s.isAdmin(c.auth.userID)
	for _, h := range c.s.ev.handlers {
		if h.kind != kindApp || (!admin && h.authType != c.auth.userID) {
			continue
		}
		m := phpform.NewMap()
		m.Set("event", h.event)
		if h.offline {
			m.Set("connector_id", h.connector)
			m.Set("offline", 1)
		} else {
			m.Set("handler", h.handler)
			m.Set("auth_type", strconv.Itoa(h.authType))
			m.Set("offline", 0)
		}
		out = append(out, m)
	}
	return ok(out)
}

// methodEvents implements events.
func methodEvents(c *Request) (Result, error) {
	return ok(stringsToAny(c.s.offeredEvents()))
}

// eventTest implements event.test.
func eventTest(c *Request) (Result, error) {
	data := phpform.NewMap()
	data.Set("QUERY", c.params.Clone())
	data.Set("LANGUAGE_ID", "en")
	for _, h := range c.s.ev.handlers {
		if h.event == "ONAPPTEST" && !h.offline {
			c.s.queue(c, delivery{event: "ONAPPTEST", url: h.handler, body: c.s.payload("ONAPPTEST", h.id, data, c.s.appAuth(c.auth.userID, true))})
		}
	}
	return ok(1)
}

// eventOfflineGet implements event.offline.get.
func eventOfflineGet(c *Request) (Result, error) {
	s := c.s
	if !s.isAdmin(c.auth.userID) {
		return Result{}, errf(403, "ACCESS_DENIED", "Access denied!")
	}
	limit := 50
	if ciHas(c.params, "limit") {
		limit = ciInt(c.params, "limit")
		if limit <= 0 {
			return Result{}, &APIError{StatusCode: 400, Code: "ERROR_ARGUMENT", Description: "Argument 'limit' must be greater than 0", Argument: "limit"}
		}
	}
	clear, e := zeroOne(c.params, "clear", true)
	if e != nil {
		return Result{}, e
	}
	wantErr, e := zeroOne(c.params, "error", false)
	if e != nil {
		return Result{}, e
	}
	procID := ciString(c.params, "process_id")
	sel, e := s.offlineSelect(c, false)
	if e != nil {
		return Result{}, e
	}
	var picked []*offlineEvent
	for _, ev := range sel {
		if len(picked) >= limit {
			break
		}
		if procID != "" {
			if ev.processID == procID {
				picked = append(picked, ev)
			}
			continue
		}
		if ev.processID == "" && ev.err == wantErr {
			picked = append(picked, ev)
		}
	}
	var pid any
	if !clear && procID == "" && len(picked) > 0 {
		s.ev.nextProc++
		procID = fmt.Sprintf("%d", s.ev.nextProc)
		for _, ev := range picked {
			ev.processID = procID
		}
	}
	if procID != "" {
		pid = procID
	}
	events := []any{}
	for _, ev := range picked {
		events = append(events, ev.view(s, false))
	}
	if clear {
		s.removeOffline(func(ev *offlineEvent) bool {
			for _, p := range picked {
				if p == ev {
					return true
				}
			}
			return false
		})
	}
	res := phpform.NewMap()
	res.Set("process_id", pid)
	res.Set("events", events)
	return ok(res)
}

// eventOfflineClear implements event.offline.clear.
func eventOfflineClear(c *Request) (Result, error) {
	s := c.s
	if !s.isAdmin(c.auth.userID) {
		return Result{}, errf(403, "ACCESS_DENIED", "Access denied!")
	}
	procID := ciString(c.params, "process_id")
	if procID == "" {
		return Result{}, errArgument("process_id")
	}
	ids, msgs := idSet(ciGet(c.params, "id")), idSet(ciGet(c.params, "message_id"))
	s.removeOffline(func(ev *offlineEvent) bool {
		if ev.processID != procID {
			return false
		}
		if ids == nil && msgs == nil {
			return true
		}
		return ids[strconv.Itoa(ev.id)] || msgs[ev.messageID]
	})
	return ok(true)
}

// eventOfflineError implements event.offline.error.
func eventOfflineError(c *Request) (Result, error) {
	s := c.s
	if !s.isAdmin(c.auth.userID) {
		return Result{}, errf(403, "ACCESS_DENIED", "Access denied!")
	}
	procID := ciString(c.params, "process_id")
	if procID == "" {
		return Result{}, errArgument("process_id")
	}
	msgs := idSet(ciGet(c.params, "message_id"))
	if msgs == nil {
		return Result{}, errArgument("message_id")
	}
	for _, ev := range s.ev.offline {
		if ev.processID == procID && msgs[ev.messageID] {
			ev.err = true
			ev.processID = ""
		}
	}
	return ok(true)
}

// eventOfflineList implements event.offline.list.
func eventOfflineList(c *Request) (Result, error) {
	s := c.s
	if !s.isAdmin(c.auth.userID) {
		return Result{}, errf(403, "ACCESS_DENIED", "Access denied!")
	}
	offset, noCount := readStart(c.params)
	sel, e := s.offlineSelect(c, true)
	if e != nil {
		return Result{}, e
	}
	from, to, total, next := page(len(sel), offset, noCount)
	out := []any{}
	for _, ev := range sel[from:to] {
		out = append(out, ev.view(s, true))
	}
	return Result{Value: out, Total: total, Next: next}, nil
}
