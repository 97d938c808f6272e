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
	// Every auth key the scan reads, against the tree reader.
	full := "event=ONAPPINSTALL&auth[access_token]=at&auth[refresh_token]=rt&auth[application_token]=ap&auth[expires]=1&auth[expires_in]=3600" +
		"&auth[scope]=crm&auth[domain]=p.example&auth[server_endpoint]=https%3A%2F%2Foauth.example%2Frest%2F" +
		"&auth[client_endpoint]=https%3A%2F%2Fp.example%2Frest%2F&auth[status]=L&auth[member_id]=m&auth[user_id]=1&auth[client_id]=local.1"
	env, ok = scanEnvelope(pl, full, true)
	named, err := pl.ParseNames(full, envelopeName)
	if err != nil {
		t.Fatal(err)
	}
	tree := readEnvelope(named)
	named.ReleaseNames()
	if !ok || env != tree || env.ClientID != "local.1" || env.ServerEndpoint != "https://oauth.example/rest/" {
		t.Errorf("scan ok=%v %+v\ntree reader %+v", ok, env, tree)
	}
	for _, body := range []string{"event=E&auth=x", "event[x]=E", "event=E&auth[member_id]=m&auth=x"} {
		if _, ok := scanEnvelope(pl, body, true); ok {
			t.Errorf("%s: the scan answered; it needs the tree", body)
		}
	}
}
