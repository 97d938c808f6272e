package bitrixtest

import (
	"strings"
	"time"
)

// Call is one entry of the portal's call log.
type Call struct {
	Method   string         // lower-case method name ("oauth.token" for the token endpoint)
	Params   map[string]any // decoded parameters without credentials (phpform.Plain shape)
	AuthKind AuthKind
	UserID   int
	Status   int    // HTTP status (200 for commands inside a batch, which always answer 200)
	Code     string // error code, "" on success
	InBatch  bool   // a command inside a batch
	Time     time.Time
}

// Calls returns a copy of the call log, oldest first; given method names
// (case insensitive), only the calls of those methods, top level or inside
// a batch. A batch is logged before its commands.
func (s *Server) Calls(methods ...string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(methods) == 0 {
		return append([]Call(nil), s.calls...)
	}
	var out []Call
	for _, c := range s.calls {
		for _, m := range methods {
			if strings.EqualFold(c.Method, m) {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// CallCount reports how many calls of method (case insensitive), top level
// or inside a batch, have been logged.
func (s *Server) CallCount(method string) int {
	method = strings.ToLower(method)
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if c.Method == method {
			n++
		}
	}
	return n
}

// ResetCalls empties the call log.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

// Requests reports how many HTTP requests the server has received (REST,
// token endpoint and anything else).
func (s *Server) Requests() int { return int(s.requests.Load()) }
