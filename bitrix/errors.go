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

// codeError is a sentinel matched against APIError codes through
// [codeClasses] and, for codes the table does not list, the suffix and
// description rules below.
type codeError struct{ msg string }

func (s *codeError) Error() string { return s.msg }

func sentinel(msg string) *codeError { return &codeError{msg: "bitrix: " + msg} }

func (s *codeError) match(e *APIError) bool { return classify(e) == s }

// Sentinel errors matched by code: errors.Is(err, bitrix.ErrNotFound).
// Codes match case-insensitively and each code matches exactly one sentinel:
// each sentinel below names its codes. A code not listed that ends
// in _NOT_FOUND or _ALREADY_EXISTS matches ErrNotFound or ErrAlreadyExists;
// an answer without a code is matched by its description where noted.
var (
	// ErrQueryLimitExceeded: QUERY_LIMIT_EXCEEDED, the request-rate limit (HTTP 503).
	ErrQueryLimitExceeded error = sentinel("request rate limit exceeded")
	// ErrOperationTimeLimit: OPERATION_TIME_LIMIT, the method's operating-time budget is spent (HTTP 429).
	ErrOperationTimeLimit error = sentinel("method blocked by the operating time limit")
	// ErrOverloadLimit: OVERLOAD_LIMIT, REST blocked for the portal; never retried.
	ErrOverloadLimit error = sentinel("REST API blocked due to overload")
	// ErrExpiredToken: expired_token.
	ErrExpiredToken error = sentinel("access token expired")
	// ErrInvalidToken: invalid_token.
	ErrInvalidToken error = sentinel("access token invalid")
	// ErrNoAuthFound: NO_AUTH_FOUND, no or unknown credentials.
	ErrNoAuthFound error = sentinel("no authorization found")
	// ErrInvalidCredentials: INVALID_CREDENTIALS, wrong webhook secret or user.
	ErrInvalidCredentials error = sentinel("invalid credentials")
	// ErrInsufficientScope: insufficient_scope, invalid_scope (the token or webhook lacks the scope).
	ErrInsufficientScope error = sentinel("insufficient scope")
	// ErrAccessDenied: ACCESS_DENIED, user_access_error, METHOD_CONFIRM_DENIED,
	// allowed_only_intranet_user, the imbot codes APP_ID_ERROR (a bot or
	// command of another application), ACCESS_ERROR, AUTHORIZE_ERROR and
	// CANT_EDIT_MESSAGE, and empty-code answers "Access denied".
	ErrAccessDenied error = sentinel("access denied")
	// ErrWrongAuthType: WRONG_AUTH_TYPE (for example event.bind with a webhook).
	ErrWrongAuthType error = sentinel("authorization type not allowed for this method")
	// ErrAuthorization: authorization_error, APPLICATION_NOT_FOUND, CONNECTION_ERROR, ERROR_OAUTH.
	ErrAuthorization error = sentinel("authorization failed")
	// ErrMethodConfirmWaiting: METHOD_CONFIRM_WAITING, an administrator must confirm the method.
	ErrMethodConfirmWaiting error = sentinel("method waits for administrator confirmation")
	// ErrWrongLicense: WRONG_LICENSE, and the plan restrictions of smart
	// process items (CREATE_DYNAMIC_ITEM_RESTRICTED, UPDATE_DYNAMIC_ITEM_RESTRICTED).
	ErrWrongLicense error = sentinel("feature not enabled for the license")
	// ErrPaymentRequired: PAYMENT_REQUIRED.
	ErrPaymentRequired error = sentinel("payment required")
	// ErrPortalDeleted: PORTAL_DELETED.
	ErrPortalDeleted error = sentinel("portal deleted")
	// ErrMethodNotFound: ERROR_METHOD_NOT_FOUND, METHOD_NOT_FOUND.
	ErrMethodNotFound error = sentinel("method not found")
	// ErrNotFound: NOT_FOUND, the imbot codes BOT_ID_ERROR and
	// COMMAND_ID_ERROR ("Bot not found", "Command not found"), any other
	// *_NOT_FOUND code, and empty-code answers whose description says
	// "not found".
	ErrNotFound error = sentinel("not found")
	// ErrInvalidArgument: ERROR_ARGUMENT, INVALID_ARG_VALUE,
	// ERROR_REQUIRED_PARAMETERS_MISSING, INVALID_REQUEST, the numeric code
	// 100 ("required parameters not provided"), the imbot validation codes
	// (MESSAGE_ID_ERROR, MESSAGE_ID_EMPTY, USER_ID_EMPTY, TITLE_EMPTY,
	// DIALOG_ID_EMPTY, WRONG_REQUEST, ...) and empty-code answers whose
	// description says a parameter is invalid, missing or not an array.
	ErrInvalidArgument error = sentinel("invalid argument")
	// ErrAlreadyExists: ERROR_ELEMENT_ALREADY_EXISTS and other *_ALREADY_EXISTS
	// codes (for example a list element code that is taken).
	ErrAlreadyExists error = sentinel("already exists")
	// ErrLimitReached: MAX_COUNT_ERROR, a count limit of the portal is
	// reached (imbot.register: the application already has its maximum of bots).
	ErrLimitReached error = sentinel("count limit reached")
	// ErrWithoutChanges: WITHOUT_CHANGES, the call changed nothing
	// (imbot.message.like with "plus" on a liked message, "minus" on one
	// that is not).
	ErrWithoutChanges error = sentinel("action completed without changes")
	// ErrBatchLengthExceeded: ERROR_BATCH_LENGTH_EXCEEDED (command 51+ of a batch).
	ErrBatchLengthExceeded error = sentinel("batch length exceeded")
	// ErrBatchMethodNotAllowed: ERROR_BATCH_METHOD_NOT_ALLOWED.
	ErrBatchMethodNotAllowed error = sentinel("method not allowed in batch")
	// ErrInternal: ERROR_CORE, INTERNAL_SERVER_ERROR, ERROR_UNEXPECTED_ANSWER,
	// the numeric code 0 ("other errors, e.g. fatal errors") and other
	// server faults.
	ErrInternal error = sentinel("portal internal error")
	// ErrInvalidGrant: invalid_grant from the token endpoint: the refresh
	// token is expired or revoked; the application must be authorized again.
	ErrInvalidGrant error = sentinel("refresh token rejected (invalid_grant): authorize the application again")
	// ErrInvalidClient: invalid_client or wrong_client from the token endpoint (wrong client id/secret).
	ErrInvalidClient error = sentinel("OAuth client rejected: check client id and secret")
)

// codeClasses is the classification of error codes: every code documented
// in the error tables of the methods b24go wraps (and of the system errors
// any method may answer, _includes/system-errors.md) is listed with its
// sentinel. A nil sentinel marks a documented code that deliberately
// matches none (the docs give no cause to branch on). The documented codes
// and their pages are in testdata/documented_error_codes.tsv; the tests walk
// both.
var codeClasses = []struct {
	err   error
	codes []string
}{
	{ErrQueryLimitExceeded, []string{"QUERY_LIMIT_EXCEEDED"}},
	{ErrOperationTimeLimit, []string{"OPERATION_TIME_LIMIT"}},
	{ErrOverloadLimit, []string{"OVERLOAD_LIMIT"}},
	{ErrExpiredToken, []string{"expired_token"}},
	{ErrInvalidToken, []string{"invalid_token"}},
	{ErrNoAuthFound, []string{"NO_AUTH_FOUND"}},
	{ErrInvalidCredentials, []string{"INVALID_CREDENTIALS"}},
	{ErrInsufficientScope, []string{"insufficient_scope", "invalid_scope"}},
	{ErrAccessDenied, []string{"ACCESS_DENIED", "user_access_error", "METHOD_CONFIRM_DENIED", "allowed_only_intranet_user",
		// imbot (api-reference/chat-bots/outdated/...)
		"APP_ID_ERROR", "ACCESS_ERROR", "CANT_EDIT_MESSAGE", "AUTHORIZE_ERROR"}},
	{ErrWrongAuthType, []string{"WRONG_AUTH_TYPE"}},
	{ErrAuthorization, []string{"authorization_error", "APPLICATION_NOT_FOUND", "CONNECTION_ERROR", "ERROR_OAUTH"}},
	{ErrMethodConfirmWaiting, []string{"METHOD_CONFIRM_WAITING"}},
	// crm-item-add.md / crm-item-update.md: "due to your plan restrictions".
	{ErrWrongLicense, []string{"WRONG_LICENSE", "CREATE_DYNAMIC_ITEM_RESTRICTED", "UPDATE_DYNAMIC_ITEM_RESTRICTED"}},
	{ErrPaymentRequired, []string{"PAYMENT_REQUIRED"}},
	{ErrPortalDeleted, []string{"PORTAL_DELETED"}},
	{ErrMethodNotFound, []string{"ERROR_METHOD_NOT_FOUND", "METHOD_NOT_FOUND"}},
	// imbot: BOT_ID_ERROR "Bot not found", COMMAND_ID_ERROR "Command not found".
	{ErrNotFound, []string{"NOT_FOUND", "ERROR_NOT_FOUND", "BOT_ID_ERROR", "COMMAND_ID_ERROR",
		"OWNER_NOT_FOUND", "ERROR_EVENT_NOT_FOUND", "ERROR_IBLOCK_NOT_FOUND", "ERROR_ELEMENT_NOT_FOUND"}},
	{ErrInvalidArgument, []string{"ERROR_ARGUMENT", "INVALID_ARG_VALUE", "ERROR_REQUIRED_PARAMETERS_MISSING",
		"INVALID_ARGUMENT", "ERROR_VALUE", "INVALID_REQUEST", "ERROR_EMPTY_VALUE",
		"PARAMS_ERROR", "ERROR_PARAMETERS",
		// crm.item.*: "Expected iterable value for multiple field" and
		// crm.item.productrow.*: "Required parameters not provided".
		"100", "CRM_FIELD_ERROR_VALUE_NOT_VALID",
		// crm.item.*: an entity type the method does not handle (old invoices)
		"ENTITY_TYPE_NOT_SUPPORTED",
		// imbot validation codes. MESSAGE_ID_ERROR is "Message ID can't be
		// empty" (imbot-message-update.md, -delete.md, -like.md), an argument
		// error, not a missing message. WRONG_REQUEST covers "Bot can't be
		// created", "Update fields can't be empty", "User IDs must be passed
		// in array format" and "user already member in chat".
		"WRONG_REQUEST", "CODE_ERROR", "CODE_EMPTY", "NAME_ERROR", "EVENT_MESSAGE_ADD_ERROR", "EVENT_MESSAGE_UPDATE_ERROR",
		"EVENT_MESSAGE_DELETE_ERROR", "EVENT_WELCOME_MESSAGE_ERROR", "EVENT_BOT_DELETE_ERROR", "EVENT_COMMAND_ADD_ERROR",
		"COMMAND_ERROR", "LANG_ERROR", "MESSAGE_EMPTY", "MESSAGE_ID_ERROR", "MESSAGE_ID_EMPTY", "DIALOG_ID_EMPTY",
		"CHAT_ID_EMPTY", "USER_ID_EMPTY", "TITLE_EMPTY", "INVALID_FORMAT", "WRONG_COLOR", "AVATAR_ERROR",
		"ATTACH_ERROR", "ATTACH_OVERSIZE", "KEYBOARD_ERROR", "KEYBOARD_OVERSIZE", "MENU_ERROR", "MENU_OVERSIZE",
		// lists validation codes
		"ERROR_ELEMENT_FIELD_VALUE"}},
	{ErrAlreadyExists, []string{"ERROR_ELEMENT_ALREADY_EXISTS"}},
	{ErrLimitReached, []string{"MAX_COUNT_ERROR"}},
	{ErrWithoutChanges, []string{"WITHOUT_CHANGES"}},
	{ErrBatchLengthExceeded, []string{"ERROR_BATCH_LENGTH_EXCEEDED"}},
	{ErrBatchMethodNotAllowed, []string{"ERROR_BATCH_METHOD_NOT_ALLOWED"}},
	{ErrInternal, []string{"ERROR_CORE", "INTERNAL_SERVER_ERROR", "ERROR_UNEXPECTED_ANSWER",
		"INTERNAL_WRONG_TRANSPORT", "INTERNAL_WRONG_HANDLER_CLASS", "WRONG_ENCODING", "0"}},
	{ErrInvalidGrant, []string{"invalid_grant", "bad_verification_code"}},
	{ErrInvalidClient, []string{"invalid_client", "wrong_client"}},
	// Documented, deliberately unclassified: lists-element-add/-update/-delete
	// say only "Error adding/updating/deleting element" (the cause is in the
	// description); system-errors.md's manifest error is about app manifests.
	{nil, []string{"ERROR_ADD_ELEMENT", "ERROR_UPDATE_ELEMENT", "ERROR_DELETE_ELEMENT", "ERROR_MANIFEST_IS_NOT_AVAILABLE"}},
}

// descClasses classifies answers without a code (the classic crm.deal.*,
// crm.lead.* methods: crm-deal-get.md, crm-deal-list.md,
// crm-deal-productrows-set.md) by a lower-case substring of the
// description; the first match wins.
var descClasses = []struct {
	sub string
	err error
}{
	{"access denied", ErrAccessDenied},
	{"not found", ErrNotFound},
	{"is invalid", ErrInvalidArgument},
	{"not defined", ErrInvalidArgument},
	{"invalid value", ErrInvalidArgument},
	{"must be array", ErrInvalidArgument},
	{"required", ErrInvalidArgument},
	{"general error", ErrInternal},
}

// suffixClasses classify codes codeClasses does not list.
var suffixClasses = []struct {
	suffix string
	err    error
}{
	{"_NOT_FOUND", ErrNotFound},
	{"_ALREADY_EXISTS", ErrAlreadyExists},
}

var codeIndex = func() map[string]error {
	m := map[string]error{}
	for _, c := range codeClasses {
		for _, code := range c.codes {
			up := strings.ToUpper(code)
			if _, dup := m[up]; dup {
				panic("bitrix: error code classified twice: " + code)
			}
			m[up] = c.err
		}
	}
	return m
}()

// classify returns the sentinel of e's code, or nil.
func classify(e *APIError) error {
	up := strings.ToUpper(strings.TrimSpace(e.Code))
	if s, ok := codeIndex[up]; ok {
		return s
	}
	if up == "" {
		d := strings.ToLower(e.Description)
		for _, c := range descClasses {
			if strings.Contains(d, c.sub) {
				return c.err
			}
		}
		return nil
	}
	for _, c := range suffixClasses {
		if strings.HasSuffix(up, c.suffix) {
			return c.err
		}
	}
	return nil
}

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
