package imbotv2

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/events"
)

func TestPollerDeliversInOrderAndConfirms(t *testing.T) {
	t.Parallel()
	s, c, bot := newFetchBot(t)
	for i := range 5 {
		if _, err := s.V2SendMessage(bot, 2, fmt.Sprint("m", i)); err != nil {
			t.Fatal(err)
		}
	}
	seen := newTexts()
	p := &Poller{Client: c, BotID: bot, Limit: 2}
	OnMessage(p, seen.handler(nil))
	for range 3 {
		if _, err := p.Once(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if got := seen.drain(); !slices.Equal(got, []string{"m0", "m1", "m2", "m3", "m4"}) {
		t.Fatalf("handled %q", got)
	}
	// The next fetch confirms the last batch on the portal.
	b, err := p.Once(t.Context())
	if err != nil || b.Handled != 0 {
		t.Fatalf("extra batch %+v, %v", b, err)
	}
	if pend := s.V2PendingEvents(bot); len(pend) != 0 {
		t.Fatalf("unconfirmed on the portal: %v", pend)
	}
}

// A failing handler's event is never confirmed: the Poller saves the
// offset below it, the portal keeps it, and it comes again (followed by
// the events after it) until the handler succeeds.
func TestPollerNeverConfirmsAFailedEvent(t *testing.T) {
	t.Parallel()
	s, c, bot := newFetchBot(t)
	for _, m := range []string{"a", "bad", "c"} {
		if _, err := s.V2SendMessage(bot, 2, m); err != nil {
			t.Fatal(err)
		}
	}
	ids := s.V2PendingEvents(bot)
	store := NewMemoryOffsetStore()
	failures := 2
	seen := newTexts()
	p := &Poller{Client: c, BotID: bot, Store: store}
	OnMessage(p, seen.handler(func(text string) error {
		if text == "bad" && failures > 0 {
			failures--
			return errors.New("downstream is down")
		}
		return nil
	}))
	for i := range 2 {
		b, err := p.Once(t.Context())
		if !errors.Is(err, ErrHandler) {
			t.Fatalf("round %d: err %v", i, err)
		}
		if b.Offset != ids[1] {
			t.Fatalf("round %d: offset %d, want %d (the failed event)", i, b.Offset, ids[1])
		}
		if saved, _ := store.LoadOffset(t.Context(), OffsetKey(c.BitrixClient().PortalKey(), bot)); saved != ids[1] {
			t.Fatalf("saved offset %d", saved)
		}
		if pend := s.V2PendingEvents(bot); !slices.Contains(pend, ids[1]) {
			t.Fatalf("failed event %d confirmed: pending %v", ids[1], pend)
		}
	}
	if _, err := p.Once(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := seen.drain(); !slices.Equal(got, []string{"a", "bad", "bad", "bad", "c"}) {
		t.Fatalf("handled %q", got)
	}
}

// Under connection resets, 5xx answers, proxy 502 pages, QUERY_LIMIT_EXCEEDED
// and answers lost after the portal processed Event.get, every event is
// handled at least once, in order of first delivery, none is skipped, and
// the portal ends with nothing unconfirmed.
func TestPollerUnderFaults(t *testing.T) {
	t.Parallel()
	s, c, bot := newFetchBot(t, bitrix.WithRetryPolicy(bitrix.NoRetries()))
	seen := newTexts()
	p := &Poller{Client: c, BotID: bot, Limit: 3}
	OnMessage(p, seen.handler(nil))
	inject := []func(){
		func() { s.DropBeforeProcessing(1) },
		func() { s.FailNext(1, http.StatusInternalServerError, "INTERNAL_SERVER_ERROR") },
		func() { s.FailNext(1, http.StatusServiceUnavailable, "QUERY_LIMIT_EXCEEDED") },
		func() { s.HTML502(1) },
		func() { s.DropAfterProcessing(1) },
	}
	var want []string
	failed := 0
	for round := range 40 {
		if round < 20 {
			for k := range 2 {
				m := fmt.Sprintf("r%d-%d", round, k)
				want = append(want, m)
				if _, err := s.V2SendMessage(bot, 2, m); err != nil {
					t.Fatal(err)
				}
			}
		}
		inject[round%len(inject)]()
		if _, err := p.Once(t.Context()); err != nil {
			failed++
		}
	}
	s.ClearFaults()
	for range 30 {
		if _, err := p.Once(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if failed < 20 {
		t.Fatalf("only %d of 40 polls failed: the faults did not bite", failed)
	}
	got := seen.drain()
	var first []string
	for _, m := range got {
		if !slices.Contains(first, m) {
			first = append(first, m)
		}
	}
	if !slices.Equal(first, want) {
		t.Fatalf("first deliveries %q\nwant %q", first, want)
	}
	if pend := s.V2PendingEvents(bot); len(pend) != 0 {
		t.Fatalf("unconfirmed: %v", pend)
	}
}

// killingStore ends the calling goroutine (as a crash would end the
// worker) on its first save: the handler has run, the offset is not saved.
type killingStore struct {
	*MemoryOffsetStore
	mu     sync.Mutex
	killed bool
}

func (k *killingStore) SaveOffset(ctx context.Context, key string, off int64) error {
	k.mu.Lock()
	kill := !k.killed
	k.killed = true
	k.mu.Unlock()
	if kill {
		runtime.Goexit()
	}
	return k.MemoryOffsetStore.SaveOffset(ctx, key, off)
}

func TestPollerWorkerKilledBetweenHandlingAndConfirming(t *testing.T) {
	t.Parallel()
	s, c, bot := newFetchBot(t)
	for _, m := range []string{"one", "two"} {
		if _, err := s.V2SendMessage(bot, 2, m); err != nil {
			t.Fatal(err)
		}
	}
	store := &killingStore{MemoryOffsetStore: NewMemoryOffsetStore()}
	seen := newTexts()
	first := &Poller{Client: c, BotID: bot, Store: store}
	OnMessage(first, seen.handler(nil))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = first.Run(t.Context())
	}()
	<-done // killed inside its first save
	if got := seen.drain(); !slices.Equal(got, []string{"one", "two"}) {
		t.Fatalf("first worker handled %q", got)
	}
	if pend := s.V2PendingEvents(bot); len(pend) != 2 {
		t.Fatalf("portal lost events of a dead worker: pending %v", pend)
	}
	// The replacement with the same store sees both again.
	second := &Poller{Client: c, BotID: bot, Store: store}
	OnMessage(second, seen.handler(nil))
	if _, err := second.Once(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := seen.drain(); !slices.Equal(got, []string{"one", "two"}) {
		t.Fatalf("replacement handled %q", got)
	}
}

// Run waits Idle, doubling to MaxIdle while the queue is empty, MorePause
// while the portal has more, and stops cleanly (confirming what it
// handled) when ctx ends. Virtual time: testing/synctest.
func TestPollerRunBackoffAndStop(t *testing.T) {
	t.Parallel()
	s := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit())
	synctest.Test(t, func(t *testing.T) {
		bc, err := bitrix.New(bitrix.WebhookURL(s.WebhookURL()), bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit(),
			bitrix.WithTransport(inProcess{s.Handler()}))
		if err != nil {
			t.Fatal(err)
		}
		c, _ := New(bc, WithBotToken(testToken))
		reg, err := c.Bots.Register(t.Context(), Registration{Code: "b", Properties: Properties{Name: "B"}})
		if err != nil {
			t.Fatal(err)
		}
		bot := int(reg.Bot.ID)
		seen := newTexts()
		p := &Poller{Client: c, BotID: bot, Limit: 1, Idle: 5 * time.Second, MaxIdle: 20 * time.Second, MorePause: 2 * time.Second}
		OnMessage(p, seen.handler(nil))
		calls := func() int { return s.CallCount("imbot.v2.Event.get") }
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- p.Run(ctx) }()
		synctest.Wait()
		if calls() != 1 {
			t.Fatalf("%d polls at start", calls())
		}
		// Empty queue: waits of 5, 10, 20, 20 s.
		for i, d := range []time.Duration{5, 10, 20, 20} {
			time.Sleep(d*time.Second - time.Millisecond)
			synctest.Wait()
			if calls() != i+1 {
				t.Fatalf("poll %d came before %v", i+2, d*time.Second)
			}
			time.Sleep(time.Millisecond)
			synctest.Wait()
			if calls() != i+2 {
				t.Fatalf("no poll %d after %v", i+2, d*time.Second)
			}
		}
		// Two events, limit 1: the first batch says hasMore → 2 s pause.
		for _, m := range []string{"x", "y"} {
			if _, err := s.V2SendMessage(bot, 2, m); err != nil {
				t.Fatal(err)
			}
		}
		p.Wake()
		synctest.Wait()
		if got := seen.drain(); !slices.Equal(got, []string{"x"}) {
			t.Fatalf("after wake: %q", got)
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if got := seen.drain(); !slices.Equal(got, []string{"y"}) {
			t.Fatalf("after the hasMore pause: %q", got)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
		if pend := s.V2PendingEvents(bot); len(pend) != 0 {
			t.Fatalf("stop did not confirm: pending %v", pend)
		}
	})
}

func TestPollerRunStopsOnFatalErrors(t *testing.T) {
	t.Parallel()
	_, c, bot := newFetchBot(t)
	if err := c.Bots.Unregister(t.Context(), bot); err != nil {
		t.Fatal(err)
	}
	p := &Poller{Client: c, BotID: bot}
	err := p.Run(t.Context())
	var ae *bitrix.APIError
	if !errors.As(err, &ae) || ae.Code != "BOT_NOT_FOUND" {
		t.Fatalf("Run: %v", err)
	}
	if err := (&Poller{}).Run(t.Context()); err == nil {
		t.Fatal("Run without Client: no error")
	}
}

func TestPollerRoutesEveryTypedEvent(t *testing.T) {
	t.Parallel()
	s, c, bot := newFetchBot(t)
	ctx := t.Context()
	if _, err := c.Commands.Register(ctx, bot, CommandSpec{Command: "help", Title: map[string]string{"en": "Help"}}); err != nil {
		t.Fatal(err)
	}
	chatID := s.CreateChat("Team", 1, 2)
	if err := s.V2AddBotToChat(bot, chatID, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.V2SendMessage(bot, 2, "/help topic"); err != nil {
		t.Fatal(err)
	}
	sent, err := c.Messages.Send(ctx, bot, ChatDialog(chatID), MessageFields{Text: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.V2React(sent.ID, 2, "like", false); err != nil {
		t.Fatal(err)
	}
	var got []string
	p := &Poller{Client: c, BotID: bot}
	OnJoinChat(p, func(_ context.Context, ev *events.Event, d *events.BotV2JoinChat) error {
		got = append(got, fmt.Sprintf("join %s by %d", d.DialogID, d.User.ID))
		return nil
	})
	OnCommand(p, func(_ context.Context, ev *events.Event, d *events.BotV2CommandAdd) error {
		got = append(got, fmt.Sprintf("command %s %q in %s", d.Command.Command, d.Command.Params, d.ReplyDialog()))
		return c.Commands.Answer(ctx, bot, int(d.Command.ID), int(d.Message.ID), DialogID(d.ReplyDialog()), MessageFields{Text: "help text"})
	})
	OnReactionChange(p, func(_ context.Context, ev *events.Event, d *events.BotV2ReactionChange) error {
		got = append(got, fmt.Sprintf("reaction %s %s on %d", d.Action, d.Reaction, d.Message.ID))
		return nil
	})
	if _, err := p.Once(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{"join chat" + fmt.Sprint(chatID) + " by 1", `command /help "topic" in 2`, fmt.Sprintf("reaction add like on %d", sent.ID)}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	msgs := s.V2Messages()
	if len(msgs) != 2 || msgs[1].Text != "help text" || msgs[1].CommandID == 0 || msgs[1].DialogID != "2" {
		t.Fatalf("messages %+v", msgs)
	}
	if !strings.HasPrefix(msgs[0].DialogID, "chat") {
		t.Fatalf("chat message %+v", msgs[0])
	}
}

func TestPollerEditDeleteContext(t *testing.T) {
	t.Parallel()
	s, c, bot := newFetchBot(t)
	id, err := s.V2SendMessage(bot, 2, "draft")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.V2EditMessage(id, "final"); err != nil {
		t.Fatal(err)
	}
	if err := s.V2DeleteMessage(id); err != nil {
		t.Fatal(err)
	}
	if err := s.V2OpenWithContext(bot, 3, map[string]any{"entityType": "task", "entityId": 164}); err != nil {
		t.Fatal(err)
	}
	var got []string
	p := &Poller{Client: c, BotID: bot}
	OnMessage(p, func(_ context.Context, _ *events.Event, d *events.BotV2Message) error {
		got = append(got, "add "+d.Message.Text)
		return nil
	})
	OnMessageUpdate(p, func(_ context.Context, _ *events.Event, d *events.BotV2Message) error {
		got = append(got, "update "+d.Message.Text)
		return nil
	})
	OnMessageDelete(p, func(_ context.Context, _ *events.Event, d *events.BotV2MessageDelete) error {
		got = append(got, fmt.Sprintf("delete %v", int(d.MessageID) == id))
		return nil
	})
	OnContextGet(p, func(_ context.Context, _ *events.Event, d *events.BotV2ContextGet) error {
		var ctxData struct {
			EntityType string `json:"entityType"`
			EntityID   int    `json:"entityId"`
		}
		if err := json.Unmarshal(d.Context, &ctxData); err != nil {
			return err
		}
		got = append(got, fmt.Sprintf("context %s %d from %s", ctxData.EntityType, ctxData.EntityID, d.DialogID))
		return nil
	})
	if _, err := p.Once(t.Context()); err != nil {
		t.Fatal(err)
	}
	if want := []string{"add draft", "update final", "delete true", "context task 164 from 3"}; !slices.Equal(got, want) {
		t.Fatalf("got %q", got)
	}
}

// A stop lets the handler in hand finish (within StopGrace) and confirms
// its event; a handler that outlives StopGrace sees its context end and
// its event stays unconfirmed.
func TestPollerStopGrace(t *testing.T) {
	t.Parallel()
	s := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit())
	synctest.Test(t, func(t *testing.T) {
		bc, err := bitrix.New(bitrix.WebhookURL(s.WebhookURL()), bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit(),
			bitrix.WithTransport(inProcess{s.Handler()}))
		if err != nil {
			t.Fatal(err)
		}
		c, _ := New(bc, WithBotToken(testToken))
		reg, err := c.Bots.Register(t.Context(), Registration{Code: "g", Properties: Properties{Name: "G"}})
		if err != nil {
			t.Fatal(err)
		}
		bot := int(reg.Bot.ID)
		for _, m := range []string{"slow", "hung"} {
			if _, err := s.V2SendMessage(bot, 2, m); err != nil {
				t.Fatal(err)
			}
		}
		ids := s.V2PendingEvents(bot)
		p := &Poller{Client: c, BotID: bot, StopGrace: 30 * time.Second}
		var sendErr error
		OnMessage(p, func(ctx context.Context, _ *events.Event, d *events.BotV2Message) error {
			switch d.Message.Text {
			case "slow":
				time.Sleep(20 * time.Second) // still working when the stop comes
				_, sendErr = c.Messages.Send(ctx, bot, DialogID(d.ReplyDialog()), MessageFields{Text: "done"})
				return sendErr
			default:
				<-ctx.Done() // never finishes on its own
				return ctx.Err()
			}
		})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- p.Run(ctx) }()
		time.Sleep(time.Second)
		cancel() // stop while "slow" is in hand
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
		if sendErr != nil {
			t.Fatalf("the handler in hand lost its context: %v", sendErr)
		}
		if msgs := s.V2Messages(); len(msgs) != 1 || msgs[0].Text != "done" {
			t.Fatalf("messages %+v", msgs)
		}
		// "slow" is confirmed; "hung" was never started: it stays.
		if pend := s.V2PendingEvents(bot); !slices.Equal(pend, ids[1:]) {
			t.Fatalf("pending %v, want %v", pend, ids[1:])
		}
		// A handler that outlives the grace: its context ends, its event stays.
		p2 := &Poller{Client: c, BotID: bot, StopGrace: 5 * time.Second}
		OnMessage(p2, func(ctx context.Context, _ *events.Event, d *events.BotV2Message) error {
			<-ctx.Done()
			return ctx.Err()
		})
		ctx2, cancel2 := context.WithCancel(t.Context())
		go func() { done <- p2.Run(ctx2) }()
		time.Sleep(time.Second)
		start := time.Now()
		cancel2()
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
		if waited := time.Since(start); waited != 5*time.Second {
			t.Fatalf("stopped after %v, want the 5s grace", waited)
		}
		if pend := s.V2PendingEvents(bot); !slices.Equal(pend, ids[1:]) {
			t.Fatalf("pending %v after a grace timeout", pend)
		}
	})
}

// The Poller keeps within the portal's request rate through the
// bitrix.Client's limiter: draining a long queue one event per batch with
// no pause of its own, it never hits QUERY_LIMIT_EXCEEDED. Virtual time.
func TestPollerWithinRateLimit(t *testing.T) {
	t.Parallel()
	s := bitrixtest.NewServer(t, bitrixtest.WithRateLimit(2, 5))
	synctest.Test(t, func(t *testing.T) {
		bc, err := bitrix.New(bitrix.WebhookURL(s.WebhookURL()), bitrix.WithAllowHTTP(), bitrix.WithRateLimit(2, 5),
			bitrix.WithTransport(inProcess{s.Handler()}))
		if err != nil {
			t.Fatal(err)
		}
		c, _ := New(bc, WithBotToken(testToken))
		reg, err := c.Bots.Register(t.Context(), Registration{Code: "r", Properties: Properties{Name: "R"}})
		if err != nil {
			t.Fatal(err)
		}
		bot := int(reg.Bot.ID)
		for i := range 20 {
			if _, err := s.V2SendMessage(bot, 2, fmt.Sprint(i)); err != nil {
				t.Fatal(err)
			}
		}
		seen := newTexts()
		p := &Poller{Client: c, BotID: bot, Limit: 1, MorePause: time.Nanosecond, Idle: time.Hour}
		OnMessage(p, seen.handler(nil))
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		start := time.Now()
		go func() { done <- p.Run(ctx) }()
		for len(seen.ch) < 20 {
			time.Sleep(100 * time.Millisecond)
		}
		elapsed := time.Since(start)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		for _, call := range s.Calls() {
			if call.Code == "QUERY_LIMIT_EXCEEDED" {
				t.Fatalf("the portal refused a poll: %s %d", call.Method, call.Status)
			}
		}
		// 21 requests (register + 20 polls) at 2/s after a burst of 5 take
		// at least 8 s of (virtual) time: the limiter waited.
		if elapsed < 7*time.Second {
			t.Fatalf("20 polls in %v: faster than the portal allows", elapsed)
		}
	})
}
