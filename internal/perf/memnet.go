package perf

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// Network is an in-memory network for one HTTP server: connections are
// net.Pipe pairs, so nothing touches the operating system. Inside a
// testing/synctest bubble every goroutine blocked on it is durably blocked,
// which lets the bubble's clock advance (real sockets would not).
//
// Build it inside the bubble, then use [Network.Transport] for clients.
type Network struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
	srv    *http.Server
	tr     *http.Transport
}

// Serve starts serving h on a new in-memory network. Call Close when done
// (it closes the server, its connections and the transport's idle
// connections, so that no goroutine is left behind).
func Serve(h http.Handler) *Network {
	n := &Network{conns: make(chan net.Conn), closed: make(chan struct{})}
	n.srv = &http.Server{Handler: h, ReadHeaderTimeout: time.Minute}
	n.tr = &http.Transport{
		DialContext:         n.dial,
		MaxIdleConnsPerHost: 256,
		ForceAttemptHTTP2:   false,
	}
	go func() { _ = n.srv.Serve(listener{n}) }()
	return n
}

// Transport returns an *http.Transport that dials the in-memory server,
// whatever the URL's host.
func (n *Network) Transport() *http.Transport { return n.tr }

// Client returns an *http.Client over Transport.
func (n *Network) Client() *http.Client { return &http.Client{Transport: n.tr} }

// Close shuts the server down and closes every connection. It first lets
// handlers still running finish (up to a minute), so that no handler is
// left waiting, for example in the fake portal's latency, for a client that
// went away before its request body was read: inside a synctest bubble
// that minute is virtual.
func (n *Network) Close() {
	n.once.Do(func() { close(n.closed) })
	n.tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	_ = n.srv.Shutdown(ctx)
	cancel()
	_ = n.srv.Close()
	n.tr.CloseIdleConnections()
}

var errClosed = errors.New("perf: in-memory network closed")

func (n *Network) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	c, s := net.Pipe()
	select {
	case n.conns <- s:
		return c, nil
	case <-ctx.Done():
		return nil, &net.OpError{Op: "dial", Net: "pipe", Err: ctx.Err()}
	case <-n.closed:
		return nil, &net.OpError{Op: "dial", Net: "pipe", Err: errClosed}
	}
}

type listener struct{ n *Network }

func (l listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.n.conns:
		return c, nil
	case <-l.n.closed:
		return nil, net.ErrClosed
	}
}

func (l listener) Close() error {
	l.n.once.Do(func() { close(l.n.closed) })
	return nil
}

func (l listener) Addr() net.Addr { return pipeAddr{} }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }
