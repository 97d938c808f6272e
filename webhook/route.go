package webhook

import (
	"context"
	"fmt"

	"github.com/b24go/sdk/events"
)

// Router is what [On] registers on: a [*Handler] (events delivered to your
// URL) or an imbotv2.Poller (a Chatbots 2.0 bot's fetched events). Handlers
// have one signature on both, so they move between the two unchanged.
type Router interface {
	Handle(name string, fn HandlerFunc)
}

// On registers fn for the event name on r, handing it the event's Data as
// its type: *T is the type [events.NewData] names for the event, or
// [events.Unknown] for an event without one (a per-type dynamic-item name,
// "ONCRMDYNAMICITEMADD_31", carries an [events.CRMEntity]).
//
// Every typed Handler.OnX method is On with the event's name and type,
// so On is the route for the events without one (events.OnBotV2MessageAdd
// and the other Chatbots 2.0 events, for example):
//
//	webhook.On(h, events.OnCRMLeadAdd, func(ctx context.Context, ev *events.Event, d *events.CRMEntity) error { … })
//
// It panics, at registration rather than at the first delivery, if fn is
// nil, *T is not the Data type of name, or r refuses the name (a Handler
// refuses an empty name or a second handler for one).
func On[T any](r Router, name string, fn func(ctx context.Context, ev *events.Event, data *T) error) {
	if fn == nil {
		panic("webhook: nil handler for " + name)
	}
	var want any = events.NewData(name)
	if want == nil {
		want = (*events.Unknown)(nil)
	}
	if _, ok := want.(*T); !ok {
		panic(fmt.Sprintf("webhook: On[%T] for %s: the event's data is %T", (*T)(nil), name, want))
	}
	r.Handle(name, func(ctx context.Context, ev *events.Event) error {
		d, ok := ev.Data.(*T)
		if !ok {
			return fmt.Errorf("webhook: %s carries %T, want %T", ev.Name, ev.Data, d)
		}
		return fn(ctx, ev, d)
	})
}
