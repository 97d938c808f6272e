package events

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// parseRequest parses b as a delivery over HTTP (the path that reads the
// body into a recycled buffer).
func parseRequest(b string) (*Event, error) {
	r := httptest.NewRequest("POST", "/handler", strings.NewReader(b))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return Parse(r)
}

// snapshot renders everything a handler can read from an event.
func snapshot(t *testing.T, ev *Event) string {
	t.Helper()
	data, err := json.Marshal(ev.Data)
	if err != nil {
		t.Fatal(err)
	}
	auth := ev.Auth
	return fmt.Sprintf("%s|%d|%v|%s|%s|%s|%s|%s|%s", ev.Name, ev.HandlerID, ev.TS.Unix(),
		auth.AccessToken.Reveal(), auth.ApplicationToken.Reveal(), auth.MemberID,
		data, ev.RawData(), ev.Form().Encode())
}

// TestRetainedEventsSurviveLaterParses keeps parsed events (as an async
// queue does) while many other deliveries are parsed concurrently: parsing
// recycles bodies' buffers and trees' maps, and nothing a kept event exposes
// may change because of it.
func TestRetainedEventsSurviveLaterParses(t *testing.T) {
	t.Parallel()
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "event_") && strings.HasSuffix(e.Name(), ".json") {
			bodies = append(bodies, fixtureBody(t, e.Name()))
		}
	}
	if len(bodies) < 10 {
		t.Fatalf("only %d fixture bodies", len(bodies))
	}
	kept := make([]*Event, len(bodies))
	want := make([]string, len(bodies))
	for i, b := range bodies {
		ev, err := parseRequest(b)
		if err != nil {
			t.Fatalf("body %d: %v", i, err)
		}
		kept[i] = ev
		want[i] = snapshot(t, ev)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 300 {
				// Bodies of other shapes and sizes, with every byte changed
				// where a recycled buffer might still be shared.
				b := bodies[(i*7+g)%len(bodies)]
				b = strings.NewReplacer("a", "b", "1", "2", "Y", "N").Replace(b)
				if ev, err := parseRequest(b); err == nil {
					_ = ev.RawData()
				}
			}
		})
	}
	wg.Wait()
	for i, ev := range kept {
		if d := cmp.Diff(want[i], snapshot(t, ev)); d != "" {
			t.Errorf("kept event %d (%s) changed after later parses (-want +got)\n%s", i, ev.Name, d)
		}
	}
}
