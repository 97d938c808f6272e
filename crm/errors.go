package crm

import (
	"errors"
	"fmt"
	"strings"

	"github.com/b24go/sdk/bitrix"
)

// invalid is bad input caught before any request was sent: a missing
// required field, an id that cannot exist, a duplicate marker.
func invalid(method, field, format string, args ...any) error {
	return &bitrix.ValidationError{Method: method, Field: field, Reason: fmt.Sprintf(format, args...)}
}

// mappedError is a portal error that also matches extra core sentinels the
// portal's code alone does not select (see mapErr).
type mappedError struct {
	err  error
	also []error
}

func (e *mappedError) Error() string   { return e.err.Error() }
func (e *mappedError) Unwrap() []error { return append([]error{e.err}, e.also...) }

// mapErr adds the core sentinel meanings the CRM answers imply:
//   - the legacy empty-code "The parameter id is invalid or not defined."
//     for an id that was valid (> 0) → bitrix.ErrNotFound as well (the
//     portal says the same for "no such deal");
//   - legacy ERROR_CORE answers "... is required ..." (row validation of
//     crm.deal.productrows.set) → bitrix.ErrInvalidArgument.
//
// Other errors are returned as they are; *bitrix.APIError already matches
// NOT_FOUND, *_NOT_FOUND, INVALID_ARG_VALUE, ENTITY_TYPE_NOT_SUPPORTED,
// ACCESS_DENIED and the rest.
func mapErr(err error, idGiven bool) error {
	var ae *bitrix.APIError
	if err == nil || !errors.As(err, &ae) {
		return err
	}
	var also []error
	desc := strings.ToLower(ae.Description)
	switch {
	case ae.Code == "" && idGiven && strings.Contains(desc, "id is invalid or not defined"):
		also = append(also, bitrix.ErrNotFound)
	case strings.EqualFold(ae.Code, "ERROR_CORE") && strings.Contains(desc, " is required"):
		also = append(also, bitrix.ErrInvalidArgument)
	}
	if len(also) == 0 {
		return err
	}
	return &mappedError{err: err, also: also}
}
