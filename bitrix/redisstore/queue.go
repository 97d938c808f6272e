package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/b24go/sdk/webhook"
)

// Queue is a durable webhook.Queue in Redis Streams, for
// webhook.WithQueue: every replica of a receiver built on the same Queue
// name shares its jobs, and a job claimed by a replica that crashed is
// claimed again by another once the visibility timeout has passed.
//
// Layout (under the prefix, name being the handler set's queue name):
// the stream queue:<name> with the consumer group "workers" holds the jobs
// ready to run and the ones being handled (the group's pending entries,
// taken over with XAUTOCLAIM once idle for the visibility timeout); the
// sorted set queue:<name>:delayed holds jobs waiting for their retry
// (moved back to the stream when due); the stream queue:<name>:dead holds
// the dead letters. A handled job is removed (XACK and XDEL), so the
// stream holds only pending jobs. Use one name per set of handlers: a job
// is run by whichever replica claims it.
type Queue struct {
	rdb      redis.UniversalClient
	o        config
	stream   string
	delayed  string
	dead     string
	consumer string
	max      int64
	maxAge   time.Duration
	ready    atomic.Bool // the group exists
}

// Defaults of [NewQueue].
const (
	// DefaultQueueMax is the largest number of jobs a Queue holds before
	// Put refuses ([webhook.ErrQueueFull]).
	DefaultQueueMax = 1_000_000
	// DefaultQueueMaxAge is the age beyond which jobs are trimmed from
	// the stream (abandoned: every live job is handled or retried long
	// before).
	DefaultQueueMaxAge = 7 * 24 * time.Hour
)

const queueGroup = "workers"

// NewQueue returns the queue name on rdb. It does no I/O (the consumer
// group is created on first use). maxLen (0: [DefaultQueueMax]) bounds the
// jobs held; maxAge (0: [DefaultQueueMaxAge]) trims jobs older than that
// from the stream. A nil rdb, an empty name, a negative maxLen or maxAge,
// or a bad option is an error.
//
// Options used: [WithPrefix], [WithOpTimeout], [WithPollInterval] (how
// long a Claim blocks in one XREADGROUP is four times it).
func NewQueue(rdb redis.UniversalClient, name string, maxLen int, maxAge time.Duration, opts ...Option) (*Queue, error) {
	o, err := buildConfig("NewQueue", rdb, opts)
	if err != nil {
		return nil, err
	}
	switch {
	case name == "":
		return nil, errors.New("redisstore: NewQueue: empty queue name")
	case maxLen < 0:
		return nil, fmt.Errorf("redisstore: NewQueue: negative maxLen %d (0 means DefaultQueueMax)", maxLen)
	case maxAge < 0:
		return nil, fmt.Errorf("redisstore: NewQueue: negative maxAge %v (0 means DefaultQueueMaxAge)", maxAge)
	}
	base := o.prefix + "queue:" + name
	q := &Queue{rdb: rdb, o: o, stream: base, delayed: base + ":delayed", dead: base + ":dead",
		consumer: randHex(8), max: int64(maxLen), maxAge: maxAge}
	if q.max == 0 {
		q.max = DefaultQueueMax
	}
	if q.maxAge == 0 {
		q.maxAge = DefaultQueueMaxAge
	}
	return q, nil
}

var _ webhook.Queue = (*Queue)(nil)

func (q *Queue) group(ctx context.Context) error {
	if q.ready.Load() {
		return nil
	}
	err := q.rdb.XGroupCreateMkStream(ctx, q.stream, queueGroup, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return wrap(ctx, "creating the queue's group", err)
	}
	q.ready.Store(true)
	return nil
}

// fields of a job entry.
func jobFields(j webhook.Job, attempts int) map[string]any {
	js := "0"
	if j.JSON {
		js = "1"
	}
	return map[string]any{"id": j.ID, "event": j.Event, "body": j.Body, "json": js,
		"enq": strconv.FormatInt(j.Enqueued.UnixMilli(), 10), "att": strconv.Itoa(attempts), "err": j.LastError}
}

func jobOf(m redis.XMessage) (webhook.Job, int) {
	s := func(k string) string { v, _ := m.Values[k].(string); return v }
	enq, _ := strconv.ParseInt(s("enq"), 10, 64)
	att, _ := strconv.Atoi(s("att"))
	j := webhook.Job{ID: s("id"), Event: s("event"), Body: s("body"), JSON: s("json") == "1",
		Enqueued: time.UnixMilli(enq), LastError: s("err")}
	if j.ID == "" {
		j.ID = m.ID
	}
	return j, att
}

// putScript adds a job unless the stream holds ARGV[1] entries, trimming
// entries older than ARGV[2] (a stream id): one round trip per delivery.
var putScript = redis.NewScript(`
if redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('XADD', KEYS[1], 'MINID', '~', ARGV[2], '*', unpack(ARGV, 3))
return 1`)

// Put implements webhook.Queue: one script (XLEN and XADD, trimming
// entries older than maxAge), refused with webhook.ErrQueueFull when the
// queue holds maxLen.
func (q *Queue) Put(ctx context.Context, j webhook.Job) (webhook.Job, error) {
	octx, cancel := q.o.opCtx(ctx)
	defer cancel()
	if err := q.group(octx); err != nil {
		return webhook.Job{}, err
	}
	now := time.Now()
	j.Enqueued, j.Attempt, j.Lease, j.LastError = now, 0, "", ""
	j.ID = randHex(12)
	minID := strconv.FormatInt(now.Add(-q.maxAge).UnixMilli(), 10)
	args := []any{q.max, minID}
	for k, v := range jobFields(j, 0) {
		args = append(args, k, v)
	}
	n, err := putScript.Run(octx, q.rdb, []string{q.stream}, args...).Int()
	if err != nil {
		return webhook.Job{}, wrap(ctx, "queue put", err)
	}
	if n == 0 {
		return webhook.Job{}, webhook.ErrQueueFull
	}
	return j, nil
}

// promote moves due delayed jobs back to the stream.
var promote = redis.NewScript(`
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, 100)
for _, payload in ipairs(due) do
  local f = cjson.decode(payload)
  local args = {}
  for k, v in pairs(f) do table.insert(args, k) table.insert(args, v) end
  redis.call('XADD', KEYS[1], '*', unpack(args))
  redis.call('ZREM', KEYS[2], payload)
end
return #due`)

// Claim implements webhook.Queue: due retries are moved back to the
// stream, then a job idle in another consumer's hands for visibility is
// taken over (XAUTOCLAIM), else a new one read (XREADGROUP, blocking up to
// four poll intervals at a time).
func (q *Queue) Claim(ctx context.Context, visibility time.Duration) (webhook.Job, error) {
	for {
		if err := ctx.Err(); err != nil {
			return webhook.Job{}, err
		}
		j, ok, err := q.claimOnce(ctx, visibility)
		if err != nil || ok {
			return j, err
		}
	}
}

func (q *Queue) claimOnce(ctx context.Context, visibility time.Duration) (webhook.Job, bool, error) {
	octx, cancel := q.o.opCtx(ctx)
	defer cancel()
	if err := q.group(octx); err != nil {
		return webhook.Job{}, false, err
	}
	now := strconv.FormatInt(time.Now().UnixMilli(), 10)
	if err := promote.Run(octx, q.rdb, []string{q.stream, q.delayed}, now).Err(); err != nil {
		return webhook.Job{}, false, wrap(ctx, "queue promote", err)
	}
	msgs, _, err := q.rdb.XAutoClaim(octx, &redis.XAutoClaimArgs{Stream: q.stream, Group: queueGroup,
		Consumer: q.consumer, MinIdle: visibility, Start: "0-0", Count: 1}).Result()
	if err != nil {
		return webhook.Job{}, false, wrap(ctx, "queue autoclaim", err)
	}
	if len(msgs) == 0 {
		block := 4 * q.o.poll
		rctx, rcancel := context.WithTimeout(ctx, block+q.o.opTimeout)
		defer rcancel()
		streams, err := q.rdb.XReadGroup(rctx, &redis.XReadGroupArgs{Group: queueGroup, Consumer: q.consumer,
			Streams: []string{q.stream, ">"}, Count: 1, Block: block}).Result()
		if errors.Is(err, redis.Nil) {
			return webhook.Job{}, false, nil
		}
		if err != nil {
			return webhook.Job{}, false, wrap(ctx, "queue read", err)
		}
		if len(streams) == 0 || len(streams[0].Messages) == 0 {
			return webhook.Job{}, false, nil
		}
		msgs = streams[0].Messages
	}
	m := msgs[0]
	pend, err := q.rdb.XPendingExt(octx, &redis.XPendingExtArgs{Stream: q.stream, Group: queueGroup,
		Start: m.ID, End: m.ID, Count: 1}).Result()
	if err != nil {
		return webhook.Job{}, false, wrap(ctx, "queue pending", err)
	}
	if len(pend) == 0 || pend[0].Consumer != q.consumer {
		return webhook.Job{}, false, nil // taken over in between
	}
	j, att := jobOf(m)
	if len(m.Values) == 0 { // trimmed while pending: nothing to run
		q.rdb.XAck(octx, q.stream, queueGroup, m.ID)
		return webhook.Job{}, false, nil
	}
	j.Attempt = att + int(pend[0].RetryCount)
	j.Lease = m.ID + " " + q.consumer + " " + strconv.FormatInt(pend[0].RetryCount, 10)
	return j, true, nil
}

// finish runs after checking the lease: the entry is still pending with
// this consumer and delivery count; then it is acknowledged and deleted,
// and (mode) re-added as delayed or dead.
var finish = redis.NewScript(`
local p = redis.call('XPENDING', KEYS[1], ARGV[4], ARGV[1], ARGV[1], 1)
if #p == 0 or p[1][2] ~= ARGV[2] or tostring(p[1][4]) ~= ARGV[3] then return 0 end
redis.call('XACK', KEYS[1], ARGV[4], ARGV[1])
redis.call('XDEL', KEYS[1], ARGV[1])
if ARGV[5] == 'retry' then
  redis.call('ZADD', KEYS[2], ARGV[6], ARGV[7])
elseif ARGV[5] == 'dead' then
  local f = cjson.decode(ARGV[7])
  local args = {}
  for k, v in pairs(f) do table.insert(args, k) table.insert(args, v) end
  redis.call('XADD', KEYS[3], '*', unpack(args))
end
return 1`)

func (q *Queue) finish(ctx context.Context, op string, j webhook.Job, mode string, score int64, payload string) error {
	parts := strings.Split(j.Lease, " ")
	if len(parts) != 3 {
		return webhook.ErrLeaseLost
	}
	octx, cancel := q.o.opCtx(ctx)
	defer cancel()
	n, err := finish.Run(octx, q.rdb, []string{q.stream, q.delayed, q.dead},
		parts[0], parts[1], parts[2], queueGroup, mode, strconv.FormatInt(score, 10), payload).Int()
	if err != nil {
		return wrap(ctx, op, err)
	}
	if n == 0 {
		return webhook.ErrLeaseLost
	}
	return nil
}

func payloadOf(j webhook.Job, attempts int) string {
	b, _ := json.Marshal(jobFields(j, attempts)) // strings only: cannot fail
	return string(b)
}

// Ack implements webhook.Queue.
func (q *Queue) Ack(ctx context.Context, j webhook.Job) error {
	return q.finish(ctx, "queue ack", j, "ack", 0, "")
}

// Retry implements webhook.Queue: the job moves to the delayed set until at.
func (q *Queue) Retry(ctx context.Context, j webhook.Job, at time.Time, lastErr string) error {
	j.LastError = lastErr
	return q.finish(ctx, "queue retry", j, "retry", at.UnixMilli(), payloadOf(j, j.Attempt))
}

// Dead implements webhook.Queue: the job moves to the dead-letter stream.
func (q *Queue) Dead(ctx context.Context, j webhook.Job, lastErr string) error {
	j.LastError = lastErr
	return q.finish(ctx, "queue dead", j, "dead", 0, payloadOf(j, j.Attempt))
}

// PutDead implements webhook.Queue: the job is added to the dead-letter
// stream.
func (q *Queue) PutDead(ctx context.Context, j webhook.Job, lastErr string) (webhook.Job, error) {
	j.ID, j.Enqueued, j.Lease, j.LastError = randHex(12), time.Now(), "", lastErr
	octx, cancel := q.o.opCtx(ctx)
	defer cancel()
	if err := q.rdb.XAdd(octx, &redis.XAddArgs{Stream: q.dead, Values: jobFields(j, j.Attempt)}).Err(); err != nil {
		return webhook.Job{}, wrap(ctx, "queue put dead", err)
	}
	return j, nil
}

// deadEntries returns the dead-letter stream's entries.
func (q *Queue) deadEntries(ctx context.Context) ([]redis.XMessage, error) {
	octx, cancel := q.o.opCtx(ctx)
	defer cancel()
	msgs, err := q.rdb.XRange(octx, q.dead, "-", "+").Result()
	return msgs, wrap(ctx, "queue dead letters", err)
}

// DeadLetters implements webhook.Queue.
func (q *Queue) DeadLetters(ctx context.Context) ([]webhook.Job, error) {
	msgs, err := q.deadEntries(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]webhook.Job, 0, len(msgs))
	for _, m := range msgs {
		j, att := jobOf(m)
		j.Attempt = att
		out = append(out, j)
	}
	return out, nil
}

// takeDead deletes the dead letter with id and returns it.
func (q *Queue) takeDead(ctx context.Context, id string) (webhook.Job, error) {
	msgs, err := q.deadEntries(ctx)
	if err != nil {
		return webhook.Job{}, err
	}
	for _, m := range msgs {
		if j, _ := jobOf(m); j.ID == id {
			octx, cancel := q.o.opCtx(ctx)
			defer cancel()
			n, err := q.rdb.XDel(octx, q.dead, m.ID).Result()
			if err != nil {
				return webhook.Job{}, wrap(ctx, "queue drop", err)
			}
			if n == 0 {
				break // taken by another operator
			}
			return j, nil
		}
	}
	return webhook.Job{}, fmt.Errorf("%w: %q", webhook.ErrNoSuchJob, id)
}

// Redrive implements webhook.Queue.
func (q *Queue) Redrive(ctx context.Context, id string) error {
	j, err := q.takeDead(ctx, id)
	if err != nil {
		return err
	}
	octx, cancel := q.o.opCtx(ctx)
	defer cancel()
	return wrap(ctx, "queue redrive", q.rdb.XAdd(octx, &redis.XAddArgs{Stream: q.stream, Values: jobFields(j, 0)}).Err())
}

// Drop implements webhook.Queue.
func (q *Queue) Drop(ctx context.Context, id string) error {
	_, err := q.takeDead(ctx, id)
	return err
}

// Stats implements webhook.Queue. Oldest is the oldest job in the stream
// (jobs waiting for a retry are not looked at).
func (q *Queue) Stats(ctx context.Context) (webhook.QueueStats, error) {
	octx, cancel := q.o.opCtx(ctx)
	defer cancel()
	if err := q.group(octx); err != nil {
		return webhook.QueueStats{}, err
	}
	pipe := q.rdb.Pipeline()
	xlen := pipe.XLen(octx, q.stream)
	zcard := pipe.ZCard(octx, q.delayed)
	dlen := pipe.XLen(octx, q.dead)
	pend := pipe.XPending(octx, q.stream, queueGroup)
	first := pipe.XRangeN(octx, q.stream, "-", "+", 1)
	if _, err := pipe.Exec(octx); err != nil && !isNil(err) {
		return webhook.QueueStats{}, wrap(ctx, "queue stats", err)
	}
	s := webhook.QueueStats{Pending: int(xlen.Val() + zcard.Val()), Dead: int(dlen.Val())}
	if p := pend.Val(); p != nil {
		s.InFlight = int(p.Count)
	}
	if m := first.Val(); len(m) > 0 {
		j, _ := jobOf(m[0])
		s.Oldest = j.Enqueued
	}
	return s, nil
}
