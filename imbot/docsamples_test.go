package imbot_test

import (
	"testing"

	"github.com/b24go/sdk/imbot"
	"github.com/b24go/sdk/internal/docsample"
)

// sampleClient answers every call with a docs sample of the REST corpus
// (testdata/rest at the module root; index.tsv names its docs page).
func sampleClient(t *testing.T, file string) *imbot.Client {
	t.Helper()
	c, err := imbot.New(docsample.Client(t, "../testdata/rest/"+file))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestDocsSamples decodes the imbot v1 docs samples
// (api-reference/chat-bots/outdated/**) through the typed methods.
func TestDocsSamples(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	bots, err := sampleClient(t, "imbot_bot_list.json").Bots.List(ctx)
	if err != nil || len(bots) != 1 || bots[0].ID != 39 || bots[0].Name != "NewBot" || bots[0].Code != "newbot" {
		t.Errorf("Bots.List = %+v, %v", bots, err)
	}
	d, err := sampleClient(t, "imbot_dialog_get.json").Chats.Dialog(ctx, 39, "chat2725")
	if err != nil || d.ID != 2725 || d.Name != "New Chat Name" || d.Owner != 1291 || d.DateCreate.IsZero() {
		t.Errorf("Chats.Dialog = %+v, %v", d, err)
	}
	users, err := sampleClient(t, "imbot_chat_user_list.json").Chats.Users(ctx, 39, 2725)
	if err != nil || len(users) != 3 || users[2] != 1291 {
		t.Errorf("Chats.Users = %v, %v", users, err)
	}
	id, err := sampleClient(t, "imbot_chat_get.json").Chats.Get(ctx, "TICKET", "7")
	if err != nil || id != 2725 {
		t.Errorf("Chats.Get = %d, %v", id, err)
	}
	msg, err := sampleClient(t, "imbot_message_add.json").Messages.Send(ctx, imbot.Message{BotID: 39, DialogID: "chat2725", Text: "x"})
	if err != nil || msg != 19880117 {
		t.Errorf("Messages.Send = %d, %v", msg, err)
	}
	chat, err := sampleClient(t, "imbot_chat_add.json").Chats.Add(ctx, imbot.NewChat{BotID: 39, Title: "T", Users: []int{1}})
	if err != nil || chat != 2725 {
		t.Errorf("Chats.Add = %d, %v", chat, err)
	}
}
