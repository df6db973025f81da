package cloudapi

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"gotk.dev/internal/testing/pki"
)

// Front stands in for cloud registry hosts (ACR, ECR, Artifact Registry names): HTTPS with a
// certificate for those names, ACR's token exchange, everything else passed to a real
// registry. Route its names with RouteHost.
type Front struct {
	counter
	// Addr is 127.0.0.1:port.
	Addr string
	// CAPEM is the CA of its certificate (a certSecretRef's ca.crt).
	CAPEM []byte
	// ACRAccessToken is the Entra ID token the exchange takes; ACRRefreshToken what it gives.
	ACRAccessToken, ACRRefreshToken string
}

// StartFront runs a front for hosts, passing registry requests to upstream
// (http://127.0.0.1:port), until the end of the test.
func StartFront(t testing.TB, upstream string, hosts ...string) *Front {
	certs, err := pki.NewForHosts("gotk test cloud registry", hosts...)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	f := &Front{CAPEM: certs.CAPEM}
	proxy := httputil.NewSingleHostReverseProxy(u)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth2/exchange", f.exchange)
	mux.Handle("/", proxy)
	srv := httptest.NewUnstartedServer(mux)
	if srv.TLS, err = certs.ServerConfig(false); err != nil {
		t.Fatal(err)
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	f.Addr = srv.Listener.Addr().String()
	for _, h := range hosts {
		RouteHost(h, f.Addr)
	}
	return f
}

// exchange is ACR's POST /oauth2/exchange (grant_type access_token).
func (f *Front) exchange(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	p := r.PostForm
	host, _, _ := strings.Cut(r.Host, ":")
	if f.ACRAccessToken == "" || p.Get("grant_type") != "access_token" || p.Get("access_token") != f.ACRAccessToken || p.Get("service") != host {
		oauthError(w, http.StatusUnauthorized, "unauthorized", "the access token is not valid for this registry")
		return
	}
	f.add(func(c *Counts) { c.ACRExchange++ })
	writeJSON(w, map[string]string{"refresh_token": f.ACRRefreshToken})
}

var (
	routeMu     sync.Mutex
	routes      = map[string]string{}
	installOnce sync.Once
)

// InstallHostRouter makes go-containerregistry's default transport (which every registry
// client clones) and net/http's (which go-git's HTTP transport clones) dial the addresses
// RouteHost registered for a host name instead of resolving it. Call it once, before any
// client is built (TestMain); names not routed dial as before.
func InstallHostRouter() {
	installOnce.Do(func() {
		for _, tr := range []*http.Transport{remote.DefaultTransport.(*http.Transport), http.DefaultTransport.(*http.Transport)} {
			dial := tr.DialContext
			if dial == nil {
				dial = (&net.Dialer{}).DialContext
			}
			tr.DialContext = routedDial(dial)
		}
	})
}

// routedDial dials the address RouteHost registered for addr's host, else addr.
func routedDial(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		routeMu.Lock()
		to, ok := routes[addr]
		routeMu.Unlock()
		if ok {
			addr = to
		}
		return dial(ctx, network, addr)
	}
}

// DialContext dials like net.Dialer, to the address RouteHost registered for addr's host
// when there is one: for servers that connect onwards (a forward proxy's Dial).
func DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return routedDial((&net.Dialer{}).DialContext)(ctx, network, addr)
}

// RouteHost sends connections for host:443 to addr (after InstallHostRouter).
func RouteHost(host, addr string) {
	routeMu.Lock()
	defer routeMu.Unlock()
	routes[host+":443"] = addr
}
