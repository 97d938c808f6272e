package bitrix_test

import (
	"testing"
	"time"

	"github.com/b24go/sdk/bitrix"
)

// bitrix.Time and the lists date parser share one list of portal layouts;
// these come from the lists side (a 12-hour clock without seconds, PM in
// upper case).
func TestParseTimeSharedPortalLayouts(t *testing.T) {
	t.Parallel()
	want := time.Date(2024, 12, 31, 23, 59, 0, 0, time.UTC)
	for _, in := range []string{"12/31/2024 11:59 pm", "12/31/2024 11:59 PM", "31.12.2024 23:59"} {
		got, err := bitrix.ParseTime(in)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", in, got.Time, err, want)
		}
	}
}
