package webhook_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/b24go/sdk/events"
	"github.com/b24go/sdk/webhook"
)

// routes is the smallest Router: the handlers by name.
type routes map[string]webhook.HandlerFunc

func (r routes) Handle(name string, fn webhook.HandlerFunc) { r[strings.ToUpper(name)] = fn }

func (r routes) dispatch(t *testing.T, body string) error {
	t.Helper()
	ev, err := events.ParseBody([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	fn, ok := r[ev.Name]
	if !ok {
		t.Fatalf("no route for %s", ev.Name)
	}
	return fn(context.Background(), ev)
}

func TestOnHandsTypedData(t *testing.T) {
	t.Parallel()
	r := routes{}
	var lead, item int
	var unknown string
	webhook.On(r, events.OnCRMLeadAdd, func(_ context.Context, _ *events.Event, d *events.CRMEntity) error {
		lead = d.EntityID()
		return nil
	})
	// A per-type dynamic-item name carries a CRMEntity too.
	webhook.On(r, "onCrmDynamicItemAdd_31", func(_ context.Context, _ *events.Event, d *events.CRMEntity) error {
		item = d.EntityID()
		return nil
	})
	// An event without a registered type carries *events.Unknown.
	webhook.On(r, "ONSOMETHINGNEW", func(_ context.Context, _ *events.Event, d *events.Unknown) error {
		unknown = string(d.Raw)
		return nil
	})
	for _, body := range []string{
		"event=ONCRMLEADADD&data[FIELDS][ID]=41",
		"event=ONCRMDYNAMICITEMADD_31&data[FIELDS][ID]=7&data[FIELDS][ENTITY_TYPE_ID]=31",
		"event=ONSOMETHINGNEW&data[X]=1",
	} {
		if err := r.dispatch(t, body); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
	}
	if lead != 41 || item != 7 || !strings.Contains(unknown, `"X"`) {
		t.Errorf("lead %d, item %d, unknown %s; want 41, 7 and the raw data", lead, item, unknown)
	}
}

func TestOnPassesTheHandlersError(t *testing.T) {
	t.Parallel()
	r := routes{}
	boom := errors.New("boom")
	webhook.On(r, events.OnTaskAdd, func(context.Context, *events.Event, *events.Task) error { return boom })
	if err := r.dispatch(t, "event=ONTASKADD&data[FIELDS_AFTER][ID]=5"); !errors.Is(err, boom) {
		t.Errorf("got %v, want the handler's error", err)
	}
}

func TestOnRefusesMismatchedData(t *testing.T) {
	t.Parallel()
	r := routes{}
	called := false
	webhook.On(r, events.OnCRMDealAdd, func(context.Context, *events.Event, *events.CRMEntity) error {
		called = true
		return nil
	})
	// An event built by hand with the wrong Data reaches no handler.
	ev := &events.Event{Name: events.OnCRMDealAdd, Data: &events.Task{}}
	err := r[events.OnCRMDealAdd](context.Background(), ev)
	if err == nil || called {
		t.Fatalf("err %v, handler called %v; want an error and no call", err, called)
	}
	if !strings.Contains(err.Error(), "*events.Task") {
		t.Errorf("error %q does not name the data it got", err)
	}
}

func TestOnPanicsAtRegistration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, want string
		fn         func(r webhook.Router)
	}{
		{"nil handler", "nil handler", func(r webhook.Router) {
			webhook.On[events.CRMEntity](r, events.OnCRMDealAdd, nil)
		}},
		{"wrong type", "*events.CRMEntity", func(r webhook.Router) {
			webhook.On(r, events.OnCRMDealAdd, func(context.Context, *events.Event, *events.BotMessage) error { return nil })
		}},
		{"typed data for an unknown event", "*events.Unknown", func(r webhook.Router) {
			webhook.On(r, "ONSOMETHINGNEW", func(context.Context, *events.Event, *events.CRMEntity) error { return nil })
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := routes{}
			defer func() {
				p := recover()
				if p == nil {
					t.Fatal("no panic")
				}
				if s, _ := p.(string); !strings.Contains(s, tt.want) {
					t.Errorf("panic %q does not mention %q", p, tt.want)
				}
				if len(r) != 0 {
					t.Errorf("a route was registered: %v", r)
				}
			}()
			tt.fn(r)
		})
	}
}
