package lists_test

import (
	"testing"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/lists"
)

// TestNewRefusesBadOptions: bad input is an error from New (a nil
// location or two empty layouts used to be ignored silently).
func TestNewRefusesBadOptions(t *testing.T) {
	t.Parallel()
	if c, err := lists.New(nil); err == nil || c != nil {
		t.Errorf("New(nil) = %v, %v; want an error", c, err)
	}
	bc, err := bitrix.New(bitrix.WebhookURL("https://portal.example.com/rest/1/hookSecret42/"))
	if err != nil {
		t.Fatal(err)
	}
	for name, opt := range map[string]lists.Option{
		"nil location":  lists.WithLocation(nil),
		"empty layouts": lists.WithDateFormat("", ""),
	} {
		if c, err := lists.New(bc, opt); err == nil || c != nil {
			t.Errorf("%s: New = %v, %v; want an error", name, c, err)
		}
	}
	msk := time.FixedZone("MSK", 3*3600)
	c, err := lists.New(bc, nil, lists.WithDateFormat("", "02.01.2006"), lists.WithLocation(msk))
	if err != nil {
		t.Fatal(err)
	}
	want := lists.DefaultDateFormat()
	want.Date, want.Location = "02.01.2006", msk
	if got := c.DateFormat(); got != want {
		t.Errorf("DateFormat() = %+v, want %+v", got, want)
	}
}
