package bitrix

import (
	"errors"
	"fmt"
	"strings"
)

// APIError is an error answer of the portal (or of the OAuth server): the
// error envelope {"error": CODE, "error_description": TEXT}, or one entry of
// a batch's result_error.
//
// Branch on the code through errors.Is with the sentinels below, never on
// StatusCode or Description: the portal's statuses disagree with its docs.
type APIError struct {
	// StatusCode is the HTTP status (0 for a command inside a batch, which
	// always answers 200).
	StatusCode int
	// Code is the error code as the portal sent it, e.g. "QUERY_LIMIT_EXCEEDED"
	// or "expired_token". Legacy CRM methods may send "".
	Code string
	// Description is error_description.
	Description string
	// Method is the REST method that failed.
	Method string
	// Argument is the extra "argument" key ERROR_ARGUMENT errors carry.
	Argument string
}

// Error describes the failure; it never contains a secret.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("bitrix: ")
	if e.Method != "" {
		b.WriteString(e.Method)
		b.WriteString(": ")
	}
	code := e.Code
	if code == "" {
		code = "error without code"
	}
	b.WriteString(code)
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.StatusCode)
	}
	if e.Description != "" {
		b.WriteString(": ")
		b.WriteString(e.Description)
	}
	if e.Argument != "" {
		b.WriteString(" [argument ")
		b.WriteString(e.Argument)
		b.WriteString("]")
	}
	return b.String()
}

// Is reports whether target is a sentinel whose codes match e.Code
// (case-insensitively).
func (e *APIError) Is(target error) bool {
	s, ok := target.(*codeError)
	if !ok {
		return false
	}
	return s.match(e)
}

// codeError is a sentinel matched against APIError codes.
type codeError struct {
	msg      string
	codes    []string
	suffixes []string
	descs    []string // lower-case substrings of the description for empty codes
	except   []string // codes the suffix rule must not match
}

func (s *codeError) Error() string { return s.msg }

func (s *codeError) match(e *APIError) bool {
	for _, c := range s.codes {
		if strings.EqualFold(c, e.Code) {
			return true
		}
	}
	up := strings.ToUpper(e.Code)
	for _, x := range s.except {
		if up == x {
			return false
		}
	}
	for _, suf := range s.suffixes {
		if up != "" && strings.HasSuffix(up, suf) {
			return true
		}
	}
	if e.Code == "" && len(s.descs) > 0 {
		d := strings.ToLower(e.Description)
		for _, sub := range s.descs {
			if strings.Contains(d, sub) {
				return true
			}
		}
	}
	return false
}

func sentinel(msg string, codes ...string) *codeError {
	return &codeError{msg: "bitrix: " + msg, codes: codes}
}

// Sentinel errors matched by code: errors.Is(err, bitrix.ErrNotFound).
var (
	// ErrQueryLimitExceeded: QUERY_LIMIT_EXCEEDED, the request-rate limit (HTTP 503).
	ErrQueryLimitExceeded error = sentinel("request rate limit exceeded", "QUERY_LIMIT_EXCEEDED")
	// ErrOperationTimeLimit: OPERATION_TIME_LIMIT, the method's operating-time budget is spent (HTTP 429).
	ErrOperationTimeLimit error = sentinel("method blocked by the operating time limit", "OPERATION_TIME_LIMIT")
	// ErrOverloadLimit: OVERLOAD_LIMIT, REST blocked for the portal; never retried.
	ErrOverloadLimit error = sentinel("REST API blocked due to overload", "OVERLOAD_LIMIT")
	// ErrExpiredToken: expired_token.
	ErrExpiredToken error = sentinel("access token expired", "expired_token")
	// ErrInvalidToken: invalid_token.
	ErrInvalidToken error = sentinel("access token invalid", "invalid_token")
	// ErrNoAuthFound: NO_AUTH_FOUND, no or unknown credentials.
	ErrNoAuthFound error = sentinel("no authorization found", "NO_AUTH_FOUND")
	// ErrInvalidCredentials: INVALID_CREDENTIALS, wrong webhook secret or user.
	ErrInvalidCredentials error = sentinel("invalid credentials", "INVALID_CREDENTIALS")
	// ErrInsufficientScope: insufficient_scope (the token or webhook lacks the scope).
	ErrInsufficientScope error = sentinel("insufficient scope", "insufficient_scope", "invalid_scope")
	// ErrAccessDenied: ACCESS_DENIED, user_access_error, METHOD_CONFIRM_DENIED, allowed_only_intranet_user.
	// The imbot codes APP_ID_ERROR (a bot or command of another
	// application), ACCESS_ERROR and CANT_EDIT_MESSAGE also match.
	ErrAccessDenied error = sentinel("access denied", "ACCESS_DENIED", "user_access_error", "METHOD_CONFIRM_DENIED", "allowed_only_intranet_user",
		"APP_ID_ERROR", "ACCESS_ERROR", "CANT_EDIT_MESSAGE", "AUTHORIZE_ERROR")
	// ErrWrongAuthType: WRONG_AUTH_TYPE (for example event.bind with a webhook).
	ErrWrongAuthType error = sentinel("authorization type not allowed for this method", "WRONG_AUTH_TYPE")
	// ErrAuthorization: authorization_error, APPLICATION_NOT_FOUND, CONNECTION_ERROR, ERROR_OAUTH.
	ErrAuthorization error = sentinel("authorization failed", "authorization_error", "APPLICATION_NOT_FOUND", "CONNECTION_ERROR", "ERROR_OAUTH")
	// ErrMethodConfirmWaiting: METHOD_CONFIRM_WAITING, an administrator must confirm the method.
	ErrMethodConfirmWaiting error = sentinel("method waits for administrator confirmation", "METHOD_CONFIRM_WAITING")
	// ErrWrongLicense: WRONG_LICENSE.
	ErrWrongLicense error = sentinel("feature not enabled for the license", "WRONG_LICENSE")
	// ErrPaymentRequired: PAYMENT_REQUIRED.
	ErrPaymentRequired error = sentinel("payment required", "PAYMENT_REQUIRED")
	// ErrPortalDeleted: PORTAL_DELETED.
	ErrPortalDeleted error = sentinel("portal deleted", "PORTAL_DELETED")
	// ErrMethodNotFound: ERROR_METHOD_NOT_FOUND.
	ErrMethodNotFound error = sentinel("method not found", "ERROR_METHOD_NOT_FOUND", "METHOD_NOT_FOUND")
	// ErrNotFound: NOT_FOUND, any *_NOT_FOUND code other than the method and
	// application ones, and empty-code errors whose description says
	// "not found".
	ErrNotFound error = &codeError{
		msg: "bitrix: not found",
		// imbot answers BOT_ID_ERROR, COMMAND_ID_ERROR and MESSAGE_ID_ERROR
		// for ids it does not know.
		codes:    []string{"NOT_FOUND", "ERROR_NOT_FOUND", "BOT_ID_ERROR", "COMMAND_ID_ERROR", "MESSAGE_ID_ERROR"},
		suffixes: []string{"_NOT_FOUND"},
		descs:    []string{"not found"},
		except:   []string{"ERROR_METHOD_NOT_FOUND", "METHOD_NOT_FOUND", "APPLICATION_NOT_FOUND"},
	}
	// ErrInvalidArgument: ERROR_ARGUMENT, INVALID_ARG_VALUE,
	// ERROR_REQUIRED_PARAMETERS_MISSING, INVALID_REQUEST and similar, and
	// empty-code errors whose description says a parameter is invalid.
	ErrInvalidArgument error = &codeError{
		msg: "bitrix: invalid argument",
		codes: []string{"ERROR_ARGUMENT", "INVALID_ARG_VALUE", "ERROR_REQUIRED_PARAMETERS_MISSING",
			"INVALID_ARGUMENT", "ERROR_VALUE", "INVALID_REQUEST", "invalid_request", "ERROR_EMPTY_VALUE",
			"PARAMS_ERROR", "ERROR_PARAMETERS", "WRONG_REQUEST",
			// imbot validation codes
			"CODE_ERROR", "NAME_ERROR", "EVENT_MESSAGE_ADD_ERROR", "EVENT_MESSAGE_UPDATE_ERROR", "EVENT_MESSAGE_DELETE_ERROR",
			"EVENT_WELCOME_MESSAGE_ERROR", "EVENT_BOT_DELETE_ERROR", "EVENT_COMMAND_ADD", "COMMAND_ERROR", "LANG_ERROR",
			"MESSAGE_EMPTY", "DIALOG_ID_EMPTY", "CHAT_ID_EMPTY", "ATTACH_ERROR", "ATTACH_OVERSIZE", "KEYBOARD_ERROR",
			"KEYBOARD_OVERSIZE", "MENU_ERROR", "MENU_OVERSIZE",
			// lists validation codes
			"ERROR_ELEMENT_FIELD_VALUE",
			// crm.item.*: an entity type the method does not handle (old invoices)
			"ENTITY_TYPE_NOT_SUPPORTED"},
		descs: []string{"is invalid", "not defined", "required"},
	}
	// ErrAlreadyExists: ERROR_ELEMENT_ALREADY_EXISTS and other *_ALREADY_EXISTS
	// codes (for example a list element code that is taken).
	ErrAlreadyExists error = &codeError{msg: "bitrix: already exists", suffixes: []string{"_ALREADY_EXISTS"}}
	// ErrBatchLengthExceeded: ERROR_BATCH_LENGTH_EXCEEDED (command 51+ of a batch).
	ErrBatchLengthExceeded error = sentinel("batch length exceeded", "ERROR_BATCH_LENGTH_EXCEEDED")
	// ErrBatchMethodNotAllowed: ERROR_BATCH_METHOD_NOT_ALLOWED.
	ErrBatchMethodNotAllowed error = sentinel("method not allowed in batch", "ERROR_BATCH_METHOD_NOT_ALLOWED")
	// ErrInternal: ERROR_CORE, INTERNAL_SERVER_ERROR, ERROR_UNEXPECTED_ANSWER and other server faults.
	ErrInternal error = sentinel("portal internal error", "ERROR_CORE", "INTERNAL_SERVER_ERROR", "ERROR_UNEXPECTED_ANSWER",
		"INTERNAL_WRONG_TRANSPORT", "INTERNAL_WRONG_HANDLER_CLASS", "WRONG_ENCODING")
	// ErrInvalidGrant: invalid_grant from the token endpoint: the refresh
	// token is expired or revoked; the application must be authorized again.
	ErrInvalidGrant error = sentinel("refresh token rejected (invalid_grant): authorize the application again", "invalid_grant", "bad_verification_code")
	// ErrInvalidClient: invalid_client or wrong_client from the token endpoint (wrong client id/secret).
	ErrInvalidClient error = sentinel("OAuth client rejected: check client id and secret", "invalid_client", "wrong_client")
)

// ErrMaybeApplied marks a write whose request was sent but whose outcome is
// unknown (the connection broke, the client timed out, or a proxy answered
// with an error page). It is never replayed automatically: check the portal
// and reconcile.
var ErrMaybeApplied = errors.New("bitrix: the write may have been applied (request sent, no answer)")

// ErrNotRun is the error of a batch command that was not executed because an
// earlier command failed with Halt set, or because the batch was never sent.
var ErrNotRun = errors.New("bitrix: batch command not run")

// ErrBadResponse is matched by a [ResponseError]: the portal (or a proxy in
// front of it) answered with something that is not a Bitrix24 JSON envelope.
var ErrBadResponse = errors.New("bitrix: unexpected response")

// ErrRefresh is matched by every failure of an OAuth token refresh. The
// cause (often ErrInvalidGrant) is wrapped too.
var ErrRefresh = errors.New("bitrix: token refresh failed")

// ResponseError is an answer that is not a Bitrix24 envelope: an HTML 502
// page from a proxy, a truncated or non-JSON body. Snippet holds the start
// of the body with credentials removed.
type ResponseError struct {
	StatusCode  int
	Method      string
	ContentType string
	Snippet     string
	Err         error // the decoding error, if any
}

// Error describes the answer.
func (e *ResponseError) Error() string {
	msg := fmt.Sprintf("bitrix: %s: unexpected response (HTTP %d", e.Method, e.StatusCode)
	if e.ContentType != "" {
		msg += ", " + e.ContentType
	}
	msg += ")"
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Snippet != "" {
		msg += fmt.Sprintf(": %q", e.Snippet)
	}
	return msg
}

// Is matches ErrBadResponse.
func (e *ResponseError) Is(target error) bool { return target == ErrBadResponse }

// Unwrap returns the decoding error.
func (e *ResponseError) Unwrap() error { return e.Err }

// TransportError is a failed HTTP exchange without an answer: a dial error,
// a timeout, a reset connection.
type TransportError struct {
	Method string
	// Sent reports that the request may have reached the portal.
	Sent bool
	// Timeout reports a client-side timeout.
	Timeout bool
	Err     error
}

// Error describes the failure without the URL.
func (e *TransportError) Error() string {
	state := "not sent"
	if e.Sent {
		state = "sent, no answer"
	}
	return fmt.Sprintf("bitrix: %s: request failed (%s): %v", e.Method, state, e.Err)
}

// Unwrap returns the cause.
func (e *TransportError) Unwrap() error { return e.Err }

// maybeApplied wraps err so that it matches ErrMaybeApplied.
type maybeAppliedError struct{ err error }

func (e *maybeAppliedError) Error() string {
	return e.err.Error() + " (the write may have been applied; it was not retried)"
}
func (e *maybeAppliedError) Unwrap() []error { return []error{ErrMaybeApplied, e.err} }
