package events

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/internal/phpform"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// fixtureBody turns a decoded-view JSON fixture into the form body the
// portal would send (http_build_query of the same tree).
func fixtureBody(t testing.TB, name string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	tree, err := phpform.ParseJSON(raw)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	body, err := phpform.Encode(tree)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return body
}

func wireBody(t testing.TB, name string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(raw))
}

const (
	someDomain  = "some-domain.bitrix24.com"
	someClient  = "https://some-domain.bitrix24.com/rest/"
	oauthServer = "https://oauth.bitrix.info/rest/"
	member1     = "a223c6b3710f85df22e9377d6c4f7553"
	memberBot   = "bac1cd5c8940947a75e0d71b1a84e348"
	appToken1   = "51856fefc120afa4b628cc82d3935cce"
	botAppToken = "831c76b092f9f135d9b6b36c3a720757"
	botClientID = "a7eff906dd1d950269258a599214f69e"
)

func unix(s int64) time.Time { return time.Unix(s, 0) }

// botAuth is the auth block of a bot in data[BOT] of the bot fixtures.
func botAuth(access, refresh string, expires int64, userID int) Auth {
	return Auth{
		AccessToken: bitrix.Secret(access), RefreshToken: bitrix.Secret(refresh),
		ApplicationToken: botAppToken, Expires: unix(expires), ExpiresIn: 3600,
		Scope: "imbot", Domain: someDomain, ServerEndpoint: oauthServer, ClientEndpoint: someClient,
		Status: "F", MemberID: memberBot, UserID: userID, ClientID: botClientID,
	}
}

// userAuth is the top-level auth block of the bot fixtures.
func userAuth(access, refresh string, expires int64, userID int, appToken, member string) Auth {
	return Auth{
		AccessToken: bitrix.Secret(access), RefreshToken: bitrix.Secret(refresh),
		ApplicationToken: bitrix.Secret(appToken), Expires: unix(expires), ExpiresIn: 3600,
		Scope: "imbot", Domain: someDomain, ServerEndpoint: oauthServer, ClientEndpoint: someClient,
		Status: "F", MemberID: member, UserID: userID,
	}
}

var svetlana = User{ID: 27, Name: "Svetlana Ivanova", FirstName: "Svetlana", LastName: "Ivanova", Gender: "F"}

func svetlanaFull() User {
	u := svetlana
	u.IsBot, u.IsConnector, u.IsNetwork, u.IsExtranet = false, false, false, false
	return u
}

func TestParseFixtures(t *testing.T) {
	t.Parallel()
	crmAuth := func(status, member, refresh string) Auth {
		return Auth{
			AccessToken: "s6p6eclrvim6da22ft9ch94ekreb52lv", RefreshToken: bitrix.Secret(refresh),
			ApplicationToken: appToken1, ExpiresIn: 3600, Scope: "crm", Domain: someDomain,
			ServerEndpoint: oauthServer, ClientEndpoint: someClient, Status: status, MemberID: member,
		}
	}
	taskAuth := Auth{
		AccessToken: "s6p6eclrvim6da22ft9ch94ekreb52lv", RefreshToken: "4s386p3q0tr8dy89xvmt96234v3dljg8",
		ApplicationToken: appToken1, ExpiresIn: 3600, Scope: "task", Domain: someDomain,
		ServerEndpoint: oauthServer, ClientEndpoint: someClient, Status: "F", MemberID: member1,
	}
	tests := []struct {
		file string // fixture: *.json decoded view, wire_*.txt raw body
		want Event
	}{
		{"event_ONAPPINSTALL.json", Event{
			Name: "ONAPPINSTALL", TS: unix(1696527000),
			Auth: Auth{
				Domain: someDomain, Scope: "imbot", AccessToken: "s6p6eclrvim6da22ft9ch94ekreb52lv",
				RefreshToken: "4s386p3q0tr8dy89xvmt96234v3dljg8", ExpiresIn: 3600, ServerEndpoint: oauthServer,
				Status: "F", ClientEndpoint: someClient, MemberID: member1, ApplicationToken: appToken1,
			},
			Data: &AppInstall{Version: "1.0.0", Active: true, Installed: true, LanguageID: "de"},
		}},
		{"event_ONAPPUNINSTALL.json", Event{
			Name: "ONAPPUNINSTALL", TS: unix(1466439714),
			Auth: Auth{Domain: someDomain, ServerEndpoint: oauthServer, ClientEndpoint: someClient, MemberID: member1, ApplicationToken: appToken1},
			Data: &AppUninstall{LanguageID: "de", Clean: true},
		}},
		{"wire_ONAPPTEST.txt", Event{
			Name: "ONAPPTEST", HandlerID: 1, TS: unix(1573120286),
			Data: &AppTest{Query: json.RawMessage(`{"any":"data"}`), LanguageID: "en"},
		}},
		{"event_ONCRMCONTACTADD_sdk_decoded.json", Event{
			Name: "ONCRMCONTACTADD", HandlerID: 196, TS: unix(1762089975),
			Auth: Auth{
				AccessToken: "076a0769007d83b20058f18a0000000100000694f171445612e564746d04afebba973e",
				Expires:     unix(1762093575), ExpiresIn: 3600, Scope: "crm,placement,user_brief,pull,userfieldconfig",
				Domain: "bitrix24-php-sdk-playground.bitrix24.ru", ServerEndpoint: "https://oauth.bitrix24.tech/rest/",
				Status: "L", ClientEndpoint: "https://bitrix24-php-sdk-playground.bitrix24.com/rest/",
				MemberID: "010b6886ebc205e43ae65000ee00addb", UserID: 1, ApplicationToken: "e24831714bb347622e3ef25af61525cf",
			},
			Data: &CRMEntity{Fields: CRMFields{ID: 264442}},
		}},
		{"wire_ONCRMCONTACTADD.txt", Event{
			Name: "ONCRMCONTACTADD", HandlerID: 58, TS: unix(1727018926),
			Auth: Auth{
				AccessToken: "be45f0660071849a0058f18a000000010000077261ef50fc26f1357adbd86a052c9e48",
				Expires:     unix(1727022526), ExpiresIn: 3600, Scope: "crm,placement,user_brief",
				Domain: "bitrix24-php-sdk-playground.bitrix24.com", ServerEndpoint: oauthServer, Status: "L",
				ClientEndpoint: "https://bitrix24-php-sdk-playground.bitrix24.com/rest/",
				MemberID:       "010b6886ebc205e43ae65000ee00addb", UserID: 1, ApplicationToken: "3c6c9248ec54af6bea1159b43ee0ab32",
			},
			Data: &CRMEntity{Fields: CRMFields{ID: 134806}},
		}},
		{"event_ONCRMDEALADD.json", Event{
			Name: "ONCRMDEALADD", HandlerID: 185, TS: unix(1735374081),
			Auth: crmAuth("L", member1, "4s386p3q0tr8dy89xvmt96234v3dljg8"),
			Data: &CRMEntity{Fields: CRMFields{ID: 6641}},
		}},
		{"event_ONCRMDEALADD_app.json", Event{
			Name: "ONCRMDEALADD", HandlerID: 185, TS: unix(1766047124),
			Auth: crmAuth("L", "d897063e1ce7c5eb9f04b9751eef5915", ""),
			Data: &CRMEntity{Fields: CRMFields{ID: 7405}},
		}},
		{"wire_ONCRMDEALUPDATE_outgoing_webhook.txt", Event{
			Name: "ONCRMDEALUPDATE", TS: unix(1724140800),
			Auth: Auth{Domain: "example.bitrix24.com", MemberID: strings.Repeat("x", 32), ApplicationToken: bitrix.Secret(strings.Repeat("x", 32))},
			Data: &CRMEntity{Fields: CRMFields{ID: 662}},
		}},
		{"event_ONCRMDYNAMICITEMADD.json", Event{
			Name: "ONCRMDYNAMICITEMADD", HandlerID: 4, TS: unix(1723534033),
			Auth: crmAuth("F", member1, "4s386p3q0tr8dy89xvmt96234v3dljg8"),
			Data: &CRMEntity{Fields: CRMFields{ID: 22, EntityTypeID: 1220}},
		}},
		{"event_ONCRMLEADADD.json", Event{
			Name: "ONCRMLEADADD", HandlerID: 707, TS: unix(1742807175),
			Auth: crmAuth("L", member1, "4s386p3q0tr8dy89xvmt96234v3dljg8"),
			Data: &CRMEntity{Fields: CRMFields{ID: 1000983}},
		}},
		{"event_ONIMBOTDELETE.json", Event{
			Name: "ONIMBOTDELETE", HandlerID: 439, TS: unix(1772090363),
			Auth: userAuth("0b02a0690000071b0008440001b0007a16b39202c2490f015", "", 1772093963, 27, botAppToken, memberBot),
			Data: &BotDelete{BotID: 567, BotCode: "BOT"},
		}},
		{"event_ONIMBOTJOINCHAT_private.json", Event{
			Name: "ONIMBOTJOINCHAT", HandlerID: 459, TS: unix(1772090839),
			Auth: userAuth("e703a069000071b00084400001b00074523806a5537056abff", "", 1772094439, 27, botAppToken, memberBot),
			Data: &BotMessage{
				Bot: map[int]Bot{571: {BotID: 571, BotCode: "BOT", Auth: botAuth(
					"e703a069000071b00084400023bf0f10751a702af1e", "d782c76900071b00084400023bf0f1077047d2feeb6c5f3fb", 1772094439, 571)}},
				Params: MessageParams{ChatType: "P", MessageType: "P", BotID: 571, UserID: 27, ToUserID: 27,
					FromUserID: 571, DialogID: "27", Language: "de"},
				User: svetlana,
			},
		}},
		{"event_ONIMBOTMESSAGEADD_private.json", Event{
			Name: "ONIMBOTMESSAGEADD", HandlerID: 403, TS: unix(1771928985),
			Auth: userAuth("a98b9d690000071b000008440000001b0000071d8a2", "990ac569071b000008440000001b000007f80ccc35b5e3",
				1771932585, 27, "831c76b092f9f135d9b66c3a720757", memberBot),
			Data: &BotMessage{
				Bot: map[int]Bot{567: {BotID: 567, BotCode: "BOT1", Auth: botAuth(
					"a98b9d690000071b0000084400000237f0f107589d1e", "990ac5690000071b0000084400000237", 1771932585, 567)}},
				Params: MessageParams{
					Message: "Hello", TemplateID: "796c45aa-70e5-45aa-930c-c7fb32710c62", MessageType: "P",
					FromUserID: 27, DialogID: "27", ToChatID: 1407, AuthorID: 27, System: false, ToUserID: 567,
					CommandContext: "TEXTAREA", ChatUserCount: 2, PlatformContext: "web", MessageID: 84331,
					ChatType: "P", Language: "en",
				},
				User: svetlanaFull(),
			},
		}},
		{"event_ONIMBOTMESSAGEDELETE_group.json", Event{
			Name: "ONIMBOTMESSAGEDELETE", HandlerID: 457, TS: unix(1772097333),
			Auth: userAuth("451da069000071b00084400001b00075b8bc870e6dbc3", "359cc76900071b0000084400001b00071a54cd7aad70b5d2fa",
				1772100933, 27, botAppToken, memberBot),
			Data: &BotMessage{
				Bot: map[int]Bot{571: {BotID: 571, BotCode: "BOT", Auth: botAuth(
					"9a0aa0690000071b000008440001b000781c0546d82fee9e8c", "9a0aa0690071b0000084400001b000781c0546d82fee9e8c", 1772100933, 571)}},
				Params: MessageParams{
					ID: 84537, ChatID: 1157, AuthorID: 27, Message: "Message from 02/26/2026 11:14:02 has been deleted",
					MessageType: "C", ChatAuthorID: 27, ChatEntityType: "THREAD", DialogID: "chat1157",
					MessageID: 84537, ChatType: "C", Language: "de",
				},
			},
		}},
		{"event_ONIMBOTMESSAGEDELETE_private.json", Event{
			Name: "ONIMBOTMESSAGEDELETE", HandlerID: 457, TS: unix(1772092554),
			Auth: userAuth("9a0aa06900071b00084400001b0000781c0546d93491d81d", "8a89c769000071b00084400001b000c1b724e4652017b0ea7051ffb8e",
				1772096154, 27, botAppToken, memberBot),
			Data: &BotMessage{
				Bot: map[int]Bot{571: {BotID: 571, BotCode: "BOT", Auth: botAuth(
					"9a0aa06900071b0000084400023bf0f107e7cd778b0dbccd0155cea", "9a0aa06900071b000844000023bf0f107e7cd778b0dbccd0155cea", 1772096154, 571)}},
				Params: MessageParams{
					ID: 84525, ChatID: 1453, AuthorID: 27, Message: "Message from 02/26/2026 09:27:30 has been deleted",
					MessageType: "P", ChatAuthorID: 571, FromUserID: 27, ToUserID: 571, DialogID: "27",
					MessageID: 84525, ChatType: "P", Language: "de",
				},
				User: svetlanaFull(),
			},
		}},
		{"event_ONIMBOTMESSAGEUPDATE_private.json", Event{
			Name: "ONIMBOTMESSAGEUPDATE", HandlerID: 455, TS: unix(1772092536),
			Auth: userAuth("880aa06900071b00084400001b0007dff360d21523410a45b4f7c12", "7889c769000071b000084400001b00007c0063d012b7284",
				1772096136, 27, botAppToken, memberBot),
			Data: &BotMessage{
				Bot: map[int]Bot{571: {BotID: 571, BotCode: "BOT", Auth: botAuth(
					"880aa0690000071b000008440000023bf0f107a4af72f200b757ece", "7889c7690000071b000008440000023bf0f107ad212748fb2268", 1772096136, 571)}},
				Params: MessageParams{
					ID: 84531, ChatID: 1453, AuthorID: 27, Message: "How to add an observer to the task?",
					MessageType: "P", ChatAuthorID: 571, FromUserID: 27, ToUserID: 571, ChatUserCount: 2,
					PlatformContext: "web", DialogID: "27", MessageID: 84531, ChatType: "P", Language: "en",
				},
				User: svetlanaFull(),
			},
		}},
		{"event_ONIMCOMMANDADD.json", Event{
			Name: "ONIMCOMMANDADD", HandlerID: 1045, TS: unix(1772109486),
			Auth: userAuth("be4ca06900071b006e2cf200004f50005243fd374178cf59f7831", "aecbc76900071b006e2cf200004f50000f2e62ee8e8baa598968",
				1772113086, 1269, "8e3ab48a764a9b02700e759d59e91125", "d897063e1ce7c5eb9f04b9751eef5915"),
			Data: &CommandAdd{
				Command: map[int]Command{103: {
					Bot: Bot{BotID: 1291, BotCode: "BOT_GM", Auth: func() Auth {
						a := botAuth("be4ca0690000071b006e2cf200050b0077317605eb83b25d2bd6", "aecbc7690000071b006e2cf200050b007f827f47e120e49da", 1772113086, 1291)
						a.MemberID, a.ApplicationToken = "d897063e1ce7c5eb9f04b9751eef5915", "8e3ab48a764a9b02700e759d59e91125"
						return a
					}()},
					CommandID: 103, Command: "echo", Params: "test", Context: "TEXTAREA", MessageID: 33899,
				}},
				Params: MessageParams{
					Message: "/echo test", TemplateID: "acae8d22-4536-4f47-a276-2e3bdf866475", MessageType: "P",
					FromUserID: 1269, DialogID: "1269", ToChatID: 2737, AuthorID: 1269, ToUserID: 1291,
					MessageID: 33899, ChatType: "P", Language: "en",
				},
				User: User{ID: 1269, Name: "John Smith", FirstName: "John", LastName: "Smith", Gender: "M"},
			},
		}},
		{"event_ONOFFLINEEVENT.json", Event{
			Name: "ONOFFLINEEVENT", TS: unix(1466439714), Auth: taskAuth, Data: &OfflineNotice{},
		}},
		{"event_ONTASKADD.json", Event{
			Name: "ONTASKADD", TS: unix(1466439714), Auth: taskAuth,
			Data: &Task{
				FieldsBefore: TaskFields{Undefined: true}, FieldsAfter: TaskFields{ID: 123},
				IsAccessibleBefore: No, IsAccessibleAfter: Undefined,
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			var body string
			if strings.HasPrefix(tt.file, "wire_") {
				body = wireBody(t, tt.file)
			} else {
				body = fixtureBody(t, tt.file)
			}
			got, err := ParseBody([]byte(body))
			if err != nil {
				t.Fatalf("ParseBody: %v", err)
			}
			if d := cmp.Diff(&tt.want, got, cmpopts.IgnoreUnexported(Event{})); d != "" {
				t.Errorf("(-want +got)\n%s", d)
			}
			if strings.HasSuffix(tt.file, ".json") {
				checkRawData(t, tt.file, got)
			}
		})
	}
}

// checkRawData compares Event.RawData with the fixture's data, every
// scalar as the string a form carries.
func checkRawData(t *testing.T, file string, ev *Event) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var fixture struct {
		Data any `json:"data"`
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&fixture); err != nil {
		t.Fatal(err)
	}
	want := stringify(fixture.Data)
	if m, ok := want.(map[string]any); ok && len(m) == 0 || want == nil {
		want = nil
	}
	if l, ok := want.([]any); ok && len(l) == 0 {
		want = nil // an empty array cannot be form-encoded
	}
	var got any
	if ev.RawData() != nil {
		if err := json.Unmarshal(ev.RawData(), &got); err != nil {
			t.Fatal(err)
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("RawData (-want +got)\n%s", d)
	}
}

func stringify(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = stringify(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = stringify(e)
		}
		return x
	case json.Number:
		return string(x)
	}
	return v
}

// TestEveryFixtureCovered fails when a shared event fixture is added to
// testdata without a case in TestParseFixtures.
func TestEveryFixtureIsTyped(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("testdata/event_*.json")
	if len(files) < 15 {
		t.Fatalf("found %d event fixtures, want the shared set", len(files))
	}
	for _, f := range files {
		ev, err := ParseBody([]byte(fixtureBody(t, filepath.Base(f))))
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if _, unknown := ev.Data.(*Unknown); unknown {
			t.Errorf("%s: %s parsed as Unknown", f, ev.Name)
		}
	}
}

// TestParseFormMatchesParseBody decodes every fixture both ways: ParseBody
// (phpform.Parse, direct envelope reader) and ParseForm (url.Values,
// gorilla/schema).
func TestParseFormMatchesParseBody(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("testdata/event_*.json")
	wires, _ := filepath.Glob("testdata/wire_*.txt")
	for _, f := range append(files, wires...) {
		var body string
		if strings.HasSuffix(f, ".json") {
			body = fixtureBody(t, filepath.Base(f))
		} else {
			body = wireBody(t, filepath.Base(f))
		}
		a, err := ParseBody([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		form, err := url.ParseQuery(body)
		if err != nil {
			t.Fatal(err)
		}
		b, err := ParseForm(form)
		if err != nil {
			t.Fatal(err)
		}
		// url.Values has no key order, so compare raw data as decoded JSON.
		asJSON := cmp.Transformer("json", func(r json.RawMessage) any {
			var v any
			_ = json.Unmarshal(r, &v)
			return v
		})
		if d := cmp.Diff(a, b, cmpopts.IgnoreFields(Event{}, "form", "body"), cmp.AllowUnexported(Event{}), asJSON); d != "" {
			t.Errorf("%s: ParseBody vs ParseForm (-body +form)\n%s", f, d)
		}
	}
}
