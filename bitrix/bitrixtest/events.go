package bitrixtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/b24go/sdk/internal/phpform"
)

type handlerKind int

const (
	kindApp      handlerKind = iota // bound by the app with event.bind
	kindOutbound                    // outbound webhook configured on the portal
)

type eventHandler struct {
	id         int
	event      string
	handler    string
	authType   int
	offline    bool
	connector  string
	kind       handlerKind
	appToken   string        // outbound webhooks
	minTimeout time.Duration // ONOFFLINEEVENT
	lastNotify time.Time
}

type offlineEvent struct {
	id        int
	ts        time.Time
	name      string
	data      *phpform.Map
	userID    int
	messageID string
	processID string
	err       bool
	objKey    string
}

type eventStore struct {
	handlers  []*eventHandler
	nextID    int
	offline   []*offlineEvent
	nextOff   int
	nextProc  int
	knownName map[string]bool
}

func newEventStore() *eventStore {
	es := &eventStore{knownName: map[string]bool{}}
	// Smart invoices have no events of their own: they raise the
	// dynamic-item events (api-reference/crm/universal/invoice.md).
	for _, e := range []string{"LEAD", "DEAL", "CONTACT", "COMPANY", "QUOTE", "DYNAMICITEM"} {
		for _, a := range []string{"ADD", "UPDATE", "DELETE"} {
			es.knownName["ONCRM"+e+a] = true
		}
	}
	for _, e := range []string{"ONAPPINSTALL", "ONAPPUNINSTALL", "ONAPPUPDATE", "ONAPPTEST", "ONAPPPAYMENT", "ONOFFLINEEVENT",
		"ONIMBOTMESSAGEADD", "ONIMBOTMESSAGEUPDATE", "ONIMBOTMESSAGEDELETE", "ONIMBOTJOINCHAT", "ONIMBOTDELETE", "ONIMCOMMANDADD",
		"ONTASKADD", "ONTASKUPDATE", "ONTASKDELETE", "ONUSERADD"} {
		es.knownName[e] = true
	}
	return es
}

// dynamicItemStem is the name of the dynamic-item events without the action.
const dynamicItemStem = "ONCRMDYNAMICITEM"

// perTypeEvent is the per-type name of a dynamic-item event:
// ONCRMDYNAMICITEMADD → ONCRMDYNAMICITEMADD_31
// (api-reference/crm/universal/events/index.md, "Event for a Single Smart
// Process"; api-reference/events/events.md lists ONCRMDYNAMICITEMADD_147).
func perTypeEvent(event string, entityTypeID int) string {
	return event + "_" + strconv.Itoa(entityTypeID)
}

// offersEvent reports whether the portal offers the event name (upper
// case) to event.bind and outgoing webhooks: the fixed names, and the
// per-type dynamic-item names of the types that exist (runs under s.mu).
func (s *Server) offersEvent(name string) bool {
	if s.ev.knownName[name] {
		return true
	}
	for _, t := range s.crm.types {
		if t.event != dynamicItemStem {
			continue
		}
		for _, a := range []string{"ADD", "UPDATE", "DELETE"} {
			if name == perTypeEvent(dynamicItemStem+a, t.id) {
				return true
			}
		}
	}
	return false
}

// offeredEvents lists the names offersEvent accepts, sorted (under s.mu).
func (s *Server) offeredEvents() []string {
	names := make([]string, 0, len(s.ev.knownName)+3*len(s.crm.types))
	for n := range s.ev.knownName {
		names = append(names, n)
	}
	for _, t := range s.crm.types {
		if t.event == dynamicItemStem {
			for _, a := range []string{"ADD", "UPDATE", "DELETE"} {
				names = append(names, perTypeEvent(dynamicItemStem+a, t.id))
			}
		}
	}
	sort.Strings(names)
	return names
}

// delivery is one event POST waiting to be sent.
type delivery struct {
	event string
	url   string
	body  string
}

// Delivery is one event POST the portal has sent.
type Delivery struct {
	Event  string     // upper-case event name
	URL    string     // handler URL
	Body   string     // the form-urlencoded body as sent
	Form   url.Values // Body decoded
	Status int        // handler's HTTP status (0 if the request failed)
	Err    error      // transport error, if any
}

// Data returns the decoded form as a PHP-style tree (data[FIELDS][ID] →
// Data()["data"]["FIELDS"]["ID"]), in phpform.Plain shape.
func (d Delivery) Data() map[string]any {
	m, err := phpform.Parse(d.Body)
	if err != nil {
		return nil
	}
	out, _ := phpform.Plain(m).(map[string]any)
	return out
}

type deliveryLog struct {
	mu      sync.Mutex
	list    []Delivery
	changed chan struct{}
}

func (l *deliveryLog) add(d Delivery) {
	l.mu.Lock()
	l.list = append(l.list, d)
	if l.changed != nil {
		close(l.changed)
		l.changed = nil
	}
	l.mu.Unlock()
}

// Deliveries returns the event deliveries completed so far, in order.
func (s *Server) Deliveries() []Delivery {
	s.deliv.mu.Lock()
	defer s.deliv.mu.Unlock()
	return append([]Delivery(nil), s.deliv.list...)
}

// WaitDeliveries blocks until at least n event deliveries have completed
// (successfully or not) or ctx ends, and returns the deliveries so far.
func (s *Server) WaitDeliveries(ctx context.Context, n int) ([]Delivery, error) {
	for {
		s.deliv.mu.Lock()
		if len(s.deliv.list) >= n {
			out := append([]Delivery(nil), s.deliv.list...)
			s.deliv.mu.Unlock()
			return out, nil
		}
		if s.deliv.changed == nil {
			s.deliv.changed = make(chan struct{})
		}
		ch := s.deliv.changed
		s.deliv.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return s.Deliveries(), ctx.Err()
		}
	}
}

func (s *Server) deliverOne(d delivery) Delivery {
	rec := Delivery{Event: d.event, URL: d.url, Body: d.body}
	ctype := "application/x-www-form-urlencoded"
	if strings.HasPrefix(d.body, "{") {
		// imbot.v2 webhook bots with JSON payloads ([Server.SetV2WebhookJSON]).
		ctype = "application/json"
	} else {
		rec.Form, _ = url.ParseQuery(d.body)
	}
	req, err := http.NewRequest(http.MethodPost, d.url, strings.NewReader(d.body))
	if err == nil {
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("User-Agent", "Bitrix24 Webhook Engine")
		var res *http.Response
		res, err = s.delivHTTP.Do(req)
		if err == nil {
			rec.Status = res.StatusCode
			_, _ = drainBody(res)
		}
	}
	if err != nil {
		rec.Err = fmt.Errorf("bitrixtest: deliver %s to %s: %w", d.event, redactHandler(d.url), unwrapURLError(err))
	}
	s.deliv.add(rec)
	return rec
}

func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

func redactHandler(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "handler"
	}
	p.RawQuery = ""
	return p.String()
}

func (s *Server) deliverAll(out []delivery) error {
	var first error
	for _, d := range out {
		rec := s.deliverOne(d)
		if first == nil {
			if rec.Err != nil {
				first = rec.Err
			} else if rec.Status >= 300 {
				first = fmt.Errorf("bitrixtest: handler for %s answered HTTP %d", d.event, rec.Status)
			}
		}
	}
	return first
}

func (s *Server) deliverAsync(out []delivery) {
	s.delivWG.Add(1)
	go func() {
		defer s.delivWG.Done()
		_ = s.deliverAll(out)
	}()
}

// ---- payloads ----

// appAuth builds the auth block of an app event for userID (0: no tokens,
// as for events from automation).
func (s *Server) appAuth(userID int, refresh bool) *phpform.Map {
	m := phpform.NewMap()
	if userID > 0 {
		t := s.issueLocked(userID)
		now := s.now()
		m.Set("access_token", t.AccessToken)
		m.Set("expires", strconv.FormatInt(t.Expires.Unix(), 10))
		m.Set("expires_in", strconv.Itoa(int(t.Expires.Sub(now)/time.Second)))
		m.Set("scope", t.Scope)
		m.Set("domain", s.app.Domain)
		m.Set("server_endpoint", s.app.ServerEndpoint)
		m.Set("status", "L")
		m.Set("client_endpoint", s.app.ClientEndpoint)
		m.Set("member_id", s.app.MemberID)
		m.Set("user_id", strconv.Itoa(userID))
		if refresh {
			m.Set("refresh_token", t.RefreshToken)
		}
	} else {
		m.Set("domain", s.app.Domain)
		m.Set("server_endpoint", s.app.ServerEndpoint)
		m.Set("client_endpoint", s.app.ClientEndpoint)
		m.Set("member_id", s.app.MemberID)
	}
	m.Set("application_token", s.app.ApplicationToken)
	return m
}

// plainAuth is the auth block of outbound webhooks and token-less events.
func (s *Server) plainAuth(appToken string) *phpform.Map {
	m := phpform.NewMap()
	m.Set("domain", s.app.Domain)
	m.Set("client_endpoint", s.app.ClientEndpoint)
	m.Set("server_endpoint", s.app.ServerEndpoint)
	m.Set("member_id", s.app.MemberID)
	m.Set("application_token", appToken)
	return m
}

func (s *Server) payload(event string, handlerID int, data any, auth *phpform.Map) string {
	m := phpform.NewMap()
	m.Set("event", event)
	if handlerID > 0 {
		m.Set("event_handler_id", strconv.Itoa(handlerID))
	}
	if data != nil {
		m.Set("data", data)
	}
	m.Set("ts", strconv.FormatInt(s.now().Unix(), 10))
	m.Set("auth", auth)
	body, _ := phpform.Encode(m)
	return body
}

// fireEvent queues deliveries of event to its handlers (runs under s.mu).
func (s *Server) fireEvent(c *Request, event string, data *phpform.Map, objKey string) {
	for _, h := range s.ev.handlers {
		if h.event != event {
			continue
		}
		if h.kind == kindApp && !s.installed {
			continue
		}
		if h.offline {
			if c != nil && c.connector != "" && c.connector == h.connector {
				continue // the change came from this connector
			}
			uid := 0
			if c != nil {
				uid = c.auth.userID
			}
			s.queueOffline(event, data, uid, objKey, c)
			continue
		}
		var auth *phpform.Map
		if h.kind == kindOutbound {
			auth = s.plainAuth(h.appToken)
		} else {
			uid := h.authType
			if uid == 0 && c != nil {
				uid = c.auth.userID
			}
			auth = s.appAuth(uid, false)
		}
		s.queue(c, delivery{event: event, url: h.handler, body: s.payload(event, h.id, data, auth)})
	}
}

func (s *Server) queue(c *Request, d delivery) {
	if c != nil && c.out != nil {
		*c.out = append(*c.out, d)
		return
	}
	s.deliverAsync([]delivery{d})
}

func (s *Server) queueOffline(event string, data *phpform.Map, userID int, objKey string, c *Request) {
	now := s.now()
	for _, e := range s.ev.offline {
		if e.name == event && e.objKey == objKey && e.processID == "" && !e.err {
			e.data, e.ts, e.userID = data, now, userID // one record per object: latest state
			s.notifyOffline(c)
			return
		}
	}
	s.ev.nextOff++
	s.ev.offline = append(s.ev.offline, &offlineEvent{id: s.ev.nextOff, ts: now, name: event, data: data, userID: userID, messageID: randHex(16), objKey: objKey})
	s.notifyOffline(c)
}

func (s *Server) notifyOffline(c *Request) {
	now := s.now()
	for _, h := range s.ev.handlers {
		if h.event != "ONOFFLINEEVENT" || h.offline || !s.installed {
			continue
		}
		if !h.lastNotify.IsZero() && now.Sub(h.lastNotify) < h.minTimeout {
			continue
		}
		h.lastNotify = now
		s.queue(c, delivery{event: "ONOFFLINEEVENT", url: h.handler, body: s.payload("ONOFFLINEEVENT", h.id, nil, s.appAuth(1, true))})
	}
}

// ---- REST methods ----

func checkHandlerURL(u string) *APIError {
	p, err := url.Parse(u)
	if err != nil || !strings.Contains(p.Hostname(), ".") {
		return errf(400, "ERROR_WRONG_HANDLER_URL", "Wrong handler URL")
	}
	if p.Scheme != "http" && p.Scheme != "https" {
		return errf(400, "ERROR_UNSUPPORTED_PROTOCOL", "Unsupported handler protocol")
	}
	return nil
}

func (e *offlineEvent) view(s *Server, withProcess bool) *phpform.Map {
	m := phpform.NewMap()
	m.Set("ID", strconv.Itoa(e.id))
	m.Set("TIMESTAMP_X", s.fmtTime(e.ts))
	m.Set("EVENT_NAME", e.name)
	if e.data != nil {
		m.Set("EVENT_DATA", e.data)
	} else {
		m.Set("EVENT_DATA", false)
	}
	add := phpform.NewMap()
	add.Set("user_id", strconv.Itoa(e.userID))
	m.Set("EVENT_ADDITIONAL", add)
	m.Set("MESSAGE_ID", e.messageID)
	if withProcess {
		m.Set("PROCESS_ID", e.processID)
		if e.err {
			m.Set("ERROR", "1")
		} else {
			m.Set("ERROR", "0")
		}
	}
	return m
}

func offlineGetter(e *offlineEvent, s *Server) func(string) any {
	return func(f string) any {
		switch f {
		case "ID":
			return e.id
		case "TIMESTAMP_X":
			return s.fmtTime(e.ts)
		case "EVENT_NAME":
			return e.name
		case "MESSAGE_ID":
			return e.messageID
		case "PROCESS_ID":
			return e.processID
		case "ERROR":
			if e.err {
				return "1"
			}
			return "0"
		}
		return nil
	}
}

func offlineResolve(extra bool) func(string) (string, bool) {
	return func(n string) (string, bool) {
		u := strings.ToUpper(n)
		switch u {
		case "ID", "TIMESTAMP_X", "EVENT_NAME", "MESSAGE_ID":
			return u, true
		case "PROCESS_ID", "ERROR":
			return u, extra
		}
		return "", false
	}
}

func (s *Server) offlineSelect(c *Request, extra bool) ([]*offlineEvent, *APIError) {
	filter, e := parseFilter(ciMap(c.params, "filter"), offlineResolve(extra))
	if e != nil {
		return nil, e
	}
	var out []*offlineEvent
	for _, ev := range s.ev.offline {
		if filter.match(offlineGetter(ev, s)) {
			out = append(out, ev)
		}
	}
	order := []orderBy{{field: "TIMESTAMP_X"}, {field: "ID"}}
	if extra {
		order = []orderBy{{field: "ID"}}
	}
	if om := ciMap(c.params, "order"); om != nil && om.Len() > 0 {
		if order, e = parseOrder(om, offlineResolve(extra)); e != nil {
			return nil, e
		}
	}
	sortRecords(out, order, func(ev *offlineEvent, f string) any { return offlineGetter(ev, s)(f) })
	return out, nil
}

// zeroOne reads an integer flag documented as "Values: 0|1" with a default
// (api-reference/events/event-offline-get.md: clear, default 1; error,
// default 0). How the portal reads other values is not documented, so
// anything but 0 and 1 (as a number or a string) is refused with the
// method's argument error rather than guessed.
func zeroOne(params *phpform.Map, name string, def bool) (bool, *APIError) {
	if !ciHas(params, name) {
		return def, nil
	}
	switch v := ciGet(params, name).(type) {
	case string, json.Number:
		switch fmt.Sprint(v) {
		case "0":
			return false, nil
		case "1":
			return true, nil
		}
	}
	return false, &APIError{StatusCode: 400, Code: "ERROR_ARGUMENT", Description: fmt.Sprintf("Argument '%s' must be 0 or 1", name), Argument: name}
}

func (s *Server) removeOffline(drop func(*offlineEvent) bool) {
	kept := s.ev.offline[:0]
	for _, ev := range s.ev.offline {
		if !drop(ev) {
			kept = append(kept, ev)
		}
	}
	s.ev.offline = kept
}

func idSet(v any) map[string]bool {
	if v == nil {
		return nil
	}
	out := map[string]bool{}
	for _, x := range listValues(v) {
		out[leafStr(x)] = true
	}
	return out
}

// ---- portal-side helpers ----

// AddOutboundWebhook configures an outbound webhook (Developer resources >
// Outgoing webhook) that posts events to handlerURL with
// auth[application_token] = applicationToken (random when empty). It
// returns the application token. events are the boxes ticked in the
// webhook's form: the names the portal offers (see the events method),
// including the per-type dynamic-item names of existing types
// (ONCRMDYNAMICITEMUPDATE_31). Like ticking a box that is not there, a
// name the portal does not offer is a mistake in the test: it panics.
func (s *Server) AddOutboundWebhook(events []string, handlerURL, applicationToken string) string {
	if applicationToken == "" {
		applicationToken = randHex(16)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range events {
		if !s.offersEvent(strings.ToUpper(e)) {
			panic(fmt.Sprintf("bitrixtest: AddOutboundWebhook: the portal offers no event %q", e))
		}
	}
	for _, e := range events {
		s.ev.nextID++
		s.ev.handlers = append(s.ev.handlers, &eventHandler{id: s.ev.nextID, event: strings.ToUpper(e), handler: handlerURL, kind: kindOutbound, appToken: applicationToken})
	}
	return applicationToken
}

// OfflineEventCount reports how many records the offline event queue holds.
func (s *Server) OfflineEventCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ev.offline)
}

// InstallApp installs the app (if it was uninstalled) and posts ONAPPINSTALL
// to handlerURL (the app's installation handler; "" posts nothing) with a
// fresh token pair of user 1, including refresh_token and
// application_token. It returns the tokens and the delivery's error (a
// transport error or a non-2xx answer).
func (s *Server) InstallApp(handlerURL string) (Tokens, error) {
	s.mu.Lock()
	s.installed = true
	auth := s.appAuth(1, true)
	at, _ := auth.Get("access_token")
	rt, _ := auth.Get("refresh_token")
	tok := s.tokensFor(at.(string), rt.(string), 1)
	var out []delivery
	if handlerURL != "" {
		data := phpform.NewMap()
		data.Set("VERSION", "1")
		data.Set("ACTIVE", "Y")
		data.Set("INSTALLED", "Y")
		data.Set("LANGUAGE_ID", "en")
		out = append(out, delivery{event: "ONAPPINSTALL", url: handlerURL, body: s.payload("ONAPPINSTALL", 0, data, auth)})
	}
	s.mu.Unlock()
	return tok, s.deliverAll(out)
}

func (s *Server) tokensFor(at, rt string, userID int) Tokens {
	info := s.tokens[at]
	return Tokens{AccessToken: at, RefreshToken: rt, Expires: info.expires, MemberID: s.app.MemberID, Domain: s.app.Domain,
		ClientEndpoint: s.app.ClientEndpoint, ServerEndpoint: s.app.ServerEndpoint, Scope: strings.Join(s.cfg.scope, ","), UserID: userID}
}

// UninstallApp uninstalls the app: ONAPPUNINSTALL (data CLEAN=1, auth
// without tokens) goes to the handlers the app bound to it, then the app's
// event handlers and all its tokens are removed. It returns the first
// delivery error.
func (s *Server) UninstallApp() error {
	s.mu.Lock()
	var out []delivery
	for _, h := range s.ev.handlers {
		if h.kind == kindApp && h.event == "ONAPPUNINSTALL" && !h.offline {
			data := phpform.NewMap()
			data.Set("LANGUAGE_ID", "en")
			data.Set("CLEAN", "1")
			out = append(out, delivery{event: "ONAPPUNINSTALL", url: h.handler, body: s.payload("ONAPPUNINSTALL", h.id, data, s.plainAuth(s.app.ApplicationToken))})
		}
	}
	kept := s.ev.handlers[:0]
	for _, h := range s.ev.handlers {
		if h.kind != kindApp {
			kept = append(kept, h)
		}
	}
	s.ev.handlers = kept
	s.installed = false
	s.tokens = map[string]*accessToken{}
	s.refreshes = map[string]*refreshToken{}
	s.mu.Unlock()
	return s.deliverAll(out)
}
