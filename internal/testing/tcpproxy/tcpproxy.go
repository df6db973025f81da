// Package tcpproxy is a TCP pass-through on 127.0.0.1 in front of a server a test cannot stop
// and restart at will (an API server of a spoke cluster): Cut makes the server unreachable the
// way a network outage does (open connections reset, new ones refused), Restore brings it
// back on the same address, and Connections counts the connections clients opened, so a test
// can tell one long-lived client from one per request.
package tcpproxy

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// Proxy forwards every connection to its listening address to a backend address.
type Proxy struct {
	backend string
	addr    string

	mu    sync.Mutex
	ln    net.Listener // nil while cut
	open  map[net.Conn]struct{}
	conns atomic.Int64
}

// Start listens on a free port of 127.0.0.1 and forwards to backend ("host:port").
func Start(backend string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{backend: backend, addr: ln.Addr().String(), open: map[net.Conn]struct{}{}}
	p.serve(ln)
	return p, nil
}

// New starts a proxy for a test and closes it when the test ends.
func New(t testing.TB, backend string) *Proxy {
	t.Helper()
	p, err := Start(backend)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Cut)
	return p
}

// Addr is "127.0.0.1:<port>", the same before and after a Cut.
func (p *Proxy) Addr() string { return p.addr }

// Connections is how many connections clients opened through the proxy so far.
func (p *Proxy) Connections() int64 { return p.conns.Load() }

// Cut stops listening and closes every open connection: clients see resets, then refused
// connections, until Restore.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c := range p.open {
		_ = c.Close()
	}
	clear(p.open)
}

// Restore listens again on the proxy's address.
func (p *Proxy) Restore() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return err
	}
	p.serveLocked(ln)
	return nil
}

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.serveLocked(ln)
}

// serveLocked accepts on ln until it is closed; p.mu is held.
func (p *Proxy) serveLocked(ln net.Listener) {
	p.ln = ln
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.conns.Add(1)
			go p.forward(ln, c)
		}
	}()
}

// forward copies both ways between client c and a new connection to the backend.
func (p *Proxy) forward(ln net.Listener, c net.Conn) {
	b, err := net.Dial("tcp", p.backend)
	if err != nil {
		_ = c.Close()
		return
	}
	p.mu.Lock()
	if p.ln != ln { // cut while dialing
		p.mu.Unlock()
		_ = c.Close()
		_ = b.Close()
		return
	}
	p.open[c], p.open[b] = struct{}{}, struct{}{}
	p.mu.Unlock()
	var wg sync.WaitGroup
	pipe := func(dst, src net.Conn) {
		defer wg.Done()
		_, err := io.Copy(dst, src)
		if err != nil && !errors.Is(err, net.ErrClosed) {
			_ = dst.Close()
		}
		// Half-close so the other direction can finish its response.
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
	}
	wg.Add(2)
	go pipe(b, c)
	go pipe(c, b)
	wg.Wait()
	_ = c.Close()
	_ = b.Close()
	p.mu.Lock()
	delete(p.open, c)
	delete(p.open, b)
	p.mu.Unlock()
}
