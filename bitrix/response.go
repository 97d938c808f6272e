package bitrix

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"time"
)

// Response is the metadata of a successful answer: the envelope fields
// around "result".
type Response struct {
	// Total is the number of matching rows of a list method (0 when absent;
	// with start=-1 the portal counts nothing and sends 0 or no total).
	Total int
	// Next is the start of the next page (0 when there is no next page).
	Next int
	// Time is the envelope's "time" object.
	Time Timing
	// StatusCode is the HTTP status of the answer.
	StatusCode int
}

// Timing is the "time" object of a Bitrix24 answer.
type Timing struct {
	// Start and Finish are the server's start and finish of the request.
	Start, Finish time.Time
	// Duration is Finish-Start; Processing is the time spent inside the method.
	Duration, Processing time.Duration
	// DateStart and DateFinish are the server's ISO-8601 strings.
	DateStart, DateFinish string
	// Operating is the method's accumulated execution time in the current
	// 10-minute window (the operating-time budget, 480 s in the cloud).
	Operating time.Duration
	// OperatingResetAt is when the oldest minute of that window expires
	// (zero when the portal did not send it).
	OperatingResetAt time.Time
}

type wireTime struct {
	Start            json.Number `json:"start"`
	Finish           json.Number `json:"finish"`
	Duration         json.Number `json:"duration"`
	Processing       json.Number `json:"processing"`
	DateStart        string      `json:"date_start"`
	DateFinish       string      `json:"date_finish"`
	Operating        json.Number `json:"operating"`
	OperatingResetAt json.Number `json:"operating_reset_at"`
}

// UnmarshalJSON accepts the time object, and PHP's [] or null for none.
func (t *Timing) UnmarshalJSON(b []byte) error {
	if isEmptyJSON(b) {
		*t = Timing{}
		return nil
	}
	var w wireTime
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*t = Timing{
		Start:            unixFloat(w.Start),
		Finish:           unixFloat(w.Finish),
		Duration:         seconds(w.Duration),
		Processing:       seconds(w.Processing),
		DateStart:        w.DateStart,
		DateFinish:       w.DateFinish,
		Operating:        seconds(w.Operating),
		OperatingResetAt: unixFloat(w.OperatingResetAt),
	}
	return nil
}

// MarshalJSON writes the wire form.
func (t Timing) MarshalJSON() ([]byte, error) {
	w := map[string]any{}
	if !t.Start.IsZero() {
		w["start"] = float64(t.Start.UnixNano()) / 1e9
	}
	if !t.Finish.IsZero() {
		w["finish"] = float64(t.Finish.UnixNano()) / 1e9
	}
	w["duration"] = t.Duration.Seconds()
	w["processing"] = t.Processing.Seconds()
	if t.DateStart != "" {
		w["date_start"] = t.DateStart
	}
	if t.DateFinish != "" {
		w["date_finish"] = t.DateFinish
	}
	w["operating"] = t.Operating.Seconds()
	if !t.OperatingResetAt.IsZero() {
		w["operating_reset_at"] = t.OperatingResetAt.Unix()
	}
	return json.Marshal(w)
}

func parseFloat(n json.Number) (float64, bool) {
	if n == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

func unixFloat(n json.Number) time.Time {
	f, ok := parseFloat(n)
	if !ok || f <= 0 || f > 1e11 {
		return time.Time{}
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3)
}

func seconds(n json.Number) time.Duration {
	f, ok := parseFloat(n)
	if !ok || f < 0 || f > 1e9 {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}

// isEmptyJSON reports null, [], {} or "" (PHP's shapes for "nothing").
func isEmptyJSON(b []byte) bool {
	b = bytes.TrimSpace(b)
	switch string(b) {
	case "", "null", "[]", "{}", `""`:
		return true
	}
	if len(b) >= 2 && (b[0] == '[' && b[len(b)-1] == ']' || b[0] == '{' && b[len(b)-1] == '}') {
		return len(bytes.TrimSpace(b[1:len(b)-1])) == 0
	}
	return false
}
