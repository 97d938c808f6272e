package bitrixtest

import (
	"testing"
)

// TestImbotDocumentedCodes checks imbot answers against the error tables of
// api-reference/chat-bots/outdated/*.
func TestImbotDocumentedCodes(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newSink(t)
	tok := s.IssueToken(1)
	call := func(method string, p map[string]any) resp { return callToken(t, s, method, tok.AccessToken, p) }
	botID := num(mustOK(t, call("imbot.register", map[string]any{"CODE": "echo", "EVENT_HANDLER": k.url("/bot"), "PROPERTIES": map[string]any{"NAME": "Echo"}})))
	// commands/imbot-command-register.md: EVENT_COMMAND_ADD_ERROR.
	r := call("imbot.command.register", map[string]any{"BOT_ID": botID, "COMMAND": "echo", "LANG": []map[string]string{{"LANGUAGE_ID": "en", "TITLE": "Echo"}}})
	if r.Body["error"] != "EVENT_COMMAND_ADD_ERROR" {
		t.Errorf("command without handler: %s", r.Raw)
	}
}
