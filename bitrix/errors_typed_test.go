package bitrix

import (
	"errors"
	"testing"
)

// TestTypedClientCodes checks the imbot and lists error codes the typed
// clients rely on.
func TestTypedClientCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code string
		want error
	}{
		{"BOT_ID_ERROR", ErrNotFound},
		{"COMMAND_ID_ERROR", ErrNotFound},
		{"MESSAGE_ID_ERROR", ErrInvalidArgument}, // "Message ID can't be empty" (imbot-message-update.md)
		{"ERROR_IBLOCK_NOT_FOUND", ErrNotFound},
		{"ERROR_ELEMENT_NOT_FOUND", ErrNotFound},
		{"APP_ID_ERROR", ErrAccessDenied},
		{"ACCESS_ERROR", ErrAccessDenied},
		{"CANT_EDIT_MESSAGE", ErrAccessDenied},
		{"CODE_ERROR", ErrInvalidArgument},
		{"EVENT_MESSAGE_ADD_ERROR", ErrInvalidArgument},
		{"MESSAGE_EMPTY", ErrInvalidArgument},
		{"KEYBOARD_OVERSIZE", ErrInvalidArgument},
		{"ERROR_ELEMENT_FIELD_VALUE", ErrInvalidArgument},
		{"ERROR_REQUIRED_PARAMETERS_MISSING", ErrInvalidArgument},
		{"ERROR_ELEMENT_ALREADY_EXISTS", ErrAlreadyExists},
		{"ENTITY_TYPE_NOT_SUPPORTED", ErrInvalidArgument},
		{"OWNER_NOT_FOUND", ErrNotFound},
		{"INVALID_ARG_VALUE", ErrInvalidArgument},
		{"allowed_only_intranet_user", ErrAccessDenied},
	}
	all := []error{ErrNotFound, ErrAccessDenied, ErrInvalidArgument, ErrAlreadyExists}
	for _, tc := range tests {
		e := &APIError{Code: tc.code, Description: "x"}
		for _, s := range all {
			if got := errors.Is(e, s); got != (s == tc.want) {
				t.Errorf("errors.Is(%s, %v) = %v", tc.code, s, got)
			}
		}
	}
}
