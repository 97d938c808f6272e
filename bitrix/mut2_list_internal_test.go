package bitrix

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// page is a ran batch command whose result is rows with the given ids and
// whose answer took d on the portal.
func page(ids []int64, d time.Duration) *BatchCmd {
	rows := make([]map[string]any, len(ids))
	for i, id := range ids {
		rows[i] = map[string]any{"ID": fmt.Sprint(id)}
	}
	raw, _ := json.Marshal(rows)
	return &BatchCmd{b: &Batch{ran: true}, result: raw, resp: &Response{Time: Timing{Duration: d}}}
}

func ids(from, n int64) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = from + int64(i)
	}
	return out
}

// TestReadChain: the rows of chained pages end below hi (a portal that
// does not apply the "<ID" filter cannot make the scan deliver a row
// twice), an id that does not move forward is an error, a range whose
// last id is hi-1 is done, and the time per page is the average (checked
// only for a range that goes on: a done chain's is never used).
func TestReadChain(t *testing.T) {
	s := &scan[json.RawMessage]{q: Query{Method: "crm.deal.list", IDField: "ID"}}
	tests := []struct {
		name     string
		cmds     []*BatchCmd
		lo, hi   int64
		rows     int
		last     int64
		done     bool
		perPage  time.Duration
		errWants string
	}{
		{"full pages, more to come", []*BatchCmd{page(ids(11, 50), 2*time.Second), page(ids(61, 50), 4*time.Second)}, 10, 1000, 100, 110, false, 3 * time.Second, ""},
		{"short page ends the range", []*BatchCmd{page(ids(11, 50), time.Second), page(ids(61, 3), time.Second), page(nil, time.Second)}, 10, 1000, 53, 63, true, 0, ""},
		{"a row at hi ends the range", []*BatchCmd{page(ids(11, 50), time.Second)}, 10, 40, 29, 39, true, 0, ""},
		{"last id hi-1 ends the range", []*BatchCmd{page(ids(11, 50), time.Second)}, 10, 61, 50, 60, true, 0, ""},
		{"last id hi-2 does not", []*BatchCmd{page(ids(11, 50), time.Second)}, 10, 62, 50, 60, false, time.Second, ""},
		{"an id repeated", []*BatchCmd{page([]int64{11, 12, 12}, time.Second)}, 10, 1000, 0, 0, false, 0, "returned id 12, not after 12"},
		{"an id at the cursor", []*BatchCmd{page([]int64{10}, time.Second)}, 10, 1000, 0, 0, false, 0, "returned id 10, not after 10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch, err := s.readChain(tt.cmds, tt.lo, tt.hi)
			if tt.errWants != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errWants) {
					t.Fatalf("err = %v, want %q", err, tt.errWants)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(ch.rows) != tt.rows || ch.last != tt.last || ch.done != tt.done || !ch.done && ch.perPage != tt.perPage {
				t.Errorf("chain: %d rows, last %d, done %v, per page %v; want %d, %d, %v, %v",
					len(ch.rows), ch.last, ch.done, ch.perPage, tt.rows, tt.last, tt.done, tt.perPage)
			}
		})
	}
}

// TestSplitRows: the result shapes of list methods: the array itself, the
// array under the items key, an object keyed by ids, and the empty forms
// (PHP sends an empty array as []).
func TestSplitRows(t *testing.T) {
	tests := []struct {
		raw, key string
		want     string // rows joined by |, or "error: ..."
	}{
		{`[{"ID":"1"},{"ID":"2"}]`, "", `{"ID":"1"}|{"ID":"2"}`},
		{` {"7":{"ID":"7"},"3":{"ID":"3"}} `, "", `{"ID":"7"}|{"ID":"3"}`},
		{`{"items":[{"id":1}]}`, "items", `{"id":1}`},
		{`{"items":{"5":{"id":5}}}`, "items", `{"id":5}`},
		{`[]`, "items", ``},
		{`{"items":[]}`, "items", ``},
		{`{"items":null}`, "items", ``},
		{`{}`, "items", ``},
		{`null`, "", ``},
		{``, "", ``},
		{`[1,`, "", `error`},
		{`{"a":}`, "", `error`},
		{`{"a"`, "", `error`},
		{`{1:2}`, "", `error`},
		{`"text"`, "", `error: list result is not an array`},
		{`[{"id":1}]`, "items", `error: result is not an object with "items"`},
		{``, "items", `error: result is not an object with "items"`},
	}
	for _, tt := range tests {
		rows, err := splitRows(json.RawMessage(tt.raw), tt.key)
		var got string
		if err != nil {
			got = "error: " + err.Error()
		} else {
			var parts []string
			for _, r := range rows {
				parts = append(parts, string(r))
			}
			got = strings.Join(parts, "|")
		}
		if got != tt.want && !(strings.HasPrefix(got, tt.want) && strings.HasPrefix(tt.want, "error")) {
			t.Errorf("splitRows(%s, %q) = %s, want %s", tt.raw, tt.key, got, tt.want)
		}
	}
}

// TestFlexObject: the maps of a batch answer are objects, arrays (numeric
// keys), [] or null; anything else is an error.
func TestFlexObject(t *testing.T) {
	tests := []struct{ raw, want string }{
		{`{"a":1,"b":[2]}`, `a=1 b=[2]`},
		{`["x",{"y":1}]`, `0="x" 1={"y":1}`},
		{` [] `, ``},
		{`null`, ``},
		{``, ``},
		{`[1,`, `error`},
		{`{"a":`, `error`},
		{`"str"`, `error: want an object or array, got "str"`},
		{`12`, `error: want an object or array, got 12`},
	}
	for _, tt := range tests {
		m, err := flexObject(json.RawMessage(tt.raw))
		var got string
		if err != nil {
			got = "error: " + err.Error()
		} else {
			var parts []string
			for _, k := range []string{"a", "b", "0", "1"} {
				if v, ok := m[k]; ok {
					parts = append(parts, k+"="+string(v))
				}
			}
			got = strings.Join(parts, " ")
			if len(m) != len(parts) {
				got += fmt.Sprintf(" (%d keys)", len(m))
			}
		}
		if got != tt.want && !(strings.HasPrefix(got, tt.want) && strings.HasPrefix(tt.want, "error")) {
			t.Errorf("flexObject(%s) = %s, want %s", tt.raw, got, tt.want)
		}
	}
}

// TestRowID: the id field is found in any case and read as a number (ids
// come as strings or numbers); a row without it or not an object is an
// error.
func TestRowID(t *testing.T) {
	tests := []struct {
		row, field string
		want       int64
		err        string
	}{
		{`{"ID":"42"}`, "ID", 42, ""},
		{`{"id":7}`, "ID", 7, ""},
		{`{"Id":"9","ID":"10"}`, "ID", 10, ""},
		{`{"TITLE":"x"}`, "ID", 0, `row has no "ID" field`},
		{`{"ID":"abc"}`, "ID", 0, `row field "ID"`},
		{`[1]`, "ID", 0, "row is not an object"},
	}
	for _, tt := range tests {
		got, err := rowID(json.RawMessage(tt.row), tt.field)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("rowID(%s) = %d, %v; want error %q", tt.row, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("rowID(%s) = %d, %v; want %d", tt.row, got, err, tt.want)
		}
	}
}

// TestChainPages: pages chained per request follow the time the portal
// reported for one page, within 1 and MaxBatchCommands.
func TestChainPages(t *testing.T) {
	for _, tt := range []struct {
		perPage time.Duration
		want    int
	}{
		{0, MaxBatchCommands}, {-time.Second, MaxBatchCommands}, {time.Nanosecond, MaxBatchCommands},
		{chainBudget / 50, 50}, {chainBudget / 49, 49}, {2 * time.Second, 10}, {3 * time.Second, 6},
		{chainBudget, 1}, {time.Hour, 1},
	} {
		if got := chainPages(tt.perPage); got != tt.want {
			t.Errorf("chainPages(%v) = %d, want %d", tt.perPage, got, tt.want)
		}
	}
}
