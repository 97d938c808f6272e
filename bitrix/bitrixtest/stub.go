package bitrixtest

import "strings"

// Handle makes fn the implementation of method (case insensitive) on this
// server: a method the fake does not model (which answers
// ERROR_METHOD_NOT_FOUND until then), or a built-in one, which fn replaces
// for this server only. Handle(method, nil) removes the stub and restores
// the built-in method, if there is one. Handle panics if method is empty.
//
// A stub runs where a built-in method runs: after authentication, the rate
// limit, injected faults and the operating-time limit; its calls are logged
// ([Server.Calls]); inside a batch it is a command like any other, and later
// commands reference its result with $result[key][...]. A stub that
// replaces a built-in method keeps that method's scope and auth-kind checks
// (facts about the portal the fake knows); a stub of a method the fake does
// not model answers every authenticated caller, since the fake does not
// know that method's scope: look at [Request.Caller] in fn to refuse one.
func (s *Server) Handle(method string, fn MethodFunc) {
	name := strings.ToLower(strings.TrimSpace(method))
	if name == "" {
		panic("bitrixtest: Handle needs a method name")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, builtin := builtins[name]
	switch {
	case fn == nil && builtin:
		s.methods[name] = b
	case fn == nil:
		delete(s.methods, name)
	default:
		b.h = fn // scope and appOnly stay those of the built-in, if any
		s.methods[name] = b
	}
}

// Stub scripts the answer of one method; see [Server.On].
type Stub struct {
	s      *Server
	method string
}

// On starts a stub of method: On(method).Return(v) answers v to every
// call, On(method).Fail(code, description) an error. It is shorthand for
// [Server.Handle], with the same rules.
func (s *Server) On(method string) *Stub { return &Stub{s: s, method: method} }

// Return makes every call of the method answer result v (encoded as
// encoding/json encodes it).
func (st *Stub) Return(v any) {
	st.s.Handle(st.method, func(*Request) (Result, error) { return Result{Value: v}, nil })
}

// Fail makes every call of the method answer the error envelope
// {"error": code, "error_description": description} with HTTP status 400;
// return an [*APIError] from a [MethodFunc] for another status.
func (st *Stub) Fail(code, description string) {
	st.s.Handle(st.method, func(*Request) (Result, error) {
		return Result{}, &APIError{StatusCode: 400, Code: code, Description: description}
	})
}
