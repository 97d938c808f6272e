package bitrix

import "testing"

// TestRetryable is the table of the retry decision (RetryPolicy's
// documented rules 1-5) with the default budget: 4 attempts, 3 operating waits.
func TestRetryable(t *testing.T) {
	p := DefaultRetryPolicy().withDefaults()
	api := func(code string) *APIError { return &APIError{Code: code} }
	backoff := func(reason string) decision { return decision{action: retryAfterBackoff, reason: reason} }
	fail := decision{}
	maybe := decision{maybeApplied: true}
	tests := []struct {
		name string
		o    outcome
		want decision
	}{
		// 1. not sent: any method, within the attempts
		{"dial error write", outcome{kind: noAnswer, attempt: 1}, backoff(RetryNetwork)},
		{"dial error read, third attempt", outcome{kind: noAnswer, readOnly: true, attempt: 3}, backoff(RetryNetwork)},
		{"dial error, attempts spent", outcome{kind: noAnswer, attempt: 4}, fail},
		{"dial error, context done", outcome{kind: noAnswer, ctxDone: true, attempt: 1}, fail},
		// 4. sent without answer: reads only; a write may have been applied
		{"sent read", outcome{kind: noAnswer, sent: true, readOnly: true, attempt: 1}, backoff(RetryNetwork)},
		{"sent read, attempts spent", outcome{kind: noAnswer, sent: true, readOnly: true, attempt: 4}, fail},
		{"sent read, context done", outcome{kind: noAnswer, sent: true, readOnly: true, ctxDone: true, attempt: 1}, fail},
		{"sent write", outcome{kind: noAnswer, sent: true, attempt: 1}, maybe},
		{"sent write, context done", outcome{kind: noAnswer, sent: true, ctxDone: true, attempt: 1}, maybe},
		// 2. QUERY_LIMIT_EXCEEDED: any method; cool down even when giving up
		{"query limit write", outcome{kind: apiError, api: api("QUERY_LIMIT_EXCEEDED"), status: 503, attempt: 3},
			decision{action: retryAfterBackoff, reason: RetryQueryLimit, cooldown: true}},
		{"query limit, attempts spent", outcome{kind: apiError, api: api("QUERY_LIMIT_EXCEEDED"), status: 503, attempt: 4},
			decision{cooldown: true}},
		// 3. OPERATION_TIME_LIMIT: block the method, wait up to MaxOperatingWaits
		{"operating limit", outcome{kind: apiError, api: api("OPERATION_TIME_LIMIT"), status: 429, attempt: 4, opWaits: 2},
			decision{action: retryAfterGate, reason: RetryOperatingLimit, block: true}},
		{"operating limit, waits spent", outcome{kind: apiError, api: api("OPERATION_TIME_LIMIT"), status: 429, attempt: 1, opWaits: 3},
			decision{block: true}},
		// 4. server faults: reads only
		{"5xx fault read", outcome{kind: apiError, api: api("INTERNAL_SERVER_ERROR"), status: 500, readOnly: true, attempt: 1}, backoff(RetryServerError)},
		{"5xx without code read", outcome{kind: apiError, api: api(""), status: 502, readOnly: true, attempt: 3}, backoff(RetryServerError)},
		{"5xx ERROR_CORE read", outcome{kind: apiError, api: api("ERROR_CORE"), status: 500, readOnly: true, attempt: 1}, backoff(RetryServerError)},
		{"5xx fault read, attempts spent", outcome{kind: apiError, api: api("INTERNAL_SERVER_ERROR"), status: 500, readOnly: true, attempt: 4}, fail},
		{"5xx fault write", outcome{kind: apiError, api: api("INTERNAL_SERVER_ERROR"), status: 500, attempt: 1}, fail},
		{"4xx fault read", outcome{kind: apiError, api: api("INTERNAL_SERVER_ERROR"), status: 499, readOnly: true, attempt: 1}, fail},
		{"5xx not a fault", outcome{kind: apiError, api: api("ERROR_ARGUMENT"), status: 500, readOnly: true, attempt: 1}, fail},
		// 5. never
		{"overload", outcome{kind: apiError, api: api("OVERLOAD_LIMIT"), status: 503, readOnly: true, attempt: 1}, fail},
		{"not found", outcome{kind: apiError, api: api("NOT_FOUND"), status: 404, readOnly: true, attempt: 1}, fail},
		{"expired token, webhook", outcome{kind: apiError, api: api("expired_token"), status: 401, readOnly: true, attempt: 1}, fail},
		{"expired token, oauth", outcome{kind: apiError, api: api("expired_token"), status: 401, attempt: 4, canRefresh: true},
			decision{action: retryAfterRefresh, reason: RetryTokenRefresh}},
		{"invalid token, oauth", outcome{kind: apiError, api: api("invalid_token"), status: 401, attempt: 1, canRefresh: true},
			decision{action: retryAfterRefresh, reason: RetryTokenRefresh}},
		{"no auth, oauth", outcome{kind: apiError, api: api("NO_AUTH_FOUND"), status: 401, attempt: 1, canRefresh: true}, fail},
		// bad bodies: reads retried on 5xx and 2xx; a write may have been applied
		{"bad 502 read", outcome{kind: badResponse, status: 502, readOnly: true, attempt: 1}, backoff(RetryBadResponse)},
		{"bad 500 read", outcome{kind: badResponse, status: 500, readOnly: true, attempt: 3}, backoff(RetryBadResponse)},
		{"bad 200 read", outcome{kind: badResponse, status: 200, readOnly: true, attempt: 1}, backoff(RetryBadResponse)},
		{"bad 299 read", outcome{kind: badResponse, status: 299, readOnly: true, attempt: 1}, backoff(RetryBadResponse)},
		{"bad 502 read, attempts spent", outcome{kind: badResponse, status: 502, readOnly: true, attempt: 4}, fail},
		{"bad 300 read", outcome{kind: badResponse, status: 300, readOnly: true, attempt: 1}, fail},
		{"bad 499 read", outcome{kind: badResponse, status: 499, readOnly: true, attempt: 1}, fail},
		{"bad 500 write", outcome{kind: badResponse, status: 500, attempt: 1}, maybe},
		{"bad 200 write", outcome{kind: badResponse, status: 200, attempt: 1}, maybe},
		{"bad 404 write", outcome{kind: badResponse, status: 404, attempt: 1}, fail},
		{"bad 300 write", outcome{kind: badResponse, status: 300, attempt: 1}, fail},
	}
	for _, tt := range tests {
		if got := p.retryable(tt.o); got != tt.want {
			t.Errorf("%s: retryable = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

// TestRetryableBudgets: the attempt budgets come from the policy.
func TestRetryableBudgets(t *testing.T) {
	p := RetryPolicy{MaxAttempts: 2, MaxOperatingWaits: 1}.withDefaults()
	if d := p.retryable(outcome{kind: noAnswer, attempt: 1}); d.action != retryAfterBackoff {
		t.Errorf("attempt 1 of 2: %+v, want a retry", d)
	}
	if d := p.retryable(outcome{kind: noAnswer, attempt: 2}); d.action != giveUp {
		t.Errorf("attempt 2 of 2: %+v, want giving up", d)
	}
	op := outcome{kind: apiError, api: &APIError{Code: "OPERATION_TIME_LIMIT"}, attempt: 1}
	if d := p.retryable(op); d.action != retryAfterGate {
		t.Errorf("operating wait 1 of 1: %+v, want a wait", d)
	}
	op.opWaits = 1
	if d := p.retryable(op); d.action != giveUp {
		t.Errorf("operating waits spent: %+v, want giving up", d)
	}
	if d := NoRetries().withDefaults().retryable(outcome{kind: noAnswer, attempt: 1}); d.action != giveUp {
		t.Errorf("NoRetries: %+v, want giving up", d)
	}
}
