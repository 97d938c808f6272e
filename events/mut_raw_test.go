package events

import (
	"testing"

	"github.com/b24go/sdk/internal/phpform"
)

// TestScanEnvelopeAnswers: a form whose event and auth[...] keys are plain
// is read by the flat scan itself (the fast path), with the last value of
// each key unescaped; keys that need the tree make it pass.
func TestScanEnvelopeAnswers(t *testing.T) {
	t.Parallel()
	pl := phpform.Limits{MaxDepth: 16, MaxPairs: 10_000}
	env, ok := scanEnvelope(pl, "event=ONCRMDEALADD&data[FIELDS][ID]=1&auth[application_token]=a%2Bb&auth[member_id]=m1&auth[member_id]=m2&auth[domain]=p.example", true)
	if !ok || env.Event != "ONCRMDEALADD" || env.ApplicationToken != "a+b" || env.MemberID != "m2" || env.Domain != "p.example" {
		t.Errorf("plain body: ok=%v %+v", ok, env)
	}
	for _, body := range []string{"event=E&auth=x", "event[x]=E", "event=E&auth[member_id]=m&auth=x"} {
		if _, ok := scanEnvelope(pl, body, true); ok {
			t.Errorf("%s: the scan answered; it needs the tree", body)
		}
	}
}
