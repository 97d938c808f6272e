package imbot_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/imbot"
)

func decode(t *testing.T, v json.Marshaler) any {
	t.Helper()
	b, err := v.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestKeyboardJSON(t *testing.T) {
	t.Parallel()
	// The documented example keyboard: two link buttons, a new line, three command buttons.
	kb := imbot.NewKeyboard(
		imbot.Button{Text: "Bitrix24", Link: "http://bitrix24.com", BgColorToken: imbot.ColorTokenPrimary, BgColor: "#29619b", TextColor: "#fff", Display: imbot.DisplayLine},
		imbot.Button{Text: "BitBucket", Link: "https://bitbucket.org/Bitrix24com/rest-bot-echotest", BgColorToken: imbot.ColorTokenSecondary, BgColor: "#2a4c7c", TextColor: "#fff", Display: imbot.DisplayLine},
	).Row(
		imbot.Button{Text: "Echo", Command: "echo", CommandParams: "test from keyboard", Display: imbot.DisplayLine, BgColorToken: imbot.ColorTokenAlert},
		imbot.Button{Text: "List", Command: "echoList", Display: imbot.DisplayLine},
	).Add(imbot.Button{Text: "Help", Command: "help", Display: imbot.DisplayLine, Width: 100, Disabled: true})
	want := map[string]any{"BUTTONS": []any{
		map[string]any{"TEXT": "Bitrix24", "LINK": "http://bitrix24.com", "BG_COLOR_TOKEN": "primary", "BG_COLOR": "#29619b", "TEXT_COLOR": "#fff", "DISPLAY": "LINE"},
		map[string]any{"TEXT": "BitBucket", "LINK": "https://bitbucket.org/Bitrix24com/rest-bot-echotest", "BG_COLOR_TOKEN": "secondary", "BG_COLOR": "#2a4c7c", "TEXT_COLOR": "#fff", "DISPLAY": "LINE"},
		map[string]any{"TYPE": "NEWLINE"},
		map[string]any{"TEXT": "Echo", "COMMAND": "echo", "COMMAND_PARAMS": "test from keyboard", "DISPLAY": "LINE", "BG_COLOR_TOKEN": "alert"},
		map[string]any{"TEXT": "List", "COMMAND": "echoList", "DISPLAY": "LINE"},
		map[string]any{"TEXT": "Help", "COMMAND": "help", "DISPLAY": "LINE", "WIDTH": float64(100), "DISABLED": "Y"},
	}}
	if diff := cmp.Diff(want, decode(t, kb)); diff != "" {
		t.Errorf("keyboard JSON (-want +got):\n%s", diff)
	}
	if kb.Len() != 5 {
		t.Errorf("Len = %d", kb.Len())
	}
	// Empty rows do not produce double NEWLINEs.
	kb2 := imbot.NewKeyboard().Row().Row(imbot.Button{Text: "A", Command: "a"}).Row().Row(imbot.Button{Text: "B", Command: "b"})
	want2 := map[string]any{"BUTTONS": []any{
		map[string]any{"TEXT": "A", "COMMAND": "a"}, map[string]any{"TYPE": "NEWLINE"}, map[string]any{"TEXT": "B", "COMMAND": "b"},
	}}
	if diff := cmp.Diff(want2, decode(t, kb2)); diff != "" {
		t.Errorf("keyboard with empty rows (-want +got):\n%s", diff)
	}
}

func TestKeyboardRefused(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 1000)
	big := imbot.NewKeyboard()
	for i := 0; i < 40; i++ {
		big.Add(imbot.Button{Text: long, Command: "c"})
	}
	tests := []struct {
		name  string
		kb    *imbot.Keyboard
		field string
	}{
		{"nil", nil, "KEYBOARD"},
		{"no buttons", imbot.NewKeyboard().Row(), "KEYBOARD"},
		{"empty text", imbot.NewKeyboard(imbot.Button{Text: " ", Command: "a"}), "BUTTONS[0].TEXT"},
		{"no action", imbot.NewKeyboard(imbot.Button{Text: "a", Command: "a"}, imbot.Button{Text: "b"}), "BUTTONS[1]"},
		{"two actions", imbot.NewKeyboard(imbot.Button{Text: "a", Command: "a", Link: "https://x.example.com"}), "BUTTONS[0]"},
		{"bad link", imbot.NewKeyboard(imbot.Button{Text: "a", Link: "javascript:alert(1)"}), "BUTTONS[0].LINK"},
		{"params without command", imbot.NewKeyboard(imbot.Button{Text: "a", Link: "/crm/", CommandParams: "x"}), "COMMAND_PARAMS"},
		{"command with space", imbot.NewKeyboard(imbot.Button{Text: "a", Command: "a b"}), "COMMAND"},
		{"bad action", imbot.NewKeyboard(imbot.Button{Text: "a", Action: "OPEN", ActionValue: "x"}), "ACTION"},
		{"action no value", imbot.NewKeyboard(imbot.Button{Text: "a", Action: imbot.ActionSend}), "ACTION_VALUE"},
		{"dialog action bad value", imbot.NewKeyboard(imbot.Button{Text: "a", Action: imbot.ActionDialog, ActionValue: "room5"}), "ACTION_VALUE"},
		{"bad colour", imbot.NewKeyboard(imbot.Button{Text: "a", Command: "a", BgColor: "red"}), "BG_COLOR"},
		{"bad token", imbot.NewKeyboard(imbot.Button{Text: "a", Command: "a", BgColorToken: "pink"}), "BG_COLOR_TOKEN"},
		{"bad display", imbot.NewKeyboard(imbot.Button{Text: "a", Command: "a", Display: "GRID"}), "DISPLAY"},
		{"over 30 KB", big, "KEYBOARD"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.kb.Validate()
			var ve *bitrix.ValidationError
			if !errors.As(err, &ve) || !strings.Contains(ve.Field, tc.field) {
				t.Fatalf("Validate = %v, want a ValidationError on %s", err, tc.field)
			}
			if tc.kb == nil {
				return // encoding/json writes null for a nil pointer
			}
			if _, err := json.Marshal(tc.kb); err == nil {
				t.Error("json.Marshal accepted an invalid keyboard")
			}
		})
	}
	if err := imbot.NewKeyboard(imbot.Button{Text: "ok", Action: imbot.ActionDialog, ActionValue: "chat12"}).Validate(); err != nil {
		t.Errorf("valid DIALOG action refused: %v", err)
	}
}

func TestAttachJSON(t *testing.T) {
	t.Parallel()
	a := imbot.NewAttach().
		Message("[B]New Request[/B]").
		Link(imbot.AttachLink{Name: "Open", Link: "https://example.com", Desc: "the request", Preview: "https://example.com/p.png", Width: 100, Height: 50}).
		User(imbot.AttachUser{Name: "John", Avatar: "https://example.com/a.png", Link: "/company/personal/user/1/"}).
		Delimiter(imbot.Delimiter{}).
		Grid(imbot.GridItem{Display: imbot.GridLine, Name: "Priority", Value: "High", ColorToken: imbot.ColorTokenAlert, Color: "#ff0000", Width: 250},
			imbot.GridItem{Display: imbot.GridLine, Name: "Category", Value: "Requests"}).
		Image(imbot.AttachImage{Link: "https://example.com/i.png", Name: "pic"}).
		File(imbot.AttachFile{Link: "https://example.com/f.pdf", Name: "f.pdf", Size: 1500})
	a.ID, a.ColorToken = 1, imbot.ColorTokenPrimary
	want := map[string]any{"ID": float64(1), "COLOR_TOKEN": "primary", "BLOCKS": []any{
		map[string]any{"MESSAGE": "[B]New Request[/B]"},
		map[string]any{"LINK": map[string]any{"NAME": "Open", "LINK": "https://example.com", "DESC": "the request", "PREVIEW": "https://example.com/p.png", "WIDTH": float64(100), "HEIGHT": float64(50)}},
		map[string]any{"USER": map[string]any{"NAME": "John", "AVATAR": "https://example.com/a.png", "LINK": "/company/personal/user/1/"}},
		map[string]any{"DELIMITER": map[string]any{"SIZE": float64(200), "COLOR": "#c6c6c6"}},
		map[string]any{"GRID": []any{
			map[string]any{"DISPLAY": "LINE", "NAME": "Priority", "VALUE": "High", "COLOR_TOKEN": "alert", "COLOR": "#ff0000", "WIDTH": float64(250)},
			map[string]any{"DISPLAY": "LINE", "NAME": "Category", "VALUE": "Requests"},
		}},
		map[string]any{"IMAGE": []any{map[string]any{"LINK": "https://example.com/i.png", "NAME": "pic"}}},
		map[string]any{"FILE": []any{map[string]any{"LINK": "https://example.com/f.pdf", "NAME": "f.pdf", "SIZE": float64(1500)}}},
	}}
	if diff := cmp.Diff(want, decode(t, a)); diff != "" {
		t.Errorf("attach JSON (-want +got):\n%s", diff)
	}
}

func TestAttachRefused(t *testing.T) {
	t.Parallel()
	huge := imbot.NewAttach()
	for i := 0; i < 40; i++ {
		huge.Message(strings.Repeat("y", 1000))
	}
	tests := []struct {
		name  string
		a     *imbot.Attach
		field string
	}{
		{"no blocks", imbot.NewAttach(), "ATTACH"},
		{"empty message", imbot.NewAttach().Message(""), "BLOCKS[0].MESSAGE"},
		{"link without url", imbot.NewAttach().Message("x").Link(imbot.AttachLink{Name: "n"}), "BLOCKS[1].LINK.LINK"},
		{"link bad url", imbot.NewAttach().Link(imbot.AttachLink{Link: "ftp://x"}), "LINK"},
		{"user no name", imbot.NewAttach().User(imbot.AttachUser{Link: "/u/"}), "USER.NAME"},
		{"grid empty", imbot.NewAttach().Grid(), "GRID"},
		{"grid no display", imbot.NewAttach().Grid(imbot.GridItem{Name: "a", Value: "b"}), "GRID[0].DISPLAY"},
		{"grid bad display", imbot.NewAttach().Grid(imbot.GridItem{Display: "COLUMN", Name: "a"}), "DISPLAY"},
		{"grid blank", imbot.NewAttach().Grid(imbot.GridItem{Display: imbot.GridRow}), "GRID[0]"},
		{"image no link", imbot.NewAttach().Image(imbot.AttachImage{Name: "x"}), "IMAGE[0].LINK"},
		{"image none", imbot.NewAttach().Image(), "IMAGE"},
		{"file no link", imbot.NewAttach().File(imbot.AttachFile{Name: "x"}), "FILE[0].LINK"},
		{"delimiter bad colour", imbot.NewAttach().Delimiter(imbot.Delimiter{Color: "grey"}), "DELIMITER.COLOR"},
		{"bad colour", &imbot.Attach{Color: "#12"}, "ATTACH"},
		{"over 30 KB", huge, "ATTACH"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.a.Validate()
			var ve *bitrix.ValidationError
			if !errors.As(err, &ve) || !strings.Contains(ve.Field, tc.field) {
				t.Fatalf("Validate = %v, want a ValidationError on %s", err, tc.field)
			}
		})
	}
}

func TestMenu(t *testing.T) {
	t.Parallel()
	m := imbot.Menu{{Text: "bitrix24", Link: "https://bitrix24.com"}, {Text: "Echo", Command: "echo", CommandParams: "x"}}
	want := []any{
		map[string]any{"TEXT": "bitrix24", "LINK": "https://bitrix24.com"},
		map[string]any{"TEXT": "Echo", "COMMAND": "echo", "COMMAND_PARAMS": "x"},
	}
	if diff := cmp.Diff(want, decode(t, m)); diff != "" {
		t.Errorf("menu JSON (-want +got):\n%s", diff)
	}
	if err := (imbot.Menu{}).Validate(); err == nil {
		t.Error("empty menu accepted")
	}
	if err := (imbot.Menu{{Text: "", Link: "/x/"}}).Validate(); err == nil {
		t.Error("menu item without text accepted")
	}
}

func TestDialogID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d            imbot.DialogID
		valid, chat  bool
		chatID, user int
	}{
		{imbot.User(27), true, false, 0, 27},
		{imbot.Chat(2725), true, true, 2725, 0},
		{"sg12", true, false, 0, 0},
		{"", false, false, 0, 0},
		{"0", false, false, 0, 0},
		{"chat", false, true, 0, 0},
		{"chat-1", false, true, 0, 0},
		{"27 ", false, false, 0, 0},
	}
	for _, tc := range tests {
		if got := tc.d.Validate() == nil; got != tc.valid {
			t.Errorf("%q valid = %v", tc.d, got)
		}
		if tc.d.IsChat() != tc.chat || tc.d.ChatID() != tc.chatID || tc.d.UserID() != tc.user {
			t.Errorf("%q: IsChat %v ChatID %d UserID %d", tc.d, tc.d.IsChat(), tc.d.ChatID(), tc.d.UserID())
		}
	}
	if imbot.Chat(5).String() != "chat5" || imbot.User(5).String() != "5" {
		t.Error("String")
	}
}
