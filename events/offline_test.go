package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/google/go-cmp/cmp"
)

// fakeQueue models the portal's offline queue: event.offline.get with
// clear=0 reserves rows under a process id, clear deletes them, error marks
// them, and get with a process_id re-reads the unsettled rows.
type fakeQueue struct {
	mu        sync.Mutex
	rows      []map[string]any
	reserved  map[string][]string // process id → message ids
	errored   []string
	cleared   []string
	failClear int // fail the next n clear calls
	params    []bitrix.Params
	nextPID   int
}

func (q *fakeQueue) add(name string, id int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.rows = append(q.rows, map[string]any{
		"ID": fmt.Sprint(id), "TIMESTAMP_X": "2024-07-18T12:32:31+02:00", "EVENT_NAME": name,
		"EVENT_DATA": map[string]any{"FIELDS": map[string]any{"ID": fmt.Sprint(id)}}, "EVENT_ADDITIONAL": map[string]any{"user_id": "1"},
		"MESSAGE_ID": fmt.Sprintf("m%d", id),
	})
}

func (q *fakeQueue) Call(_ context.Context, method string, params any, out any) (*bitrix.Response, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	p := params.(bitrix.Params)
	q.params = append(q.params, p)
	var result any
	switch method {
	case "event.offline.get":
		if p["clear"] != 0 {
			return nil, errors.New("consumer must send clear=0")
		}
		var pid string
		var ids []string
		if s, ok := p["process_id"].(string); ok {
			pid, ids = s, q.reserved[s]
		} else {
			taken := map[string]bool{}
			for _, list := range q.reserved {
				for _, id := range list {
					taken[id] = true
				}
			}
			for _, r := range q.rows {
				if id := r["MESSAGE_ID"].(string); !taken[id] && len(ids) < p["limit"].(int) {
					ids = append(ids, id)
				}
			}
			if len(ids) > 0 {
				q.nextPID++
				pid = fmt.Sprintf("p%d", q.nextPID)
				if q.reserved == nil {
					q.reserved = map[string][]string{}
				}
				q.reserved[pid] = ids
			}
		}
		var evs []map[string]any
		for _, r := range q.rows {
			if slices.Contains(ids, r["MESSAGE_ID"].(string)) {
				evs = append(evs, r)
			}
		}
		var pidv any
		if pid != "" {
			pidv = pid
		}
		result = map[string]any{"process_id": pidv, "events": evs}
	case "event.offline.clear", "event.offline.error":
		if method == "event.offline.clear" && q.failClear > 0 {
			q.failClear--
			return nil, errors.New("connection reset")
		}
		pid := p["process_id"].(string)
		ids := p["message_id"].([]string)
		if method == "event.offline.clear" {
			q.cleared = append(q.cleared, ids...)
		} else {
			q.errored = append(q.errored, ids...)
		}
		q.rows = slices.DeleteFunc(q.rows, func(r map[string]any) bool { return slices.Contains(ids, r["MESSAGE_ID"].(string)) })
		q.reserved[pid] = slices.DeleteFunc(q.reserved[pid], func(id string) bool { return slices.Contains(ids, id) })
		if len(q.reserved[pid]) == 0 {
			delete(q.reserved, pid)
		}
		result = true
	default:
		return nil, fmt.Errorf("unexpected method %s", method)
	}
	if out != nil {
		b, _ := json.Marshal(result)
		if err := json.Unmarshal(b, out); err != nil {
			return nil, err
		}
	}
	return &bitrix.Response{}, nil
}

func TestConsumerOnce(t *testing.T) {
	t.Parallel()
	q := &fakeQueue{}
	for i := 1; i <= 3; i++ {
		q.add(OnCRMLeadAdd, i)
	}
	var seen []string
	c := &Consumer{Client: q, Connector: "my-app", Limit: 10, Retry: RetryPolicy{MaxAttempts: 1}, Handler: func(_ context.Context, rec *OfflineRecord) error {
		seen = append(seen, rec.MessageID)
		d, err := rec.DecodeData()
		if err != nil {
			return err
		}
		if rec.ID == 2 {
			return errors.New("boom")
		}
		if d.(*CRMEntity).EntityID() != int(rec.ID) {
			return fmt.Errorf("data %v", d)
		}
		return nil
	}}
	n, err := c.Once(t.Context())
	if err != nil || n != 3 {
		t.Fatalf("Once = %d, %v", n, err)
	}
	if d := cmp.Diff([]string{"m1", "m2", "m3"}, seen); d != "" {
		t.Errorf("handled (-want +got)\n%s", d)
	}
	if d := cmp.Diff([]string{"m1", "m3"}, q.cleared); d != "" {
		t.Errorf("cleared (-want +got)\n%s", d)
	}
	if d := cmp.Diff([]string{"m2"}, q.errored); d != "" {
		t.Errorf("errored (-want +got)\n%s", d)
	}
	if got := q.params[0]; got["auth_connector"] != "my-app" || got["limit"] != 10 {
		t.Errorf("get params = %v", got)
	}
	if n, err := c.Once(t.Context()); n != 0 || err != nil {
		t.Errorf("second Once = %d, %v", n, err)
	}
}

func TestConsumerAtLeastOnce(t *testing.T) {
	t.Parallel()
	q := &fakeQueue{failClear: 1}
	q.add(OnCRMDealAdd, 1)
	q.add(OnCRMDealAdd, 2)
	calls := map[string]int{}
	c := &Consumer{Client: q, Handler: func(_ context.Context, rec *OfflineRecord) error {
		calls[rec.MessageID]++
		return nil
	}}
	if _, err := c.Once(t.Context()); err == nil {
		t.Fatal("Once hid the failed clear")
	}
	q.add(OnCRMDealAdd, 3) // must not join the re-read batch
	n, err := c.Once(t.Context())
	if err != nil || n != 2 {
		t.Fatalf("re-read Once = %d, %v", n, err)
	}
	if q.params[len(q.params)-2]["process_id"] != "p1" {
		t.Errorf("re-read without the process id: %v", q.params)
	}
	if d := cmp.Diff(map[string]int{"m1": 2, "m2": 2}, calls); d != "" {
		t.Errorf("handler calls (-want +got)\n%s", d)
	}
	if n, err := c.Once(t.Context()); n != 1 || err != nil {
		t.Errorf("next batch = %d, %v", n, err)
	}
	if d := cmp.Diff([]string{"m1", "m2", "m3"}, q.cleared); d != "" {
		t.Errorf("cleared (-want +got)\n%s", d)
	}
}

func TestConsumerRunStopsAndWakes(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		q := &fakeQueue{}
		handled := make(chan string, 10)
		c := &Consumer{Client: q, Idle: time.Hour, Handler: func(_ context.Context, rec *OfflineRecord) error {
			handled <- rec.MessageID
			return nil
		}}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- c.Run(ctx) }()
		synctest.Wait() // first poll: empty queue, now idle
		q.add(OnCRMLeadAdd, 7)
		start := time.Now()
		c.Notify()
		if got := <-handled; got != "m7" {
			t.Errorf("handled %q", got)
		}
		if waited := time.Since(start); waited >= time.Hour {
			t.Errorf("Notify did not cut the idle wait (%v)", waited)
		}
		synctest.Wait()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v, want nil on cancel", err)
		}
	})
}

func TestConsumerRunPollsAfterIdle(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		q := &fakeQueue{}
		handled := make(chan string, 10)
		c := &Consumer{Client: q, Idle: time.Minute, Handler: func(_ context.Context, rec *OfflineRecord) error {
			handled <- rec.MessageID
			return nil
		}}
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go func() { _ = c.Run(ctx) }()
		synctest.Wait()
		q.add(OnCRMLeadAdd, 1)
		start := time.Now()
		<-handled
		if waited := time.Since(start); waited != time.Minute {
			t.Errorf("picked up after %v, want the idle minute", waited)
		}
	})
}

func TestOfflineFixture(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/resp_event_offline_get.json")
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Result offlineBatch `json:"result"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatal(err)
	}
	if env.Result.ProcessID != nil || len(env.Result.Events) != 1 {
		t.Fatalf("batch = %+v", env.Result)
	}
	rec := env.Result.Events[0]
	if rec.ID != 1 || rec.Name != OnCRMLeadAdd || rec.MessageID != "1" || rec.Timestamp.Unix() != 1721298751 {
		t.Errorf("record = %+v", rec)
	}
	d, err := rec.DecodeData()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d.(*CRMEntity); !ok {
		t.Errorf("data %T", d)
	}
}
