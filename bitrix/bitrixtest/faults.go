package bitrixtest

import (
	"math/rand"
	"net/http"
	"strings"
	"sync"
	"time"
)

// FaultKind says what an injected fault does.
type FaultKind int

// Fault kinds.
const (
	// FaultError answers an error envelope with the fault's status and code
	// without running the method.
	FaultError FaultKind = iota
	// FaultDropBefore closes the connection before the request is processed
	// (nothing happened on the portal).
	FaultDropBefore
	// FaultDropAfter processes the request and then closes the connection
	// without answering, so the client cannot know the outcome.
	FaultDropAfter
	// FaultHTML502 answers HTTP 502 with an HTML page, as a proxy in front of
	// the portal does.
	FaultHTML502
	// FaultHTML500 processes the request and then answers HTTP 500 with an
	// HTML page instead of the JSON envelope, as the portal's front end does
	// when the application fails (the documented 500 INTERNAL_SERVER_ERROR,
	// https://apidocs.bitrix24.com/error-codes.html, is the JSON form). The
	// method may have run, so a client must treat a write as maybe applied.
	FaultHTML500
)

// String names the kind.
func (k FaultKind) String() string {
	switch k {
	case FaultError:
		return "error"
	case FaultDropBefore:
		return "drop-before"
	case FaultDropAfter:
		return "drop-after"
	case FaultHTML502:
		return "html-502"
	case FaultHTML500:
		return "html-500"
	}
	return "unknown"
}

// Fault is one injected failure. It applies to the next Times requests
// (Times <= 0: every request until [Server.ClearFaults]) whose method is
// Method (case insensitive; "" = any method). The token endpoint's method
// name is "oauth.token". A FaultError aimed at a method also hits that
// method's commands inside a batch (their errors go to result_error).
type Fault struct {
	Kind        FaultKind
	Method      string
	Status      int    // FaultError: HTTP status (default 500)
	Code        string // FaultError: error code (default INTERNAL_SERVER_ERROR)
	Description string // FaultError: error_description
	Times       int
	Latency     time.Duration // extra delay before the fault takes effect
}

// htmlPages are the front end's error pages of FaultHTML502 (a proxy's,
// nginx) and FaultHTML500.
var htmlPages = map[int]string{
	http.StatusBadGateway:          "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
	http.StatusInternalServerError: "<html>\r\n<head><title>500 Internal Server Error</title></head>\r\n<body>\r\n<center><h1>500 Internal Server Error</h1></center>\r\n</body>\r\n</html>\r\n",
}

// writeHTMLPage answers status with its HTML error page.
func writeHTMLPage(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(htmlPages[status]))
}

// Error names the fault's kind. A [MethodFunc] may return a Fault as its
// error to break the answer the way the fault does.
func (f Fault) Error() string { return "bitrixtest: fault " + f.Kind.String() }

func (f *Fault) apiError() *APIError {
	st, code, desc := f.Status, f.Code, f.Description
	if st == 0 {
		st = 500
	}
	if code == "" {
		code = "INTERNAL_SERVER_ERROR"
	}
	if desc == "" {
		desc = "Injected fault"
	}
	return &APIError{StatusCode: st, Code: code, Description: desc}
}

type faultState struct {
	mu       sync.Mutex
	list     []*Fault
	latency  time.Duration
	rate     float64
	rng      *rand.Rand
	kinds    []FaultKind
	injected int
}

func newFaultState() *faultState { return &faultState{} }

func (fs *faultState) take(i int) *Fault {
	f := fs.list[i]
	cp := *f
	if f.Times > 0 {
		f.Times--
		if f.Times == 0 {
			fs.list = append(fs.list[:i], fs.list[i+1:]...)
		}
	}
	fs.injected++
	return &cp
}

// pick returns the fault for an HTTP request to method, if any.
func (fs *faultState) pick(method string) *Fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i, f := range fs.list {
		if f.Method == "" || strings.EqualFold(f.Method, method) {
			return fs.take(i)
		}
	}
	if fs.rate > 0 && fs.rng.Float64() < fs.rate {
		k := FaultError
		if len(fs.kinds) > 0 {
			k = fs.kinds[fs.rng.Intn(len(fs.kinds))]
		}
		fs.injected++
		return &Fault{Kind: k}
	}
	return nil
}

func (fs *faultState) getLatency() time.Duration {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.latency
}

// pickMethodError returns a FaultError aimed at method for a batch command.
func (fs *faultState) pickMethodError(method string, inBatch bool) *Fault {
	if !inBatch {
		return nil
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i, f := range fs.list {
		if f.Kind == FaultError && f.Method != "" && strings.EqualFold(f.Method, method) {
			return fs.take(i)
		}
	}
	return nil
}

// InjectFault adds f to the queue of faults; faults are matched in the
// order they were added.
func (s *Server) InjectFault(f Fault) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.list = append(s.faults.list, &f)
}

// FailNext makes the next n REST requests answer status with the error code
// (e.g. 503 "QUERY_LIMIT_EXCEEDED", 401 "expired_token").
func (s *Server) FailNext(n, status int, code string) {
	s.InjectFault(Fault{Kind: FaultError, Status: status, Code: code, Description: describe(code), Times: max(n, 1)})
}

// FailMethod makes the next n calls of method (n <= 0: all of them) answer
// status with the error code, also inside batches.
func (s *Server) FailMethod(method string, n, status int, code string) {
	s.InjectFault(Fault{Kind: FaultError, Method: method, Status: status, Code: code, Description: describe(code), Times: n})
}

// DropBeforeProcessing closes the connection of the next n REST requests
// before they are processed.
func (s *Server) DropBeforeProcessing(n int) {
	s.InjectFault(Fault{Kind: FaultDropBefore, Times: max(n, 1)})
}

// DropAfterProcessing processes the next n REST requests and then closes
// their connections without answering.
func (s *Server) DropAfterProcessing(n int) {
	s.InjectFault(Fault{Kind: FaultDropAfter, Times: max(n, 1)})
}

// HTML502 makes the next n REST requests answer a proxy's HTML 502 page.
func (s *Server) HTML502(n int) {
	s.InjectFault(Fault{Kind: FaultHTML502, Times: max(n, 1)})
}

// HTML500 makes the next n REST requests run and then answer an HTML 500
// page (see [FaultHTML500]).
func (s *Server) HTML500(n int) {
	s.InjectFault(Fault{Kind: FaultHTML500, Times: max(n, 1)})
}

// Latency adds d of network latency to every REST request (0 turns it
// off), like [WithLatency].
func (s *Server) Latency(d time.Duration) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.latency = d
}

// FaultRate makes each REST request fail with probability p, choosing the
// kind uniformly from kinds (default [FaultError], which answers 500
// INTERNAL_SERVER_ERROR). The random source is seeded with seed, so a run is
// reproducible for the same request order. p = 0 turns it off.
func (s *Server) FaultRate(p float64, seed int64, kinds ...FaultKind) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.rate = p
	s.faults.rng = rand.New(rand.NewSource(seed))
	s.faults.kinds = append([]FaultKind(nil), kinds...)
}

// ClearFaults removes all injected faults and the fault rate. The latency
// stays; set it with [Server.Latency].
func (s *Server) ClearFaults() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.list = nil
	s.faults.rate = 0
}

// FaultsInjected reports how many faults have fired so far.
func (s *Server) FaultsInjected() int {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	return s.faults.injected
}

var descriptions = map[string]string{
	"QUERY_LIMIT_EXCEEDED":  "Too many requests",
	"OPERATION_TIME_LIMIT":  "Method is blocked due to operation time limit.",
	"expired_token":         "The access token provided has expired.",
	"invalid_token":         "Unable to authorize user",
	"NO_AUTH_FOUND":         "Wrong authorization data",
	"INTERNAL_SERVER_ERROR": "Internal server error",
	"ACCESS_DENIED":         "Access denied!",
	"insufficient_scope":    "The request requires higher privileges than provided by the access token",
	"OVERLOAD_LIMIT":        "REST API is blocked due to overload.",
	"ERROR_CORE":            "Internal error",
	"PAYMENT_REQUIRED":      "Payment required",
}

func describe(code string) string {
	if d, ok := descriptions[code]; ok {
		return d
	}
	return "Injected fault"
}
