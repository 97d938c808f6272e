package bitrixtest

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Every option refuses a bad value: Start returns an error naming the
// option and starts nothing.
func TestStartRefusesBadOptionValues(t *testing.T) {
	cases := map[string]Option{
		"WithLatency":          WithLatency(-time.Second),
		"WithRateLimit":        WithRateLimit(0, 50),
		"WithRateLimit burst":  WithRateLimit(2, 0),
		"WithRateLimit NaN":    WithRateLimit(math.NaN(), 50),
		"WithRateLimit Inf":    WithRateLimit(math.Inf(1), 50),
		"WithClock":            WithClock(nil),
		"WithLocation":         WithLocation(nil),
		"WithAccessTokenTTL":   WithAccessTokenTTL(0),
		"WithRefreshTokenTTL":  WithRefreshTokenTTL(-time.Hour),
		"WithOperatingLimit":   WithOperatingLimit(0),
		"WithMethodCost":       WithMethodCost("crm.deal.list", -time.Second),
		"WithMethodCost empty": WithMethodCost("", time.Second),
		"WithWebhookSecret":    WithWebhookSecret(""),
		"WithApp":              WithApp("local.x", ""),
		"WithApplicationToken": WithApplicationToken(""),
		"WithMemberID":         WithMemberID(""),
		"WithDeliveryClient":   WithDeliveryClient(nil),
		"WithAddr":             WithAddr(""),
		"WithMaxBots":          WithMaxBots(-1),
		"WithSeed":             WithSeed(nil),
	}
	for name, opt := range cases {
		s, err := Start(WithoutRateLimit(), opt)
		if err == nil {
			s.Close()
			t.Errorf("%s: Start accepted a bad value", name)
			continue
		}
		if want := strings.Fields(name)[0]; !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %q does not name the option", name, err)
		}
	}
}

// fatalTB records Fatalf and stops the goroutine as testing.T does.
type fatalTB struct {
	testing.TB
	mu  sync.Mutex
	msg string
}

func (f *fatalTB) Helper() {}
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.msg = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}
func (f *fatalTB) Cleanup(func()) {
	panic("NewServer registered a cleanup for a server it should not have started")
}

func TestNewServerFailsTheTestOnABadOption(t *testing.T) {
	tb := &fatalTB{TB: t}
	done := make(chan *Server, 1)
	go func() {
		defer close(done)
		done <- NewServer(tb, WithRateLimit(-1, 50))
	}()
	if s, ok := <-done; ok {
		s.Close()
		t.Fatal("NewServer returned a server for a negative rate")
	}
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if !strings.Contains(tb.msg, "WithRateLimit") {
		t.Fatalf("NewServer failed with %q, want it to name WithRateLimit", tb.msg)
	}
}

func TestSeedCRMItemsNilOptionIsSkipped(t *testing.T) {
	s := NewServer(t, WithoutRateLimit())
	ids, err := s.SeedCRMItems(EntityDeal, 2, nil, nil, WithoutEvents())
	if err != nil || len(ids) != 2 {
		t.Fatalf("SeedCRMItems = %v, %v; want 2 ids", ids, err)
	}
}
