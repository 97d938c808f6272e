package bitrix_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/b24go/sdk/bitrix"
)

// TestEnvelopeShapes: the error envelope's spellings (classic string code,
// v3 object, null or non-string description, argument) and the answers
// that are not envelopes.
func TestEnvelopeShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		status     int
		code, desc string
		arg        string
		bad        bool // not an envelope: *ResponseError
		result     string
	}{
		{"classic", `{"error":"NOT_FOUND","error_description":"Not found"}`, 400, "NOT_FOUND", "Not found", "", false, ""},
		{"null description", `{"error":"NOT_FOUND","error_description":null}`, 400, "NOT_FOUND", "", "", false, ""},
		{"object description", `{"error":"X_ERR","error_description":{"a":1}}`, 400, "X_ERR", `{"a":1}`, "", false, ""},
		{"argument", `{"error":"ERROR_ARGUMENT","error_description":"bad","argument":"id"}`, 400, "ERROR_ARGUMENT", "bad", "id", false, ""},
		{"v3 object", `{"error":{"code":"V3_ERR","message":"Entity not found"}}`, 400, "V3_ERR", "Entity not found", "", false, ""},
		{"v3 numeric code", `{"error":{"code":7,"message":"m"}}`, 400, "7", "m", "", false, ""},
		{"v3 null code", `{"error":{"code":null,"message":"m"}}`, 400, "", "m", "", false, ""},
		{"null error is success", `{"error":null,"result":5}`, 200, "", "", "", false, "5"},
		{"no result", `{"time":{}}`, 200, "", "", "", true, ""},
		{"array", `[1]`, 200, "", "", "", true, ""},
		{"empty", ``, 200, "", "", "", true, ""},
		{"invalid JSON", `{"result":`, 200, "", "", "", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newMemPortal(t)
			p.handle("crm.deal.add", func(w http.ResponseWriter, _ recorded) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			})
			c := newMemClient(t, p, bitrix.WithRetryPolicy(bitrix.NoRetries()))
			raw, _, err := c.CallRaw(t.Context(), "crm.deal.add", nil)
			var api *bitrix.APIError
			switch {
			case tt.result != "":
				if err != nil || string(raw) != tt.result {
					t.Fatalf("result %s, err %v; want %s", raw, err, tt.result)
				}
			case tt.bad:
				if !errors.Is(err, bitrix.ErrBadResponse) || errors.As(err, &api) {
					t.Fatalf("err = %v, want a *ResponseError", err)
				}
			default:
				if !errors.As(err, &api) {
					t.Fatalf("err = %v, want an *APIError", err)
				}
				if api.Code != tt.code || api.Description != tt.desc || api.Argument != tt.arg || api.StatusCode != tt.status {
					t.Errorf("APIError = %+v, want code %q, description %q, argument %q, status %d", api, tt.code, tt.desc, tt.arg, tt.status)
				}
			}
		})
	}
}
