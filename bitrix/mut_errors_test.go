package bitrix_test

import (
	"errors"
	"testing"

	"github.com/b24go/sdk/bitrix"
)

// TestErrorMessages: each part of an APIError's and a ResponseError's
// message appears exactly when its field is set (mutants of errors.go's
// Error methods that lived, issue 19).
func TestErrorMessages(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&bitrix.APIError{Code: "ERROR_CORE"}, "bitrix: ERROR_CORE"},
		{&bitrix.APIError{}, "bitrix: error without code"},
		{&bitrix.APIError{Method: "crm.deal.get", Code: "NOT_FOUND", StatusCode: 400, Description: "Not found", Argument: "id"},
			"bitrix: crm.deal.get: NOT_FOUND (HTTP 400): Not found [argument id]"},
		{&bitrix.APIError{Description: "Access denied"}, "bitrix: error without code: Access denied"},
		{&bitrix.ResponseError{Method: "crm.deal.get", StatusCode: 502}, "bitrix: crm.deal.get: unexpected response (HTTP 502)"},
		{&bitrix.ResponseError{Method: "crm.deal.get", StatusCode: 200, ContentType: "text/html", Err: errors.New("invalid JSON"), Snippet: "<html>"},
			`bitrix: crm.deal.get: unexpected response (HTTP 200, text/html): invalid JSON: "<html>"`},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("%#v.Error() = %q, want %q", tc.err, got, tc.want)
		}
	}
}
