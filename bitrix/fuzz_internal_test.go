package bitrix

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

func fuzzClient(t testing.TB) *Client {
	c, err := New(WebhookURL("https://p.bitrix24.com/rest/1/fuzzSecret123/"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// FuzzDecodeEnvelope: any body gives exactly one of an envelope, an
// *APIError or a *ResponseError, without panicking or echoing the secret.
func FuzzDecodeEnvelope(f *testing.F) {
	for _, name := range []string{"resp_single_with_operating.json", "error_query_limit_exceeded.json", "error_oauth_wrong_client.json", "resp_crm_item_list.json", "resp_batch.json"} {
		if b, err := os.ReadFile("testdata/" + name); err == nil {
			f.Add(200, b)
		}
	}
	f.Add(502, []byte("<html>502 /rest/1/fuzzSecret123/x</html>"))
	f.Add(200, []byte(`{"result":[],"time":[]}`))
	f.Add(200, []byte(`{"result":1,"next":"50","total":null,"time":{"start":"x","operating_reset_at":1e300}}`))
	f.Add(400, []byte(`{"error":{"code":1,"message":"m"}}`))
	f.Add(400, []byte(`{"error":"","error_description":["a"]}`))
	c := fuzzClient(f)
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		env, err := c.decodeEnvelope("m.get", status, "application/json", body)
		var ae *APIError
		var re *ResponseError
		switch {
		case err == nil:
			if env == nil || env.Result == nil || !json.Valid(env.Result) {
				t.Fatalf("envelope without a valid result: %+v", env)
			}
			_ = env.response()
		case errors.As(err, &ae), errors.As(err, &re):
			if strings.Contains(err.Error(), "fuzzSecret123") {
				t.Fatalf("secret in error: %v", err)
			}
		default:
			t.Fatalf("unexpected error type %T: %v", err, err)
		}
	})
}

// FuzzDecodeBatchResult: the batch result decoder never panics, and what it
// accepts is usable by the per-command decoders.
func FuzzDecodeBatchResult(f *testing.F) {
	for _, name := range []string{"resp_batch.json", "resp_batch_error_halt1.json", "resp_batch_short.json"} {
		if b, err := os.ReadFile("testdata/" + name); err == nil {
			var env struct {
				Result json.RawMessage `json:"result"`
			}
			if json.Unmarshal(b, &env) == nil {
				f.Add([]byte(env.Result))
			}
		}
	}
	f.Add([]byte(`{"result":[1,[]],"result_error":{"1":"x"},"result_total":{"0":"5"},"result_next":[],"result_time":{"0":[]}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		res, err := decodeBatchResult(raw)
		if err != nil {
			return
		}
		for _, e := range res.Errors {
			_ = batchError("m", e).Error()
		}
		for _, v := range res.Totals {
			var n Int
			_ = n.UnmarshalJSON(v)
		}
		for _, v := range res.Times {
			var tm Timing
			_ = tm.UnmarshalJSON(v)
		}
		for _, v := range res.Results {
			if !json.Valid(v) {
				t.Fatalf("invalid result JSON %q", v)
			}
			_, _ = splitRows(v, "")
			_, _ = splitRows(v, "items")
		}
	})
}
