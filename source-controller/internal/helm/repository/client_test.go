package repository

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"gotk.dev/source-controller/internal/helm"

	"gotk.dev/internal/testing/helmrepo"
)

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newClient(t *testing.T, opts ClientOptions) *Client {
	t.Helper()
	c, err := NewClient(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// podinfoRepo serves podinfo at three versions.
func podinfoRepo(t *testing.T, opts helmrepo.Options) (*helmrepo.Server, map[string][]byte) {
	t.Helper()
	r := helmrepo.New(t, opts)
	charts := map[string][]byte{}
	for _, v := range []string{"6.0.0", "6.1.0", "6.2.0"} {
		charts[v] = helmrepo.Package(t, helmrepo.PodinfoDir(), "", v)
		r.AddChart(t, charts[v])
	}
	return r, charts
}

func TestFetchIndexAndDownload(t *testing.T) {
	t.Parallel()
	r, charts := podinfoRepo(t, helmrepo.Options{})
	c := newClient(t, ClientOptions{URL: r.URL})
	ctx := testContext(t)

	idx, err := c.FetchIndex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(idx.Revision, "sha256:") || len(idx.Revision) != len("sha256:")+64 {
		t.Fatalf("revision = %q", idx.Revision)
	}
	if idx.FetchedSize != int64(len(r.IndexYAML(t))) {
		t.Errorf("FetchedSize = %d, want %d", idx.FetchedSize, len(r.IndexYAML(t)))
	}
	again, err := c.FetchIndex(ctx)
	if err != nil || again.Revision != idx.Revision {
		t.Fatalf("second fetch: revision %v, %v; want %s", again.Revision, err, idx.Revision)
	}

	cr := &ChartRepository{Client: c, Index: idx.File}
	cv, err := cr.GetChartVersion(ctx, "podinfo", "6.1.x")
	if err != nil {
		t.Fatal(err)
	}
	if cv.URLs[0] != "charts/podinfo-6.1.0.tgz" {
		t.Fatalf("index URL = %s, want a relative URL", cv.URLs[0])
	}
	data, err := cr.DownloadChart(ctx, cv)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, charts["6.1.0"]) {
		t.Fatal("downloaded chart differs from the served one")
	}
}

func TestIndexURLJoinKeepsPathAndQuery(t *testing.T) {
	t.Parallel()
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.RequestURI()
		_, _ = w.Write([]byte("apiVersion: v1\nentries: {}\n"))
	}))
	t.Cleanup(srv.Close)
	for _, base := range []string{srv.URL + "/sub/repo", srv.URL + "/sub/repo/"} {
		c := newClient(t, ClientOptions{URL: base + "?token=abc"})
		if _, err := c.FetchIndex(testContext(t)); err != nil {
			t.Fatal(err)
		}
		if got != "/sub/repo/index.yaml?token=abc" {
			t.Errorf("%s: fetched %s, want /sub/repo/index.yaml?token=abc", base, got)
		}
	}
}

func TestBasicAuth(t *testing.T) {
	t.Parallel()
	const password = "correct-horse-battery"
	r, _ := podinfoRepo(t, helmrepo.Options{Username: "helm", Password: password})
	ctx := testContext(t)

	idx, err := newClient(t, ClientOptions{URL: r.URL, Username: "helm", Password: password}).FetchIndex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(idx.File.Entries["podinfo"]) != 3 {
		t.Fatalf("index has %d podinfo versions, want 3", len(idx.File.Entries["podinfo"]))
	}

	const wrong = "wrong-password-xyz"
	_, err = newClient(t, ClientOptions{URL: r.URL, Username: "helm", Password: wrong}).FetchIndex(ctx)
	if !IsAuthError(err) {
		t.Fatalf("error = %v, want an auth error", err)
	}
	if strings.Contains(err.Error(), wrong) || strings.Contains(err.Error(), password) {
		t.Fatalf("error leaks a password: %v", err)
	}
	if !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "credentials in spec.secretRef were rejected") {
		t.Errorf("error = %q, want the status and a hint", err)
	}

	_, err = newClient(t, ClientOptions{URL: r.URL}).FetchIndex(ctx)
	if !IsAuthError(err) || !strings.Contains(err.Error(), "no credentials were sent") {
		t.Fatalf("anonymous error = %v, want an auth error saying no credentials were sent", err)
	}
}

// TestCredentialsOnlyToRepositoryHost checks helm's rule: basic auth goes to the repository
// host only, to chart URLs on other hosts only with passCredentials.
func TestCredentialsOnlyToRepositoryHost(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	index := helmrepo.New(t, helmrepo.Options{})
	cdn := helmrepo.New(t, helmrepo.Options{})
	chart := helmrepo.Package(t, helmrepo.PodinfoDir(), "", "6.5.0")
	cdn.PutFile("podinfo-6.5.0.tgz", chart)
	index.AddEntry(t, chart, cdn.URL, "podinfo-6.5.0.tgz")
	local := helmrepo.Package(t, helmrepo.PodinfoDir(), "", "6.4.0")
	index.AddChart(t, local)

	for _, pass := range []bool{false, true} {
		c := newClient(t, ClientOptions{URL: index.URL, Username: "u", Password: "p", PassCredentials: pass})
		idx, err := c.FetchIndex(ctx)
		if err != nil {
			t.Fatal(err)
		}
		cr := &ChartRepository{Client: c, Index: idx.File}
		for _, v := range []string{"6.4.0", "6.5.0"} {
			cv, err := cr.GetChartVersion(ctx, "podinfo", v)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := cr.DownloadChart(ctx, cv); err != nil {
				t.Fatalf("download %s: %v", v, err)
			}
		}
		cdnReqs := cdn.Requests()
		last := cdnReqs[len(cdnReqs)-1]
		if last.Path != "/podinfo-6.5.0.tgz" || last.Authorization != pass {
			t.Errorf("passCredentials=%v: CDN request %+v, want Authorization=%v", pass, last, pass)
		}
		for _, req := range index.Requests() {
			if !req.Authorization {
				t.Errorf("passCredentials=%v: request %s to the repository host had no credentials", pass, req.Path)
			}
		}
	}
}

func TestTLS(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	r, _ := podinfoRepo(t, helmrepo.Options{TLS: true, ClientAuth: true})

	// Without the CA the server certificate is not trusted.
	_, err := newClient(t, ClientOptions{URL: r.URL}).FetchIndex(ctx)
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("error = %v, want a certificate error", err)
	}

	// The CA alone is not enough: the server wants a client certificate.
	caOnly, err := TLSConfigFromCertSecret(SecretData{Name: "tls", Data: map[string][]byte{"ca.crt": r.Certs.CAPEM}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err = newClient(t, ClientOptions{URL: r.URL, TLSConfig: caOnly}).FetchIndex(ctx); err == nil {
		t.Fatal("fetch without a client certificate succeeded")
	}

	full, err := TLSConfigFromCertSecret(SecretData{Name: "tls", Data: map[string][]byte{
		"ca.crt": r.Certs.CAPEM, "tls.crt": r.Certs.ClientCertPEM, "tls.key": r.Certs.ClientKeyPEM}})
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, ClientOptions{URL: r.URL, TLSConfig: full})
	idx, err := c.FetchIndex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cr := &ChartRepository{Client: c, Index: idx.File}
	cv, err := cr.GetChartVersion(ctx, "podinfo", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cr.DownloadChart(ctx, cv); err != nil {
		t.Fatal(err)
	}
}

func TestProxy(t *testing.T) {
	t.Parallel()
	r, _ := podinfoRepo(t, helmrepo.Options{})
	var proxied []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		// A forward proxy receives the absolute URL; pass it on.
		proxied = append(proxied, req.URL.String())
		resp, err := http.Get(req.URL.String())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(proxy.Close)
	proxyURL, _ := parseRepositoryURL(proxy.URL)
	if _, err := newClient(t, ClientOptions{URL: r.URL, ProxyURL: proxyURL}).FetchIndex(testContext(t)); err != nil {
		t.Fatal(err)
	}
	if len(proxied) != 1 || proxied[0] != r.URL+"/index.yaml" {
		t.Fatalf("proxy saw %v, want the index request", proxied)
	}
}

func TestLimits(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	r, _ := podinfoRepo(t, helmrepo.Options{})
	indexSize := int64(len(r.IndexYAML(t)))

	_, err := newClient(t, ClientOptions{URL: r.URL, Limits: helm.Limits{MaxIndexSize: indexSize - 1}}).FetchIndex(ctx)
	var le *helm.LimitError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "--helm-index-max-size") || le.Limit != indexSize-1 {
		t.Fatalf("error = %v, want a LimitError naming --helm-index-max-size", err)
	}
	if _, err := newClient(t, ClientOptions{URL: r.URL, Limits: helm.Limits{MaxIndexSize: indexSize}}).FetchIndex(ctx); err != nil {
		t.Fatalf("an index of exactly the limit failed: %v", err)
	}

	// A server that does not announce the length (chunked) is cut off by the reader.
	chunked := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("apiVersion: v1\nentries: {}\n"))
		w.(http.Flusher).Flush()
		for range 100 {
			w.Write([]byte("# padding padding padding padding padding padding padding\n"))
		}
	}))
	t.Cleanup(chunked.Close)
	_, err = newClient(t, ClientOptions{URL: chunked.URL, Limits: helm.Limits{MaxIndexSize: 1000}}).FetchIndex(ctx)
	if !errors.As(err, &le) {
		t.Fatalf("chunked oversize index: error = %v, want a LimitError", err)
	}

	c := newClient(t, ClientOptions{URL: r.URL, Limits: helm.Limits{MaxChartSize: 100}})
	idx, err := c.FetchIndex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cv, _ := SelectVersion(idx.File, "podinfo", "")
	_, err = c.DownloadChart(ctx, cv)
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "chart 'podinfo' version '6.2.0'") || !strings.Contains(err.Error(), "--helm-chart-max-size") {
		t.Fatalf("error = %v, want a LimitError naming the chart and --helm-chart-max-size", err)
	}
}

func TestFetchIndexErrors(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	r := helmrepo.New(t, helmrepo.Options{})

	r.SetRawIndex([]byte("<html>not an index</html>"))
	_, err := newClient(t, ClientOptions{URL: r.URL}).FetchIndex(ctx)
	var ie *IndexError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), r.URL+"/index.yaml") {
		t.Fatalf("error = %v, want an IndexError naming the index URL", err)
	}

	_, err = newClient(t, ClientOptions{URL: r.URL + "/missing"}).FetchIndex(ctx)
	if err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "/missing/index.yaml") {
		t.Fatalf("error = %v, want a 404 naming the URL", err)
	}

	_, err = newClient(t, ClientOptions{URL: "http://127.0.0.1:1"}).FetchIndex(ctx)
	if err == nil || !strings.Contains(err.Error(), "GET http://127.0.0.1:1/index.yaml") {
		t.Fatalf("error = %v, want a connection error naming the URL", err)
	}

	if _, err := NewClient(ClientOptions{URL: "https://user:pw@example.com"}); err == nil || strings.Contains(err.Error(), "pw") {
		t.Fatalf("NewClient with credentials in the URL: %v", err)
	}
}
