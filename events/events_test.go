package events

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/google/go-cmp/cmp"
)

func TestParseRequest(t *testing.T) {
	t.Parallel()
	body := wireBody(t, "wire_ONCRMCONTACTADD.txt")
	tests := []struct {
		name    string
		ct      string
		body    string
		limits  Limits
		wantErr error
	}{
		{"form", "application/x-www-form-urlencoded", body, Limits{}, nil},
		{"form with charset", "application/x-www-form-urlencoded; charset=UTF-8", body, Limits{}, nil},
		{"no content type", "", body, Limits{}, nil},
		{"json", "application/json", `{"event":"ONCRMDEALADD"}`, Limits{}, ErrMalformed},
		{"multipart", "multipart/form-data; boundary=x", body, Limits{}, ErrMalformed},
		{"too large", "", body, Limits{MaxBodySize: int64(len(body) - 1)}, ErrBodyTooLarge},
		{"exactly the limit", "", body, Limits{MaxBodySize: int64(len(body))}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodPost, "/h", strings.NewReader(tt.body))
			if tt.ct != "" {
				r.Header.Set("Content-Type", tt.ct)
			}
			ev, err := tt.limits.Parse(r)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && ev.Name != OnCRMContactAdd {
				t.Errorf("Name = %q", ev.Name)
			}
		})
	}
}

func TestParseMaxBytesReader(t *testing.T) {
	t.Parallel()
	body := wireBody(t, "wire_ONCRMCONTACTADD.txt")
	r := httptest.NewRequest(http.MethodPost, "/h", strings.NewReader(body))
	r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 100)
	if _, err := Parse(r); !errors.Is(err, ErrBodyTooLarge) {
		t.Fatalf("err = %v, want ErrBodyTooLarge", err)
	}
}

func TestParseFormMalformed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
	}{
		{"empty", ""},
		{"no event", "ts=1&data[FIELDS][ID]=1"},
		{"blank event", "event=%20&ts=1"},
		{"bad ts", "event=ONCRMDEALADD&ts=yesterday"},
		{"negative handler id", "event=ONCRMDEALADD&event_handler_id=-1"},
		{"bad expires", "event=ONCRMDEALADD&auth[expires]=soon"},
		{"bad escape in a number", "event=ONCRMDEALADD&data[FIELDS][ID]=%zz"},
		{"event is an array", "event[]=ONCRMDEALADD&ts=1"},
		{"fields is a leaf", "event=ONCRMDEALADD&data[FIELDS]=7"},
		{"id not a number", "event=ONCRMDEALADD&data[FIELDS][ID]=seven"},
		{"bot map is a leaf", "event=ONIMBOTMESSAGEADD&data[BOT]=x"},
		{"bot id not an int", "event=ONIMBOTMESSAGEADD&data[BOT][abc][BOT_ID]=1"},
		{"task fields text", "event=ONTASKADD&data[FIELDS_AFTER]=defined"},
		{"too deep", "event=X&data" + strings.Repeat("[a]", 17) + "=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseBody([]byte(tt.body))
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestParseLenient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		check      func(t *testing.T, ev *Event)
	}{
		{"lower-case name", "event=onCrmDealAdd&data[FIELDS][ID]=5", func(t *testing.T, ev *Event) {
			if ev.Name != OnCRMDealAdd || ev.Data.(*CRMEntity).EntityID() != 5 {
				t.Errorf("got %s %+v", ev.Name, ev.Data)
			}
		}},
		{"last value wins", "event=ONCRMDEALADD&auth[member_id]=a&auth[member_id]=b", func(t *testing.T, ev *Event) {
			if ev.Auth.MemberID != "b" {
				t.Errorf("MemberID = %q", ev.Auth.MemberID)
			}
		}},
		{"upper-case auth keys are not auth", "event=ONCRMDEALADD&AUTH[APPLICATION_TOKEN]=t", func(t *testing.T, ev *Event) {
			if ev.Auth.ApplicationToken != "" {
				t.Error("schema matched AUTH[APPLICATION_TOKEN] case-insensitively")
			}
		}},
		{"offline event without data", "event=ONOFFLINEEVENT&ts=1", func(t *testing.T, ev *Event) {
			if _, ok := ev.Data.(*OfflineNotice); !ok || ev.RawData() != nil {
				t.Errorf("Data = %T, raw %s", ev.Data, ev.RawData())
			}
		}},
		{"empty data leaf", "event=ONOFFLINEEVENT&data=", func(t *testing.T, ev *Event) {
			if ev.RawData() != nil {
				t.Errorf("raw = %s", ev.RawData())
			}
		}},
		{"task delete", "event=ONTASKDELETE&data[FIELDS_BEFORE][ID]=9&data[FIELDS_AFTER]=undefined&data[IS_ACCESSIBLE_BEFORE]=Y&data[IS_ACCESSIBLE_AFTER]=undefined", func(t *testing.T, ev *Event) {
			want := &Task{FieldsBefore: TaskFields{ID: 9}, FieldsAfter: TaskFields{Undefined: true}, IsAccessibleBefore: Yes}
			if d := cmp.Diff(want, ev.Data); d != "" {
				t.Errorf("(-want +got)\n%s", d)
			}
			if id, ok := ev.EntityID(); !ok || id != 9 {
				t.Errorf("EntityID = %d, %v", id, ok)
			}
		}},
		{"unknown event keeps its tree", "event=ONIMCONNECTORMESSAGEADD&data[message][text]=hi&data[list][]=a&data[list][]=b", func(t *testing.T, ev *Event) {
			u, ok := ev.Data.(*Unknown)
			if !ok {
				t.Fatalf("Data = %T", ev.Data)
			}
			var v struct {
				Message struct{ Text string } `json:"message"`
				List    []string              `json:"list"`
			}
			if err := u.Decode(&v); err != nil || v.Message.Text != "hi" || len(v.List) != 2 {
				t.Errorf("decoded %+v, %v", v, err)
			}
			if got := ev.Form().Get("data[message][text]"); got != "hi" {
				t.Errorf("Form = %q", got)
			}
		}},
		{"huge index", "event=X&data[a][99999999999999999999]=1&data[a][]=2&data[b][-5]=1&data[b][]=3", func(t *testing.T, ev *Event) {
			if len(ev.RawData()) == 0 {
				t.Error("no data")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev, err := ParseBody([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, ev)
		})
	}
}

func TestParseFormValues(t *testing.T) {
	t.Parallel()
	form, err := url.ParseQuery(fixtureBody(t, "event_ONCRMDYNAMICITEMADD.json"))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := ParseForm(form)
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := ev.EntityID(); !ok || id != 22 {
		t.Errorf("EntityID = %d, %v", id, ok)
	}
	if id, ok := ev.EntityTypeID(); !ok || id != 1220 {
		t.Errorf("EntityTypeID = %d, %v", id, ok)
	}
}

func TestHostileInputIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: parses 10,000-key bodies serially (seconds); the full run (go test ./..., .ci/run) includes it")
	}
	// Not parallel: it measures allocations.
	var many strings.Builder
	many.WriteString("event=ONIMBOTMESSAGEADD")
	for i := range 10_000 {
		fmt.Fprintf(&many, "&data[PARAMS][K%d]=v", i)
	}
	var deepLists strings.Builder
	deepLists.WriteString("event=X")
	for deepLists.Len() < DefaultMaxBodySize-200 {
		deepLists.WriteString("&data" + strings.Repeat("[]", 15) + "=1")
	}
	tests := []struct {
		name    string
		body    string
		wantErr error
	}{
		{"10k keys", many.String(), ErrMalformed}, // 10,001 fields > MaxPairs
		{"deep nesting", "event=X&data" + strings.Repeat("[a]", 10_000) + "=1", ErrMalformed},
		{"many deep appends", deepLists.String(), ErrMalformed},
		{"huge indexes", "event=X" + strings.Repeat("&data[99999999999999999999999999]=1&data[9223372036854775806]=2&data[]=3", 3000), nil},
		{"many values one key", "event=X" + strings.Repeat("&data[a]=1", 9000), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := ParseBody([]byte(tt.body))
			runtime.ReadMemStats(&after)
			if !errors.Is(err, tt.wantErr) && (tt.wantErr != nil || err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			const budget = 96 << 20
			if got := after.TotalAlloc - before.TotalAlloc; got > budget {
				t.Errorf("allocated %d MiB for a %d KiB body, budget %d MiB", got>>20, len(tt.body)>>10, budget>>20)
			}
		})
	}
	// Exactly MaxPairs fields is accepted.
	var ok strings.Builder
	ok.WriteString("event=X")
	for i := range DefaultLimits.MaxPairs - 1 {
		ok.WriteString("&data[k" + strconv.Itoa(i) + "]=v")
	}
	if _, err := ParseBody([]byte(ok.String())); err != nil {
		t.Errorf("MaxPairs fields: %v", err)
	}
}

// TestSecretsNeverPrint prints events and their data every way a log line
// might and looks for any token of the fixture.
func TestSecretsNeverPrint(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"event_ONIMBOTMESSAGEADD_private.json", "event_ONIMCOMMANDADD.json", "event_ONAPPINSTALL.json"} {
		body := fixtureBody(t, file)
		ev, err := ParseBody([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		form, _ := url.ParseQuery(body)
		var secrets []string
		for k, vs := range form {
			if strings.Contains(k, "token") {
				secrets = append(secrets, vs...)
			}
		}
		if len(secrets) < 2 {
			t.Fatalf("%s: found %d tokens in the fixture", file, len(secrets))
		}
		var out bytes.Buffer
		for _, v := range []any{ev, *ev, ev.Data, ev.Auth, &ev.Auth} {
			fmt.Fprintf(&out, "%v|%+v|%#v|%s\n", v, v, v, v)
		}
		if rt, ok := ev.Data.(interface{ ReplyTarget() (ReplyTarget, bool) }); ok {
			target, _ := rt.ReplyTarget()
			fmt.Fprintf(&out, "%v|%+v|%#v\n", target, target, target)
		}
		log := slog.New(slog.NewJSONHandler(&out, nil))
		log.Info("event", "ev", ev, "data", ev.Data, "auth", ev.Auth)
		u := &Unknown{Raw: ev.RawData()}
		fmt.Fprintf(&out, "%v|%+v|%#v|%s\n", u, u, u, u)
		log.Info("unknown", "data", u)
		for _, s := range secrets {
			if strings.Contains(out.String(), s) {
				t.Errorf("%s: token %.6s… printed", file, s)
			}
		}
		if !strings.Contains(out.String(), ev.Auth.MemberID) {
			t.Errorf("%s: output lacks the member id; did printing break?", file)
		}
	}
}

func TestReplyTargets(t *testing.T) {
	t.Parallel()
	parse := func(file string) *Event {
		ev, err := ParseBody([]byte(fixtureBody(t, file)))
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	msg := parse("event_ONIMBOTMESSAGEADD_private.json")
	got, ok := msg.Data.(*BotMessage).ReplyTarget()
	want := ReplyTarget{DialogID: "27", BotID: 567, BotCode: "BOT1", Auth: botAuth(
		"a98b9d690000071b0000084400000237f0f107589d1e", "990ac5690000071b0000084400000237", 1771932585, 567)}
	if d := cmp.Diff(want, got); !ok || d != "" {
		t.Errorf("message: ok=%v (-want +got)\n%s", ok, d)
	}
	if got.Auth.AccessToken.Reveal() == msg.Auth.AccessToken.Reveal() {
		t.Error("reply auth is the author's token, want the bot's")
	}

	group := parse("event_ONIMBOTMESSAGEDELETE_group.json")
	if got, ok := group.Data.(*BotMessage).ReplyTarget(); !ok || got.DialogID != "chat1157" || got.BotID != 571 {
		t.Errorf("group: %+v %v", got, ok)
	}
	join := parse("event_ONIMBOTJOINCHAT_private.json")
	if got, ok := join.Data.(*BotMessage).ReplyTarget(); !ok || got.DialogID != "27" || got.BotID != 571 {
		t.Errorf("join: %+v %v", got, ok)
	}
	cmdEv := parse("event_ONIMCOMMANDADD.json")
	cmdData := cmdEv.Data.(*CommandAdd)
	if got, ok := cmdData.ReplyTarget(); !ok || got.DialogID != "1269" || got.BotID != 1291 || got.Auth.UserID != 1291 {
		t.Errorf("command: %+v %v", got, ok)
	}
	if c, ok := cmdData.First(); !ok || c.Command != "echo" || c.Params != "test" || c.MessageID != 33899 || c.CommandID != 103 {
		t.Errorf("First = %+v %v", c, ok)
	}

	// Several bots: the addressed one wins, else the lowest id.
	two := &BotMessage{Bot: map[int]Bot{9: {BotCode: "NINE"}, 4: {BotCode: "FOUR"}}, Params: MessageParams{DialogID: "chat1", ToUserID: 9}}
	if got, _ := two.ReplyTarget(); got.BotID != 9 || got.BotCode != "NINE" {
		t.Errorf("addressed: %+v", got)
	}
	two.Params.ToUserID = 1
	if got, _ := two.ReplyTarget(); got.BotID != 4 {
		t.Errorf("lowest: %+v", got)
	}
	if _, ok := (&BotMessage{}).ReplyTarget(); ok {
		t.Error("empty message has a reply target")
	}
}

func TestEntityAccessors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body           string
		wantID, wantTT int
		ok             bool
	}{
		{"event=ONCRMLEADADD&data[FIELDS][ID]=7", 7, 1, true},
		{"event=ONCRMDEALUPDATE&data[FIELDS][ID]=8", 8, 2, true},
		{"event=ONCRMCONTACTDELETE&data[FIELDS][ID]=9", 9, 3, true},
		{"event=ONCRMCOMPANYADD&data[FIELDS][ID]=10", 10, 4, true},
		{"event=ONCRMDYNAMICITEMDELETE&data[FIELDS][ID]=11&data[FIELDS][ENTITY_TYPE_ID]=128", 11, 128, true},
		{"event=ONIMBOTDELETE&data[BOT_ID]=1", 0, 0, false},
	}
	for _, tt := range tests {
		ev, err := ParseBody([]byte(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		id, ok1 := ev.EntityID()
		tid, ok2 := ev.EntityTypeID()
		if id != tt.wantID || tid != tt.wantTT || ok1 != tt.ok || ok2 != tt.ok {
			t.Errorf("%s: EntityID %d,%v EntityTypeID %d,%v", tt.body, id, ok1, tid, ok2)
		}
	}
	if e, a, ok := CRMEntityOf("ONCRMDYNAMICITEMUPDATE"); !ok || e != "DYNAMICITEM" || a != "UPDATE" {
		t.Errorf("CRMEntityOf = %q %q %v", e, a, ok)
	}
	if _, _, ok := CRMEntityOf("ONCRMADD"); ok {
		t.Error("ONCRMADD split")
	}
}

func TestDedupeKey(t *testing.T) {
	t.Parallel()
	body := fixtureBody(t, "event_ONCRMDEALADD.json")
	a, _ := ParseBody([]byte(body))
	b, _ := ParseBody([]byte(body))
	fresh, _ := ParseBody([]byte(strings.Replace(body, "s6p6eclrvim6da22ft9ch94ekreb52lv", "another-token", 1)))
	other, _ := ParseBody([]byte(strings.Replace(body, "6641", "6642", 1)))
	if a.DedupeKey() != b.DedupeKey() || a.DedupeKey() != fresh.DedupeKey() {
		t.Error("same event, different keys")
	}
	if a.DedupeKey() == other.DedupeKey() {
		t.Error("different deals share a key")
	}
}

// TestDedupeKeyIgnoresBotTokens: bot events carry each bot's own tokens in
// data[BOT][id][...]; a resend with fresh ones is the same event.
func TestDedupeKeyIgnoresBotTokens(t *testing.T) {
	t.Parallel()
	body := fixtureBody(t, "event_ONIMBOTMESSAGEADD_private.json")
	ev, err := ParseBody([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	m := ev.Data.(*BotMessage)
	var bot Bot
	for _, b := range m.Bot {
		bot = b
	}
	if bot.Auth.AccessToken == "" || bot.Auth.RefreshToken == "" {
		t.Fatal("fixture has no bot tokens")
	}
	r := strings.NewReplacer(
		url.QueryEscape(bot.Auth.AccessToken.Reveal()), "fresh-access",
		url.QueryEscape(bot.Auth.RefreshToken.Reveal()), "fresh-refresh",
	)
	fresh, err := ParseBody([]byte(r.Replace(body)))
	if err != nil {
		t.Fatal(err)
	}
	if fresh.Data.(*BotMessage).Params.Message != m.Params.Message {
		t.Fatal("the replacement changed the message")
	}
	if ev.DedupeKey() != fresh.DedupeKey() {
		t.Error("fresh bot tokens changed the dedupe key")
	}
	other, err := ParseBody([]byte(strings.Replace(body, url.QueryEscape(m.Params.Message), "something+else", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if other.DedupeKey() == ev.DedupeKey() {
		t.Error("a different message shares the key")
	}
}

func TestAuthToken(t *testing.T) {
	t.Parallel()
	ev, _ := ParseBody([]byte(fixtureBody(t, "event_ONAPPINSTALL.json")))
	got := ev.Auth.Token(ev.TS)
	want := bitrix.Token{
		AccessToken: "s6p6eclrvim6da22ft9ch94ekreb52lv", RefreshToken: "4s386p3q0tr8dy89xvmt96234v3dljg8",
		Expires: unix(1696527000 + 3600), MemberID: member1, Domain: someDomain, ClientEndpoint: someClient,
		ServerEndpoint: oauthServer, Scope: "imbot", Status: "F",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
	// expires_in counts on the clock of whoever received the event, even
	// when the portal's absolute auth[expires] says otherwise (an hour
	// behind our clock here): the token must not look expired on arrival.
	received := time.Now()
	ev.Auth.Expires = received.Add(-time.Hour)
	if got := ev.Auth.Token(received); !got.Expires.Equal(received.Add(3600 * time.Second)) {
		t.Errorf("Expires = %v, want %v", got.Expires, received.Add(time.Hour))
	}
	if got := ev.Auth.Token(time.Time{}); !got.Expires.Equal(ev.Auth.Expires) {
		t.Errorf("without a receipt time: %v, want auth[expires]", got.Expires)
	}
}

func TestVerifier(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	reg := NewMemoryRegistry()
	if err := reg.Store(ctx, "portal-a", "token-a"); err != nil {
		t.Fatal(err)
	}
	ev := func(member, token string) *Event {
		return &Event{Name: OnCRMDealAdd, Auth: Auth{MemberID: member, ApplicationToken: bitrix.Secret(token)}}
	}
	tests := []struct {
		name    string
		v       *Verifier
		ev      *Event
		wantErr []error
	}{
		{"static match", NewVerifier(nil, "old", "new"), ev("", "new"), nil},
		{"static rotation old", NewVerifier(nil, "old", "new"), ev("", "old"), nil},
		{"static mismatch", NewVerifier(nil, "old", "new"), ev("", "neww"), []error{ErrTokenMismatch}},
		{"missing", NewVerifier(nil, "x"), ev("", ""), []error{ErrMissingToken}},
		{"nothing configured", NewVerifier(nil), ev("portal-a", "token-a"), []error{ErrTokenMismatch}},
		{"registry match", NewVerifier(reg), ev("portal-a", "token-a"), nil},
		{"registry other portal's token", NewVerifier(reg), ev("portal-b", "token-a"), []error{ErrTokenMismatch, ErrUnknownPortal}},
		{"registry mismatch", NewVerifier(reg), ev("portal-a", "token-b"), []error{ErrTokenMismatch}},
		{"registry without member id", NewVerifier(reg), ev("", "token-a"), []error{ErrTokenMismatch}},
		{"static or registry", NewVerifier(reg, "hook"), ev("portal-z", "hook"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.v.Verify(ctx, tt.ev)
			if tt.wantErr == nil && err != nil {
				t.Fatalf("err = %v", err)
			}
			for _, w := range tt.wantErr {
				if !errors.Is(err, w) {
					t.Errorf("err = %v, want %v", err, w)
				}
			}
			if err != nil && (strings.Contains(err.Error(), "token-") || strings.Contains(err.Error(), "hook")) {
				t.Errorf("error quotes a token: %v", err)
			}
		})
	}
}

func TestMemoryRegistry(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	reg := NewMemoryRegistry()
	if err := reg.Store(ctx, "", "x"); err == nil {
		t.Error("stored an empty member id")
	}
	if err := reg.Store(ctx, "p", "one"); err != nil {
		t.Fatal(err)
	}
	if err := reg.Store(ctx, "p", "two"); err != nil {
		t.Fatal(err)
	}
	if got, err := reg.Lookup(ctx, "p"); err != nil || got.Reveal() != "two" {
		t.Errorf("Lookup = %v, %v", got.Reveal(), err)
	}
	if err := reg.Delete(ctx, "p"); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Lookup(ctx, "p"); !errors.Is(err, ErrUnknownPortal) {
		t.Errorf("after Delete: %v", err)
	}
}

// refreshAnswer is what the OAuth server answers to a refresh, in the
// documented shape (settings/oauth/auto-renewal.md): member_id names the
// portal, client_endpoint its REST root, domain the OAuth server.
func refreshAnswer(member, clientEndpoint string) bitrix.Token {
	return bitrix.Token{AccessToken: "new-access", RefreshToken: "new-refresh", MemberID: member,
		ClientEndpoint: clientEndpoint, ServerEndpoint: oauthServer, Expires: time.Now().Add(time.Hour)}
}

func TestVerifyInstall(t *testing.T) {
	t.Parallel()
	install, err := ParseBody([]byte(fixtureBody(t, "event_ONAPPINSTALL.json")))
	if err != nil {
		t.Fatal(err)
	}
	uninstall, _ := ParseBody([]byte(fixtureBody(t, "event_ONAPPUNINSTALL.json")))
	edit := func(f func(a *Auth)) *Event {
		ev := *install
		f(&ev.Auth)
		return &ev
	}
	answer := func(tok bitrix.Token, err error) RefreshFunc {
		return func(context.Context, bitrix.Secret) (bitrix.Token, error) { return tok, err }
	}
	good := answer(refreshAnswer(member1, someClient), nil)
	tests := []struct {
		name    string
		ev      *Event
		refresh RefreshFunc
		asked   bool // whether the OAuth server is asked at all
		ok      bool
	}{
		{"proven", install, good, true, true},
		{"member id in other case", install, answer(refreshAnswer(strings.ToUpper(member1), someClient), nil), true, true},
		{"refresh refused (not our app's token)", install, answer(bitrix.Token{}, bitrix.ErrInvalidGrant), true, false},
		{"token of another portal", install, answer(refreshAnswer("ffffffffffffffffffffffffffffffff", "https://evil.bitrix24.com/rest/"), nil), true, false},
		{"member id of another portal", install, answer(refreshAnswer("ffffffffffffffffffffffffffffffff", someClient), nil), true, false},
		{"answer on another domain", install, answer(refreshAnswer(member1, "https://evil.bitrix24.com/rest/"), nil), true, false},
		{"answer without member id", install, answer(refreshAnswer("", someClient), nil), true, false},
		{"answer without client endpoint", install, answer(refreshAnswer(member1, ""), nil), true, false},
		{"answer without access token", install, answer(bitrix.Token{MemberID: member1, ClientEndpoint: someClient}, nil), true, false},
		{"not an install", uninstall, good, false, false},
		{"no refresh token", edit(func(a *Auth) { a.RefreshToken = "" }), good, false, false},
		{"no member id", edit(func(a *Auth) { a.MemberID = "" }), good, false, false},
		{"no domain", edit(func(a *Auth) { a.Domain = "" }), good, false, false},
		{"no application token", edit(func(a *Auth) { a.ApplicationToken = "" }), good, false, false},
		{"client endpoint off the domain", edit(func(a *Auth) { a.ClientEndpoint = "https://evil.bitrix24.com/rest/" }), good, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got bitrix.Secret
			asked := false
			refresh := func(ctx context.Context, rt bitrix.Secret) (bitrix.Token, error) {
				asked, got = true, rt
				return tt.refresh(ctx, rt)
			}
			tok, err := VerifyInstall(t.Context(), tt.ev, refresh)
			if tt.ok != (err == nil) {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInstallUnverified) {
				t.Errorf("err = %v, want ErrInstallUnverified", err)
			}
			if asked != tt.asked {
				t.Errorf("OAuth server asked = %v, want %v", asked, tt.asked)
			}
			if asked && got != tt.ev.Auth.RefreshToken {
				t.Errorf("refreshed %v, want the event's refresh token", got)
			}
			if rt := tt.ev.Auth.RefreshToken.Reveal(); err != nil && (rt != "" && strings.Contains(err.Error(), rt) || strings.Contains(err.Error(), "new-refresh")) {
				t.Errorf("error quotes a token: %v", err)
			}
			if err == nil && (tok.AccessToken != "new-access" || tok.RefreshToken != "new-refresh" || tok.Domain != someDomain) {
				t.Errorf("token = %+v", tok)
			}
		})
	}
}
