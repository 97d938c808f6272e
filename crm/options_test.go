package crm_test

import (
	"errors"
	"testing"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/crm"
)

func TestNewRefusesNilClient(t *testing.T) {
	t.Parallel()
	if c, err := crm.New(nil); err == nil || c != nil {
		t.Fatalf("New(nil) = %v, %v; want an error", c, err)
	}
}

// TestBulkOptionsRefuseBadValues: a bad bulk option fails the call before
// any request (a zero or negative WithMaxRounds used to be replaced by the
// default silently, an empty marker field to be ignored).
func TestBulkOptionsRefuseBadValues(t *testing.T) {
	t.Parallel()
	srv, c := newPortal(t)
	deals := c.Items(crm.Deal)
	tests := []struct {
		name string
		opt  crm.BulkOption
		want string
	}{
		{"zero rounds", crm.WithMaxRounds(0), "WithMaxRounds"},
		{"negative rounds", crm.WithMaxRounds(-2), "WithMaxRounds"},
		{"empty marker field", crm.WithMarkerField(""), "WithMarkerField"},
		{"empty originator", crm.WithOriginatorID(" "), "WithOriginatorID"},
	}
	for _, tt := range tests {
		_, err := deals.AddMany(t.Context(), dealsToAdd(1), tt.opt)
		var ve *bitrix.ValidationError
		if !errors.As(err, &ve) || ve.Method != "crm.item.add" || ve.Field != tt.want || !errors.Is(err, bitrix.ErrInvalidArgument) {
			t.Errorf("%s: AddMany error %#v, want a ValidationError of crm.item.add naming %s", tt.name, err, tt.want)
		}
		if _, err := deals.UpdateMany(t.Context(), []crm.Update{{ID: 1, Fields: crm.Fields{"title": "x"}}}, tt.opt); err == nil {
			t.Errorf("%s: UpdateMany accepted the option", tt.name)
		}
		if _, err := deals.DeleteMany(t.Context(), []int{1}, tt.opt); err == nil {
			t.Errorf("%s: DeleteMany accepted the option", tt.name)
		}
	}
	if n := srv.CallCount("batch"); n != 0 {
		t.Errorf("%d batch requests sent with bad options", n)
	}
}
