package bitrix

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"
)

// Option configures a [Client]. Options validate their arguments; [New]
// returns the first error.
type Option func(*config) error

type config struct {
	httpClient *http.Client
	transport  http.RoundTripper
	timeout    time.Duration
	userAgent  string
	logger     *slog.Logger
	limiter    Limiter
	gate       OperatingGate
	retry      RetryPolicy
	progress   func(Progress)
	insecure   bool
	dumpDir    string
	allowHTTP  bool
	maxBody    int
	coalesce   time.Duration // WithCoalescing (coalesce.go)
	// parallelism and cooldown: WithParallelism, WithCooldown (batch.go, client.go)
	parallelism int
	cooldown    time.Duration
	opBudget    time.Duration // WithOperatingBudget (gate.go)
	observer    Observer      // WithObserver (observe.go)
	observed    bool
}

// DefaultUserAgent is sent when WithUserAgent is not used.
const DefaultUserAgent = "b24go-sdk"

// DefaultTimeout bounds one HTTP exchange when WithTimeout is not used. The
// cloud portal cuts requests off after 60 s.
const DefaultTimeout = 70 * time.Second

// WithHTTPClient uses a copy of hc for requests (its Transport, Timeout and
// so on; its cookie jar and redirect policy are not used).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("bitrix: WithHTTPClient: nil *http.Client")
		}
		c.httpClient = hc
		return nil
	}
}

// WithTransport sets the http.RoundTripper requests go through.
func WithTransport(rt http.RoundTripper) Option {
	return func(c *config) error {
		if rt == nil {
			return errors.New("bitrix: WithTransport: nil RoundTripper")
		}
		c.transport = rt
		return nil
	}
}

// WithTimeout bounds each HTTP exchange (default DefaultTimeout). The
// context passed to a call bounds the whole call including retries and waits.
func WithTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("bitrix: WithTimeout: timeout must be positive, got %v", d)
		}
		c.timeout = d
		return nil
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(c *config) error {
		if strings.TrimSpace(ua) == "" || strings.ContainsAny(ua, "\r\n") {
			return errors.New("bitrix: WithUserAgent: user agent must be a non-empty single line")
		}
		c.userAgent = ua
		return nil
	}
}

// WithLogger logs requests and retries (debug), blocked or paced methods
// and token refreshes (info), moved portals and failing gates or dumps
// (warn) and failed refreshes (error) to l.
// Secrets never reach the log. The default logger discards everything.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("bitrix: WithLogger: nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithLimiter uses l for the request-rate limit (share one between the
// clients of a portal). The default is a new NewLimiter(DefaultRate, DefaultBurst)
// per client.
func WithLimiter(l Limiter) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("bitrix: WithLimiter: nil Limiter (use WithoutRateLimit to disable limiting)")
		}
		c.limiter = l
		return nil
	}
}

// WithRateLimit uses a new in-memory limiter with this rate and burst
// (EnterpriseRate, EnterpriseBurst for Enterprise plans).
func WithRateLimit(perSecond float64, burst int) Option {
	return func(c *config) error {
		l, err := NewLimiter(perSecond, burst)
		if err != nil {
			return err
		}
		c.limiter = l
		return nil
	}
}

// WithoutRateLimit disables client-side rate limiting (self-hosted portals,
// tests).
func WithoutRateLimit() Option {
	return func(c *config) error {
		c.limiter = unlimited{}
		return nil
	}
}

// WithOperatingGate uses g for OPERATION_TIME_LIMIT blocks (share one between
// the clients of a portal). The default is a new NewOperatingGate() per client.
func WithOperatingGate(g OperatingGate) Option {
	return func(c *config) error {
		if g == nil {
			return errors.New("bitrix: WithOperatingGate: nil OperatingGate")
		}
		c.gate = g
		return nil
	}
}

// WithRetryPolicy replaces the retry policy (default [DefaultRetryPolicy]:
// 4 attempts, backoffs of 1, 2 and 4 s jittered down to half, so a dead
// portal fails after 3.5 to 7 s; see [RetryPolicy]). A zero MaxAttempts,
// BaseDelay or MaxDelay takes its default.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *config) error {
		if err := p.validate(); err != nil {
			return err
		}
		c.retry = p
		return nil
	}
}

// WithProgress calls fn with progress of long operations (pages of a full
// scan, batch requests) and with every wait caused by limits or retries. fn
// runs on the calling goroutine and must be quick.
func WithProgress(fn func(Progress)) Option {
	return func(c *config) error {
		if fn == nil {
			return errors.New("bitrix: WithProgress: nil function")
		}
		c.progress = fn
		return nil
	}
}

// WithInsecureSkipVerify disables TLS certificate verification. Use it only
// for self-signed test portals. It needs the default transport or an
// *http.Transport.
func WithInsecureSkipVerify() Option {
	return func(c *config) error {
		c.insecure = true
		return nil
	}
}

// WithDumpDir writes every request and response (credentials redacted) to
// a file in dir, one file per HTTP exchange, for debugging. dir must exist.
func WithDumpDir(dir string) Option {
	return func(c *config) error {
		st, err := os.Stat(dir)
		if err != nil {
			return fmt.Errorf("bitrix: WithDumpDir: %w", err)
		}
		if !st.IsDir() {
			return fmt.Errorf("bitrix: WithDumpDir: %s is not a directory", dir)
		}
		c.dumpDir = dir
		return nil
	}
}

// WithAllowHTTP allows plain http:// portal and token URLs. Real portals
// require HTTPS for webhooks; use this for loopback test portals such as
// bitrixtest.
func WithAllowHTTP() Option {
	return func(c *config) error {
		c.allowHTTP = true
		return nil
	}
}

// WithMaxResponseBytes limits the size of a response body (default 64 MiB).
func WithMaxResponseBytes(n int) Option {
	return func(c *config) error {
		if n < 1024 {
			return fmt.Errorf("bitrix: WithMaxResponseBytes: limit too small: %d", n)
		}
		c.maxBody = n
		return nil
	}
}

// WithParallelism sets how many requests one [Batch.Run], bulk operation
// (crm, lists) or full scan ([All]) keeps in flight (default
// [DefaultParallelism]; 1 sends them one after another). Every request
// still goes through the rate limiter.
func WithParallelism(n int) Option {
	return func(c *config) error {
		if n < 1 || n > 64 {
			return fmt.Errorf("bitrix: WithParallelism: want 1 to 64 requests in flight, got %d", n)
		}
		c.parallelism = n
		return nil
	}
}

// WithCooldown sets how long the client sends one request at a time after
// the portal answered QUERY_LIMIT_EXCEEDED (default [DefaultCooldown]; 0
// turns the fallback off).
func WithCooldown(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("bitrix: WithCooldown: negative duration %v", d)
		}
		c.cooldown = d
		return nil
	}
}

// WithOperatingBudget sets the operating time per method and ten minutes
// the client keeps each method within (default [DefaultOperatingBudget]):
// from the time.operating of every answer it holds a method's requests back
// until operating_reset_at before the portal would refuse them with
// OPERATION_TIME_LIMIT. 0 turns the pacing off (the client then only reacts
// to OPERATION_TIME_LIMIT).
func WithOperatingBudget(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("bitrix: WithOperatingBudget: negative budget %v", d)
		}
		c.opBudget = d
		return nil
	}
}
