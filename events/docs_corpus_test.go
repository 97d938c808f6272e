package events

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/b24go/sdk/bitrix"
)

// TestDocsSampleCorpus decodes every JSON event sample of the docs pages
// of the events this package types (testdata/docs, sources in
// testdata/README.md) from its wire form — the sample encoded as the
// portal posts it, PHP brackets with every scalar a string — and checks
// each typed value against the sample's own: the envelope, the auth block,
// and every field of Data the sample carries (fields it does not carry
// must stay zero).
func TestDocsSampleCorpus(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/docs/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	readme, err := os.ReadFile("testdata/README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		name := filepath.Base(file)
		if !regexp.MustCompile("(?m)^\\| docs/" + regexp.QuoteMeta(name) + " \\| api-reference/\\S+\\.md \\|").Match(readme) {
			t.Errorf("%s: no source in testdata/README.md", name)
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.UseNumber()
			var sample map[string]any
			if err := dec.Decode(&sample); err != nil {
				t.Fatal(err)
			}
			body := fixtureBody(t, "docs/"+name)
			if strings.Contains(body, "%7B") || strings.Contains(body, "%22") {
				t.Fatalf("wire form is not PHP brackets: %s", body)
			}
			ev, err := ParseBody([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			c := &sampleCheck{t: t}
			c.envelope(ev, sample)
			if NewData(ev.Name) == nil {
				t.Fatalf("%s has no typed Data", ev.Name)
			}
			data, _ := sample["data"].(map[string]any) // "data": [] is no data
			c.value("data", reflect.ValueOf(ev.Data).Elem(), data)
			if data != nil && c.dataChecks == 0 {
				t.Error("no data field checked")
			}
			for _, k := range c.unmodeled {
				if !unmodeled[k] {
					t.Errorf("sample key %s has no typed field", k)
				}
			}
			switch d := ev.Data.(type) {
			case *CRMEntity:
				entity, _, _ := CRMEntityOf(ev.Name)
				want := map[string]int{"LEAD": 1, "DEAL": 2, "CONTACT": 3, "COMPANY": 4}[entity]
				if want == 0 {
					want = int(c.num(data["FIELDS"].(map[string]any)["ENTITY_TYPE_ID"]))
				}
				id, _ := ev.EntityID()
				tid, ok := ev.EntityTypeID()
				if tid != want || !ok || id != int(d.Fields.ID) || id == 0 {
					t.Errorf("EntityID %d EntityTypeID %d, %v (want type %d)", id, tid, ok, want)
				}
			case *Task:
				if id, ok := ev.EntityID(); !ok || id != d.TaskID() || id == 0 {
					t.Errorf("EntityID %d, %v", id, ok)
				}
			}
		})
	}
}

// unmodeled are the sample keys the typed structs leave to RawData and
// DecodeData on purpose: the message pipeline's internal flags and chat
// details of the v1 bot samples.
var unmodeled = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range []string{"ACCESS_HISTORY", "BOT_IN_CHAT", "CHAT_AVATAR", "CHAT_CAN_POST", "CHAT_EXTRANET", "CHAT_PARENT_ID", "CHAT_PARENT_MID", "CHAT_PREV_MESSAGE_ID", "CONVERT", "FAKE_RELATION", "IMPORTANT_CONNECTOR", "IS_MANAGER", "MENTIONED_LIST", "NO_SESSION_OL", "PUSH", "PUSH_IMPORTANT", "RECENT_ADD", "RECENT_SKIP_AUTHOR", "RID", "SILENT_CONNECTOR", "SKIP_COMMAND", "SKIP_CONNECTOR", "SKIP_COUNTER_INCREMENTS", "SKIP_URL_INDEX", "SKIP_USER_CHECK"} {
		m["MessageParams."+k] = true
	}
	return m
}()

type sampleCheck struct {
	t          *testing.T
	dataChecks int
	unmodeled  []string // Type.KEY of sample keys without a typed field
}

// str is the wire string of a sample leaf.
func (c *sampleCheck) str(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return v.String()
	}
	c.t.Fatalf("sample leaf %T", v)
	return ""
}

func (c *sampleCheck) num(v any) int64 {
	s := c.str(v)
	if s == "" {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		c.t.Fatalf("sample number %q: %v", s, err)
	}
	return n
}

func (c *sampleCheck) eq(path string, got, want any) {
	c.t.Helper()
	if !reflect.DeepEqual(got, want) {
		c.t.Errorf("%s = %#v, sample has %#v", path, got, want)
	}
	if strings.HasPrefix(path, "data") {
		c.dataChecks++
	}
}

func (c *sampleCheck) envelope(ev *Event, s map[string]any) {
	c.eq("event", ev.Name, strings.ToUpper(c.str(s["event"])))
	c.eq("event_handler_id", ev.HandlerID, int(c.num(s["event_handler_id"])))
	c.eq("ts", ev.TS.Unix(), c.num(s["ts"]))
	auth, _ := s["auth"].(map[string]any)
	c.auth("auth", ev.Auth, auth)
}

// auth compares an auth block (the envelope's, or a bot's flat keys).
func (c *sampleCheck) auth(path string, a Auth, s map[string]any) {
	var exp time.Time
	if n := c.num(s["expires"]); n > 0 {
		exp = time.Unix(n, 0)
	}
	want := Auth{
		AccessToken: bitrix.Secret(c.str(s["access_token"])), RefreshToken: bitrix.Secret(c.str(s["refresh_token"])),
		ApplicationToken: bitrix.Secret(c.str(s["application_token"])), Expires: exp,
		ExpiresIn: int(c.num(s["expires_in"])), Scope: c.str(s["scope"]), Domain: c.str(s["domain"]),
		ServerEndpoint: c.str(s["server_endpoint"]), ClientEndpoint: c.str(s["client_endpoint"]),
		Status: c.str(s["status"]), MemberID: c.str(s["member_id"]), UserID: int(c.num(s["user_id"])),
		ClientID: c.str(s["client_id"]),
	}
	c.eq(path, a, want)
}

var (
	intType      = reflect.TypeFor[bitrix.Int]()
	boolType     = reflect.TypeFor[bitrix.Bool]()
	triType      = reflect.TypeFor[TriState]()
	taskSideType = reflect.TypeFor[TaskFields]()
	rawType      = reflect.TypeFor[json.RawMessage]()
	botMapType   = reflect.TypeFor[map[int]Bot]()
	cmdMapType   = reflect.TypeFor[map[int]Command]()
)

// value compares the typed v with the sample value s (nil: absent).
func (c *sampleCheck) value(path string, v reflect.Value, s any) {
	c.t.Helper()
	switch v.Type() {
	case intType:
		c.eq(path, v.Int(), c.num(s))
		return
	case boolType:
		b, _ := strconv.ParseBool(map[string]string{"Y": "true", "1": "true"}[c.str(s)])
		c.eq(path, v.Bool(), b)
		return
	case triType:
		want := map[string]TriState{"Y": Yes, "N": No}[c.str(s)]
		c.eq(path, TriState(v.Int()), want)
		return
	case taskSideType:
		side := v.Interface().(TaskFields)
		if m, ok := s.(map[string]any); ok {
			c.eq(path, side, TaskFields{ID: bitrix.Int(c.num(m["ID"]))})
		} else {
			c.eq(path, side, TaskFields{Undefined: c.str(s) == "undefined" || s == nil})
		}
		return
	case rawType:
		return // AppTest.Query: the test handler's own params
	case botMapType, cmdMapType:
		m, _ := s.(map[string]any)
		c.eq(path+" size", v.Len(), len(m))
		for k, e := range m {
			id, err := strconv.Atoi(k)
			if err != nil {
				c.t.Fatalf("%s key %q", path, k)
			}
			entry := e.(map[string]any)
			got := v.MapIndex(reflect.ValueOf(id))
			if !got.IsValid() {
				c.t.Errorf("%s[%d] missing", path, id)
				continue
			}
			var bot Bot
			if cmd, ok := got.Interface().(Command); ok {
				bot = cmd.Bot
				c.eq(path+"[COMMAND_ID]", int64(cmd.CommandID), c.num(entry["COMMAND_ID"]))
				c.eq(path+"[COMMAND]", cmd.Command, c.str(entry["COMMAND"]))
				c.eq(path+"[COMMAND_PARAMS]", cmd.Params, c.str(entry["COMMAND_PARAMS"]))
				c.eq(path+"[COMMAND_CONTEXT]", cmd.Context, c.str(entry["COMMAND_CONTEXT"]))
				c.eq(path+"[MESSAGE_ID]", int64(cmd.MessageID), c.num(entry["MESSAGE_ID"]))
			} else {
				bot = got.Interface().(Bot)
			}
			c.eq(path+"[BOT_ID]", int64(bot.BotID), c.num(entry["BOT_ID"]))
			c.eq(path+"[BOT_CODE]", bot.BotCode, c.str(entry["BOT_CODE"]))
			c.auth(path+"[auth]", bot.Auth, entry)
		}
		return
	}
	switch v.Kind() {
	case reflect.String:
		c.eq(path, v.String(), c.str(s))
	case reflect.Struct:
		m, _ := s.(map[string]any)
		for k := range m {
			if _, ok := jsonField(v.Type(), k); !ok {
				c.unmodeled = append(c.unmodeled, v.Type().Name()+"."+k)
			}
		}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if tag == "" || tag == "-" {
				c.t.Fatalf("%s.%s: no json name", path, f.Name)
			}
			c.value(path+"["+tag+"]", v.Field(i), m[tag])
		}
	default:
		c.t.Fatalf("%s: kind %s not checked", path, v.Kind())
	}
}

// jsonField finds the field of t with JSON name key.
func jsonField(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}
