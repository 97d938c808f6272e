package bitrixtest

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"
)

// Option configures a [Server]. Options are applied in order by
// [NewServer] and [Start]; an option given a bad value (a negative
// latency, a rate of zero, a nil clock, ...) makes Start return an error
// and NewServer fail the test.
type Option func(*config) error

type config struct {
	rateLimit        bool
	ratePerSecond    float64
	rateBurst        int
	now              func() time.Time
	loc              *time.Location
	accessTTL        time.Duration
	refreshTTL       time.Duration
	reusableRefresh  bool
	operatingLimit   time.Duration
	operatingOn      bool
	methodCost       map[string]time.Duration
	tls              bool
	webhookSecret    string
	clientID         string
	clientSecret     string
	applicationToken string
	memberID         string
	syncDelivery     bool
	deliveryClient   *http.Client
	addr             string
	maxBots          int
	scope            []string
	httpsWebhooks    bool
	latency          time.Duration
	seed             func(*Server) error
}

func defaultConfig() config {
	return config{
		rateLimit:      true,
		ratePerSecond:  2,
		rateBurst:      50,
		now:            time.Now,
		loc:            time.FixedZone("", 3*3600),
		accessTTL:      time.Hour,
		refreshTTL:     180 * 24 * time.Hour,
		operatingLimit: 480 * time.Second,
		operatingOn:    true,
		methodCost:     map[string]time.Duration{},
		maxBots:        5,
		scope:          []string{"crm", "imbot", "im", "lists", "user", "user_brief", "placement", "task"},
	}
}

// WithRateLimit sets the portal's leaky bucket: perSecond requests drain per
// second and at most burst requests may be outstanding (the defaults are the
// cloud's 2 and 50; Enterprise portals have 5 and 250). A request that would
// overflow the bucket gets HTTP 503 QUERY_LIMIT_EXCEEDED. A batch counts as
// one request.
func WithRateLimit(perSecond float64, burst int) Option {
	return func(c *config) error {
		if !(perSecond > 0) || math.IsInf(perSecond, 1) || burst <= 0 {
			return fmt.Errorf("WithRateLimit(%v, %d) needs a positive finite rate and a positive burst", perSecond, burst)
		}
		c.rateLimit = true
		c.ratePerSecond = perSecond
		c.rateBurst = burst
		return nil
	}
}

// WithLatency adds d of network latency to every REST request: half of it
// before the request reaches the portal (its rate limit, clock and
// time.start see the request then), half after the portal answers. The
// wait runs on the Go runtime's clock, so inside a testing/synctest bubble
// (the portal served through [Server.Handler] from inside the bubble) it
// is virtual time and costs nothing real; a request whose client goes away
// stops waiting. Change it with [Server.Latency].
func WithLatency(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("WithLatency(%v) needs a latency of zero or more", d)
		}
		c.latency = d
		return nil
	}
}

// WithoutRateLimit turns the leaky bucket off, for unit tests that make many
// calls quickly.
func WithoutRateLimit() Option { return func(c *config) error { c.rateLimit = false; return nil } }

// WithClock makes the portal read the time from now instead of time.Now.
// [Server.Advance] and [Server.SetTime] shift whichever clock is in use.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("WithClock needs a clock, got nil")
		}
		c.now = now
		return nil
	}
}

// WithLocation sets the time zone of date strings in answers (date_start,
// createdTime, ...). The default is a fixed UTC+03:00 zone, so clients that
// drop the offset show up in tests.
func WithLocation(loc *time.Location) Option {
	return func(c *config) error {
		if loc == nil {
			return errors.New("WithLocation needs a location, got nil")
		}
		c.loc = loc
		return nil
	}
}

// WithAccessTokenTTL sets how long an OAuth access token stays valid
// (default one hour). After that, calls answer 401 expired_token.
func WithAccessTokenTTL(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("WithAccessTokenTTL(%v) needs a positive duration", d)
		}
		c.accessTTL = d
		return nil
	}
}

// WithRefreshTokenTTL sets how long a refresh token stays valid (default 180
// days).
func WithRefreshTokenTTL(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("WithRefreshTokenTTL(%v) needs a positive duration", d)
		}
		c.refreshTTL = d
		return nil
	}
}

// WithReusableRefreshTokens keeps a refresh token valid after it has been
// used. By default refresh tokens are single-use: each refresh returns a new
// one and invalidates the old one.
func WithReusableRefreshTokens() Option {
	return func(c *config) error { c.reusableRefresh = true; return nil }
}

// WithOperatingLimit sets the per-method operating-time budget per ten
// minutes (default 480 s, the cloud value). A method whose accumulated time
// exceeds it answers HTTP 429 OPERATION_TIME_LIMIT until its oldest
// one-minute bucket expires.
func WithOperatingLimit(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("WithOperatingLimit(%v) needs a positive budget", d)
		}
		c.operatingLimit = d
		c.operatingOn = true
		return nil
	}
}

// WithoutOperatingLimit disables the operating-time limiter; answers then
// carry "operating": 0 and no operating_reset_at.
func WithoutOperatingLimit() Option {
	return func(c *config) error { c.operatingOn = false; return nil }
}

// WithMethodCost charges d of operating time to every call of method (case
// insensitive), so that tests can reach OPERATION_TIME_LIMIT without running
// slow calls. The charge also shows in time.processing. See also
// [Server.SetMethodCost].
func WithMethodCost(method string, d time.Duration) Option {
	return func(c *config) error {
		if method == "" || d < 0 {
			return fmt.Errorf("WithMethodCost(%q, %v) needs a method name and a cost of zero or more", method, d)
		}
		c.methodCost[strings.ToLower(method)] = d
		return nil
	}
}

// WithTLS serves HTTPS with a generated self-signed certificate (see
// [Server.Client] for an *http.Client that trusts it).
func WithTLS() Option { return func(c *config) error { c.tls = true; return nil } }

// WithWebhookSecret sets the secret of the inbound webhook of user 1
// (random by default).
func WithWebhookSecret(secret string) Option {
	return func(c *config) error {
		if secret == "" {
			return errors.New("WithWebhookSecret needs a non-empty secret")
		}
		c.webhookSecret = secret
		return nil
	}
}

// WithApp sets the installed application's client id and secret (random by
// default).
func WithApp(clientID, clientSecret string) Option {
	return func(c *config) error {
		if clientID == "" || clientSecret == "" {
			return errors.New("WithApp needs a non-empty client id and client secret")
		}
		c.clientID = clientID
		c.clientSecret = clientSecret
		return nil
	}
}

// WithApplicationToken sets the application token the app's events carry
// (random by default).
func WithApplicationToken(token string) Option {
	return func(c *config) error {
		if token == "" {
			return errors.New("WithApplicationToken needs a non-empty token")
		}
		c.applicationToken = token
		return nil
	}
}

// WithMemberID sets the portal's 32-hex member id (random by default).
func WithMemberID(id string) Option {
	return func(c *config) error {
		if id == "" {
			return errors.New("WithMemberID needs a non-empty member id")
		}
		c.memberID = id
		return nil
	}
}

// WithSyncDelivery delivers events caused by REST calls before the call
// answers, instead of in the background. User-action helpers such as
// [Server.SendBotMessage] always deliver synchronously.
func WithSyncDelivery() Option { return func(c *config) error { c.syncDelivery = true; return nil } }

// WithDeliveryClient sets the HTTP client that delivers events (default: a
// client with a 10 s timeout).
func WithDeliveryClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("WithDeliveryClient needs a client, got nil")
		}
		c.deliveryClient = hc
		return nil
	}
}

// WithAddr makes [Start] listen on addr (for example "127.0.0.1:8080")
// instead of a random loopback port.
func WithAddr(addr string) Option {
	return func(c *config) error {
		if addr == "" {
			return errors.New("WithAddr needs a non-empty address")
		}
		c.addr = addr
		return nil
	}
}

// WithMaxBots sets how many bots one application may register (default 5).
func WithMaxBots(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("WithMaxBots(%d) needs zero or more", n)
		}
		c.maxBots = n
		return nil
	}
}

// WithScope sets the scopes granted to the app and the webhook.
func WithScope(scopes ...string) Option {
	return func(c *config) error { c.scope = append([]string(nil), scopes...); return nil }
}

// WithHTTPSWebhooks makes webhook calls over plain HTTP fail with
// INVALID_REQUEST "Https required.", as a real portal does. Off by default
// because the fake serves plain HTTP unless [WithTLS] is given.
func WithHTTPSWebhooks() Option {
	return func(c *config) error { c.httpsWebhooks = true; return nil }
}

// WithSeed runs seed when the server has started (before [Start] returns;
// its error fails Start) and again after every [Server.Reset], so a reset
// portal is back to its seeded state. cmd/fakeportal seeds its CRM items
// and list this way.
func WithSeed(seed func(*Server) error) Option {
	return func(c *config) error {
		if seed == nil {
			return errors.New("WithSeed needs a seed function, got nil")
		}
		c.seed = seed
		return nil
	}
}
