// Package plugintest serves a Flux plugin catalog (cli.fluxcd.io/v1beta1, the layout of
// upstream's catalog releases: catalog.yaml, <name>.yaml and the downloads) from a real
// HTTP server on 127.0.0.1, for the tests of the plugin package and of flux plugin.
package plugintest

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// Release is one version of a plugin, an executable script packed as Format.
type Release struct {
	Version string
	Script  string // the executable's content, e.g. "#!/bin/sh\necho hi\n"
	Format  string // "tar.gz" (default), "zip", "tar" or "raw"
	// Entry is the binary's path inside the archive; empty means the manifest's bin at
	// the archive root.
	Entry string
	// ExtractPath is written to the manifest's platform entry.
	ExtractPath string
	// WrongChecksum makes the manifest announce a checksum the download does not have.
	WrongChecksum bool
	// OtherPlatform publishes the release only for a platform this machine is not.
	OtherPlatform bool
}

// Plugin is a catalog entry and its releases, newest first.
type Plugin struct {
	Name, Description string
	Releases          []Release
}

// Catalog is a running catalog server.
type Catalog struct {
	URL string // the base to set as FLUXCD_PLUGIN_CATALOG, ending in "/"

	mu        sync.Mutex
	files     map[string][]byte
	downloads map[string]int
}

// Start serves plugins until the test ends.
func Start(t testing.TB, plugins ...Plugin) *Catalog {
	t.Helper()
	c := &Catalog{files: map[string][]byte{}, downloads: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(srv.Close)
	c.URL = srv.URL + "/"
	c.Publish(t, plugins...)
	return c
}

// Publish replaces the catalog with plugins (a new release appearing upstream).
func (c *Catalog) Publish(t testing.TB, plugins ...Plugin) {
	t.Helper()
	files := map[string][]byte{}
	var cat strings.Builder
	cat.WriteString("apiVersion: cli.fluxcd.io/v1beta1\nkind: PluginCatalog\nplugins:\n")
	for _, p := range plugins {
		fmt.Fprintf(&cat, "  - name: %s\n    description: %q\n    homepage: https://example.com/%s\n    source: https://github.com/example/flux-%s\n    license: Apache-2.0\n",
			p.Name, p.Description, p.Name, p.Name)
		var m strings.Builder
		fmt.Fprintf(&m, "apiVersion: cli.fluxcd.io/v1beta1\nkind: Plugin\nname: %s\ndescription: %q\nbin: flux-%s\nversions:\n", p.Name, p.Description, p.Name)
		for _, r := range p.Releases {
			data, ext := pack(t, "flux-"+p.Name, r)
			path := fmt.Sprintf("download/%s/%s/flux-%s_%s%s", p.Name, r.Version, p.Name, r.Version, ext)
			files[path] = data
			sum := sha256.Sum256(data)
			if r.WrongChecksum {
				sum = sha256.Sum256(append(data, '!'))
			}
			goos, goarch := runtime.GOOS, runtime.GOARCH
			if r.OtherPlatform {
				goos = "plan9"
			}
			fmt.Fprintf(&m, "  - version: %s\n    platforms:\n      - os: %s\n        arch: %s\n        url: %s%s\n        checksum: sha256:%s\n",
				r.Version, goos, goarch, c.URL, path, hex.EncodeToString(sum[:]))
			if r.ExtractPath != "" {
				fmt.Fprintf(&m, "        extractPath: %s\n", r.ExtractPath)
			}
		}
		files[p.Name+".yaml"] = []byte(m.String())
	}
	files["catalog.yaml"] = []byte(cat.String())
	c.mu.Lock()
	c.files = files
	c.mu.Unlock()
}

// Set serves content at path (a hand-written, possibly broken, document).
func (c *Catalog) Set(path, content string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.files[path] = []byte(content)
}

// Downloads counts the GETs of downloads of plugin name.
func (c *Catalog) Downloads(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.downloads[name]
}

func (c *Catalog) serve(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/")
	c.mu.Lock()
	data, ok := c.files[path]
	if rest, found := strings.CutPrefix(path, "download/"); found && ok {
		name, _, _ := strings.Cut(rest, "/")
		c.downloads[name]++
	}
	c.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	_, _ = w.Write(data)
}

// pack builds the download of r: the script as bin inside an archive, or the script itself.
func pack(t testing.TB, bin string, r Release) ([]byte, string) {
	t.Helper()
	entry := r.Entry
	if entry == "" {
		entry = bin
	}
	var buf bytes.Buffer
	switch r.Format {
	case "raw":
		return []byte(r.Script), ""
	case "zip":
		zw := zip.NewWriter(&buf)
		readme, _ := zw.Create("README.md")
		_, _ = readme.Write([]byte("# " + bin + "\n"))
		h := &zip.FileHeader{Name: entry, Method: zip.Deflate}
		h.SetMode(0o755)
		f, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = f.Write([]byte(r.Script))
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes(), ".zip"
	case "tar":
		writeTar(t, &buf, entry, r.Script)
		return buf.Bytes(), ".tar"
	default:
		gz := gzip.NewWriter(&buf)
		writeTar(t, gz, entry, r.Script)
		if err := gz.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes(), ".tar.gz"
	}
}

func writeTar(t testing.TB, w interface{ Write([]byte) (int, error) }, entry, script string) {
	tw := tar.NewWriter(w)
	files := []struct {
		name, body string
		mode       int64
	}{{"LICENSE", "Apache-2.0\n", 0o644}, {entry, script, 0o755}}
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		_, _ = tw.Write([]byte(f.body))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}
