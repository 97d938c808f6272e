package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/b24go/sdk/internal/docsample"
	"github.com/b24go/sdk/internal/phpform"
)

// The samples in testdata/v2 are the JSON blocks of
// api-reference/chat-bots/chat-bots-v2/imbot.v2/events/events.md and
// .../im.v2/events/events.md (imbotv2/testdata/SOURCES.md lists each one).

func v2Samples(t *testing.T) map[string]json.RawMessage {
	t.Helper()
	files, err := filepath.Glob("testdata/v2/ON*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no v2 samples: %v", err)
	}
	out := map[string]json.RawMessage{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = b
	}
	return out
}

// checkCovers fails when the typed data lost a documented value.
func checkCovers(t *testing.T, what string, sample json.RawMessage, data any) {
	t.Helper()
	got, err := json.Marshal(data)
	if err != nil {
		t.Fatalf("%s: marshal: %v", what, err)
	}
	diff, err := docsample.Diff(sample, got)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diff {
		t.Errorf("%s: %s", what, d)
	}
}

// Fetch mode: every documented event sample decodes (Event.get's item
// data) into its typed struct with every field modelled and every value kept.
func TestV2EventSamplesFetch(t *testing.T) {
	t.Parallel()
	for name, sample := range v2Samples(t) {
		ev, err := FromJSON(name, time.Unix(1, 0), sample)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, unknown := ev.Data.(*Unknown); unknown {
			t.Fatalf("%s: not typed", name)
		}
		// Every documented field has a home in the struct.
		strict := NewData(name)
		dec := json.NewDecoder(bytes.NewReader(sample))
		dec.DisallowUnknownFields()
		if err := dec.Decode(strict); err != nil {
			t.Errorf("%s: field not modelled: %v", name, err)
		}
		checkCovers(t, name+" (fetch)", sample, ev.Data)
	}
}

// Webhook mode, form body: the same samples through http_build_query
// (every scalar a string, false → "0", null and empty collections dropped)
// decode to the same values.
func TestV2EventSamplesWebhookForm(t *testing.T) {
	t.Parallel()
	for name, sample := range v2Samples(t) {
		var data any
		if err := json.Unmarshal(sample, &data); err != nil {
			t.Fatal(err)
		}
		body, err := phpform.Encode(map[string]any{
			"event": name, "data": data, "ts": "1772093963",
			"auth": map[string]any{"application_token": "apptok", "member_id": "m1"},
		})
		if err != nil {
			t.Fatal(err)
		}
		ev, err := ParseBody([]byte(body))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if ev.Name != name || ev.Auth.ApplicationToken.Reveal() != "apptok" {
			t.Fatalf("%s: envelope %v", name, ev)
		}
		checkCovers(t, name+" (webhook form)", sample, ev.Data)
	}
}

// Webhook mode, JSON body (the handler sample in index.md#webhook reads
// json_decode(php://input)): the same samples decode to the same values.
func TestV2EventSamplesWebhookJSON(t *testing.T) {
	t.Parallel()
	for name, sample := range v2Samples(t) {
		body := `{"event":"` + name + `","data":` + string(sample) + `,"ts":1772093963,"auth":{"domain":"your-account.bitrix24.com","application_token":"apptok","expires":1772093963}}`
		r := httptest.NewRequest("POST", "/bot", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json; charset=utf-8")
		ev, err := DefaultLimits.ParseAny(r)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if ev.Auth.ApplicationToken.Reveal() != "apptok" || ev.TS.Unix() != 1772093963 || ev.Auth.Expires.Unix() != 1772093963 {
			t.Fatalf("%s: envelope %+v", name, ev.Auth)
		}
		checkCovers(t, name+" (webhook JSON)", sample, ev.Data)
		if !bytes.Equal(ev.RawData(), bytes.TrimSpace(sample)) && len(ev.RawData()) == 0 {
			t.Errorf("%s: RawData empty", name)
		}
	}
}

// The documented values, spelled out for the most used events.
func TestV2EventValues(t *testing.T) {
	t.Parallel()
	s := v2Samples(t)
	ev, err := FromJSON("onimbotv2messageadd", time.Time{}, s[OnBotV2MessageAdd])
	if err != nil {
		t.Fatal(err)
	}
	m := ev.Data.(*BotV2Message)
	if ev.Name != OnBotV2MessageAdd || m.Bot.ID != 456 || m.Bot.EventMode != "fetch" || m.Message.ID != 789 ||
		m.Message.Text != "Hello bot!" || m.ReplyDialog() != "chat5" || m.User.ID != 1 || !bool(m.User.Active) ||
		len(m.User.Departments) != 1 || m.User.Departments[0] != 1 || m.User.Phones != nil || m.Language != "en" {
		t.Errorf("MESSAGEADD: %+v", m)
	}
	if tm, ok := m.User.LastActivityDate.Time(); !ok || tm.UTC().Format(time.RFC3339) != "2025-01-15T08:29:00Z" {
		t.Errorf("lastActivityDate %q", m.User.LastActivityDate)
	}
	ev, _ = FromJSON(OnBotV2CommandAdd, time.Time{}, s[OnBotV2CommandAdd])
	c := ev.Data.(*BotV2CommandAdd)
	if c.Command.ID != 78 || c.Command.Command != "/help" || c.Command.Params != "topic" || c.Command.Context != "textarea" || c.ReplyDialog() != "chat5" {
		t.Errorf("COMMANDADD: %+v", c.Command)
	}
	ev, _ = FromJSON(OnBotV2ContextGet, time.Time{}, s[OnBotV2ContextGet])
	cg := ev.Data.(*BotV2ContextGet)
	if cg.DialogID != "1" || cg.Chat.Type != "private" || !strings.Contains(string(cg.Context), `"entityId": 164`) {
		t.Errorf("CONTEXTGET: %+v %s", cg, cg.Context)
	}
	ev, _ = FromJSON(OnBotV2ReactionChange, time.Time{}, s[OnBotV2ReactionChange])
	if r := ev.Data.(*BotV2ReactionChange); r.Reaction != "like" || r.Action != "add" || !bool(r.Message.ViewedByOthers) {
		t.Errorf("REACTIONCHANGE: %+v", r)
	}
}

// The webhook notification sample of events.md#webhook-payload: the
// top-level auth is the one a verifier checks; data.bot.auth holds the
// bot's callback tokens and never prints.
func TestV2WebhookPayloadSample(t *testing.T) {
	t.Parallel()
	sample, err := os.ReadFile("testdata/v2/imbot-webhook-2.json")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := ParseJSON(sample)
	if err != nil {
		t.Fatal(err)
	}
	m := ev.Data.(*BotV2Message)
	if ev.Auth.Domain != "your-account.bitrix24.com" || ev.Auth.ApplicationToken.Reveal() != "..." || m.Bot.ID != 456 ||
		m.Bot.Auth == nil || m.Bot.Auth.AccessToken.Reveal() != "..." {
		t.Fatalf("payload: %+v %+v", ev.Auth, m.Bot)
	}
	botOnly, err := os.ReadFile("testdata/v2/imbot-webhook-1.json")
	if err != nil {
		t.Fatal(err)
	}
	var d BotV2Message
	if err := json.Unmarshal(botOnly, &d); err != nil {
		t.Fatal(err)
	}
	if d.Bot.Auth.UserID != 27 || d.Bot.Auth.Expires.Unix() != 1772093963 || d.Bot.Auth.ApplicationToken.Reveal() != "831c76b092f9f135d9b6b36c3a720757" {
		t.Fatalf("bot auth: %+v", d.Bot.Auth)
	}
	printed, _ := json.Marshal(d)
	if strings.Contains(string(printed), "0b02a0690000071b") || strings.Contains(string(printed), "831c76b0") {
		t.Fatalf("bot auth tokens in JSON: %s", printed)
	}
}

func TestParseJSONRejects(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"not json":  `event=X`,
		"no name":   `{"data":{}}`,
		"bad ts":    `{"event":"X","ts":"soon"}`,
		"deep":      `{"event":"X","data":` + strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 40) + `}`,
		"bad types": `{"event":"ONIMBOTV2MESSAGEADD","data":{"message":{"id":"x"}}}`,
	} {
		if _, err := ParseJSON([]byte(body)); err == nil || !strings.Contains(err.Error(), "malformed") && !isMalformed(err) {
			t.Errorf("%s: err %v", name, err)
		}
	}
	if _, err := (Limits{MaxBodySize: 10}).ParseJSON([]byte(`{"event":"ONIMBOTV2DELETE"}`)); err == nil {
		t.Error("over the size limit: no error")
	}
}

func isMalformed(err error) bool {
	return err != nil && strings.Contains(err.Error(), ErrMalformed.Error())
}

// FuzzParseJSON: any body gives an event or an error wrapping ErrMalformed
// or ErrBodyTooLarge, never a panic, and no error quotes the application
// token.
func FuzzParseJSON(f *testing.F) {
	for _, name := range []string{"imbot-webhook-1.json", "imbot-webhook-2.json", "ONIMBOTV2MESSAGEADD.json", "ONIMBOTV2COMMANDADD.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", "v2", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"event":"ONIMBOTV2DELETE","auth":{"application_token":"fuzzAppToken1"},"data":{"bot":{"id":"x"}}}`))
	f.Add([]byte(`{"event":"X","ts":-1}`))
	lim := Limits{MaxBodySize: 1 << 16, MaxDepth: 8}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := lim.ParseJSON(body)
		if err == nil {
			if ev == nil || ev.Name == "" {
				t.Fatal("no event and no error")
			}
			return
		}
		if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrBodyTooLarge) {
			t.Fatalf("error %v wraps neither sentinel", err)
		}
		if strings.Contains(err.Error(), "fuzzAppToken1") {
			t.Fatalf("error quotes the token: %v", err)
		}
	})
}
