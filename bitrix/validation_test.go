package bitrix_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/b24go/sdk/bitrix"
)

func TestValidationError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  *bitrix.ValidationError
		want string
	}{
		{&bitrix.ValidationError{Method: "crm.item.add", Field: "items[3].originId", Reason: "repeated"},
			"bitrix: crm.item.add: items[3].originId: repeated (not sent)"},
		{&bitrix.ValidationError{Field: "KEYBOARD.BUTTONS[2].TEXT", Reason: "required"},
			"bitrix: KEYBOARD.BUTTONS[2].TEXT: required (not sent)"},
		{&bitrix.ValidationError{Method: "lists.element.get", Reason: "no list"},
			"bitrix: lists.element.get: no list (not sent)"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
		wrapped := fmt.Errorf("sync: %w", tc.err)
		if !errors.Is(wrapped, bitrix.ErrInvalidArgument) {
			t.Errorf("%v does not match ErrInvalidArgument", wrapped)
		}
		if errors.Is(wrapped, bitrix.ErrNotFound) {
			t.Errorf("%v matches ErrNotFound", wrapped)
		}
		var ve *bitrix.ValidationError
		if !errors.As(wrapped, &ve) || ve != tc.err {
			t.Errorf("errors.As(%v) = %v", wrapped, ve)
		}
	}
}
