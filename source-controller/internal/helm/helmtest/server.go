package helmtest

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

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/repo"
	"sigs.k8s.io/yaml"
)

// RepoOptions configure a test Helm repository server.
type RepoOptions struct {
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

// Repo is a static Helm repository on 127.0.0.1: GET /index.yaml and GET /charts/<file>.
type Repo struct {
	// URL is the repository URL (http://127.0.0.1:<port> or https://...).
	URL string
	// Certs is the TLS material when RepoOptions.TLS is set.
	Certs *Certs

	opts     RepoOptions
	srv      *httptest.Server
	mu       sync.Mutex
	index    *repo.IndexFile
	rawIndex []byte
	files    map[string][]byte
	requests []Request
}

// NewRepo starts a repository server; it stops when the test ends.
func NewRepo(t testing.TB, opts RepoOptions) *Repo {
	t.Helper()
	r := &Repo{opts: opts, index: repo.NewIndexFile(), files: map[string][]byte{}}
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(r.serve))
	if opts.TLS || opts.ClientAuth {
		r.Certs = NewCerts(t)
		r.srv.TLS = r.Certs.ServerTLSConfig(t, opts.ClientAuth)
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
func (r *Repo) AddChart(t testing.TB, data []byte) *repo.ChartVersion {
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
func (r *Repo) AddEntry(t testing.TB, data []byte, baseURL, file string) *repo.ChartVersion {
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

// PutFile serves data at /<path>.
func (r *Repo) PutFile(path string, data []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.files[strings.TrimPrefix(path, "/")] = data
}

// SetRawIndex serves raw as index.yaml instead of the generated index (nil restores it).
func (r *Repo) SetRawIndex(raw []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rawIndex = raw
}

// IndexYAML is the index.yaml currently served.
func (r *Repo) IndexYAML(t testing.TB) []byte {
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
func (r *Repo) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.requests...)
}

func (r *Repo) serve(w http.ResponseWriter, req *http.Request) {
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
