package redisstore_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/b24go/sdk/bitrix/redisstore"
	"github.com/b24go/sdk/events"
	"github.com/b24go/sdk/webhook"
)

// receiverEnv makes the test binary a receiver process of
// TestQueueSurvivesKill (see TestMain): its value is the Redis address.
const receiverEnv = "B24GO_QUEUE_RECEIVER_REDIS"

// victimEnv marks the receiver that TestQueueSurvivesKill kills: its
// handler holds every delivery in [holdFrom, holdTo) it claims until the
// process dies (counted in the Redis hash inhand), so that the kill finds
// jobs in its hands, to be claimed by the other receiver after the
// visibility timeout.
const victimEnv = "B24GO_QUEUE_RECEIVER_VICTIM"

const holdFrom, holdTo = 2900, 3000

const (
	killToken   = "kill-test-token"
	killAttempt = 5
)

// queueReceiverMain is a receiver replica: webhook.Handler on a
// redisstore.Queue, handlers failing 10% of first attempts at random and
// every delivery with an id divisible by 1000 always. Each run and each
// success is counted in Redis (hashes runs and handled, by delivery id).
// It prints its address and serves until killed.
func queueReceiverMain() int {
	rdb := redis.NewClient(&redis.Options{Addr: os.Getenv(receiverEnv), DisableIdentity: true})
	victim := os.Getenv(victimEnv) != ""
	q, err := redisstore.NewQueue(rdb, "kill", 0, 0, redisstore.WithPollInterval(10*time.Millisecond))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	h, err := webhook.New(webhook.WithApplicationToken(killToken),
		webhook.WithQueue(q, 4, webhook.RetryPolicy{MaxAttempts: killAttempt, Backoff: 20 * time.Millisecond, Visibility: 3 * time.Second}))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	h.OnDealAdd(func(ctx context.Context, _ *events.Event, d *events.CRMEntity) error {
		id := strconv.Itoa(d.EntityID())
		j, _ := webhook.JobOf(ctx)
		if err := rdb.HIncrBy(ctx, "runs", id, 1).Err(); err != nil {
			return err
		}
		if victim && d.EntityID() >= holdFrom && d.EntityID() < holdTo {
			if err := rdb.HIncrBy(ctx, "inhand", id, 1).Err(); err != nil {
				return err
			}
			select {} // until SIGKILL
		}
		if d.EntityID()%1000 == 0 {
			return errors.New("poison")
		}
		if j.Attempt == 1 && rand.IntN(10) == 0 {
			return errors.New("transient")
		}
		return rdb.HIncrBy(ctx, "handled", id, 1).Err()
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("ADDR %s\n", l.Addr())
	return func() int { _ = http.Serve(l, h); return 0 }()
}

// receiver is a running receiver process.
type receiver struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{}
}

func startReceiver(t *testing.T, redisAddr string, victim bool) *receiver {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), receiverEnv+"="+redisAddr)
	if victim {
		cmd.Env = append(cmd.Env, victimEnv+"=1")
	}
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &receiver{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(r.done) }()
	t.Cleanup(func() { r.kill() })
	line, err := bufio.NewReader(out).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "ADDR ")
	if err != nil || !ok {
		t.Fatalf("receiver did not start: %q %v", line, err)
	}
	r.url = "http://" + addr + "/"
	return r
}

func (r *receiver) kill() {
	_ = r.cmd.Process.Signal(syscall.SIGKILL)
	<-r.done
}

func killDeal(id int) string {
	v := url.Values{}
	v.Set("event", "ONCRMDEALADD")
	v.Set("event_handler_id", "58")
	v.Set("data[FIELDS][ID]", strconv.Itoa(id))
	v.Set("ts", "1727018926")
	v.Set("auth[domain]", "portal.bitrix24.com")
	v.Set("auth[member_id]", "m1")
	v.Set("auth[application_token]", killToken)
	return v.Encode()
}

// TestQueueSurvivesKill (issue 18's "Done when"): 10,000 deliveries
// through two receiver processes sharing a redisstore.Queue; one is
// killed with SIGKILL mid-stream, with jobs in its handlers' hands, and
// restarted; handlers fail 10% of first attempts at random, and every
// 1000th delivery always. The held jobs are claimed again after the
// visibility timeout and handled by the other receiver. Every delivery
// answered 200 is handled successfully (at least once; exactly once for
// the distinct ids), the always-failing ones end in the dead letters after
// exactly MaxAttempts runs (none runs after being declared dead), and the
// distinct handled ids are the accepted ones plus at most the deliveries
// cut off by the kill (stored, but their answer lost).
func TestQueueSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("slow (about half a minute): -short")
	}
	addr := os.Getenv("REDIS_ADDR")
	if addr == "" {
		t.Skip("no redis-server (see TestMain)")
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr, DisableIdentity: true})
	t.Cleanup(func() { _ = rdb.Close() })
	ctx := t.Context()
	if err := rdb.FlushDB(ctx).Err(); err != nil { // the examples' data
		t.Fatal(err)
	}
	recv := []*receiver{startReceiver(t, addr, false), startReceiver(t, addr, true)}
	var recvMu sync.Mutex
	urlOf := func(i int) string { recvMu.Lock(); defer recvMu.Unlock(); return recv[i%2].url }

	const n, senders = 10_000, 8
	var mu sync.Mutex
	accepted := map[int]bool{}
	cut := map[int]bool{} // the request failed after it may have been stored
	client := &http.Client{Timeout: 30 * time.Second}
	next := make(chan int)
	var wg sync.WaitGroup
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range next {
				resp, err := client.Post(urlOf(id), "application/x-www-form-urlencoded", strings.NewReader(killDeal(id)))
				mu.Lock()
				switch {
				case errors.Is(err, syscall.ECONNREFUSED): // the receiver is down: not stored
				case err != nil:
					cut[id] = true
				case resp.StatusCode == http.StatusOK:
					accepted[id] = true
				}
				mu.Unlock()
				if err == nil {
					resp.Body.Close()
				}
			}
		}()
	}
	for id := 1; id <= n; id++ {
		switch id {
		case holdTo:
			// Mid-stream, with jobs in its hands: wait until the victim
			// holds one of the deliveries just sent.
			for deadline := time.Now().Add(time.Minute); ; {
				n, err := rdb.HLen(ctx, "inhand").Result()
				if err != nil {
					t.Fatal(err)
				}
				if n > 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the receiver to be killed took none of the deliveries it holds")
				}
				time.Sleep(10 * time.Millisecond) // polling another process
			}
			recv[1].kill()
		case 5000:
			r := startReceiver(t, addr, false)
			recvMu.Lock()
			recv[1] = r
			recvMu.Unlock()
		}
		next <- id
	}
	close(next)
	wg.Wait()

	q, err := redisstore.NewQueue(rdb, "kill", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		s, err := q.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if s.Pending == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond) // waiting for the receiver processes
	}
	for _, r := range recv {
		r.kill()
	}
	handled := counts(t, rdb, "handled")
	runs := counts(t, rdb, "runs")
	inhand := counts(t, rdb, "inhand")
	dead, err := q.DeadLetters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(accepted) < n/2 {
		t.Fatalf("only %d of %d deliveries accepted", len(accepted), n)
	}
	// The jobs the killed receiver held were claimed again after the
	// visibility timeout and handled elsewhere.
	if len(inhand) == 0 {
		t.Error("the killed receiver held no job")
	}
	for id := range inhand {
		if handled[id] == 0 || runs[id] < 2 {
			t.Errorf("delivery %d held by the killed receiver: handled %d, %d runs", id, handled[id], runs[id])
		}
	}
	poison, distinct, again := 0, 0, 0
	for id := range accepted {
		if id%1000 == 0 {
			poison++
			// MaxAttempts claims; a claim cut off by the kill before its
			// run was counted leaves one run fewer. More would be a run
			// after the job was declared dead.
			if handled[id] != 0 || runs[id] > killAttempt || runs[id] < killAttempt-1 {
				t.Errorf("always-failing %d: handled %d, %d runs (want %d)", id, handled[id], runs[id], killAttempt)
			}
			continue
		}
		if handled[id] == 0 {
			t.Errorf("accepted delivery %d was never handled (%d runs)", id, runs[id])
		}
		if handled[id] > 1 {
			again++
		}
	}
	for id, c := range handled {
		if c > 0 {
			distinct++
		}
		if !accepted[id] && !cut[id] {
			t.Errorf("delivery %d handled but neither accepted nor cut off", id)
		}
	}
	deadIDs := 0
	for _, d := range dead {
		if d.Attempt != killAttempt || d.LastError != "poison" {
			t.Errorf("dead letter %+v", d)
		}
		deadIDs++
	}
	cutHandled := distinct - (len(accepted) - poison)
	if cutHandled < 0 || cutHandled > len(cut) {
		t.Errorf("%d distinct handled, %d accepted (%d always failing), %d cut off", distinct, len(accepted), poison, len(cut))
	}
	if deadIDs < poison || deadIDs > poison+len(cut) {
		t.Errorf("%d dead letters, %d accepted always-failing deliveries", deadIDs, poison)
	}
	t.Logf("accepted %d, cut off %d, handled %d distinct (%d more than once, after the kill), %d dead letters, %d held by the killed receiver",
		len(accepted), len(cut), distinct, again, deadIDs, len(inhand))
}

func counts(t *testing.T, rdb *redis.Client, key string) map[int]int {
	t.Helper()
	m, err := rdb.HGetAll(t.Context(), key).Result()
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[int]int, len(m))
	for k, v := range m {
		id, _ := strconv.Atoi(k)
		out[id], _ = strconv.Atoi(v)
	}
	return out
}
