package imbotv2

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/imbot"
	"github.com/b24go/sdk/internal/docsample"
)

// The samples under testdata/docs are the request bodies (curl -d) and
// responses of every imbot.v2 method page (testdata/SOURCES.md). Each case
// below makes the documented call through the client: the request body the
// client sends must carry exactly the documented values, and the
// documented response must decode into the typed result with every value
// kept.

type sampleCase struct {
	page  string // testdata/docs/<page>.{request1,response}.json
	req   string // request sample file suffix (default request1)
	token string // botToken of the sample (default my_bot_token)
	call  func(ctx context.Context, c *Client) (any, error)
}

func sampleCases() []sampleCase {
	return []sampleCase{
		{page: "imbot.v2/bots/bot-register", call: func(ctx context.Context, c *Client) (any, error) {
			return c.Bots.Register(ctx, Registration{Code: "support_bot", Properties: Properties{Name: "Support Bot", WorkPosition: "AI Assistant"}, Type: TypeBot, EventMode: ModeFetch})
		}},
		{page: "imbot.v2/bots/bot-update", call: func(ctx context.Context, c *Client) (any, error) {
			h := true
			return c.Bots.Update(ctx, 456, BotUpdate{Properties: &Properties{Name: "Updated Bot"}, IsHidden: &h})
		}},
		{page: "imbot.v2/bots/bot-get", call: func(ctx context.Context, c *Client) (any, error) { return c.Bots.GetByCode(ctx, "support_bot") }},
		{page: "imbot.v2/bots/bot-list", call: func(ctx context.Context, c *Client) (any, error) {
			return c.Bots.List(ctx, BotListOptions{Type: TypeBot, Limit: 10})
		}},
		{page: "imbot.v2/bots/bot-unregister", call: func(ctx context.Context, c *Client) (any, error) { return nil, c.Bots.Unregister(ctx, 456) }},
		{page: "imbot.v2/chats/chat-add", call: func(ctx context.Context, c *Client) (any, error) {
			return c.Chats.Add(ctx, 456, NewChat{Title: "Support Chat", Color: "mint", UserIDs: []int{1, 2}})
		}},
		{page: "imbot.v2/chats/chat-get", call: func(ctx context.Context, c *Client) (any, error) { return c.Chats.Get(ctx, 456, "chat5") }},
		{page: "imbot.v2/chats/chat-update", call: func(ctx context.Context, c *Client) (any, error) {
			return nil, c.Chats.Update(ctx, 456, "chat5", ChatUpdate{Title: "New Title", Color: "azure"})
		}},
		{page: "imbot.v2/chats/chat-leave", call: func(ctx context.Context, c *Client) (any, error) { return nil, c.Chats.Leave(ctx, 456, "chat5") }},
		{page: "imbot.v2/chats/chat-user-add", call: func(ctx context.Context, c *Client) (any, error) {
			return nil, c.Chats.AddUsers(ctx, 456, "chat5", 1, 2, 3)
		}},
		{page: "imbot.v2/chats/chat-user-delete", call: func(ctx context.Context, c *Client) (any, error) {
			return nil, c.Chats.DeleteUser(ctx, 456, "chat5", 1)
		}},
		{page: "imbot.v2/chats/chat-user-list", call: func(ctx context.Context, c *Client) (any, error) {
			return c.Chats.Users(ctx, 456, "chat5", UserListOptions{OrderBy: "id", Limit: 50})
		}},
		{page: "imbot.v2/chats/chat-manager-add", call: func(ctx context.Context, c *Client) (any, error) {
			return nil, c.Chats.AddManagers(ctx, 456, "chat5", 4, 5)
		}},
		{page: "imbot.v2/chats/chat-manager-delete", call: func(ctx context.Context, c *Client) (any, error) {
			return nil, c.Chats.DeleteManagers(ctx, 456, "chat5", 4, 5)
		}},
		{page: "imbot.v2/chats/chat-set-owner", call: func(ctx context.Context, c *Client) (any, error) {
			return nil, c.Chats.SetOwner(ctx, 456, "chat5", 1)
		}},
		{page: "imbot.v2/ui/chat-input-action-notify", call: func(ctx context.Context, c *Client) (any, error) {
			return nil, c.Chats.InputAction(ctx, 456, "chat5", ActionThinking, 30*time.Second)
		}},
		{page: "imbot.v2/ui/chat-text-field-enabled", call: func(ctx context.Context, c *Client) (any, error) {
			return nil, c.Chats.TextField(ctx, 456, "chat5", false)
		}},
		{page: "imbot.v2/messages/chat-message-send", call: func(ctx context.Context, c *Client) (any, error) {
			return c.Messages.Send(ctx, 456, "chat5", MessageFields{Text: "Hello from bot!",
				Keyboard: imbot.NewKeyboard(imbot.Button{Text: "Open", Link: "https://example.com", BgColorToken: imbot.ColorTokenPrimary})})
		}},
		{page: "imbot.v2/messages/chat-message-update", call: func(ctx context.Context, c *Client) (any, error) {
			return nil, c.Messages.Update(ctx, 456, 789, MessageFields{Text: "Updated text"})
		}},
		{page: "imbot.v2/messages/chat-message-delete", call: func(ctx context.Context, c *Client) (any, error) {
			return nil, c.Messages.Delete(ctx, 456, 789, false)
		}},
		{page: "imbot.v2/messages/chat-message-get", call: func(ctx context.Context, c *Client) (any, error) { return c.Messages.Get(ctx, 456, 789) }},
		{page: "imbot.v2/messages/chat-message-get-context", call: func(ctx context.Context, c *Client) (any, error) {
			return c.Messages.Context(ctx, 456, 789, 20)
		}},
		{page: "imbot.v2/messages/chat-message-read", call: func(ctx context.Context, c *Client) (any, error) {
			return c.Messages.Read(ctx, 456, "chat5", 789)
		}},
		{page: "imbot.v2/messages/chat-message-reaction-add", call: func(ctx context.Context, c *Client) (any, error) {
			return nil, c.Messages.AddReaction(ctx, 456, 789, "like")
		}},
		{page: "imbot.v2/messages/chat-message-reaction-delete", call: func(ctx context.Context, c *Client) (any, error) {
			return nil, c.Messages.DeleteReaction(ctx, 456, 789, "like")
		}},
		{page: "imbot.v2/messages/message-keyboards", call: func(ctx context.Context, c *Client) (any, error) {
			kb := imbot.NewKeyboard(imbot.Button{Text: "Open website", Link: "https://www.example.com/"}).
				Row(imbot.Button{Text: "Insert command", Action: imbot.ActionPut, ActionValue: "/help"})
			return c.Messages.Send(ctx, 456, "chat2725", MessageFields{Text: "Select action", Keyboard: kb})
		}},
		{page: "imbot.v2/messages/message-formatting", call: func(ctx context.Context, c *Client) (any, error) {
			return c.Messages.Send(ctx, 456, "chat2725", MessageFields{Text: "[b]Important message[/b][br]Open [url=https://bitrix24.com]site[/url][br][send=/help]Help[/send]"})
		}},
		{page: "imbot.v2/messages/attachments/index", call: func(ctx context.Context, c *Client) (any, error) {
			a := imbot.NewAttach().Message("The API will be available in the update [B]im 24.0.0[/B]")
			a.ID, a.ColorToken, a.Color = 1, imbot.ColorTokenPrimary, "#29619b"
			return c.Messages.Send(ctx, 456, "chat20921", MessageFields{Text: "Attachment with primary color", Attach: a})
		}},
		{page: "imbot.v2/messages/attachments/index", req: "request3", call: func(ctx context.Context, c *Client) (any, error) {
			a := imbot.NewAttach().Message("The API will be available in the update [B]im 24.0.0[/B]")
			return c.Messages.Send(ctx, 456, "chat20921", MessageFields{Text: "Text block", Attach: a})
		}},
		{page: "imbot.v2/messages/attachments/constructor", call: func(ctx context.Context, c *Client) (any, error) {
			a := imbot.NewAttach().
				User(imbot.AttachUser{Name: "Mantis Notifications", Avatar: "https://files.shelenkov.com/bitrix/images/mantis2.jpg", Link: "https://shelenkov.com/"}).
				Link(imbot.AttachLink{Name: "Open Mantis from external network", Link: "https://shelenkov.com/"}).
				Delimiter(imbot.Delimiter{Size: 200, Color: "#c6c6c6"}).
				Grid(imbot.GridItem{Name: "Project", Value: "BUGS", Display: imbot.GridLine, Width: 100},
					imbot.GridItem{Name: "Category", Value: "im", Display: imbot.GridLine, Width: 100},
					imbot.GridItem{Name: "Summary", Value: "It is necessary to implement the ability to add structured entities to messages and notifications in the messenger.", Display: imbot.GridBlock}).
				Delimiter(imbot.Delimiter{Size: 200, Color: "#c6c6c6"}).
				Grid(imbot.GridItem{Name: "New Request", Value: "", Display: imbot.GridRow, Width: 100},
					imbot.GridItem{Name: "Assigned To", Value: "Eugene Shelenkov", Display: imbot.GridRow, Width: 100},
					imbot.GridItem{Name: "Deadline", Value: "11/04/2015 05:50:43 PM", Display: imbot.GridRow, Width: 100})
			return c.Messages.Send(ctx, 456, "chat20921", MessageFields{Text: "Task Card", Attach: a})
		}},
		{page: "imbot.v2/messages/attachments/constructor", req: "request3", call: func(ctx context.Context, c *Client) (any, error) {
			a := imbot.NewAttach().Message("Colleagues, the update im 16.0.0 has been checked and is ready for deployment. A tag needs to be set. We no longer include it in the update.").
				Image(imbot.AttachImage{Link: "https://files.shelenkov.com/bitrix/images/win.jpg"})
			a.ID, a.Color = 1, "#29619b"
			return c.Messages.Send(ctx, 456, "chat20921", MessageFields{Text: "You have a new notification", Attach: a})
		}},
		{page: "imbot.v2/commands/command-register", call: func(ctx context.Context, c *Client) (any, error) {
			return c.Commands.Register(ctx, 456, CommandSpec{Command: "help", Title: map[string]string{"en": "Show help", "de": "Hilfe anzeigen"}, Params: map[string]string{"en": "query", "de": "Anfrage"}})
		}},
		{page: "imbot.v2/commands/command-update", token: "b15f6e80ef345c97e23db31e727281f4", call: func(ctx context.Context, c *Client) (any, error) {
			en, de := "Updated help", "Aktualisierte Hilfe"
			return c.Commands.Update(ctx, 456, 42, CommandUpdate{Title: map[string]*string{"en": &en, "de": &de}})
		}},
		{page: "imbot.v2/commands/command-update", req: "request3", token: "b15f6e80ef345c97e23db31e727281f4", call: func(ctx context.Context, c *Client) (any, error) {
			de := "Hilfe"
			return c.Commands.Update(ctx, 456, 42, CommandUpdate{Title: map[string]*string{"de": &de, "en": nil}})
		}},
		{page: "imbot.v2/commands/command-list", call: func(ctx context.Context, c *Client) (any, error) { return c.Commands.List(ctx, 456) }},
		{page: "imbot.v2/commands/command-unregister", call: func(ctx context.Context, c *Client) (any, error) {
			return nil, c.Commands.Unregister(ctx, 456, 42)
		}},
		{page: "imbot.v2/commands/command-answer", call: func(ctx context.Context, c *Client) (any, error) {
			return nil, c.Commands.Answer(ctx, 456, 42, 789, "chat5", MessageFields{Text: "Here is the help text..."})
		}},
		{page: "imbot.v2/events/event-get", call: func(ctx context.Context, c *Client) (any, error) {
			return c.Events.Get(ctx, 456, EventQuery{Offset: 1000, Limit: 50, WithUserEvents: true})
		}},
		{page: "imbot.v2/events/event-get", req: "request3", call: func(ctx context.Context, c *Client) (any, error) {
			return c.Events.Get(ctx, 456, EventQuery{Offset: 1000, Limit: 50})
		}},
		{page: "imbot.v2/files/file-upload", call: func(ctx context.Context, c *Client) (any, error) {
			return c.Files.Upload(ctx, 456, "chat5", Upload{Name: "report.pdf", Content: []byte("Hello World!"), Message: "Here is the report"})
		}},
		{page: "imbot.v2/files/file-download", call: func(ctx context.Context, c *Client) (any, error) {
			u, err := c.Files.Download(ctx, 456, 138)
			return map[string]string{"downloadUrl": u.Reveal()}, err
		}},
		{page: "imbot.v2/revision-get", token: "-", call: func(ctx context.Context, c *Client) (any, error) { return c.Revision(ctx) }},
	}
}

// samplePortal answers every request with one documented response and
// records the JSON bodies it got.
type samplePortal struct {
	mu     sync.Mutex
	bodies [][]byte
	resp   []byte
}

func (p *samplePortal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	p.mu.Lock()
	p.bodies = append(p.bodies, b)
	resp := p.resp
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(resp)
}

func readSample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "docs", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// normalizeShortForms rewrites the documented short forms into the full
// ones the builders send: a keyboard array is {"BUTTONS": array}
// (messages/message-keyboards.md, "the server ... will wrap the array in
// BUTTONS"), an attach array is {"BLOCKS": array}
// (messages/attachments/index.md, "Short Form ATTACH").
func normalizeShortForms(req map[string]any) {
	f, _ := req["fields"].(map[string]any)
	if f == nil {
		return
	}
	if kb, ok := f["keyboard"].([]any); ok {
		f["keyboard"] = map[string]any{"BUTTONS": kb, "BOT_ID": req["botId"]}
	}
	if at, ok := f["attach"].([]any); ok {
		f["attach"] = map[string]any{"BLOCKS": at}
	}
	// IMAGE is a list of images in attachments/block-collections/images.md
	// and a single object in attachments/constructor.md; the builder sends
	// the list (docs/CONFORMANCE.md).
	if at, ok := f["attach"].(map[string]any); ok {
		blocks, _ := at["BLOCKS"].([]any)
		for _, b := range blocks {
			if bm, ok := b.(map[string]any); ok {
				if img, ok := bm["IMAGE"].(map[string]any); ok {
					bm["IMAGE"] = []any{img}
				}
			}
		}
	}
}

func TestDocSamples(t *testing.T) {
	t.Parallel()
	covered := map[string]bool{}
	for _, tc := range sampleCases() {
		reqName := tc.req
		if reqName == "" {
			reqName = "request1"
		}
		covered[tc.page] = true
		t.Run(tc.page+"/"+reqName, func(t *testing.T) {
			t.Parallel()
			respFile := tc.page + ".response.json"
			if _, err := os.Stat(filepath.Join("testdata", "docs", respFile)); err != nil {
				respFile = "imbot.v2/messages/chat-message-send.response.json" // pages that show only requests
			}
			resp := readSample(t, respFile)
			p := &samplePortal{resp: resp}
			srv := httptest.NewServer(p)
			defer srv.Close()
			bc, err := bitrix.New(bitrix.WebhookURL(srv.URL+"/rest/1/s3cr3tWebhookKey/"), bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit(), bitrix.WithRetryPolicy(bitrix.NoRetries()))
			if err != nil {
				t.Fatal(err)
			}
			token := tc.token
			if token == "" {
				token = "my_bot_token"
			}
			var opts []Option
			if token != "-" {
				opts = append(opts, WithBotToken(bitrix.Secret(token)))
			}
			c, err := New(bc, opts...)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tc.call(t.Context(), c)
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			// Request: the documented values, nothing else.
			var want map[string]any
			if err := json.Unmarshal(readSample(t, tc.page+"."+reqName+".json"), &want); err != nil {
				t.Fatal(err)
			}
			if a, ok := want["auth"].(string); ok && strings.Contains(a, "put_access_token") {
				delete(want, "auth") // the bitrix.Client adds auth itself
			}
			normalizeShortForms(want)
			wantJS, _ := json.Marshal(want)
			if len(p.bodies) != 1 {
				t.Fatalf("%d requests", len(p.bodies))
			}
			sent := p.bodies[0]
			for _, pair := range [][2][]byte{{wantJS, sent}, {sent, wantJS}} {
				diff, err := docsample.Diff(pair[0], pair[1])
				if err != nil {
					t.Fatalf("request body %s: %v", sent, err)
				}
				for _, d := range diff {
					t.Errorf("request: %s\nsent %s", d, sent)
				}
			}
			// Response: decodes strictly and keeps every value.
			if got == nil {
				return
			}
			var env struct {
				Result json.RawMessage `json:"result"`
			}
			if err := json.Unmarshal(resp, &env); err != nil {
				t.Fatal(err)
			}
			gotJS, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(tc.page, "chat-get") {
				env.Result = mustField(t, env.Result, "chat")
			}
			if strings.HasSuffix(tc.page, "command-register") || strings.HasSuffix(tc.page, "command-update") {
				env.Result = mustField(t, env.Result, "command")
			}
			if strings.HasSuffix(tc.page, "command-list") {
				env.Result = mustField(t, env.Result, "commands")
			}
			diff, err := docsample.Diff(env.Result, gotJS)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range diff {
				t.Errorf("response: %s", d)
			}
			strictDecode(t, env.Result, got)
		})
	}
	// Every page with a request sample has a case.
	files, _ := filepath.Glob("testdata/docs/imbot.v2/*/*.request1.json")
	more, _ := filepath.Glob("testdata/docs/imbot.v2/*.request1.json")
	deeper, _ := filepath.Glob("testdata/docs/imbot.v2/*/*/*.request1.json")
	for _, f := range append(append(files, more...), deeper...) {
		page := strings.TrimSuffix(strings.TrimPrefix(filepath.ToSlash(f), "testdata/docs/"), ".request1.json")
		if !covered[page] {
			t.Errorf("no sample case for %s", page)
		}
	}
}

func mustField(t *testing.T, raw json.RawMessage, k string) json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m[k]
}

// strictDecode decodes raw into a fresh value of got's type with unknown
// fields refused: every documented field has a home.
func strictDecode(t *testing.T, raw json.RawMessage, got any) {
	t.Helper()
	switch got.(type) {
	case map[string]string, *EventBatch:
		return // a plain map; EventBatch reads a wire struct
	}
	v := newOf(got)
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Errorf("field not modelled in %T: %v", got, err)
	}
}
