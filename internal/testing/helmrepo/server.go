package helmrepo

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
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
	r := &Server{opts: opts, index: repo.NewIndexFile(), files: map[string][]byte{}}
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(r.serve))
	if opts.TLS || opts.ClientAuth {
		certs, err := pki.New("gotk test Helm repository CA")
		if err != nil {
			t.Fatal(err)
		}
		if r.srv.TLS, err = certs.ServerConfig(opts.ClientAuth); err != nil {
			t.Fatal(err)
		}
		r.Certs = certs
		r.srv.StartTLS()
	} else {
		r.srv.Start()
	}
	r.URL = r.srv.URL
	t.Cleanup(r.srv.Close)
	return r
}

// AddChart stores a packaged chart under charts/ and adds it to the index with a relative
// URL. It returns the index entry.
func (r *Server) AddChart(t testing.TB, data []byte) *repo.ChartVersion {
	t.Helper()
	c, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("load chart archive: %v", err)
	}
	file := "charts/" + c.Name() + "-" + c.Metadata.Version + ".tgz"
	r.PutFile(file, data)
	return r.AddEntry(t, data, "", file)
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
	sum := sha256.Sum256(data)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.index.MustAdd(c.Metadata, file, baseURL, hex.EncodeToString(sum[:])); err != nil {
		t.Fatalf("add %s to index: %v", file, err)
	}
	r.index.SortEntries()
	versions := r.index.Entries[c.Name()]
	for _, cv := range versions {
		if cv.Version == c.Metadata.Version {
			return cv
		}
	}
	return nil
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
	sum := sha256.Sum256(data)
	r.mu.Lock()
	defer r.mu.Unlock()
	md := &chart.Metadata{APIVersion: chart.APIVersionV2, Name: name, Version: version}
	if err := r.index.MustAdd(md, file, "", hex.EncodeToString(sum[:])); err != nil {
		t.Fatalf("add %s to index: %v", file, err)
	}
	r.index.SortEntries()
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
