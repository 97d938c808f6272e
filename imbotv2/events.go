package imbotv2

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/events"
)

// MaxEventLimit is the most events one Event.get returns (its limit is
// 1–1000, default 100).
const MaxEventLimit = 1000

// EventService groups imbot.v2.Event.get ([docs]).
//
// [docs]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/events/index.html
type EventService struct{ c *Client }

// EventQuery is the request of [EventService.Get].
type EventQuery struct {
	// Offset confirms every event with an id below it and asks for the
	// events from it on; 0 leaves it out (the first call).
	Offset int64
	// Limit is 1–1000 (0: the portal's default, 100).
	Limit int
	// WithUserEvents adds the ONIMV2* events of the authorizing user; it
	// needs the im scope and im.v2.Event.subscribe.
	WithUserEvents bool
}

// FetchedEvent is one item of Event.get.
type FetchedEvent struct {
	// EventID orders the queue; an offset above it confirms it.
	EventID int64       `json:"eventId"`
	Type    string      `json:"type"`
	Date    bitrix.Time `json:"date"`
	// Data is the event's data object (decoded by [FetchedEvent.Event]).
	Data json.RawMessage `json:"data"`
}

// Event decodes the item into an *events.Event with typed Data, as a
// webhook delivery of the same event decodes (no Auth: fetch mode has none).
func (f *FetchedEvent) Event() (*events.Event, error) {
	return events.FromJSON(f.Type, f.Date.Time, f.Data)
}

// EventBatch is the answer of Event.get.
type EventBatch struct {
	Events []FetchedEvent `json:"events"`
	// NextOffset is the offset of the next call; it confirms the events
	// of this batch.
	NextOffset int64 `json:"nextOffset"`
	HasMore    bool  `json:"hasMore"`
}

// wireBatch also reads lastEventId, the field before REST revision 33's
// nextOffset (change-log.md BOT-BC-0325-1, supported until 25.09.2026).
type wireBatch struct {
	Events      []FetchedEvent `json:"events"`
	NextOffset  *int64         `json:"nextOffset"`
	LastEventID *int64         `json:"lastEventId"`
	HasMore     bitrix.Bool    `json:"hasMore"`
}

// Get calls imbot.v2.Event.get: it confirms the events below q.Offset and
// returns the next ones. Only the application that registered the bot
// receives its events; one consumer per bot.
//
// Bitrix24 method: [imbot.v2.Event.get].
//
// [imbot.v2.Event.get]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/events/event-get.html
func (s *EventService) Get(ctx context.Context, botID int, q EventQuery) (*EventBatch, error) {
	const m = "imbot.v2.Event.get"
	if err := checkBot(m, botID); err != nil {
		return nil, err
	}
	if q.Limit < 0 || q.Limit > MaxEventLimit {
		return nil, invalid(m, "limit", "must be 1–%d, got %d", MaxEventLimit, q.Limit)
	}
	if q.Offset < 0 {
		return nil, invalid(m, "offset", "must not be negative")
	}
	p := params{}
	if q.Offset > 0 {
		p["offset"] = q.Offset
	}
	if q.Limit > 0 {
		p["limit"] = q.Limit
	}
	if q.WithUserEvents {
		p["withUserEvents"] = true
	}
	var w wireBatch
	if err := s.c.call(ctx, m, botID, p, &w); err != nil {
		return nil, err
	}
	out := &EventBatch{Events: w.Events, HasMore: bool(w.HasMore)}
	switch {
	case w.NextOffset != nil:
		out.NextOffset = *w.NextOffset
	case w.LastEventID != nil && *w.LastEventID > 0:
		out.NextOffset = *w.LastEventID + 1
	default:
		out.NextOffset = q.Offset
	}
	// The queue is ordered by id; keep it so even if a portal is not.
	slices.SortStableFunc(out.Events, func(a, b FetchedEvent) int { return cmp.Compare(a.EventID, b.EventID) })
	return out, nil
}
