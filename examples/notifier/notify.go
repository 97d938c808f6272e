package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/crm"
	"github.com/b24go/sdk/events"
	"github.com/b24go/sdk/webhook"
)

// Notification is what the notifier posts for one event.
type Notification struct {
	Event  string    `json:"event"`           // "ONCRMDEALUPDATE"
	Entity string    `json:"entity"`          // "deal", "lead", "task", ...
	Action string    `json:"action"`          // "add", "update", "delete"
	ID     int       `json:"id"`              // the item's id
	Title  string    `json:"title,omitempty"` // the item's title (with B24_WEBHOOK_URL)
	Portal string    `json:"portal"`          // the portal's domain
	Time   time.Time `json:"time"`            // when the portal raised the event
	Text   string    `json:"text"`            // a line for humans
}

// Sink delivers notifications.
type Sink interface {
	Notify(ctx context.Context, n Notification) error
}

// writerSink writes each notification as a JSON line (stdout by default).
type writerSink struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *writerSink) Notify(_ context.Context, n Notification) error {
	b, err := json.Marshal(n)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err = s.w.Write(append(b, '\n'))
	return err
}

// httpSink posts each notification as JSON to an endpoint. Anything but a
// 2xx answer is an error, so the event counts as failed.
type httpSink struct {
	url    string
	client *http.Client
}

func (s *httpSink) Notify(ctx context.Context, n Notification) error {
	b, err := json.Marshal(n)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("post notification: %w", err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("post notification: endpoint answered HTTP %d", res.StatusCode)
	}
	return nil
}

// notifier turns events into notifications.
type notifier struct {
	sink Sink
	crm  *crm.Client // nil: no titles
	log  *slog.Logger
}

// routes sends every event with an entity id (CRM items, tasks) to the
// notifier; other events are acknowledged and logged.
func (n *notifier) routes(h *webhook.Handler) {
	h.HandleDefault(n.handle)
}

func (n *notifier) handle(ctx context.Context, ev *events.Event) error {
	note, ok := describe(ev)
	if !ok {
		n.log.Info("event ignored: no entity id", "event", ev.Name)
		return nil
	}
	if n.crm != nil {
		n.addTitle(ctx, ev, &note)
	}
	note.Text = text(note)
	if err := n.sink.Notify(ctx, note); err != nil {
		return fmt.Errorf("%s %d: %w", ev.Name, note.ID, err)
	}
	n.log.Info("notified", "event", ev.Name, "id", note.ID)
	return nil
}

// describe builds the notification of an event, without title and text.
func describe(ev *events.Event) (Notification, bool) {
	id, ok := ev.EntityID()
	if !ok || id <= 0 {
		return Notification{}, false
	}
	note := Notification{Event: ev.Name, ID: id, Portal: ev.Auth.Domain, Time: ev.TS.UTC()}
	if entity, action, ok := events.CRMEntityOf(ev.Name); ok {
		note.Entity, note.Action = strings.ToLower(entity), strings.ToLower(action)
		if note.Entity == "dynamicitem" {
			if t, ok := ev.EntityTypeID(); ok {
				note.Entity = fmt.Sprintf("smart process %d item", t)
			}
		}
	} else if rest, ok := strings.CutPrefix(ev.Name, "ONTASK"); ok {
		note.Entity, note.Action = "task", strings.ToLower(rest)
	} else {
		note.Entity, note.Action = "item", strings.ToLower(ev.Name)
	}
	return note, true
}

// addTitle fetches the CRM item's title. A missing item (deleted since) and
// other failures leave the title empty: the notification still goes out.
func (n *notifier) addTitle(ctx context.Context, ev *events.Event, note *Notification) {
	typeID, ok := ev.EntityTypeID()
	if !ok || note.Action == "delete" {
		return
	}
	it, err := n.crm.Items(typeID).Get(ctx, note.ID)
	switch {
	case err == nil:
		note.Title = it.Title
	case errors.Is(err, bitrix.ErrNotFound):
	default:
		n.log.Warn("could not fetch the title", "event", ev.Name, "id", note.ID, "error", err)
	}
}

var verbs = map[string]string{"add": "was created", "update": "was updated", "delete": "was deleted"}

func text(n Notification) string {
	name := strings.ToUpper(n.Entity[:1]) + n.Entity[1:]
	s := fmt.Sprintf("%s #%d", name, n.ID)
	if n.Title != "" {
		s += fmt.Sprintf(" %q", n.Title)
	}
	if v, ok := verbs[n.Action]; ok {
		return s + " " + v
	}
	return s + ": " + n.Action
}
