package crm_test

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/b24go/sdk/crm"
)

// TestAddManyAdoptsExistingMarkers: the portal already holds items with
// the markers of the call — one marker on several items (the oldest is
// adopted and reported), and one whose only item is on the second page of
// the marker lookup. After a request with an unknown outcome, AddMany
// takes both as added and sends only the missing item again.
func TestAddManyAdoptsExistingMarkers(t *testing.T) {
	t.Parallel()
	srv, c := newPortal(t)
	dup, err := srv.SeedCRMItems(crm.Deal, 52, map[string]any{"originatorId": crm.DefaultOriginatorID, "originId": "m-0"})
	if err != nil {
		t.Fatal(err)
	}
	late, err := srv.SeedCRMItems(crm.Deal, 1, map[string]any{"originatorId": crm.DefaultOriginatorID, "originId": "m-1"})
	if err != nil {
		t.Fatal(err)
	}
	in := dealsToAdd(3)
	for i := range in {
		in[i]["originId"] = []string{"m-0", "m-1", "m-2"}[i]
	}
	srv.DropBeforeProcessing(1) // the adds never run; the client cannot know
	res, err := c.Items(crm.Deal).AddMany(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	if r := res[0]; r.Err != nil || r.ID != dup[0] || !r.Recovered || r.Item == nil || r.Item.ID != dup[0] {
		t.Errorf("m-0 = %+v, want the oldest of the duplicates (id %d), recovered", r, dup[0])
	}
	if r := res[1]; r.Err != nil || r.ID != late[0] || !r.Recovered {
		t.Errorf("m-1 = %+v, want id %d found on the second lookup page", r, late[0])
	}
	if r := res[2]; r.Err != nil || r.ID == 0 || r.Recovered || r.Attempts != 2 {
		t.Errorf("m-2 = %+v, want added in the second round", r)
	}
	byMarker := storedByMarker(srv, crm.Deal)
	if n := len(byMarker[crm.DefaultOriginatorID+"/m-1"]); n != 1 {
		t.Errorf("m-1 stored %d times, want 1 (not sent again)", n)
	}
	if n := len(byMarker[crm.DefaultOriginatorID+"/m-0"]); n != 52 {
		t.Errorf("m-0 stored %d times, want the 52 seeded", n)
	}
	if n := len(byMarker[crm.DefaultOriginatorID+"/m-2"]); n != 1 {
		t.Errorf("m-2 stored %d times, want 1", n)
	}
}

// TestAddManyErrorClasses: which failures AddMany resolves by a marker
// lookup and a resend (the command may not have run) and which are final.
func TestAddManyErrorClasses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		inject func(srv *bitrixtest.Server)
		final  error // nil: looked up, sent again, added
	}{
		{"overload in batch is final", func(s *bitrixtest.Server) { s.FailMethod("crm.item.add", 1, 503, "OVERLOAD_LIMIT") }, bitrix.ErrOverloadLimit},
		{"query limit in batch is resent", func(s *bitrixtest.Server) { s.FailMethod("crm.item.add", 1, 503, "QUERY_LIMIT_EXCEEDED") }, nil},
		{"internal error in batch is resent", func(s *bitrixtest.Server) { s.FailMethod("crm.item.add", 1, 500, "INTERNAL_SERVER_ERROR") }, nil},
		{"request answered 500 with an unknown code is resent", func(s *bitrixtest.Server) { s.FailNext(1, 500, "ERROR_SOMETHING") }, nil},
		{"request answered 400 with an unknown code is final", func(s *bitrixtest.Server) { s.FailNext(1, 400, "ERROR_SOMETHING") }, errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c := newPortal(t)
			tt.inject(srv)
			res, err := c.Items(crm.Deal).AddMany(t.Context(), dealsToAdd(1))
			if err != nil {
				t.Fatal(err)
			}
			r := res[0]
			lookups := srv.CallCount("crm.item.list")
			if tt.final != nil {
				if r.Err == nil || (tt.final != errAny && !errors.Is(r.Err, tt.final)) || r.Attempts != 1 || lookups != 0 {
					t.Errorf("result %+v after %d lookups, want a final %v after one attempt and no lookup", r, lookups, tt.final)
				}
				if n := len(srv.CRMItems(crm.Deal)); n != 0 {
					t.Errorf("stored %d", n)
				}
				return
			}
			if r.Err != nil || r.ID == 0 || r.Attempts != 2 || lookups != 1 {
				t.Errorf("result %+v after %d lookups, want added on the second attempt after one lookup", r, lookups)
			}
			if n := len(srv.CRMItems(crm.Deal)); n != 1 {
				t.Errorf("stored %d, want 1", n)
			}
		})
	}
}

// errAny stands for "some final error" in TestAddManyErrorClasses.
var errAny = errors.New("any error")

// TestAddManyEmptyCommandError: a command error with neither code nor
// description says nothing about the outcome, so the item is looked up and
// sent again; an empty code with a description is the portal's final word.
func TestAddManyEmptyCommandError(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, desc string
		final      bool
	}{
		{"no code, no description", "", false},
		{"no code, a description", "Title contains forbidden words", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit(), bitrixtest.WithoutOperatingLimit())
			var intercepted atomic.Bool
			rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
				if strings.HasSuffix(r.URL.Path, "/batch") && !intercepted.Swap(true) {
					body := `{"result":{"result":[],"result_error":{"a0":{"error":"","error_description":` +
						strconv.Quote(tt.desc) + `}},"result_total":[],"result_next":[],"result_time":[]},"time":{"start":1,"finish":1}}`
					return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
						Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
				}
				return http.DefaultTransport.RoundTrip(r)
			})
			bc, err := bitrix.New(bitrix.WebhookURL(srv.WebhookURL()), bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit(), bitrix.WithTransport(rt))
			if err != nil {
				t.Fatal(err)
			}
			cc, err := crm.New(bc)
			if err != nil {
				t.Fatal(err)
			}
			res, err := cc.Items(crm.Deal).AddMany(t.Context(), dealsToAdd(1))
			if err != nil {
				t.Fatal(err)
			}
			r, lookups := res[0], srv.CallCount("crm.item.list")
			if tt.final {
				if r.Err == nil || r.Attempts != 1 || lookups != 0 {
					t.Errorf("result %+v after %d lookups, want a final error after one attempt", r, lookups)
				}
				return
			}
			if r.Err != nil || r.ID == 0 || r.Attempts != 2 || lookups != 1 {
				t.Errorf("result %+v after %d lookups, want added on the second attempt after one lookup", r, lookups)
			}
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestUpdateManyGivesUpAfterItsRounds: an update that keeps failing with
// an unknown outcome is sent exactly WithMaxRounds times and then reported as
// maybe applied.
func TestUpdateManyGivesUpAfterItsRounds(t *testing.T) {
	t.Parallel()
	srv, c := newPortal(t)
	ids, err := srv.SeedCRMItems(crm.Deal, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.FailMethod("crm.item.update", 0, 500, "INTERNAL_SERVER_ERROR") // every command, every round
	res, err := c.Items(crm.Deal).UpdateMany(t.Context(), []crm.Update{
		{ID: ids[0], Fields: crm.Fields{"title": "a"}}, {ID: ids[1], Fields: crm.Fields{"title": "b"}},
	}, crm.WithMaxRounds(3))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Attempts != 3 || !errors.Is(r.Err, bitrix.ErrMaybeApplied) {
			t.Errorf("update %d = %+v, want ErrMaybeApplied after exactly 3 attempts", i, r)
		}
	}
}
