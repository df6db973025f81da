package gitserver

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ProxyOptions configure StartProxy.
type ProxyOptions struct {
	// Username and Password require Proxy-Authorization (basic).
	Username, Password string
	// Dial connects to the targets (CONNECT and forwarded requests); nil dials directly.
	// Tests that give servers real host names pass their name router.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Proxy is a minimal forward proxy on 127.0.0.1: CONNECT tunnels (HTTPS) and
// absolute-URI requests (plain HTTP). It counts what it forwarded so a test
// can prove traffic went through it.
type Proxy struct {
	opts   ProxyOptions
	ln     net.Listener
	fwd    *http.Transport // own pool, and no environment proxy to chain to
	srv    *http.Server
	conns  sync.WaitGroup
	mu     sync.Mutex
	open   map[net.Conn]struct{} // tunnel ends, closed by Close
	served atomic.Int64
	denied atomic.Int64
	hosts  map[string]int64 // served per target host:port, under mu
}

// StartProxy serves a proxy on a free port of 127.0.0.1.
func StartProxy(opts ProxyOptions) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("proxy listen: %w", err)
	}
	dial := opts.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	p := &Proxy{opts: opts, ln: ln, fwd: &http.Transport{DialContext: dial}, open: map[net.Conn]struct{}{}, hosts: map[string]int64{}}
	p.srv = &http.Server{Handler: p}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// NewProxy starts a proxy for a test and closes it when the test ends.
func NewProxy(t testing.TB, opts ProxyOptions) *Proxy {
	t.Helper()
	p, err := StartProxy(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// URL is "http://127.0.0.1:<port>" (without credentials).
func (p *Proxy) URL() string { return "http://" + p.ln.Addr().String() }

// Served counts forwarded requests and tunnels.
func (p *Proxy) Served() int64 { return p.served.Load() }

// ServedTo counts the CONNECT tunnels and forwarded requests to hostPort (host:port).
func (p *Proxy) ServedTo(hostPort string) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hosts[hostPort]
}

// countHost records one tunnel or forwarded request to r's target (host:port).
func (p *Proxy) countHost(r *http.Request) {
	host := r.Host
	if r.Method != http.MethodConnect {
		host = r.URL.Host
		if r.URL.Port() == "" {
			host = net.JoinHostPort(r.URL.Hostname(), map[bool]string{true: "443", false: "80"}[r.URL.Scheme == "https"])
		}
	}
	p.mu.Lock()
	p.hosts[host]++
	p.mu.Unlock()
}

// Denied counts requests refused for missing or wrong proxy credentials.
func (p *Proxy) Denied() int64 { return p.denied.Load() }

// Close stops the proxy and its tunnels.
func (p *Proxy) Close() error {
	err := p.srv.Close()
	p.fwd.CloseIdleConnections()
	p.mu.Lock()
	for c := range p.open {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.conns.Wait()
	return err
}

func (p *Proxy) track(conns ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		p.open[c] = struct{}{}
	}
}

func (p *Proxy) untrack(conns ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		delete(p.open, c)
	}
}

func (p *Proxy) authorized(r *http.Request) bool {
	if p.opts.Username == "" && p.opts.Password == "" {
		return true
	}
	v, ok := strings.CutPrefix(r.Header.Get("Proxy-Authorization"), "Basic ")
	if !ok {
		return false
	}
	raw, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return false
	}
	return equal(string(raw), p.opts.Username+":"+p.opts.Password)
}

// ServeHTTP tunnels CONNECT requests and forwards the rest.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !p.authorized(r) {
		p.denied.Add(1)
		w.Header().Set("Proxy-Authenticate", `Basic realm="proxy"`)
		http.Error(w, "proxy authentication required", http.StatusProxyAuthRequired)
		return
	}
	if r.Method == http.MethodConnect {
		p.tunnel(w, r)
		return
	}
	if !r.URL.IsAbs() {
		http.Error(w, "not a proxy request", http.StatusBadRequest)
		return
	}
	p.served.Add(1)
	p.countHost(r)
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.Header.Del("Proxy-Authorization")
	out.Header.Del("Proxy-Connection")
	resp, err := p.fwd.RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

func (p *Proxy) tunnel(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	upstream, err := p.fwd.DialContext(ctx, "tcp", r.Host)
	cancel()
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		_ = upstream.Close()
		http.Error(w, "hijacking unsupported", http.StatusInternalServerError)
		return
	}
	client, buf, err := hj.Hijack()
	if err != nil {
		_ = upstream.Close()
		return
	}
	p.served.Add(1)
	p.countHost(r)
	p.track(client, upstream)
	_, _ = client.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
	p.conns.Add(2)
	go func() {
		defer p.conns.Done()
		_, _ = io.Copy(upstream, buf) // buf may hold bytes already read
		closeWrite(upstream)
	}()
	go func() {
		defer p.conns.Done()
		_, _ = io.Copy(client, upstream)
		_ = client.Close()
		_ = upstream.Close()
		p.untrack(client, upstream)
	}()
}

func closeWrite(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
		return
	}
	_ = c.Close()
}
