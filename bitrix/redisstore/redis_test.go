package redisstore

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// go-redis logs dial failures to stderr; the tests provoke many on purpose.
func init() { redis.SetLogger(quietLogger{}) }

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

// redisServer is a redis-server process started for one test.
type redisServer struct {
	Addr string
}

// startRedis starts a private redis-server on a free loopback port with a
// temporary working directory and no persistence, waits until it answers
// PING and kills it when the test ends. Without the binary the test is
// skipped, except under CI (CI=true) where that is a failure; under -short
// it is skipped (the full run has them).
func startRedis(t testing.TB) *redisServer {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: the real-Redis tests start a redis-server each; the full run (go test ./..., .ci/run) includes them")
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		msg := "redis-server not found in PATH (Debian: apt-get install redis-server); skipping the Redis tests"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + " — but CI=true, where the tests must run")
		}
		t.Skip(msg)
	}
	var lastErr error
	for range 3 { // the free port may be taken between probe and start
		srv, err := tryStartRedis(t, bin)
		if err == nil {
			return srv
		}
		lastErr = err
	}
	t.Fatalf("starting redis-server: %v", lastErr)
	return nil
}

func tryStartRedis(t testing.TB, bin string) (*redisServer, error) {
	addr, stop, err := launchRedis(bin, t.TempDir())
	if err != nil {
		return nil, err
	}
	t.Cleanup(stop)
	return &redisServer{Addr: addr}, nil
}

// launchRedis starts redis-server on a free loopback port with dir as its
// working directory and no persistence, and waits until it answers PING.
// stop kills it.
func launchRedis(bin, dir string) (addr string, stop func(), err error) {
	port, err := freePort()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(bin,
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir,
		"--protected-mode", "yes", "--loglevel", "warning")
	var out strings.Builder
	cmd.Stdout = &lockedWriter{w: &out}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop = func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer rdb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := rdb.Ping(ctx).Err()
		cancel()
		if err == nil {
			return addr, stop, nil
		}
		select {
		case werr := <-exited:
			return "", nil, fmt.Errorf("redis-server exited (%v): %s", werr, cmd.Stdout.(*lockedWriter).String())
		default:
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("redis-server on %s does not answer PING: %v", addr, err)
		}
		time.Sleep(10 * time.Millisecond) // waiting for an external process to start
	}
}

// StartRedisForExamples starts a private redis-server for the package's
// examples (an exported name in a _test file: visible to redisstore_test
// only in tests). It reports found=false when redis-server is not in PATH.
func StartRedisForExamples() (addr string, stop func(), found bool, err error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return "", nil, false, nil
	}
	dir, err := os.MkdirTemp("", "redisstore-examples-")
	if err != nil {
		return "", nil, true, err
	}
	for range 3 { // the free port may be taken between probe and start
		a, kill, lerr := launchRedis(bin, dir)
		if lerr == nil {
			return a, func() { kill(); _ = os.RemoveAll(dir) }, true, nil
		}
		err = lerr
	}
	_ = os.RemoveAll(dir)
	return "", nil, true, err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

type lockedWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}

// client returns a new connection pool to the server, closed at cleanup.
// Each replica in a test gets its own.
func (s *redisServer) client(t testing.TB) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr, DisableIdentity: true})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// deadClient returns a client for a loopback port nobody listens on.
func deadClient(t testing.TB) *redis.Client {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		MaxRetries: -1, DialTimeout: 500 * time.Millisecond, DisableIdentity: true})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}
