package lists

import (
	"fmt"
	"github.com/b24go/sdk/internal/wire"
	"strings"
	"time"
)

// DateFormat holds the layouts of the portal's dates (Go time layouts). The
// portal writes element dates in its locale's format without a time zone,
// e.g. "12/31/2024 11:59:59 pm" (English) or "31.12.2024 23:59:59"
// (Russian, German).
type DateFormat struct {
	DateTime string         // date-time layout, used for writing S:DateTime values
	Date     string         // date layout, used for writing S:Date values
	Location *time.Location // the portal's time zone (nil: UTC)
}

// DefaultDateFormat is the format of English-language cloud portals.
func DefaultDateFormat() DateFormat {
	return DateFormat{DateTime: "01/02/2006 03:04:05 pm", Date: "01/02/2006", Location: time.UTC}
}

// Parse reads a portal date or date-time with the configured layouts first,
// then the other known portal layouts. "am"/"pm" may be in either case.
func (f DateFormat) Parse(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, fmt.Errorf("lists: empty date")
	}
	loc := f.Location
	if loc == nil {
		loc = time.UTC
	}
	layouts := make([]string, 0, len(wire.DateLayouts)+2)
	if f.DateTime != "" {
		layouts = append(layouts, f.DateTime)
	}
	if f.Date != "" {
		layouts = append(layouts, f.Date)
	}
	layouts = append(layouts, wire.DateLayouts...)
	for _, cand := range []string{s, strings.ToLower(s), strings.ToUpper(s)} {
		for _, l := range layouts {
			if t, err := time.ParseInLocation(l, cand, loc); err == nil {
				return t, nil
			}
		}
	}
	return time.Time{}, fmt.Errorf("lists: cannot parse date %.40q with layout %q or the known portal layouts", s, f.DateTime)
}

// FormatDateTime renders t (converted to the portal's zone) in the
// date-time layout.
func (f DateFormat) FormatDateTime(t time.Time) string {
	return f.in(t).Format(f.DateTime)
}

// FormatDate renders t's date in the date layout.
func (f DateFormat) FormatDate(t time.Time) string {
	return f.in(t).Format(f.Date)
}

func (f DateFormat) in(t time.Time) time.Time {
	if f.Location != nil {
		return t.In(f.Location)
	}
	return t.UTC()
}
