package events

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestReadAnyMatchesParseAny: ReadAny reads the envelope ParseAny decodes
// (name and auth), keeps the body as received, and Decode gives the event
// ParseAny gives.
func TestReadAnyMatchesParseAny(t *testing.T) {
	t.Parallel()
	jsonBody, err := os.ReadFile(filepath.Join("testdata", "event_ONCRMDEALADD.json"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, ct, body string
		json           bool
	}{
		{"form", "application/x-www-form-urlencoded", wireBody(t, "wire_ONCRMCONTACTADD.txt"), false},
		{"form with charset", "application/x-www-form-urlencoded; charset=UTF-8", wireBody(t, "wire_ONAPPTEST.txt"), false},
		{"form without content type", "", wireBody(t, "wire_ONCRMDEALUPDATE_outgoing_webhook.txt"), false},
		// auth[...][...] is not a plain envelope key: the envelope comes from the tree.
		{"form needing the tree", "", wireBody(t, "wire_ONCRMCONTACTADD.txt") + "&auth[extra][x]=1", false},
		{"json", "application/json", string(jsonBody), true},
		{"json with charset", "application/json; charset=utf-8", string(jsonBody), true},
	}
	req := func(ct, body string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/h", strings.NewReader(body))
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		return r
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			want, err := ParseAny(req(tt.ct, tt.body))
			if err != nil {
				t.Fatal(err)
			}
			raw, err := Limits{}.ReadAny(req(tt.ct, tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if raw.Name != want.Name || raw.Name == "" {
				t.Errorf("Name = %q, want %q", raw.Name, want.Name)
			}
			if raw.ApplicationToken() != want.Auth.ApplicationToken || raw.MemberID() != want.Auth.MemberID {
				t.Errorf("ApplicationToken matches %v, MemberID = %q, want %q", raw.ApplicationToken() == want.Auth.ApplicationToken, raw.MemberID(), want.Auth.MemberID)
			}
			if diff := cmp.Diff(want.Auth, raw.Auth()); diff != "" {
				t.Errorf("Auth (-ParseAny +ReadAny):\n%s", diff)
			}
			if raw.Body() != tt.body || raw.IsJSON() != tt.json {
				t.Errorf("Body kept %v, IsJSON %v, want %v", raw.Body() == tt.body, raw.IsJSON(), tt.json)
			}
			for _, r := range []*Raw{raw, mustReadBody(t, tt.body, tt.json)} {
				ev, err := Limits{}.Decode(r)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, ev, cmpopts.IgnoreUnexported(Event{})); diff != "" {
					t.Errorf("Decode (-ParseAny +Decode):\n%s", diff)
				}
				if a, b := string(want.RawData()), string(ev.RawData()); a != b || a == "" {
					t.Errorf("RawData: Decode %s, ParseAny %s", b, a)
				}
				if a, b := want.DedupeKey(), ev.DedupeKey(); a != b {
					t.Errorf("DedupeKey: Decode %q, ParseAny %q", b, a)
				}
			}
		})
	}
}

func mustReadBody(t *testing.T, body string, isJSON bool) *Raw {
	t.Helper()
	raw, err := Limits{}.ReadBody([]byte(body), isJSON)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestReadAnyName: the name is upper-cased and trimmed, as Event.Name.
func TestReadAnyName(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		body string
		json bool
	}{{"event=%20onCrmDealAdd%20&ts=1", false}, {`{"event":" onCrmDealAdd "}`, true}} {
		raw, err := Limits{}.ReadBody([]byte(tt.body), tt.json)
		if err != nil {
			t.Fatal(err)
		}
		if raw.Name != OnCRMDealAdd {
			t.Errorf("%s: Name = %q, want %q", tt.body, raw.Name, OnCRMDealAdd)
		}
	}
}

// TestReadAnyRefuses: the refusals of ReadAny and ReadBody, with the
// error each wraps.
func TestReadAnyRefuses(t *testing.T) {
	t.Parallel()
	form := wireBody(t, "wire_ONCRMCONTACTADD.txt")
	deep := `{"event":"ONCRMDEALADD","data":` + strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40) + "}"
	tests := []struct {
		name, ct, body string
		limits         Limits
		wantErr        error
	}{
		{"multipart", "multipart/form-data; boundary=x", form, Limits{}, ErrMalformed},
		{"bad content type", "application/x-www-form-urlencoded; ;", form, Limits{}, ErrMalformed},
		{"form too large", "", form, Limits{MaxBodySize: int64(len(form) - 1)}, ErrBodyTooLarge},
		{"form exactly the limit", "", form, Limits{MaxBodySize: int64(len(form))}, nil},
		{"json too large", "application/json", `{"event":"ONCRMDEALADD"}`, Limits{MaxBodySize: 23}, ErrBodyTooLarge},
		{"json exactly the limit", "application/json", `{"event":"ONCRMDEALADD"}`, Limits{MaxBodySize: 24}, nil},
		{"json too deep", "application/json", deep, Limits{MaxDepth: 8}, ErrMalformed},
		{"json depth at the limit", "application/json", `{"event":"E","data":{"a":{"b":1}}}`, Limits{MaxDepth: 2}, nil},
		{"json depth one over", "application/json", `{"event":"E","data":{"a":{"b":{"c":1}}}}`, Limits{MaxDepth: 2}, ErrMalformed},
		{"json invalid", "application/json", `{"event":`, Limits{}, ErrMalformed},
		{"json no event", "application/json", `{"ts":"1"}`, Limits{}, ErrMalformed},
		{"json auth not scalar", "application/json", `{"event":"E","auth":{"domain":{"a":1}}}`, Limits{}, ErrMalformed},
		{"form no event", "", "ts=1&data[FIELDS][ID]=1", Limits{}, ErrMalformed},
		{"form event is an array", "", "event[x]=ONCRMDEALADD&ts=1", Limits{}, ErrMalformed},
		{"form blank event", "", "event=%20&ts=1", Limits{}, ErrMalformed},
		{"form bad expires", "", "event=ONCRMDEALADD&auth[expires]=soon", Limits{}, ErrMalformed},
		{"form too many pairs", "", "event=E&a=1&b=2&c=3", Limits{MaxPairs: 2}, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodPost, "/h", strings.NewReader(tt.body))
			if tt.ct != "" {
				r.Header.Set("Content-Type", tt.ct)
			}
			_, err := tt.limits.ReadAny(r)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ReadAny: err = %v, want %v", err, tt.wantErr)
			}
			if tt.ct == "multipart/form-data; boundary=x" || strings.HasSuffix(tt.ct, ";") {
				return
			}
			_, err = tt.limits.ReadBody([]byte(tt.body), tt.ct != "")
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ReadBody: err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// TestReadAnyBodyErrors: a body cut by http.MaxBytesReader is too large; a
// failing body or none is malformed.
func TestReadAnyBodyErrors(t *testing.T) {
	t.Parallel()
	form := wireBody(t, "wire_ONCRMCONTACTADD.txt")
	for _, ct := range []string{"", "application/json"} {
		r := httptest.NewRequest(http.MethodPost, "/h", strings.NewReader(form))
		r.Header.Set("Content-Type", ct)
		r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 100)
		if _, err := (Limits{}).ReadAny(r); !errors.Is(err, ErrBodyTooLarge) {
			t.Errorf("%q behind MaxBytesReader: err = %v, want ErrBodyTooLarge", ct, err)
		}
		r = httptest.NewRequest(http.MethodPost, "/h", nil)
		r.Header.Set("Content-Type", ct)
		r.Body = io.NopCloser(resetReader{})
		if _, err := (Limits{}).ReadAny(r); !errors.Is(err, ErrMalformed) || errors.Is(err, ErrBodyTooLarge) {
			t.Errorf("%q failing body: err = %v, want ErrMalformed", ct, err)
		}
	}
	r := httptest.NewRequest(http.MethodPost, "/h", nil)
	r.Body = nil
	if _, err := (Limits{}).ReadAny(r); !errors.Is(err, ErrMalformed) {
		t.Errorf("no body: err = %v, want ErrMalformed", err)
	}
}

type resetReader struct{}

func (resetReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestIsFormType(t *testing.T) {
	t.Parallel()
	for ct, want := range map[string]bool{
		"application/x-www-form-urlencoded":                true,
		"application/x-www-form-urlencoded; charset=UTF-8": true,
		"Application/X-WWW-Form-Urlencoded":                true,
		"application/json":                                 false,
		"text/plain":                                       false,
		"application/x-www-form-urlencoded; ;":             false,
	} {
		if got := isFormType(ct); got != want {
			t.Errorf("isFormType(%q) = %v, want %v", ct, got, want)
		}
	}
}
