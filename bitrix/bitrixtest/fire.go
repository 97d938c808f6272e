package bitrixtest

import (
	"fmt"
	"strings"

	"github.com/b24go/sdk/internal/phpform"
)

// FireEvent makes the portal raise event with the data[...] tree data (for
// example {"FIELDS_AFTER": {"ID": "7"}} for ONTASKADD), as if user 1 had
// done something the fake does not model itself (tasks, calendar, ...).
// Every handler bound to the event gets a delivery: outbound webhooks
// (Server.AddOutboundWebhook) and the app's event.bind handlers; offline
// bindings queue a record. Deliveries are synchronous. It returns the first
// delivery error (a transport error or a non-2xx answer).
func (s *Server) FireEvent(event string, data map[string]any) error {
	tree := phpform.NewMap()
	if len(data) > 0 {
		enc, err := phpform.Encode(data)
		if err != nil {
			return fmt.Errorf("bitrixtest: FireEvent data: %w", err)
		}
		if tree, err = phpform.Parse(enc); err != nil {
			return fmt.Errorf("bitrixtest: FireEvent data: %w", err)
		}
	}
	var out []delivery
	s.mu.Lock()
	c := &Request{s: s, method: "fireevent", params: phpform.NewMap(), auth: authInfo{kind: AuthNone, userID: 1}, now: s.now(), out: &out}
	s.fireEvent(c, strings.ToUpper(event), tree, "")
	s.mu.Unlock()
	return s.deliverAll(out)
}
