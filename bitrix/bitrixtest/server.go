package bitrixtest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	mrand "math/rand"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/b24go/sdk/internal/phpform"
)

// Server is an in-memory Bitrix24 portal listening on loopback. All methods
// are safe for concurrent use.
type Server struct {
	cfg  config
	hs   *httptest.Server
	base string
	app  App

	requests atomic.Int64

	mu          sync.Mutex
	clockOffset time.Duration
	fixedNow    *time.Time
	closed      bool

	// auth
	webhooks  map[string]*webhook // by secret
	tokens    map[string]*accessToken
	refreshes map[string]*refreshToken
	codes     map[string]*authCode
	installed bool
	nRefresh  int

	// limits
	bucketLevel float64
	bucketAt    time.Time
	operating   map[opKey]*opBuckets

	// data
	users  map[int]*user
	nextID map[string]int
	crm    *crmStore
	lists  *listStore
	im     *imStore
	v2     *imv2Store // imbot.v2 (imbotv2.go)
	ev     *eventStore

	// methods is this server's method table: the built-ins, then stubs
	// ([Server.Handle]). Keys are lower case.
	methods map[string]methodSpec

	// inspection and faults
	calls  []Call
	faults *faultState

	deliv     deliveryLog
	delivWG   sync.WaitGroup
	delivHTTP *http.Client

	ctl ctlState // control API (control.go)
}

// App describes the OAuth application installed on the portal.
type App struct {
	ClientID         string
	ClientSecret     string
	ApplicationToken string
	MemberID         string
	Domain           string // "127.0.0.1:port"
	ClientEndpoint   string // URL()+"/rest/"
	ServerEndpoint   string // URL()+"/oauth/rest/": REST root of the fake's OAuth server (mounted at URL()+"/oauth")
	TokenURL         string // URL()+"/oauth/oauth/token/": ServerEndpoint minus "rest/" plus "oauth/token/"
}

// String redacts the secrets of the app.
func (a App) String() string {
	return fmt.Sprintf("bitrixtest.App{ClientID:%q, Domain:%q, ClientSecret:[REDACTED], ApplicationToken:[REDACTED]}", a.ClientID, a.Domain)
}

// GoString redacts the secrets of the app.
func (a App) GoString() string { return a.String() }

// Tokens is an OAuth token pair issued by the portal.
type Tokens struct {
	AccessToken    string
	RefreshToken   string
	Expires        time.Time
	MemberID       string
	Domain         string // portal host
	ClientEndpoint string
	ServerEndpoint string
	Scope          string
	UserID         int
}

// String redacts the tokens.
func (t Tokens) String() string {
	return fmt.Sprintf("bitrixtest.Tokens{UserID:%d, Domain:%q, Expires:%s, AccessToken:[REDACTED], RefreshToken:[REDACTED]}", t.UserID, t.Domain, t.Expires.Format(time.RFC3339))
}

// GoString redacts the tokens.
func (t Tokens) GoString() string { return t.String() }

type webhook struct {
	userID int
	secret string
}

// NewServer starts a portal for a test and closes it when the test ends.
// It fails the test if the server cannot start.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := Start(opts...)
	if err != nil {
		t.Fatalf("bitrixtest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts a portal for a program. Call Close when done.
func Start(opts ...Option) (*Server, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, fmt.Errorf("bitrixtest: %w", err)
		}
	}
	if cfg.webhookSecret == "" {
		cfg.webhookSecret = randHex(8)
	}
	if cfg.clientID == "" {
		cfg.clientID = "local." + randHex(7) + "." + strconv.Itoa(10000000+int(randUint32()%89999999))
	}
	if cfg.clientSecret == "" {
		cfg.clientSecret = randHex(25)
	}
	if cfg.applicationToken == "" {
		cfg.applicationToken = randHex(16)
	}
	if cfg.memberID == "" {
		cfg.memberID = randHex(16)
	}
	s := &Server{
		cfg:       cfg,
		webhooks:  map[string]*webhook{},
		tokens:    map[string]*accessToken{},
		refreshes: map[string]*refreshToken{},
		codes:     map[string]*authCode{},
		installed: true,
		operating: map[opKey]*opBuckets{},
		users:     map[int]*user{},
		nextID:    map[string]int{},
		faults:    newFaultState(),
		methods:   newMethodTable(),
	}
	s.faults.latency = cfg.latency
	s.webhooks[cfg.webhookSecret] = &webhook{userID: 1, secret: cfg.webhookSecret}
	s.seedUsers()
	s.crm = newCRMStore()
	s.lists = newListStore()
	s.im = newIMStore()
	s.v2 = newIMV2Store()
	s.ev = newEventStore()
	s.delivHTTP = cfg.deliveryClient

	hs := httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	if cfg.addr != "" {
		l, err := net.Listen("tcp", cfg.addr)
		if err != nil {
			return nil, fmt.Errorf("bitrixtest: listen on %s: %w", cfg.addr, err)
		}
		hs.Listener.Close()
		hs.Listener = l
	}
	if cfg.tls {
		hs.StartTLS()
	} else {
		hs.Start()
	}
	s.hs = hs
	s.base = hs.URL
	if s.delivHTTP == nil {
		s.delivHTTP = &http.Client{Timeout: 10 * time.Second}
		if cfg.tls {
			// Deliveries to handlers served by the same test TLS setup
			// should work; handlers elsewhere use the default roots.
			s.delivHTTP = &http.Client{Timeout: 10 * time.Second, Transport: hs.Client().Transport}
		}
	}
	host := strings.TrimPrefix(strings.TrimPrefix(s.base, "http://"), "https://")
	s.app = App{
		ClientID:         cfg.clientID,
		ClientSecret:     cfg.clientSecret,
		ApplicationToken: cfg.applicationToken,
		MemberID:         cfg.memberID,
		Domain:           host,
		ClientEndpoint:   s.base + "/rest/",
		ServerEndpoint:   s.base + oauthServerRoot + "rest/",
		TokenURL:         s.base + oauthServerRoot + "oauth/token/",
	}
	if cfg.seed != nil {
		if err := cfg.seed(s); err != nil {
			s.Close()
			return nil, fmt.Errorf("bitrixtest: seed: %w", err)
		}
	}
	return s, nil
}

// Close shuts the server down, waiting for background event deliveries.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	s.delivWG.Wait()
	s.hs.CloseClientConnections()
	s.hs.Close()
}

// URL returns the portal's base URL, "http://127.0.0.1:port".
func (s *Server) URL() string { return s.base }

// Domain returns the portal host, "127.0.0.1:port".
func (s *Server) Domain() string { return s.app.Domain }

// WebhookURL returns the inbound webhook URL of user 1 (an administrator):
// URL()+"/rest/1/<secret>/".
func (s *Server) WebhookURL() string { return s.base + "/rest/1/" + s.cfg.webhookSecret + "/" }

// WebhookSecret returns the secret part of [Server.WebhookURL].
func (s *Server) WebhookSecret() string { return s.cfg.webhookSecret }

// AddWebhook creates an inbound webhook for userID and returns its URL.
func (s *Server) AddWebhook(userID int) string {
	secret := randHex(8)
	s.mu.Lock()
	s.webhooks[secret] = &webhook{userID: userID, secret: secret}
	s.ensureUser(userID)
	s.mu.Unlock()
	return s.base + "/rest/" + strconv.Itoa(userID) + "/" + secret + "/"
}

// App returns the OAuth application installed on the portal.
func (s *Server) App() App { return s.app }

// Client returns an *http.Client that trusts the server's certificate
// (useful with [WithTLS]).
func (s *Server) Client() *http.Client { return s.hs.Client() }

// Handler returns the portal's http.Handler, the one its listener serves.
// Use it for in-memory transports, for example with testing/synctest, where
// real network I/O would keep the bubble's clock from advancing. Requests
// served through it are counted, limited and logged like any other.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Now returns the portal's current time.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now()
}

// Advance moves the portal's clock forward by d (token expiry, rate-limit
// drain and operating-time windows all follow it).
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fixedNow != nil {
		t := s.fixedNow.Add(d)
		s.fixedNow = &t
		return
	}
	s.clockOffset += d
}

// SetTime freezes the portal's clock at t; [Server.Advance] moves it.
func (s *Server) SetTime(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fixedNow = &t
}

func (s *Server) now() time.Time {
	if s.fixedNow != nil {
		return *s.fixedNow
	}
	return s.cfg.now().Add(s.clockOffset)
}

// SetMethodCost changes the operating time charged per call of method, like
// [WithMethodCost].
func (s *Server) SetMethodCost(method string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.methodCost[strings.ToLower(method)] = d
}

// SetRateLimit changes the leaky bucket at run time; perSecond <= 0 turns
// it off.
func (s *Server) SetRateLimit(perSecond float64, burst int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.rateLimit = perSecond > 0 && burst > 0
	s.cfg.ratePerSecond, s.cfg.rateBurst = perSecond, burst
	s.bucketLevel = 0
}

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func randUint32() uint32 {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

var _ = mrand.New // keep math/rand for fault RNG (faults.go)

// ---- HTTP entry point ----

const maxBody = 32 << 20

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	defer s.ctl.notify() // wake control-API readers waiting for a change
	path := r.URL.Path
	switch {
	case strings.HasPrefix(path, controlPrefix):
		s.serveControl(w, r)
	case strings.HasPrefix(path, oauthServerRoot+"oauth/token"), strings.HasPrefix(path, "/oauth/token"):
		s.serveToken(w, r)
	case strings.HasPrefix(path, "/oauth/authorize"):
		s.serveAuthorize(w, r)
	case strings.HasPrefix(path, oauthServerRoot+"rest/"):
		s.serveREST(w, r, strings.TrimPrefix(path, oauthServerRoot+"rest/"))
	case strings.HasPrefix(path, "/rest/"):
		s.serveREST(w, r, strings.TrimPrefix(path, "/rest/"))
	default:
		http.NotFound(w, r)
	}
}

// readParams decodes query and body the way CRestUtil::getRequestData does:
// body keys replace query keys at the top level; invalid JSON is no params.
func readParams(r *http.Request) (*phpform.Map, error) {
	q, err := phpform.Parse(r.URL.RawQuery)
	if err != nil {
		return nil, err
	}
	if r.Method != http.MethodPost && r.Method != http.MethodPut {
		return q, nil
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var body *phpform.Map
	switch ct {
	case "multipart/form-data":
		if err := r.ParseMultipartForm(maxBody); err != nil {
			return nil, err
		}
		body, err = phpform.FromValues(r.MultipartForm.Value)
		if err != nil {
			return nil, err
		}
	default:
		raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
		if err != nil {
			return nil, err
		}
		if ct == "application/json" {
			tree, jerr := phpform.ParseJSON(raw)
			if m, ok := tree.(*phpform.Map); ok && jerr == nil {
				body = m
			} else if jerr != nil && (errors.Is(jerr, phpform.ErrTooDeep) || errors.Is(jerr, phpform.ErrTooManyPairs)) {
				return nil, jerr
			}
		} else {
			body, err = phpform.Parse(string(raw))
			if err != nil {
				return nil, err
			}
		}
	}
	for _, k := range body.Keys() {
		v, _ := body.Get(k)
		q.Set(k, v)
	}
	return q, nil
}

// ---- envelopes ----

// APIError is an error answer of the portal: the envelope
// {"error": Code, "error_description": Description} with HTTP status
// StatusCode, plus "argument" when Argument is set (ERROR_ARGUMENT). The
// field names are those of the client's bitrix.APIError, which parses this
// envelope. A [MethodFunc] returns one to answer an error; inside a batch
// it lands in result_error.
type APIError struct {
	StatusCode  int    // HTTP status; 0 means 400
	Code        string // error code; legacy CRM methods send ""
	Description string // error_description
	Argument    string // "argument" key of ERROR_ARGUMENT errors, when set
}

// Error returns "CODE: description".
func (e *APIError) Error() string { return e.Code + ": " + e.Description }

func errf(status int, code, format string, args ...any) *APIError {
	return &APIError{StatusCode: status, Code: code, Description: fmt.Sprintf(format, args...)}
}

func errArgument(name string) *APIError {
	return &APIError{StatusCode: 400, Code: "ERROR_ARGUMENT", Description: fmt.Sprintf("Argument '%s' is null or empty", name), Argument: name}
}

func (e *APIError) body() map[string]any {
	m := map[string]any{"error": e.Code, "error_description": e.Description}
	if e.Argument != "" {
		m["argument"] = e.Argument
	}
	return m
}

// timeBlock is the "time" object of every answer.
type timeBlock struct {
	Start            float64 `json:"start"`
	Finish           float64 `json:"finish"`
	Duration         float64 `json:"duration"`
	Processing       float64 `json:"processing"`
	DateStart        string  `json:"date_start"`
	DateFinish       string  `json:"date_finish"`
	OperatingResetAt *int64  `json:"operating_reset_at,omitempty"`
	Operating        float64 `json:"operating"`
}

func (s *Server) makeTime(start time.Time, processing time.Duration, op float64, resetAt *int64) timeBlock {
	finish := start.Add(processing)
	return timeBlock{
		Start:            unixFloat(start),
		Finish:           unixFloat(finish),
		Duration:         finish.Sub(start).Seconds(),
		Processing:       processing.Seconds(),
		DateStart:        start.In(s.cfg.loc).Format(time.RFC3339),
		DateFinish:       finish.In(s.cfg.loc).Format(time.RFC3339),
		OperatingResetAt: resetAt,
		Operating:        op,
	}
}

func unixFloat(t time.Time) float64 {
	return math.Round(float64(t.UnixNano())/1e3) / 1e6
}

func drainBody(res *http.Response) (int64, error) {
	defer res.Body.Close()
	return io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20))
}
