package bitrix

import (
	"fmt"
	"slices"
	"testing"
)

// TestWithIDSelected: a select list gets the id field unless it names it
// (any case) or "*", for both list types callers pass.
func TestWithIDSelected(t *testing.T) {
	tests := []struct {
		sel, want any
	}{
		{[]string{"TITLE"}, []string{"TITLE", "ID"}},
		{[]string{"title", "id"}, []string{"title", "id"}},
		{[]string{"*", "UF_*"}, []string{"*", "UF_*"}},
		{[]any{"TITLE"}, []any{"TITLE", "ID"}},
		{[]any{"TITLE", "Id"}, []any{"TITLE", "Id"}},
		{[]any{"*"}, []any{"*"}},
		{[]any{7, "TITLE"}, []any{7, "TITLE", "ID"}},
		{"TITLE", "TITLE"}, // not a list: left alone
	}
	for _, tt := range tests {
		got := withIDSelected(tt.sel, "ID")
		if fmt.Sprint(got) != fmt.Sprint(tt.want) || fmt.Sprintf("%T", got) != fmt.Sprintf("%T", tt.want) {
			t.Errorf("withIDSelected(%v) = %#v, want %#v", tt.sel, got, tt.want)
		}
	}
}

// TestOAuthOldTokensBounded: replaced tokens stay known to the redactor,
// the 16 most recent of them (a long-running client does not grow).
func TestOAuthOldTokensBounded(t *testing.T) {
	s := &oauthState{tok: Token{AccessToken: "a0", RefreshToken: "r0"}}
	var replaced []Secret
	for i := 1; i <= 10; i++ {
		replaced = append(replaced, s.tok.AccessToken, s.tok.RefreshToken)
		s.adopt(Token{AccessToken: Secret(fmt.Sprint("a", i)), RefreshToken: Secret(fmt.Sprint("r", i))})
		want := replaced[max(0, len(replaced)-16):]
		if !slices.Equal(s.old, want) {
			t.Fatalf("after %d refreshes old = %v, want %v", i, s.old, want)
		}
	}
	// A token adopted again (same values) adds nothing.
	s.adopt(s.tok)
	if len(s.old) != 16 || s.old[15] != "r9" {
		t.Errorf("re-adopting the current token changed old: %v", s.old)
	}
}

// TestCheckMethod: method names are letters, digits, '.', '_' and '-';
// the characters next to those ranges are refused.
func TestCheckMethod(t *testing.T) {
	for _, m := range []string{"azAZ09._-", "a", "z", "A", "Z", "0", "9", "crm.item.productrow.getAvailableForPayment"} {
		if err := checkMethod(m); err != nil {
			t.Errorf("checkMethod(%q) = %v, want nil", m, err)
		}
	}
	for _, m := range []string{"", "`", "{", "@", "[", "/", ":", " ", "crm.deal.get?x=1", "crm/deal", "ы"} {
		if err := checkMethod(m); err == nil {
			t.Errorf("checkMethod(%q) accepted", m)
		}
	}
}

// TestWithAuth: the token joins the body (never the URL) of either kind,
// with a separator only when the body has something before it.
func TestWithAuth(t *testing.T) {
	for _, tt := range []struct{ body, ctype, want string }{
		{"", ctypeForm, "auth=t%2Bk"},
		{"id=5", ctypeForm, "id=5&auth=t%2Bk"},
		{"{}", ctypeJSON, `{"auth":"t+k"}`},
		{" { } ", ctypeJSON, `{"auth":"t+k"}`},
		{`{"id":5}`, ctypeJSON, `{"auth":"t+k","id":5}`},
	} {
		if got := string(withAuth([]byte(tt.body), tt.ctype, "t+k")); got != tt.want {
			t.Errorf("withAuth(%q, %s) = %s, want %s", tt.body, tt.ctype, got, tt.want)
		}
	}
}
