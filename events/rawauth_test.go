package events

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzRawJSON: a JSON delivery that ReadBody reads and Decode decodes has
// the same name and credentials in both, and Raw.Auth is the event's auth
// block (FuzzEnvelopeReaders checks the same of forms).
func FuzzRawJSON(f *testing.F) {
	for _, name := range []string{"imbot-webhook-1.json", "imbot-webhook-2.json", "ONIMBOTV2MESSAGEADD.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", "v2", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"event":" onX ","auth":{"application_token":"t","member_id":"m","expires":1700000000,"user_id":"7","domain":"a.b"}}`))
	f.Add([]byte(`{"event":"X","auth":{"expires_in":true,"scope":"crm"}}`))
	lim := Limits{MaxBodySize: 1 << 16, MaxDepth: 8}
	f.Fuzz(func(t *testing.T, body []byte) {
		raw, err := lim.ReadBody(body, true)
		if err != nil {
			return
		}
		ev, err := lim.Decode(raw)
		if err != nil {
			return // data the decoder refuses: the envelope was fine
		}
		if raw.Name != ev.Name || raw.ApplicationToken() != ev.Auth.ApplicationToken || raw.MemberID() != ev.Auth.MemberID {
			t.Fatalf("ReadBody %q %q, Decode %q %q (tokens equal: %v)", raw.Name, raw.MemberID(), ev.Name, ev.Auth.MemberID,
				raw.ApplicationToken() == ev.Auth.ApplicationToken)
		}
		if diff := cmp.Diff(ev.Auth, raw.Auth()); diff != "" {
			t.Fatalf("Raw.Auth (-Decode +Raw):\n%s", diff)
		}
	})
}
