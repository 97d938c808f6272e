package events

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestAtoiBounds: numeric envelope fields are decimal integers from 0 to
// 2^53 (the largest a JSON number keeps exactly); "" is 0.
func TestAtoiBounds(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"", 0, true}, {"0", 0, true}, {" 7 ", 7, true}, {"9007199254740992", 1 << 53, true},
		{"9007199254740993", 0, false}, {"-1", 0, false}, {"1.5", 0, false}, {"x", 0, false},
	} {
		got, err := atoi("f", tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("atoi(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Errorf("atoi(%q) error %v does not wrap ErrMalformed", tt.in, err)
		}
	}
}

// TestAuthTokenExpiry: expires_in counts from issued when both are known;
// otherwise the absolute expires stands.
func TestAuthTokenExpiry(t *testing.T) {
	t.Parallel()
	abs := time.Unix(1_700_000_000, 0)
	issued := time.Unix(1_800_000_000, 0)
	for _, tt := range []struct {
		a      Auth
		issued time.Time
		want   time.Time
	}{
		{Auth{Expires: abs, ExpiresIn: 1}, issued, issued.Add(time.Second)},
		{Auth{Expires: abs, ExpiresIn: 0}, issued, abs},
		{Auth{Expires: abs, ExpiresIn: 3600}, time.Time{}, abs},
	} {
		if got := tt.a.Token(tt.issued).Expires; !got.Equal(tt.want) {
			t.Errorf("%+v issued %v: Expires %v, want %v", tt.a, tt.issued, got, tt.want)
		}
	}
	a := Auth{Domain: "old.bitrix24.com", ClientEndpoint: "https://new.bitrix24.com/rest/"}
	if got := a.Token(issued).Domain; got != "new.bitrix24.com" {
		t.Errorf("Domain = %q, want the client endpoint's host", got)
	}
	a.ClientEndpoint = "not a url/"
	if got := a.Token(issued).Domain; got != "old.bitrix24.com" {
		t.Errorf("Domain = %q, want the domain field when the endpoint has no host", got)
	}
}

// TestRawDataEqual: events compare equal by their data's JSON value.
func TestRawDataEqual(t *testing.T) {
	t.Parallel()
	parse := func(body string) *Event {
		ev, err := ParseBody([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	a := parse("event=E&data[A]=1&data[B]=2")
	b := parse("event=E&data[B]=2&data[A]=1")
	c := parse("event=E&data[A]=1")
	none := parse("event=E")
	if !a.raw.Equal(b.raw) || a.raw.Equal(c.raw) || a.raw.Equal(none.raw) || none.raw.Equal(a.raw) || !none.raw.Equal(none.raw) {
		t.Errorf("Equal: a~b %v, a~c %v, a~none %v, none~a %v, none~none %v",
			a.raw.Equal(b.raw), a.raw.Equal(c.raw), a.raw.Equal(none.raw), none.raw.Equal(a.raw), none.raw.Equal(none.raw))
	}
	var m map[string]string
	if err := none.DecodeData(&m); err != nil || m != nil {
		t.Errorf("DecodeData without data: %v, %v; want nil and out untouched", m, err)
	}
}

// TestParseBodyEdges: the size limit is inclusive, ts 0 means no time, an
// empty data leaf is no data, and Form decodes the body.
func TestParseBodyEdges(t *testing.T) {
	t.Parallel()
	body := []byte("event=ONCRMDEALADD&ts=0&data=&auth[member_id]=m")
	if _, err := (Limits{MaxBodySize: int64(len(body))}).ParseBody(body); err != nil {
		t.Errorf("body of exactly MaxBodySize: %v", err)
	}
	if _, err := (Limits{MaxBodySize: int64(len(body) - 1)}).ParseBody(body); !errors.Is(err, ErrBodyTooLarge) {
		t.Errorf("body one over MaxBodySize: %v, want ErrBodyTooLarge", err)
	}
	ev, err := ParseBody(body)
	if err != nil {
		t.Fatal(err)
	}
	if !ev.TS.IsZero() || ev.RawData() != nil {
		t.Errorf("ts=0: TS %v (want zero); data=\"\": RawData %s (want none)", ev.TS, ev.RawData())
	}
	if f := ev.Form(); f.Get("auth[member_id]") != "m" || f.Get("event") != "ONCRMDEALADD" {
		t.Errorf("Form = %v", f)
	}
	if ev, err = ParseBody([]byte("event=E&ts=1")); err != nil || !ev.TS.Equal(time.Unix(1, 0)) {
		t.Errorf("ts=1: %v, %v", ev.TS, err)
	}
	if f := (&Event{}).Form(); f != nil {
		t.Errorf("Form of an event without body = %v, want nil", f)
	}
}

// TestReadBodyContentLength: the buffer is sized from Content-Length only
// within the limit; a request claiming a huge length costs nothing extra,
// and a short one still reads the whole body.
func TestReadBodyContentLength(t *testing.T) {
	t.Parallel()
	body := wireBody(t, "wire_ONCRMCONTACTADD.txt")
	for _, n := range []int64{1 << 50, 1, int64(len(body)) - 1, int64(len(body)), int64(len(body)) + 10, -1} {
		r := httptest.NewRequest(http.MethodPost, "/h", strings.NewReader(body))
		r.ContentLength = n
		got, err := readBody(r, DefaultLimits.MaxBodySize)
		if err != nil || got != body {
			t.Errorf("Content-Length %d: read %d bytes, %v; want the %d-byte body", n, len(got), err, len(body))
		}
		// A body that breaks off is an error, whatever its length says.
		r = httptest.NewRequest(http.MethodPost, "/h", io.MultiReader(strings.NewReader(body), resetReader{}))
		r.ContentLength = n
		if _, err := readBody(r, DefaultLimits.MaxBodySize); err == nil {
			t.Errorf("Content-Length %d: a broken body read without error", n)
		}
	}
	// Over the limit: limit+1 bytes at most, whatever the length says.
	for _, n := range []int64{-1, 10, int64(len(body))} {
		r := httptest.NewRequest(http.MethodPost, "/h", strings.NewReader(body))
		r.ContentLength = n
		if got, err := readBody(r, 10); err != nil || got != body[:11] {
			t.Errorf("limit 10, Content-Length %d: %q, %v; want the first 11 bytes", n, got, err)
		}
	}
}

// TestZeroLimitsAreDefaults: a zero Limits field means its default, not
// "no limit": 10,000 pairs pass and 10,001 do not.
func TestZeroLimitsAreDefaults(t *testing.T) {
	t.Parallel()
	body := func(pairs int) []byte {
		var b strings.Builder
		b.WriteString("event=E")
		for i := 1; i < pairs; i++ {
			b.WriteString("&x=1")
		}
		return []byte(b.String())
	}
	if _, err := (Limits{}).ParseBody(body(DefaultLimits.MaxPairs)); err != nil {
		t.Errorf("%d pairs: %v", DefaultLimits.MaxPairs, err)
	}
	if _, err := (Limits{}).ParseBody(body(DefaultLimits.MaxPairs + 1)); !errors.Is(err, ErrMalformed) {
		t.Errorf("%d pairs: %v, want ErrMalformed", DefaultLimits.MaxPairs+1, err)
	}
	deep := "event=E&data" + strings.Repeat("[a]", 40) + "=1"
	if _, err := (Limits{}).ParseBody([]byte(deep)); !errors.Is(err, ErrMalformed) {
		t.Errorf("40 levels deep: %v, want ErrMalformed", err)
	}
}

// TestReadBodyEmpty: an empty body with Content-Length 0 reads as "".
func TestReadBodyEmpty(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest(http.MethodPost, "/h", strings.NewReader(""))
	r.ContentLength = 0
	if got, err := readBody(r, DefaultLimits.MaxBodySize); got != "" || err != nil {
		t.Errorf("readBody = %q, %v; want \"\", nil", got, err)
	}
}

func TestAuthHasTokens(t *testing.T) {
	t.Parallel()
	if (Auth{}).HasTokens() || !(Auth{AccessToken: "a"}).HasTokens() || (Auth{ApplicationToken: "x", MemberID: "m"}).HasTokens() {
		t.Error("HasTokens must report exactly whether the access token is present")
	}
}
