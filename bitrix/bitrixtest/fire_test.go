package bitrixtest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFireEvent(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	var mu sync.Mutex
	var bodies []string
	h := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
	}))
	t.Cleanup(h.Close)
	token := s.AddOutboundWebhook([]string{"ONTASKADD"}, h.URL+"/hook", "")
	s.AddOutboundWebhook([]string{"ONTASKUPDATE"}, h.URL+"/other", "")

	if err := s.FireEvent("onTaskAdd", map[string]any{"FIELDS_AFTER": map[string]any{"ID": 7}, "FIELDS_BEFORE": "undefined"}); err != nil {
		t.Fatalf("FireEvent: %v", err)
	}
	dels := s.Deliveries()
	if len(dels) != 1 {
		t.Fatalf("%d deliveries, want 1 (synchronous, only the bound handler)", len(dels))
	}
	d := dels[0]
	if d.Event != "ONTASKADD" || d.URL != h.URL+"/hook" || d.Status != 200 {
		t.Errorf("delivery = %s to %s (%d)", d.Event, d.URL, d.Status)
	}
	got := map[string]string{
		"event":                   d.Form.Get("event"),
		"data[FIELDS_AFTER][ID]":  d.Form.Get("data[FIELDS_AFTER][ID]"),
		"data[FIELDS_BEFORE]":     d.Form.Get("data[FIELDS_BEFORE]"),
		"auth[application_token]": d.Form.Get("auth[application_token]"),
		"auth[member_id]":         d.Form.Get("auth[member_id]"),
	}
	want := map[string]string{
		"event": "ONTASKADD", "data[FIELDS_AFTER][ID]": "7", "data[FIELDS_BEFORE]": "undefined",
		"auth[application_token]": token, "auth[member_id]": s.App().MemberID,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("delivery form (-want +got)\n%s", diff)
	}

	// A failing handler is reported.
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }))
	t.Cleanup(bad.Close)
	s.AddOutboundWebhook([]string{"ONTASKDELETE"}, bad.URL, "")
	if err := s.FireEvent("ONTASKDELETE", nil); err == nil {
		t.Error("FireEvent did not report a handler's 500")
	}
}
