package controller

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gotk.dev/internal/testing/registry"
	"gotk.dev/pkg/oci"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// Media types of a Helm chart pushed to an OCI registry (helm push).
const (
	helmConfigMediaType = "application/vnd.cncf.helm.config.v1+json"
	helmChartMediaType  = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
)

// newOCIRepository returns an OCIRepository for url with a long interval, adjusted by mutate.
func newOCIRepository(ns, name, url string, mutate func(*sourcev1.OCIRepository)) *sourcev1.OCIRepository {
	obj := &sourcev1.OCIRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: sourcev1.OCIRepositorySpec{
			URL:      url,
			Interval: metav1.Duration{Duration: time.Hour},
		},
	}
	if mutate != nil {
		mutate(obj)
	}
	return obj
}

// inProcessRegistry starts go-containerregistry's registry for one test.
func inProcessRegistry(t *testing.T) *registry.Registry {
	t.Helper()
	reg, err := registry.StartInProcess()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	return reg
}

// pushFlux pushes files as a Flux artifact (the flux push artifact format) to ref
// ("oci://host/repo:tag") and returns the manifest digest.
func pushFlux(t *testing.T, c *oci.Client, ref string, files map[string]string, opts oci.PushOptions) string {
	t.Helper()
	dir := t.TempDir()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	digest, err := c.Push(context.Background(), ref, dir, opts)
	if err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	return digest
}

// plainClient is an anonymous registry client.
func plainClient(t *testing.T) *oci.Client {
	t.Helper()
	c, err := oci.NewClient(oci.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// insecureClient is plainClient allowed to use plain HTTP to any registry.
func insecureClient(t *testing.T) *oci.Client {
	t.Helper()
	c, err := oci.NewClient(oci.ClientOptions{Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// rawLayer is a layer pushed byte for byte with its media type.
type rawLayer struct {
	data      []byte
	mediaType string
}

// pushLayers pushes a hand-crafted OCI manifest (config of configMediaType, the layers as
// given, annotations) to ref ("host/repo:tag", no scheme) and returns the manifest digest.
func pushLayers(t *testing.T, ref, configMediaType string, layers []rawLayer, annotations map[string]string, opts ...remote.Option) string {
	t.Helper()
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.MediaType(configMediaType))
	for _, l := range layers {
		var err error
		img, err = mutate.Append(img, mutate.Addendum{Layer: static.NewLayer(l.data, types.MediaType(l.mediaType))})
		if err != nil {
			t.Fatal(err)
		}
	}
	if annotations != nil {
		img = mutate.Annotations(img, annotations).(v1.Image)
	}
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img, opts...); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// tarFile is one entry of a hand-written tarball; a non-empty link makes a symlink.
type tarFile struct {
	name, content, link string
}

// tarGz writes entries, names as given (hostile ones included), as a gzipped tarball.
func tarGz(t *testing.T, entries ...tarFile) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.content)), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}
		if e.link != "" {
			h = &tar.Header{Name: e.name, Mode: 0o777, Typeflag: tar.TypeSymlink, Linkname: e.link, ModTime: time.Unix(0, 0)}
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// gibTarGz is a gzipped tarball holding one file of 1 GiB of zeros, built in about a
// millisecond: a gzip stream may be a series of members, so one compressed MiB of zeros is
// repeated 1024 times after a member holding the tar header. About 1 MiB compressed.
func gibTarGz(t *testing.T, name string) []byte {
	t.Helper()
	member := func(data []byte) []byte {
		var b bytes.Buffer
		gz, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		if _, err := gz.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := gz.Close(); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	var hdr bytes.Buffer
	tw := tar.NewWriter(&hdr)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: 1 << 30, Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	// The header alone: tar.Writer would insist on the 1 GiB of content before Close.
	out := member(hdr.Bytes())
	zeros := member(make([]byte, 1<<20))
	for range 1024 {
		out = append(out, zeros...)
	}
	// End of archive: two zero blocks.
	return append(out, member(make([]byte, 1024))...)
}

// countingRegistry is go-containerregistry's in-process registry behind a counter of the
// requests that matter for polling: manifest HEADs (resolving a tag) against manifest and
// blob GETs (pulling).
type countingRegistry struct {
	host                                  string
	manifestHeads, manifestGets, blobGets atomic.Int64
}

func newCountingRegistry(t *testing.T) *countingRegistry {
	t.Helper()
	r := &countingRegistry{}
	inner := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch {
		case strings.Contains(req.URL.Path, "/manifests/") && req.Method == http.MethodHead:
			r.manifestHeads.Add(1)
		case strings.Contains(req.URL.Path, "/manifests/") && req.Method == http.MethodGet:
			r.manifestGets.Add(1)
		case strings.Contains(req.URL.Path, "/blobs/") && req.Method == http.MethodGet:
			r.blobGets.Add(1)
		}
		inner.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	r.host = strings.TrimPrefix(srv.URL, "http://")
	return r
}

// pulls is the number of manifest and blob downloads so far.
func (r *countingRegistry) pulls() int64 { return r.manifestGets.Load() + r.blobGets.Load() }
