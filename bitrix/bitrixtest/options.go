package bitrixtest

import (
	"net/http"
	"strings"
	"time"
)

// Option configures a [Server]. Options are applied in order by
// [NewServer] and [Start].
type Option func(*config)

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
	return func(c *config) {
		c.rateLimit = true
		c.ratePerSecond = perSecond
		c.rateBurst = burst
	}
}

// WithLatency adds d of network latency to every REST request: half of it
// before the request reaches the portal (its rate limit, clock and
// time.start see the request then), half after the portal answers. The
// wait runs on the Go runtime's clock, so inside a testing/synctest bubble
// (the portal served through [Server.Handler] from inside the bubble) it
// is virtual time and costs nothing real; a request whose client goes away
// stops waiting. Change it with [Server.Latency].
func WithLatency(d time.Duration) Option { return func(c *config) { c.latency = d } }

// WithoutRateLimit turns the leaky bucket off, for unit tests that make many
// calls quickly.
func WithoutRateLimit() Option { return func(c *config) { c.rateLimit = false } }

// WithClock makes the portal read the time from now instead of time.Now.
// [Server.Advance] and [Server.SetTime] shift whichever clock is in use.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithLocation sets the time zone of date strings in answers (date_start,
// createdTime, ...). The default is a fixed UTC+03:00 zone, so clients that
// drop the offset show up in tests.
func WithLocation(loc *time.Location) Option { return func(c *config) { c.loc = loc } }

// WithAccessTokenTTL sets how long an OAuth access token stays valid
// (default one hour). After that, calls answer 401 expired_token.
func WithAccessTokenTTL(d time.Duration) Option { return func(c *config) { c.accessTTL = d } }

// WithRefreshTokenTTL sets how long a refresh token stays valid (default 180
// days).
func WithRefreshTokenTTL(d time.Duration) Option { return func(c *config) { c.refreshTTL = d } }

// WithReusableRefreshTokens keeps a refresh token valid after it has been
// used. By default refresh tokens are single-use: each refresh returns a new
// one and invalidates the old one.
func WithReusableRefreshTokens() Option { return func(c *config) { c.reusableRefresh = true } }

// WithOperatingLimit sets the per-method operating-time budget per ten
// minutes (default 480 s, the cloud value). A method whose accumulated time
// exceeds it answers HTTP 429 OPERATION_TIME_LIMIT until its oldest
// one-minute bucket expires.
func WithOperatingLimit(d time.Duration) Option {
	return func(c *config) {
		c.operatingLimit = d
		c.operatingOn = true
	}
}

// WithoutOperatingLimit disables the operating-time limiter; answers then
// carry "operating": 0 and no operating_reset_at.
func WithoutOperatingLimit() Option { return func(c *config) { c.operatingOn = false } }

// WithMethodCost charges d of operating time to every call of method (case
// insensitive), so that tests can reach OPERATION_TIME_LIMIT without running
// slow calls. The charge also shows in time.processing. See also
// [Server.SetMethodCost].
func WithMethodCost(method string, d time.Duration) Option {
	return func(c *config) { c.methodCost[strings.ToLower(method)] = d }
}

// WithTLS serves HTTPS with a generated self-signed certificate (see
// [Server.Client] for an *http.Client that trusts it).
func WithTLS() Option { return func(c *config) { c.tls = true } }

// WithWebhookSecret sets the secret of the inbound webhook of user 1
// (random by default).
func WithWebhookSecret(secret string) Option { return func(c *config) { c.webhookSecret = secret } }

// WithApp sets the installed application's client id and secret (random by
// default).
func WithApp(clientID, clientSecret string) Option {
	return func(c *config) {
		c.clientID = clientID
		c.clientSecret = clientSecret
	}
}

// WithApplicationToken sets the application token the app's events carry
// (random by default).
func WithApplicationToken(token string) Option { return func(c *config) { c.applicationToken = token } }

// WithMemberID sets the portal's 32-hex member id (random by default).
func WithMemberID(id string) Option { return func(c *config) { c.memberID = id } }

// WithSyncDelivery delivers events caused by REST calls before the call
// answers, instead of in the background. User-action helpers such as
// [Server.SendBotMessage] always deliver synchronously.
func WithSyncDelivery() Option { return func(c *config) { c.syncDelivery = true } }

// WithDeliveryClient sets the HTTP client that delivers events (default: a
// client with a 10 s timeout).
func WithDeliveryClient(hc *http.Client) Option { return func(c *config) { c.deliveryClient = hc } }

// WithAddr makes [Start] listen on addr (for example "127.0.0.1:8080")
// instead of a random loopback port.
func WithAddr(addr string) Option { return func(c *config) { c.addr = addr } }

// WithMaxBots sets how many bots one application may register (default 5).
func WithMaxBots(n int) Option { return func(c *config) { c.maxBots = n } }

// WithScope sets the scopes granted to the app and the webhook.
func WithScope(scopes ...string) Option {
	return func(c *config) { c.scope = append([]string(nil), scopes...) }
}

// WithHTTPSWebhooks makes webhook calls over plain HTTP fail with
// INVALID_REQUEST "Https required.", as a real portal does. Off by default
// because the fake serves plain HTTP unless [WithTLS] is given.
func WithHTTPSWebhooks() Option { return func(c *config) { c.httpsWebhooks = true } }

// WithSeed runs seed when the server has started (before [Start] returns;
// its error fails Start) and again after every [Server.Reset], so a reset
// portal is back to its seeded state. cmd/fakeportal seeds its CRM items
// and list this way.
func WithSeed(seed func(*Server) error) Option { return func(c *config) { c.seed = seed } }
