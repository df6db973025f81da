package helmrepo

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/repo"
	"sigs.k8s.io/yaml"

	"gotk.dev/internal/testing/pki"
)

// Options configure a test Helm repository server.
type Options struct {
	// Username and Password, when set, require basic auth on every request.
	Username, Password string
	// TLS serves HTTPS with a certificate signed by a fresh CA (Server.Certs).
	TLS bool
	// ClientAuth (with TLS) requires a client certificate signed by the same CA.
	ClientAuth bool
}

// Request is what the server saw of one request.
type Request struct {
	Path string
	// Authorization is true when the request carried an Authorization header.
	Authorization bool
}

// Server is a static Helm repository on 127.0.0.1: GET /index.yaml and GET /charts/<file>.
type Server struct {
	// URL is the repository URL (http://127.0.0.1:<port> or https://...).
	URL string
	// Certs is the TLS material when Options.TLS is set.
	Certs *pki.Certs

	opts     Options
	srv      *httptest.Server
	mu       sync.Mutex
	index    *repo.IndexFile
	rawIndex []byte
	files    map[string][]byte
	requests []Request
}

// New starts a repository server; it stops when the test ends.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	r, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// Start starts a repository server outside a test (benchmarks); Close stops it.
func Start(opts Options) (*Server, error) {
	r := &Server{opts: opts, index: repo.NewIndexFile(), files: map[string][]byte{}}
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(r.serve))
	if opts.TLS || opts.ClientAuth {
		certs, err := pki.New("gotk test Helm repository CA")
		if err != nil {
			return nil, err
		}
		if r.srv.TLS, err = certs.ServerConfig(opts.ClientAuth); err != nil {
			return nil, err
		}
		r.Certs = certs
		r.srv.StartTLS()
	} else {
		r.srv.Start()
	}
	r.URL = r.srv.URL
	return r, nil
}

// Close stops the server.
func (r *Server) Close() { r.srv.Close() }

// AddChart stores a packaged chart under charts/ and adds it to the index with a relative
// URL. It returns the index entry.
func (r *Server) AddChart(t testing.TB, data []byte) *repo.ChartVersion {
	t.Helper()
	cv, err := r.Add(data)
	if err != nil {
		t.Fatal(err)
	}
	return cv
}

// Add is AddChart outside a test.
func (r *Server) Add(data []byte) (*repo.ChartVersion, error) {
	c, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("load chart archive: %w", err)
	}
	file := "charts/" + c.Name() + "-" + c.Metadata.Version + ".tgz"
	r.PutFile(file, data)
	return r.addEntry(c.Metadata, data, "", file)
}

// AddEntry adds an index entry for the chart archive data with the download URL
// baseURL + "/" + file (just file when baseURL is empty), without storing the archive here:
// for entries pointing at another server.
func (r *Server) AddEntry(t testing.TB, data []byte, baseURL, file string) *repo.ChartVersion {
	t.Helper()
	c, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("load chart archive: %v", err)
	}
	cv, err := r.addEntry(c.Metadata, data, baseURL, file)
	if err != nil {
		t.Fatal(err)
	}
	return cv
}

// addEntry lists md in the index with the digest of data.
func (r *Server) addEntry(md *chart.Metadata, data []byte, baseURL, file string) (*repo.ChartVersion, error) {
	sum := sha256.Sum256(data)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.index.MustAdd(md, file, baseURL, hex.EncodeToString(sum[:])); err != nil {
		return nil, fmt.Errorf("add %s to index: %w", file, err)
	}
	r.index.SortEntries()
	for _, cv := range r.index.Entries[md.Name] {
		if cv.Version == md.Version {
			return cv, nil
		}
	}
	return nil, fmt.Errorf("%s %s is not in the index after adding it", md.Name, md.Version)
}

// AddPodinfo packages the podinfo fixture at each version and adds it (see AddChart).
func (r *Server) AddPodinfo(t testing.TB, versions ...string) {
	t.Helper()
	for _, v := range versions {
		r.AddChart(t, Package(t, PodinfoDir(), "", v))
	}
}

// AddRawChart serves data, whatever it holds, as chart name at version (charts/<name>-<version>.tgz)
// and lists it in the index without reading it: for archives helm itself would refuse
// (path traversal, oversize files), which a controller must reject.
func (r *Server) AddRawChart(t testing.TB, name, version string, data []byte) {
	t.Helper()
	file := "charts/" + name + "-" + version + ".tgz"
	r.PutFile(file, data)
	md := &chart.Metadata{APIVersion: chart.APIVersionV2, Name: name, Version: version}
	if _, err := r.addEntry(md, data, "", file); err != nil {
		t.Fatal(err)
	}
}

// PutFile serves data at /<path>.
func (r *Server) PutFile(path string, data []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.files[strings.TrimPrefix(path, "/")] = data
}

// SetRawIndex serves raw as index.yaml instead of the generated index (nil restores it).
func (r *Server) SetRawIndex(raw []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rawIndex = raw
}

// IndexYAML is the index.yaml currently served.
func (r *Server) IndexYAML(t testing.TB) []byte {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rawIndex != nil {
		return r.rawIndex
	}
	b, err := yaml.Marshal(r.index)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Requests returns the requests served so far.
func (r *Server) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.requests...)
}

func (r *Server) serve(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.requests = append(r.requests, Request{Path: req.URL.Path, Authorization: req.Header.Get("Authorization") != ""})
	r.mu.Unlock()
	if r.opts.Username != "" || r.opts.Password != "" {
		u, p, ok := req.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(u), []byte(r.opts.Username)) != 1 ||
			subtle.ConstantTimeCompare([]byte(p), []byte(r.opts.Password)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="helm"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
	}
	path := strings.TrimPrefix(req.URL.Path, "/")
	r.mu.Lock()
	var body []byte
	found := true
	if path == "index.yaml" {
		body = r.rawIndex
		if body == nil {
			var err error
			if body, err = yaml.Marshal(r.index); err != nil {
				r.mu.Unlock()
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		}
	} else {
		body, found = r.files[path]
	}
	r.mu.Unlock()
	if !found {
		http.NotFound(w, req)
		return
	}
	_, _ = w.Write(body)
}
