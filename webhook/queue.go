package webhook

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Queue keeps verified deliveries until a handler has succeeded on them
// (see [WithQueue]). A delivery is Put before it is answered 200; workers
// Claim jobs, run the handler and then Ack the job, Retry it later or move
// it to the dead letters. A claimed job that is neither acknowledged nor
// given back within the visibility timeout (its worker died) is claimed
// again. Delivery is at least once: a handler may see a job twice (after a
// crash, or when it outran the visibility timeout), so effects that must
// not repeat need a check on [Job.ID] or [events.Event.DedupeKey].
//
// [MemoryQueue] is the in-process implementation; redisstore.Queue keeps
// jobs in Redis Streams, shared by replicas and kept across crashes.
// Implementations must be safe for concurrent use.
type Queue interface {
	// Put stores j (its ID, Attempt and Enqueued are set by the queue)
	// and returns the stored job. An error means the delivery was not
	// kept and must not be acknowledged: the handler answers 503.
	Put(ctx context.Context, j Job) (Job, error)
	// Claim waits until a job is ready and leases it to the caller for
	// visibility; the job's Attempt counts this claim. It returns ctx's
	// error when ctx ends first.
	Claim(ctx context.Context, visibility time.Duration) (Job, error)
	// Ack removes a handled job. Ack, Retry and Dead return [ErrLeaseLost]
	// when the lease ran out and the job was claimed again (or dropped).
	Ack(ctx context.Context, j Job) error
	// Retry gives j back for another attempt, not before at, keeping
	// lastErr as its [Job.LastError].
	Retry(ctx context.Context, j Job, at time.Time, lastErr string) error
	// Dead moves j to the dead letters with lastErr: it is not claimed
	// again unless [Queue.Redrive] brings it back.
	Dead(ctx context.Context, j Job, lastErr string) error

	// PutDead stores j straight in the dead letters with lastErr (its ID
	// and Enqueued are set by the queue, its Attempt is kept): for an
	// intake that ran its own attempts, as imbotv2.Poller does, so that
	// its dead letters are listed, re-driven and dropped like the others.
	PutDead(ctx context.Context, j Job, lastErr string) (Job, error)

	// DeadLetters lists the dead letters, oldest first.
	DeadLetters(ctx context.Context) ([]Job, error)
	// Redrive puts the dead letter with id back for a fresh round of
	// attempts (Attempt starts again from 0).
	Redrive(ctx context.Context, id string) error
	// Drop deletes the dead letter with id.
	Drop(ctx context.Context, id string) error
	// Stats reports the queue's size (for metrics).
	Stats(ctx context.Context) (QueueStats, error)
}

// Errors of a [Queue].
var (
	// ErrLeaseLost is returned when a worker finishes a job whose lease
	// ran out: another worker owns it now.
	ErrLeaseLost = errors.New("webhook: the job's lease ran out")
	// ErrQueueFull is returned by Put when the queue holds its maximum.
	ErrQueueFull = errors.New("webhook: the queue is full")
	// ErrNoSuchJob is returned by Redrive and Drop for an unknown id.
	ErrNoSuchJob = errors.New("webhook: no such dead letter")
)

// Job is a delivery kept in a [Queue].
type Job struct {
	// ID identifies the job in its queue (not the event: Bitrix24 events
	// have no id, see [events.Event.DedupeKey]).
	ID string
	// Event is the event name (for metrics and the dead-letter list).
	Event string
	// Body is the delivery's body as received (tokens included: do not
	// log it); JSON reports a JSON delivery, else a form.
	Body string
	JSON bool
	// Enqueued is when the delivery was accepted.
	Enqueued time.Time
	// Attempt is the number of claims so far, this one included.
	Attempt int
	// LastError is the error of the last failed attempt.
	LastError string
	// Lease identifies the current claim (set by Claim; opaque).
	Lease string
}

// QueueStats is a [Queue]'s size.
type QueueStats struct {
	// Pending is the number of jobs waiting or being handled.
	Pending int
	// InFlight is the number of jobs claimed and not yet finished.
	InFlight int
	// Dead is the number of dead letters.
	Dead int
	// Oldest is when the oldest pending job was accepted (zero when none).
	Oldest time.Time
}

// MemoryQueue is the in-process [Queue]: retries, backoff, visibility
// timeout and dead letters, but nothing survives the process. Deliveries
// accepted and not yet handled are lost when it exits: use a queue backed
// by a store (redisstore.Queue) where that matters.
type MemoryQueue struct {
	max int

	mu     sync.Mutex
	wake   chan struct{} // closed and replaced when a job becomes ready
	seq    int64
	jobs   map[string]*memJob // pending: ready, delayed or leased
	ready  []*memJob          // FIFO
	timed  timedHeap          // delayed jobs (by notBefore) and leases (by deadline)
	dead   []Job
	leased int
}

type memJob struct {
	Job
	gen    int       // bumped at every claim and give-back: stale heap entries are skipped
	at     time.Time // notBefore (delayed) or the lease's deadline (leased)
	leased bool
}

// NewMemoryQueue returns an empty queue holding at most max pending jobs
// (0: no limit); Put fails with [ErrQueueFull] beyond it.
func NewMemoryQueue(max int) *MemoryQueue {
	return &MemoryQueue{max: max, wake: make(chan struct{}), jobs: map[string]*memJob{}}
}

// Put implements [Queue].
func (q *MemoryQueue) Put(_ context.Context, j Job) (Job, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.max > 0 && len(q.jobs) >= q.max {
		return Job{}, ErrQueueFull
	}
	q.seq++
	j.ID, j.Attempt, j.Lease, j.Enqueued = strconv.FormatInt(q.seq, 10), 0, "", time.Now()
	m := &memJob{Job: j}
	q.jobs[j.ID] = m
	q.makeReady(m)
	return j, nil
}

// makeReady appends m to the ready list and wakes waiting claims (q.mu held).
func (q *MemoryQueue) makeReady(m *memJob) {
	m.leased, m.gen = false, m.gen+1
	q.ready = append(q.ready, m)
	close(q.wake)
	q.wake = make(chan struct{})
}

// due moves delayed jobs whose time came, and leased jobs whose lease ran
// out, to the ready list, and returns when the next one is due (q.mu held).
func (q *MemoryQueue) due(now time.Time) time.Time {
	for q.timed.Len() > 0 {
		e := q.timed[0]
		if e.m.gen != e.gen || q.jobs[e.m.ID] != e.m {
			heap.Pop(&q.timed) // stale
			continue
		}
		if e.at.After(now) {
			return e.at
		}
		heap.Pop(&q.timed)
		if e.m.leased {
			q.leased--
		}
		q.makeReady(e.m)
	}
	return time.Time{}
}

// Claim implements [Queue].
func (q *MemoryQueue) Claim(ctx context.Context, visibility time.Duration) (Job, error) {
	for {
		q.mu.Lock()
		next := q.due(time.Now())
		if len(q.ready) > 0 {
			m := q.ready[0]
			q.ready[0] = nil
			q.ready = q.ready[1:]
			m.Attempt++
			m.gen++
			m.leased, m.at = true, time.Now().Add(visibility)
			m.Lease = strconv.Itoa(m.gen)
			q.leased++
			heap.Push(&q.timed, timedEntry{m: m, gen: m.gen, at: m.at})
			j := m.Job
			q.mu.Unlock()
			return j, nil
		}
		wake := q.wake
		q.mu.Unlock()
		var t *time.Timer
		var timer <-chan time.Time
		if !next.IsZero() {
			t = time.NewTimer(time.Until(next))
			timer = t.C
		}
		select {
		case <-ctx.Done():
		case <-wake:
		case <-timer:
		}
		if t != nil {
			t.Stop()
		}
		if ctx.Err() != nil {
			return Job{}, ctx.Err()
		}
	}
}

// owned returns the pending job j leases (q.mu held).
func (q *MemoryQueue) owned(j Job) (*memJob, error) {
	m, ok := q.jobs[j.ID]
	if !ok || !m.leased || m.Lease != j.Lease || !time.Now().Before(m.at) {
		return nil, ErrLeaseLost
	}
	return m, nil
}

// Ack implements [Queue].
func (q *MemoryQueue) Ack(_ context.Context, j Job) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	m, err := q.owned(j)
	if err != nil {
		return err
	}
	m.gen++
	q.leased--
	delete(q.jobs, j.ID)
	return nil
}

// Retry implements [Queue].
func (q *MemoryQueue) Retry(_ context.Context, j Job, at time.Time, lastErr string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	m, err := q.owned(j)
	if err != nil {
		return err
	}
	q.leased--
	m.leased, m.LastError, m.Lease = false, lastErr, ""
	if !at.After(time.Now()) {
		q.makeReady(m)
		return nil
	}
	m.gen++
	m.at = at
	heap.Push(&q.timed, timedEntry{m: m, gen: m.gen, at: at})
	close(q.wake) // a waiting claim must wait for the earlier time
	q.wake = make(chan struct{})
	return nil
}

// Dead implements [Queue].
func (q *MemoryQueue) Dead(_ context.Context, j Job, lastErr string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	m, err := q.owned(j)
	if err != nil {
		return err
	}
	m.gen++
	q.leased--
	delete(q.jobs, j.ID)
	d := m.Job
	d.LastError, d.Lease = lastErr, ""
	q.dead = append(q.dead, d)
	return nil
}

// PutDead implements [Queue].
func (q *MemoryQueue) PutDead(_ context.Context, j Job, lastErr string) (Job, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.seq++
	j.ID, j.Lease, j.Enqueued, j.LastError = strconv.FormatInt(q.seq, 10), "", time.Now(), lastErr
	q.dead = append(q.dead, j)
	return j, nil
}

// DeadLetters implements [Queue].
func (q *MemoryQueue) DeadLetters(context.Context) ([]Job, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.dead), nil
}

func (q *MemoryQueue) takeDead(id string) (Job, error) {
	i := slices.IndexFunc(q.dead, func(j Job) bool { return j.ID == id })
	if i < 0 {
		return Job{}, fmt.Errorf("%w: %q", ErrNoSuchJob, id)
	}
	j := q.dead[i]
	q.dead = slices.Delete(q.dead, i, i+1)
	return j, nil
}

// Redrive implements [Queue].
func (q *MemoryQueue) Redrive(_ context.Context, id string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	j, err := q.takeDead(id)
	if err != nil {
		return err
	}
	j.Attempt = 0
	m := &memJob{Job: j}
	q.jobs[j.ID] = m
	q.makeReady(m)
	return nil
}

// Drop implements [Queue].
func (q *MemoryQueue) Drop(_ context.Context, id string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	_, err := q.takeDead(id)
	return err
}

// Stats implements [Queue].
func (q *MemoryQueue) Stats(context.Context) (QueueStats, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	s := QueueStats{Pending: len(q.jobs), InFlight: q.leased, Dead: len(q.dead)}
	for _, m := range q.jobs {
		if s.Oldest.IsZero() || m.Enqueued.Before(s.Oldest) {
			s.Oldest = m.Enqueued
		}
	}
	return s, nil
}

type timedEntry struct {
	m   *memJob
	gen int
	at  time.Time
}

type timedHeap []timedEntry

func (h timedHeap) Len() int           { return len(h) }
func (h timedHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h timedHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timedHeap) Push(x any)        { *h = append(*h, x.(timedEntry)) }
func (h *timedHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
