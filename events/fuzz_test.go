package events

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/b24go/sdk/internal/phpform"
	"github.com/google/go-cmp/cmp"
)

// seedBodies returns every fixture as a form body plus hostile shapes.
func seedBodies(f testing.TB) []string {
	f.Helper()
	var seeds []string
	files, _ := filepath.Glob("testdata/event_*.json")
	for _, file := range files {
		seeds = append(seeds, fixtureBody(f, filepath.Base(file)))
	}
	docs, _ := filepath.Glob("testdata/docs/*.json")
	for _, file := range docs {
		seeds = append(seeds, fixtureBody(f, "docs/"+filepath.Base(file)))
	}
	wires, _ := filepath.Glob("testdata/wire_*.txt")
	for _, file := range wires {
		seeds = append(seeds, wireBody(f, filepath.Base(file)))
	}
	seeds = append(seeds,
		"event=X&data"+strings.Repeat("[a]", 40)+"=1",
		"event=X&data[99999999999999999999]=1&data[]=2&data[-3]=4&data[]=5",
		"event=ONIMBOTMESSAGEADD&data[BOT][0][BOT_ID]=1&data[BOT][]=x",
		"event=ONTASKUPDATE&data[FIELDS_BEFORE]=undefined&data[FIELDS_AFTER][ID]=1",
		"event=ONCRMDEALADD&data[FIELDS][ID]=1e3&auth[expires]=1&ts=%00",
		"event=ONCRMDYNAMICITEMADD_31&data[FIELDS][ID]=1&data[FIELDS][ENTITY_TYPE_ID]=128",
		"event=oncrmdynamicitemupdate_2147483648&data[FIELDS][ID]=1",
		"a[=1&a]=2&[x]=3&a[b[c]=4&a.b[c d]=5&%5B=6",
	)
	return seeds
}

func FuzzParseForm(f *testing.F) {
	for _, s := range seedBodies(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		ev, err := ParseBody([]byte(body))
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrBodyTooLarge) {
				t.Fatalf("error outside the sentinels: %v", err)
			}
			return
		}
		if ev.Name == "" || ev.Name != strings.ToUpper(ev.Name) {
			t.Fatalf("Name = %q", ev.Name)
		}
		if ev.Data == nil {
			t.Fatal("nil Data")
		}
		if _, tid, ok := DynamicItemEventOf(ev.Name); ok && tid != 0 {
			if d, _ := ev.Data.(*CRMEntity); d == nil || int(d.Fields.EntityTypeID) != tid {
				t.Fatalf("%s: Data %#v", ev.Name, ev.Data)
			}
		}
		if raw := ev.RawData(); raw != nil && !json.Valid(raw) {
			t.Fatalf("RawData is not JSON: %q", raw)
		}
		_ = ev.DedupeKey()
		_ = ev.String()
	})
}

// FuzzBracketDecoder exercises internal/phpform's parse_str decoder with
// the limits events uses: no panics, and every accepted tree re-encodes and
// marshals to JSON.
func FuzzBracketDecoder(f *testing.F) {
	for _, s := range seedBodies(f) {
		f.Add(s)
	}
	lim := phpform.Limits{MaxDepth: DefaultLimits.MaxDepth, MaxPairs: DefaultLimits.MaxPairs}
	f.Fuzz(func(t *testing.T, query string) {
		tree, err := lim.Parse(query)
		if err != nil {
			if !errors.Is(err, phpform.ErrTooDeep) && !errors.Is(err, phpform.ErrTooManyPairs) {
				t.Fatalf("unexpected error: %v", err)
			}
			return
		}
		b, err := json.Marshal(tree)
		if err != nil || !json.Valid(b) {
			t.Fatalf("MarshalJSON: %v %q", err, b)
		}
		enc, err := phpform.Encode(tree)
		if err != nil {
			t.Fatalf("Encode: %v", err)
		}
		again, err := lim.Parse(enc)
		if err != nil {
			t.Fatalf("re-parse of %q: %v", enc, err)
		}
		if again.Len() > tree.Len() {
			t.Fatalf("re-parse grew the tree: %d > %d keys", again.Len(), tree.Len())
		}
	})
}

// FuzzEnvelopeReaders checks that the direct envelope readers (of the
// flat map, and of the tree, which the hot path uses) decode exactly what
// gorilla/schema decodes.
func FuzzEnvelopeReaders(f *testing.F) {
	for _, s := range seedBodies(f) {
		f.Add(s)
	}
	f.Add("event=a&EVENT=b&Auth[Member_ID]=x&auth[member_id]=y&auth[member_id]=z&ts=1&TS=2")
	f.Add("event=a&auth=x&auth%5Bmember_id%5D=y&auth%5bdomain%5d=d%2Ee&auth[application_token]=t+1")
	f.Add("event=a&auth%5Bmember_id%5D=y&auth=x&event[x]=1&auth[member_id][x]=b&auth[member_id]x=c")
	f.Fuzz(func(t *testing.T, body string) {
		tree, err := phpform.Limits{MaxDepth: 16, MaxPairs: 10_000}.Parse(body)
		if err != nil {
			return
		}
		// ParseForm decodes the envelope with gorilla/schema; the hot path
		// reads it straight from the tree, which cannot fail, so schema must
		// not fail either and both must see the same values.
		viaSchema, err := decodeEnvelope(flatEnvelope(tree))
		if err != nil {
			t.Fatalf("schema refused an envelope the tree reader takes: %v", err)
		}
		if fromTree := readEnvelope(tree); viaSchema != fromTree {
			t.Fatalf("schema %+v\ntree reader %+v", viaSchema, fromTree)
		}
		// Raw's scan (no tree), where it answers, reads what the tree of
		// the envelope's names holds.
		pl := phpform.Limits{MaxDepth: 16, MaxPairs: 10_000}
		scanned, ok := scanEnvelope(pl, body, true)
		if ok {
			named, err := pl.ParseNames(body, envelopeName)
			if err != nil {
				t.Fatalf("scan took a body ParseNames refuses: %v", err)
			}
			if fromTree := readEnvelope(named); scanned != fromTree {
				t.Fatalf("scan %+v\ntree reader %+v", scanned, fromTree)
			}
			named.ReleaseNames()
		}
		// ReadAny's scan (all false) decides as the whole one and reads
		// the same name, credentials and numbers.
		part, partOK := scanEnvelope(pl, body, false)
		if partOK != ok {
			t.Fatalf("scan of the checked fields reports %v, of all %v", partOK, ok)
		}
		if ok && (part.Event != scanned.Event || part.ApplicationToken != scanned.ApplicationToken || part.MemberID != scanned.MemberID ||
			part.Expires != scanned.Expires || part.ExpiresIn != scanned.ExpiresIn || part.UserID != scanned.UserID) {
			t.Fatalf("scan of the checked fields %+v\nof all %+v", part, scanned)
		}
		// Raw reads the credentials Decode reads, and its Auth is Decode's.
		if raw, err := (Limits{MaxDepth: 16, MaxPairs: 10_000}).ReadBody([]byte(body), false); err == nil {
			ev, err := (Limits{MaxDepth: 16, MaxPairs: 10_000}).Decode(raw)
			if err != nil {
				return // data the decoder refuses: the envelope was fine
			}
			if raw.Name != ev.Name || raw.ApplicationToken() != ev.Auth.ApplicationToken || raw.MemberID() != ev.Auth.MemberID {
				t.Fatalf("ReadBody %q %v %q, Decode %q %v %q", raw.Name, raw.ApplicationToken() == ev.Auth.ApplicationToken, raw.MemberID(), ev.Name, true, ev.Auth.MemberID)
			}
			if diff := cmp.Diff(ev.Auth, raw.Auth()); diff != "" {
				t.Fatalf("Raw.Auth (-Decode +Raw):\n%s", diff)
			}
		}
	})
}
