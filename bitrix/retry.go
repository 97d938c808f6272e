package bitrix

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// RetryPolicy decides how often and how long a call is retried. Which
// failures are retried is fixed, in this order:
//
//  1. A request that never left (dial error, DNS failure): any method.
//  2. QUERY_LIMIT_EXCEEDED (the request did not run): any method.
//  3. OPERATION_TIME_LIMIT: the method is blocked in the [OperatingGate]
//     until operating_reset_at and the call waits for it (any method; these
//     waits count against MaxOperatingWaits, not MaxAttempts).
//  4. 5xx answers, bad (HTML, truncated) bodies, timeouts and broken
//     connections after sending: read-only methods only. For a write such
//     a failure is ambiguous and the error matches [ErrMaybeApplied].
//  5. Never: OVERLOAD_LIMIT, auth errors (an expired or invalid OAuth token
//     is refreshed and the call repeated exactly once), other API errors.
//
// Whether a method is read-only is decided by ReadOnly ([IsReadOnly] by default).
//
// The default budget ([DefaultRetryPolicy]): 4 attempts, with backoffs of
// 1 s, 2 s and 4 s between them, each jittered to between half and all of
// it. A portal that cannot be reached (every dial fails at once) therefore
// fails after 3.5 to 7 s, about 5 s on average; a read whose every attempt
// times out takes 4 × [DefaultTimeout] plus the backoffs. A method blocked by
// OPERATION_TIME_LIMIT adds up to 3 waits for its operating_reset_at (a
// minute each when the portal gave none). Use [NoRetries] or a smaller
// MaxAttempts to fail faster, and [WithLogger] at debug level to see each
// retry ("bitrix retrying", with its reason, attempt, delay and error).
type RetryPolicy struct {
	// MaxAttempts is the number of attempts including the first (default 4;
	// 1 disables retries).
	MaxAttempts int
	// BaseDelay is the backoff before the first retry (default 1s); it
	// doubles per retry up to MaxDelay (default 30s). Each delay is jittered
	// to between half and all of its value.
	BaseDelay, MaxDelay time.Duration
	// MaxOperatingWaits bounds the OPERATION_TIME_LIMIT waits of one call
	// (default 3).
	MaxOperatingWaits int
	// ReadOnly reports whether a method only reads (nil: IsReadOnly).
	ReadOnly func(method string) bool
}

// DefaultRetryPolicy returns the policy clients use by default.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 4, BaseDelay: time.Second, MaxDelay: 30 * time.Second, MaxOperatingWaits: 3}
}

// NoRetries is a policy that never retries (and never waits for the operating gate twice).
func NoRetries() RetryPolicy {
	return RetryPolicy{MaxAttempts: 1, BaseDelay: time.Second, MaxDelay: time.Second, MaxOperatingWaits: 0}
}

func (p RetryPolicy) validate() error {
	if p.MaxAttempts < 0 || p.BaseDelay < 0 || p.MaxDelay < 0 || p.MaxOperatingWaits < 0 {
		return fmt.Errorf("bitrix: WithRetryPolicy: negative values in %+v", p)
	}
	return nil
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	d := DefaultRetryPolicy()
	if p.MaxAttempts == 0 {
		p.MaxAttempts = d.MaxAttempts
	}
	if p.BaseDelay == 0 {
		p.BaseDelay = d.BaseDelay
	}
	if p.MaxDelay == 0 {
		p.MaxDelay = d.MaxDelay
	}
	if p.MaxDelay < p.BaseDelay {
		p.MaxDelay = p.BaseDelay
	}
	if p.ReadOnly == nil {
		p.ReadOnly = IsReadOnly
	}
	return p
}

// backoff returns the jittered delay before retry number n (1-based).
func (p RetryPolicy) backoff(n int) time.Duration {
	d := p.BaseDelay
	for i := 1; i < n && d < p.MaxDelay; i++ {
		d *= 2
	}
	if d > p.MaxDelay {
		d = p.MaxDelay
	}
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + rand.N(half+1)
}

// readOnlySuffixes are the last name segments of methods that only read.
var readOnlySuffixes = map[string]bool{
	"get": true, "list": true, "fields": true, "getlist": true, "getfields": true,
	"count": true, "search": true, "info": true, "current": true, "status": true,
	"getbyid": true, "getall": true, "tail": true, "recent": true, "counters": true,
}

// readOnlyExact are whole method names that only read; writeExact are
// methods whose name looks read-only but changes state.
var (
	readOnlyExact = map[string]bool{
		"profile": true, "server.time": true, "methods": true, "scope": true, "method.get": true,
		"feature.get": true, "access.name": true, "user.access": true,
	}
	writeExact = map[string]bool{
		"event.offline.get": true, // clear=1 by default: removes the events it returns
	}
)

// IsReadOnly reports whether method only reads, judged by its name: the
// last segment is get, list, fields, getlist, getfields, count, search, info,
// current, status, getbyid, getall, tail, recent or counters (crm.deal.get,
// crm.item.list, lists.element.get, user.current, app.info), or the method is
// profile, server.time, methods, scope, method.get, feature.get, access.name
// or user.access. event.offline.get is a write (it clears the queue by
// default). Everything else is treated as a write, a name with nothing
// before its last dot too. Names are case-insensitive.
func IsReadOnly(method string) bool {
	m := strings.ToLower(strings.TrimSpace(method))
	if writeExact[m] {
		return false
	}
	if readOnlyExact[m] {
		return true
	}
	i := strings.LastIndexByte(m, '.')
	if i <= 0 { // no dot, or no scope before it (".list")
		return false
	}
	return readOnlySuffixes[m[i+1:]]
}
