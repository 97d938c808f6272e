package bitrix_test

import (
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/b24go/sdk/bitrix"
	"github.com/google/go-cmp/cmp"
)

func TestAPIErrorSentinels(t *testing.T) {
	t.Parallel()
	all := map[string]error{
		"ErrQueryLimitExceeded": bitrix.ErrQueryLimitExceeded, "ErrOperationTimeLimit": bitrix.ErrOperationTimeLimit,
		"ErrOverloadLimit": bitrix.ErrOverloadLimit, "ErrExpiredToken": bitrix.ErrExpiredToken,
		"ErrInvalidToken": bitrix.ErrInvalidToken, "ErrNoAuthFound": bitrix.ErrNoAuthFound,
		"ErrInvalidCredentials": bitrix.ErrInvalidCredentials, "ErrInsufficientScope": bitrix.ErrInsufficientScope,
		"ErrAccessDenied": bitrix.ErrAccessDenied, "ErrWrongAuthType": bitrix.ErrWrongAuthType,
		"ErrAuthorization": bitrix.ErrAuthorization, "ErrMethodConfirmWaiting": bitrix.ErrMethodConfirmWaiting,
		"ErrWrongLicense": bitrix.ErrWrongLicense, "ErrPaymentRequired": bitrix.ErrPaymentRequired,
		"ErrPortalDeleted": bitrix.ErrPortalDeleted, "ErrMethodNotFound": bitrix.ErrMethodNotFound,
		"ErrNotFound": bitrix.ErrNotFound, "ErrInvalidArgument": bitrix.ErrInvalidArgument,
		"ErrBatchLengthExceeded": bitrix.ErrBatchLengthExceeded, "ErrBatchMethodNotAllowed": bitrix.ErrBatchMethodNotAllowed,
		"ErrInternal": bitrix.ErrInternal, "ErrInvalidGrant": bitrix.ErrInvalidGrant, "ErrInvalidClient": bitrix.ErrInvalidClient,
	}
	tests := []struct {
		code, desc string
		want       []string // sentinel names that must match; all others must not
	}{
		{code: "QUERY_LIMIT_EXCEEDED", want: []string{"ErrQueryLimitExceeded"}},
		{code: "OPERATION_TIME_LIMIT", want: []string{"ErrOperationTimeLimit"}},
		{code: "OVERLOAD_LIMIT", want: []string{"ErrOverloadLimit"}},
		{code: "expired_token", want: []string{"ErrExpiredToken"}},
		{code: "EXPIRED_TOKEN", want: []string{"ErrExpiredToken"}},
		{code: "invalid_token", want: []string{"ErrInvalidToken"}},
		{code: "NO_AUTH_FOUND", want: []string{"ErrNoAuthFound"}},
		{code: "INVALID_CREDENTIALS", want: []string{"ErrInvalidCredentials"}},
		{code: "insufficient_scope", want: []string{"ErrInsufficientScope"}},
		{code: "ACCESS_DENIED", want: []string{"ErrAccessDenied"}},
		{code: "user_access_error", want: []string{"ErrAccessDenied"}},
		{code: "METHOD_CONFIRM_DENIED", want: []string{"ErrAccessDenied"}},
		{code: "WRONG_AUTH_TYPE", want: []string{"ErrWrongAuthType"}},
		{code: "authorization_error", want: []string{"ErrAuthorization"}},
		{code: "APPLICATION_NOT_FOUND", want: []string{"ErrAuthorization"}},
		{code: "CONNECTION_ERROR", want: []string{"ErrAuthorization"}},
		{code: "METHOD_CONFIRM_WAITING", want: []string{"ErrMethodConfirmWaiting"}},
		{code: "WRONG_LICENSE", want: []string{"ErrWrongLicense"}},
		{code: "PAYMENT_REQUIRED", want: []string{"ErrPaymentRequired"}},
		{code: "PORTAL_DELETED", want: []string{"ErrPortalDeleted"}},
		{code: "ERROR_METHOD_NOT_FOUND", want: []string{"ErrMethodNotFound"}},
		{code: "NOT_FOUND", want: []string{"ErrNotFound"}},
		{code: "OWNER_NOT_FOUND", want: []string{"ErrNotFound"}},
		{code: "ERROR_EVENT_NOT_FOUND", want: []string{"ErrNotFound"}},
		{code: "", desc: "Not found", want: []string{"ErrNotFound"}},
		{code: "", desc: "The parameter id is invalid or not defined.", want: []string{"ErrInvalidArgument"}},
		{code: "ERROR_ARGUMENT", want: []string{"ErrInvalidArgument"}},
		{code: "INVALID_ARG_VALUE", want: []string{"ErrInvalidArgument"}},
		{code: "ERROR_REQUIRED_PARAMETERS_MISSING", want: []string{"ErrInvalidArgument"}},
		{code: "INVALID_REQUEST", want: []string{"ErrInvalidArgument"}},
		{code: "ERROR_BATCH_LENGTH_EXCEEDED", want: []string{"ErrBatchLengthExceeded"}},
		{code: "ERROR_BATCH_METHOD_NOT_ALLOWED", want: []string{"ErrBatchMethodNotAllowed"}},
		{code: "ERROR_CORE", want: []string{"ErrInternal"}},
		{code: "INTERNAL_SERVER_ERROR", want: []string{"ErrInternal"}},
		{code: "WRONG_ENCODING", want: []string{"ErrInternal"}},
		{code: "invalid_grant", want: []string{"ErrInvalidGrant"}},
		{code: "invalid_client", want: []string{"ErrInvalidClient"}},
		{code: "wrong_client", want: []string{"ErrInvalidClient"}},
		{code: "ERROR_HANDLER_ALREADY_EXIST", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.code+"/"+tt.desc, func(t *testing.T) {
			t.Parallel()
			var err error = &bitrix.APIError{StatusCode: 400, Code: tt.code, Description: tt.desc, Method: "x.y"}
			err = errors.Join(errors.New("wrapped"), err)
			want := map[string]bool{}
			for _, w := range tt.want {
				want[w] = true
			}
			for name, s := range all {
				if got := errors.Is(err, s); got != want[name] {
					t.Errorf("errors.Is(%s) = %v, want %v", name, got, want[name])
				}
			}
			var ae *bitrix.APIError
			if !errors.As(err, &ae) || ae.Code != tt.code {
				t.Errorf("errors.As: %v", ae)
			}
		})
	}
}

// TestErrorEnvelopes decodes every error fixture through a real call.
func TestErrorEnvelopes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file     string
		status   int
		want     bitrix.APIError
		sentinel error
	}{
		{"error_crm_item_delete_not_found.json", 400, bitrix.APIError{StatusCode: 400, Code: "NOT_FOUND", Description: "Item not found", Method: "crm.item.delete"}, bitrix.ErrNotFound},
		{"error_crm_item_list.json", 400, bitrix.APIError{StatusCode: 400, Code: "INVALID_ARG_VALUE", Description: "Invalid filter: field 'FIELD' is not allowed in filter", Method: "crm.item.delete"}, bitrix.ErrInvalidArgument},
		{"error_crm_item_productrow_owner_not_found.json", 400, bitrix.APIError{StatusCode: 400, Code: "OWNER_NOT_FOUND", Description: "Owner was not found", Method: "crm.item.delete"}, bitrix.ErrNotFound},
		{"error_event_unbind_access_denied.json", 403, bitrix.APIError{StatusCode: 403, Code: "ACCESS_DENIED", Description: "Access denied! Offline events unbinding requires administrator access rights", Method: "crm.item.delete"}, bitrix.ErrAccessDenied},
		{"error_oauth_wrong_client.json", 401, bitrix.APIError{StatusCode: 401, Code: "wrong_client", Method: "crm.item.delete"}, bitrix.ErrInvalidClient},
		{"error_payment_required_subscription.json", 402, bitrix.APIError{StatusCode: 402, Code: "PAYMENT_REQUIRED", Description: "Subscription has been ended", Method: "crm.item.delete"}, bitrix.ErrPaymentRequired},
		{"error_crm_deal_productrows_set.json", 400, bitrix.APIError{StatusCode: 400, Code: "ERROR_CORE", Description: "Discount Sum (DISCOUNT_SUM) is required if Percentage Discount Type (DISCOUNT_TYPE_ID) is defined and Discount Rate (DISCOUNT_RATE) is 100%<br>", Method: "crm.item.delete"}, bitrix.ErrInternal},
		{"error_generic_envelope.json", 400, bitrix.APIError{StatusCode: 400, Code: "ERROR_HANDLER_ALREADY_EXIST", Description: "Handler already exists!", Method: "crm.item.delete"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			body, err := os.ReadFile("testdata/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			p := newPortal(t)
			p.handle("crm.item.delete", func(w http.ResponseWriter, _ recorded) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				_, _ = w.Write(body)
			})
			c := newWebhookClient(t, p, bitrix.WithRetryPolicy(bitrix.NoRetries()))
			_, err = c.Call(t.Context(), "crm.item.delete", bitrix.Params{"id": 1}, nil)
			var ae *bitrix.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("error %v (%T) is not an *APIError", err, err)
			}
			if diff := cmp.Diff(tt.want, *ae); diff != "" {
				t.Errorf("APIError (-want +got):\n%s", diff)
			}
			if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
				t.Errorf("errors.Is(%v) = false", tt.sentinel)
			}
			if len(p.recorded()) != 1 {
				t.Errorf("requests = %d, want 1 (no retry)", len(p.recorded()))
			}
		})
	}
}

func TestEmptyCodeErrorKeepsDescription(t *testing.T) {
	t.Parallel()
	p := newPortal(t)
	p.handle("crm.deal.productrows.get", func(w http.ResponseWriter, _ recorded) {
		writeJSON(w, 400, map[string]any{"error": "", "error_description": "The parameter id is invalid or not defined."})
	})
	c := newWebhookClient(t, p)
	_, err := c.Call(t.Context(), "crm.deal.productrows.get", bitrix.Params{"id": 0}, nil)
	var ae *bitrix.APIError
	if !errors.As(err, &ae) || ae.Code != "" || ae.Description != "The parameter id is invalid or not defined." {
		t.Fatalf("err = %#v", err)
	}
	if !strings.Contains(err.Error(), "The parameter id is invalid") {
		t.Errorf("message lacks the description: %v", err)
	}
	if !errors.Is(err, bitrix.ErrInvalidArgument) {
		t.Error("want ErrInvalidArgument")
	}
}

func TestErrorArgumentAndV3Shape(t *testing.T) {
	t.Parallel()
	p := newPortal(t)
	p.handle("a.add", func(w http.ResponseWriter, _ recorded) {
		writeJSON(w, 400, map[string]any{"error": "ERROR_ARGUMENT", "error_description": "bad", "argument": "fields"})
	})
	p.handle("b.add", func(w http.ResponseWriter, _ recorded) {
		writeJSON(w, 400, map[string]any{"error": map[string]any{"code": "BITRIX_REST_V3_EXCEPTION_ENTITYNOTFOUNDEXCEPTION", "message": "Entity not found"}})
	})
	c := newWebhookClient(t, p)
	_, err := c.Call(t.Context(), "a.add", nil, nil)
	var ae *bitrix.APIError
	if !errors.As(err, &ae) || ae.Argument != "fields" || !strings.Contains(err.Error(), "argument fields") {
		t.Errorf("argument: %v", err)
	}
	_, err = c.Call(t.Context(), "b.add", nil, nil)
	if !errors.As(err, &ae) || ae.Code != "BITRIX_REST_V3_EXCEPTION_ENTITYNOTFOUNDEXCEPTION" || ae.Description != "Entity not found" {
		t.Errorf("v3: %#v", ae)
	}
}

// TestBadResponses covers answers that are not envelopes: each gives a
// *ResponseError with the status and a short snippet.
func TestBadResponses(t *testing.T) {
	t.Parallel()
	long := "<html><head><title>502 Bad Gateway</title></head><body>" + strings.Repeat("x", 2000) + "</body></html>"
	tests := []struct {
		name    string
		status  int
		ctype   string
		body    string
		snippet string
	}{
		{"html 502", 502, "text/html", long, "<html><head><title>502 Bad Gateway</title>"},
		{"truncated", 200, "application/json", `{"result":{"ID":"1","TI`, `{"result":{"ID":"1","TI`},
		{"plain text", 200, "text/plain", "Service Unavailable", "Service Unavailable"},
		{"empty", 200, "application/json", "", ""},
		{"array", 200, "application/json", "[1,2]", "[1,2]"},
		{"no result", 200, "application/json", `{"foo":1}`, `{"foo":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newPortal(t)
			p.handle("crm.deal.get", func(w http.ResponseWriter, _ recorded) {
				w.Header().Set("Content-Type", tt.ctype)
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			})
			c := newWebhookClient(t, p, bitrix.WithRetryPolicy(bitrix.NoRetries()))
			_, err := c.Call(t.Context(), "crm.deal.get", bitrix.Params{"id": 1}, nil)
			var re *bitrix.ResponseError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v (%T), want *ResponseError", err, err)
			}
			if !errors.Is(err, bitrix.ErrBadResponse) {
				t.Error("errors.Is(ErrBadResponse) = false")
			}
			if re.StatusCode != tt.status || !strings.HasPrefix(re.Snippet, tt.snippet) || len(re.Snippet) > 220 {
				t.Errorf("status %d snippet %q", re.StatusCode, re.Snippet)
			}
			if !strings.Contains(err.Error(), "HTTP ") {
				t.Errorf("message lacks the status: %v", err)
			}
		})
	}
}
