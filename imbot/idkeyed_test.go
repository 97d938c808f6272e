package imbot_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/b24go/sdk/imbot"
	"github.com/b24go/sdk/internal/docsample"
)

// answering returns a client whose portal answers every call with body.
func answering(t *testing.T, body string) *imbot.Client {
	t.Helper()
	ib, err := imbot.New(docsample.Answering(t, body))
	if err != nil {
		t.Fatal(err)
	}
	return ib
}

// TestBotListIDKeys: imbot.bot.list is an object keyed by bot id. A bot
// without ID takes its key; keys sort numerically; a key that is not an id
// is an error (it was read with an unchecked fmt.Sscan, giving a bot with
// ID 0).
func TestBotListIDKeys(t *testing.T) {
	t.Parallel()
	bots, err := answering(t, `{"result":{"10":{"NAME":"ten","CODE":"ten"},"9":{"ID":9,"NAME":"nine","CODE":"nine"}}}`).Bots.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range bots {
		got = append(got, b.Code)
		if b.ID == 0 {
			t.Errorf("bot %s has no id", b.Code)
		}
	}
	if diff := cmp.Diff([]string{"nine", "ten"}, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	if bots[1].ID != 10 {
		t.Errorf("bot without ID: id %d, want its key 10", bots[1].ID)
	}
	for _, body := range []string{
		`{"result":{"abc":{"NAME":"x","CODE":"x"}}}`,
		`{"result":{"7x":{"NAME":"x","CODE":"x"}}}`,
		`{"result":"bots"}`,
	} {
		if bots, err := answering(t, body).Bots.List(t.Context()); err == nil {
			t.Errorf("%s: %+v, want an error", body, bots)
		}
	}
	for _, body := range []string{`{"result":[]}`, `{"result":null}`, `{"result":false}`} {
		if bots, err := answering(t, body).Bots.List(t.Context()); err != nil || len(bots) != 0 {
			t.Errorf("%s: %+v, %v; want no bots", body, bots, err)
		}
	}
}
