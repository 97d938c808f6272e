package imbotv2

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/events"
	"github.com/b24go/sdk/webhook"
)

// fetchBotInBubble registers a fetch-mode bot on s with a client that
// reaches s without a network (for testing/synctest bubbles).
func fetchBotInBubble(t *testing.T, s *bitrixtest.Server) (*Client, int) {
	t.Helper()
	bc, err := bitrix.New(bitrix.WebhookURL(s.WebhookURL()), bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit(),
		bitrix.WithTransport(inProcess{s.Handler()}))
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(bc, WithBotToken(testToken))
	if err != nil {
		t.Fatal(err)
	}
	reg, err := c.Bots.Register(t.Context(), Registration{Code: "b", Properties: Properties{Name: "B"}, EventMode: ModeFetch})
	if err != nil {
		t.Fatal(err)
	}
	return c, int(reg.Bot.ID)
}

// A handler that keeps failing no longer holds the bot's queue: its event
// runs Retry.MaxAttempts times after waits of 1 s and 2 s (virtual time;
// Wake does not cut a retry wait short), then goes to Queue's dead letters
// with its last error, and the Poller confirms it and goes on with the
// next event. A re-driven dead letter is run by Run again under the same
// policy (back to the dead letters while it fails, acknowledged once it
// succeeds); a dropped one is gone.
func TestPollerRetriesThenDeadLetters(t *testing.T) {
	t.Parallel()
	s := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit())
	synctest.Test(t, func(t *testing.T) {
		c, bot := fetchBotInBubble(t, s)
		var mu sync.Mutex
		var badRuns []time.Time
		var ops []string
		broken := true
		seen := newTexts()
		q := webhook.NewMemoryQueue(0)
		p := &Poller{Client: c, BotID: bot, Queue: q, Idle: time.Hour, MaxIdle: time.Hour,
			Retry: events.RetryPolicy{MaxAttempts: 3, Backoff: time.Second, Visibility: time.Minute},
			Observer: events.Observer{Queue: func(_ context.Context, e events.QueueEvent) {
				mu.Lock()
				ops = append(ops, fmt.Sprintf("%s %d %v %v", e.Op, e.Attempt, e.Wait, e.Err))
				mu.Unlock()
			}}}
		OnMessage(p, seen.handler(func(text string) error {
			mu.Lock()
			defer mu.Unlock()
			if text != "bad" || !broken {
				return nil
			}
			badRuns = append(badRuns, time.Now())
			return fmt.Errorf("downstream down (%d)", len(badRuns))
		}))
		for _, m := range []string{"a", "bad", "c"} {
			if _, err := s.V2SendMessage(bot, 2, m); err != nil {
				t.Fatal(err)
			}
		}
		ids := s.V2PendingEvents(bot)
		start := time.Now()
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- p.Run(ctx) }()
		synctest.Wait()
		if got := seen.drain(); !slices.Equal(got, []string{"a", "bad"}) {
			t.Fatalf("first round handled %q", got)
		}
		if p.Offset() != ids[1] {
			t.Fatalf("offset %d during the retries, want %d", p.Offset(), ids[1])
		}
		p.Wake()
		synctest.Wait()
		if got := seen.drain(); len(got) != 0 {
			t.Fatalf("Wake cut the retry wait short: %q", got)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		mu.Lock()
		if len(badRuns) != 3 || badRuns[0] != start || badRuns[1].Sub(badRuns[0]) != time.Second || badRuns[2].Sub(badRuns[1]) != 2*time.Second {
			t.Errorf("failed runs at %v (start %v), want +0, +1s, +3s", badRuns, start)
		}
		wantOps := []string{"retried 1 1s downstream down (1)", "retried 2 2s downstream down (2)", "dead 3 0s downstream down (3)"}
		if !slices.Equal(ops, wantOps) {
			t.Errorf("observed %q, want %q", ops, wantOps)
		}
		mu.Unlock()
		if got := seen.drain(); !slices.Equal(got, []string{"bad", "bad", "c"}) {
			t.Fatalf("after the retries handled %q", got)
		}
		if p.Offset() != ids[2]+1 {
			t.Errorf("offset %d, want past the dead letter and the next event (%d)", p.Offset(), ids[2]+1)
		}
		dead, err := q.DeadLetters(t.Context())
		if err != nil || len(dead) != 1 || dead[0].Attempt != 3 || dead[0].LastError != "downstream down (3)" || dead[0].Event != events.OnBotV2MessageAdd {
			t.Fatalf("dead letters %+v, %v", dead, err)
		}

		// Re-driven while still broken: three more runs, dead again.
		if err := q.Redrive(t.Context(), dead[0].ID); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if got := seen.drain(); !slices.Equal(got, []string{"bad", "bad", "bad"}) {
			t.Fatalf("re-driven while broken: handled %q", got)
		}
		dead, _ = q.DeadLetters(t.Context())
		if len(dead) != 1 || dead[0].Attempt != 3 || dead[0].LastError != "downstream down (6)" {
			t.Fatalf("dead letters after a failed re-drive %+v", dead)
		}
		// Re-driven once fixed: handled and acknowledged.
		mu.Lock()
		broken = false
		mu.Unlock()
		if err := q.Redrive(t.Context(), dead[0].ID); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if got := seen.drain(); !slices.Equal(got, []string{"bad"}) {
			t.Fatalf("re-driven once fixed: handled %q", got)
		}
		if st, _ := q.Stats(t.Context()); st != (webhook.QueueStats{}) {
			t.Errorf("queue after the re-drive %+v", st)
		}
		// A dead letter dropped is gone; the Poller went on past it.
		mu.Lock()
		broken = true
		mu.Unlock()
		if _, err := s.V2SendMessage(bot, 2, "bad"); err != nil {
			t.Fatal(err)
		}
		p.Wake()
		time.Sleep(time.Minute)
		synctest.Wait()
		dead, _ = q.DeadLetters(t.Context())
		if len(dead) != 1 {
			t.Fatalf("dead letters %+v", dead)
		}
		if err := q.Drop(t.Context(), dead[0].ID); err != nil {
			t.Fatal(err)
		}
		if st, _ := q.Stats(t.Context()); st != (webhook.QueueStats{}) {
			t.Errorf("queue after the drop %+v", st)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
		if pend := s.V2PendingEvents(bot); len(pend) != 0 {
			t.Errorf("the portal still holds %v", pend)
		}
	})
}

// failingQueue is a queue whose dead letters cannot be stored.
type failingQueue struct{ *webhook.MemoryQueue }

func (failingQueue) PutDead(context.Context, webhook.Job, string) (webhook.Job, error) {
	return webhook.Job{}, errors.New("store down")
}

// An event whose dead letter the queue does not keep is not confirmed: it
// comes again, and is confirmed once it is kept.
func TestPollerDeadLetterNotKeptIsNotConfirmed(t *testing.T) {
	t.Parallel()
	s, c, bot := newFetchBot(t)
	if _, err := s.V2SendMessage(bot, 2, "bad"); err != nil {
		t.Fatal(err)
	}
	id := s.V2PendingEvents(bot)[0]
	seen := newTexts()
	p := &Poller{Client: c, BotID: bot, Queue: failingQueue{webhook.NewMemoryQueue(0)}, Retry: events.RetryPolicy{MaxAttempts: 1}}
	OnMessage(p, seen.handler(func(string) error { return errors.New("broken") }))
	for range 2 {
		b, err := p.Once(t.Context())
		if err == nil || errors.Is(err, ErrHandler) || b.Dead != 0 || b.Offset > id {
			t.Fatalf("Once with a queue that fails: %+v, %v", b, err)
		}
	}
	q := webhook.NewMemoryQueue(0)
	p.Queue = q
	b, err := p.Once(t.Context())
	if err != nil || b.Dead != 1 || b.Offset != id+1 {
		t.Fatalf("Once with a working queue: %+v, %v", b, err)
	}
	if dead, _ := q.DeadLetters(t.Context()); len(dead) != 1 || dead[0].Attempt != 3 {
		t.Errorf("dead letters %+v (attempts count every failed run)", dead)
	}
	if got := seen.drain(); len(got) != 3 {
		t.Errorf("handled %q", got)
	}
}
