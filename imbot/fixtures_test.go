package imbot_test

import (
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/imbot"
)

// TestFixtureResults runs each method against a portal that answers the
// documented response, and checks the decoded result.
func TestFixtureResults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fixture string
		call    func(*imbot.Client) (int, error)
		want    int
	}{
		{"resp_imbot_register.json", func(ib *imbot.Client) (int, error) {
			return ib.Bots.Register(t.Context(), imbot.BotRegistration{Code: "newbot", Handlers: imbot.Handlers{All: "https://h.example.com/"},
				Properties: imbot.Properties{Name: bitrix.Ptr("NewBot")}})
		}, 39},
		{"resp_imbot_message_add.json", func(ib *imbot.Client) (int, error) {
			return ib.Messages.Send(t.Context(), imbot.Message{BotID: 39, DialogID: "chat123", Text: "Message text"})
		}, 19880117},
		{"resp_imbot_command_register.json", func(ib *imbot.Client) (int, error) {
			return ib.Commands.Register(t.Context(), imbot.Command{BotID: 39, Command: "echo", EventCommandAdd: "https://h.example.com/",
				Lang: []imbot.CommandLang{{LanguageID: "en", Title: "Echo"}}})
		}, 99},
		{"resp_imbot_command_answer.json", func(ib *imbot.Client) (int, error) {
			return ib.Commands.Answer(t.Context(), imbot.CommandAnswer{CommandID: 99, MessageID: 33877, Text: "answer"})
		}, 33879},
		{"resp_imbot_chat_add.json", func(ib *imbot.Client) (int, error) {
			return ib.Chats.Add(t.Context(), imbot.NewChat{Title: "New Chat Name"})
		}, 2725},
	}
	for _, tc := range tests {
		t.Run(tc.fixture, func(t *testing.T) {
			t.Parallel()
			fp, ib := serveFixture(t, tc.fixture, 200)
			got, err := tc.call(ib)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
			form, _ := url.ParseQuery(fp.bodies[0])
			if form.Get("CLIENT_ID") != testClientID {
				t.Errorf("CLIENT_ID not sent: %v", form)
			}
		})
	}
}

func TestFixtureDialog(t *testing.T) {
	t.Parallel()
	_, ib := serveFixture(t, "resp_imbot_dialog_get.json", 200)
	d, err := ib.Chats.Dialog(t.Context(), 0, imbot.Chat(2725))
	if err != nil {
		t.Fatal(err)
	}
	restr := map[string]bool{"avatar": true, "rename": true, "extend": true, "call": true, "mute": true, "leave": true,
		"leave_owner": true, "send": true, "user_list": true}
	want := imbot.Dialog{
		ID: 2725, DialogID: "chat2725", Name: "New Chat Name", Description: "Important News", Owner: 1291,
		Avatar: "https://cdn.com.bitrix24.com/b13743910/resize_cache/33079/ff58db95aecdfa09ae61b51b5fd8f63f/im/708/70810b67c7c206ca3477933063b8ebbc/zuc0242aflwpzacvndxwnfhuxhzvgjaq",
		Color:  "#f76187", Type: "chat", MessageType: "C", EntityType: "CHAT", EntityID: "13", UserCounter: 2,
		MessageCount: 11, LastMessageID: 33807, DateCreate: time.Date(2026, 2, 24, 11, 19, 39, 0, time.UTC), Role: "member",
		ManagerList: []int{1291}, Restrictions: restr,
	}
	got := *d
	if !got.DateCreate.Equal(want.DateCreate) {
		t.Errorf("DateCreate = %v, want %v", got.DateCreate, want.DateCreate)
	}
	got.DateCreate = want.DateCreate
	extraKeys := map[string]bool{}
	for k := range got.Extra {
		extraKeys[k] = true
	}
	got.Extra = nil
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Dialog (-want +got):\n%s", diff)
	}
	for _, k := range []string{"permissions", "readed_list", "last_message_views", "entity_link", "mute_list", "unread_id", "public"} {
		if !extraKeys[k] {
			t.Errorf("Extra lacks %q", k)
		}
	}
	if extraKeys["id"] || extraKeys["name"] {
		t.Error("modelled fields leaked into Extra")
	}
}

func TestFixtureErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fixture string
		call    func(*imbot.Client) error
		code    string
	}{
		{"error_imbot_register.json", func(ib *imbot.Client) error {
			_, err := ib.Bots.Register(t.Context(), imbot.BotRegistration{Code: "x", Handlers: imbot.Handlers{All: "https://h.example.com/"},
				Properties: imbot.Properties{Name: bitrix.Ptr("X")}})
			return err
		}, "CODE_ERROR"},
		{"error_imbot_message_add.json", func(ib *imbot.Client) error {
			_, err := ib.Messages.Send(t.Context(), imbot.Message{DialogID: imbot.User(1), Text: "x"})
			return err
		}, "MESSAGE_EMPTY"},
	}
	for _, tc := range tests {
		t.Run(tc.fixture, func(t *testing.T) {
			t.Parallel()
			_, ib := serveFixture(t, tc.fixture, 400)
			err := tc.call(ib)
			var apiErr *bitrix.APIError
			if !errors.As(err, &apiErr) || apiErr.Code != tc.code || apiErr.StatusCode != 400 {
				t.Fatalf("err = %v, want APIError %s", err, tc.code)
			}
			if !errors.Is(err, bitrix.ErrInvalidArgument) {
				t.Errorf("%v does not match ErrInvalidArgument", err)
			}
		})
	}
}
