package images

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func TestControllers(t *testing.T) {
	root := t.TempDir()
	write := func(p, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("source-controller/cmd/main.go", "package main\n")
	write("helm-controller/cmd/main_test.go", "package main\n")   // tests alone are no main package
	write("kustomize-controller/api/v1/types.go", "package v1\n") // no cmd/
	write("notification-controller/cmd/README", "soon\n")
	write("image-automation-controller/cmd/main.go", "package main\n")
	write("not-a-controller/cmd/main.go", "package main\n")
	write("cli/cmd/flux-ui/main.go", "package main\n") // the web UI lives in the CLI module
	got, err := Controllers(root)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"source-controller", "image-automation-controller", "ui"}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

var testMeta = Metadata{Version: "v1.2.3", Revision: "0123abcd", Source: "https://example.com/gotk", Created: time.Unix(1700000000, 0)}

// fakeImage builds an image around a fake binary.
func fakeImage(t *testing.T, name, binary string) v1.Image {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(binary), 0o755); err != nil {
		t.Fatal(err)
	}
	img, err := NewImage(name, path, []byte("-----BEGIN CERTIFICATE-----\nfake\n"), testMeta, "amd64")
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// checkConfig verifies what the issue fixes about every image.
func checkConfig(t *testing.T, img v1.Image, name string, m Metadata) {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/usr/local/bin/" + name}; !slices.Equal(cf.Config.Entrypoint, want) {
		t.Errorf("entrypoint %v, want %v", cf.Config.Entrypoint, want)
	}
	if cf.Config.User != "65534:65534" {
		t.Errorf("user %q", cf.Config.User)
	}
	if cf.OS != "linux" || !cf.Created.Time.Equal(m.Created) {
		t.Errorf("os %q created %v", cf.OS, cf.Created)
	}
	want := map[string]string{LabelVersion: m.Version, LabelRevision: m.Revision, LabelSource: m.Source, LabelTitle: name}
	for k, v := range want {
		if cf.Config.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, cf.Config.Labels[k], v)
		}
	}
	mt, err := img.MediaType()
	if err != nil || mt != types.OCIManifestSchema1 {
		t.Errorf("manifest media type %q, %v", mt, err)
	}
}

// extract writes the image's flattened filesystem to dir and returns path -> mode.
func extract(t *testing.T, img v1.Image, dir string) map[string]os.FileMode {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	modes := map[string]os.FileMode{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return modes
		}
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Clean("/" + h.Name)
		if strings.Contains(h.Name, "..") || h.Uid != 0 || h.Gid != 0 {
			t.Fatalf("unexpected entry %q uid %d gid %d", h.Name, h.Uid, h.Gid)
		}
		modes[name] = h.FileInfo().Mode()
		target := filepath.Join(dir, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, h.FileInfo().Mode().Perm())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(f, tr); err != nil {
				t.Fatal(err)
			}
			f.Close()
		default:
			t.Fatalf("unexpected entry type %c for %s", h.Typeflag, h.Name)
		}
	}
}

func TestNewImage(t *testing.T) {
	img := fakeImage(t, "source-controller", "binary-one")
	checkConfig(t, img, "source-controller", testMeta)
	dir := t.TempDir()
	modes := extract(t, img, dir)
	for p, want := range map[string]os.FileMode{
		"/usr/local/bin/source-controller":   0o755,
		"/etc/ssl/certs/ca-certificates.crt": 0o644,
		"/etc/passwd":                        0o644,
		"/tmp":                               os.ModeDir | os.ModeSticky | 0o777,
	} {
		if modes[p] != want {
			t.Errorf("%s mode %v, want %v", p, modes[p], want)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "etc/ssl/certs/ca-certificates.crt")); !bytes.HasPrefix(b, []byte("-----BEGIN CERTIFICATE-----")) {
		t.Errorf("CA bundle %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "etc/passwd")); !strings.Contains(string(b), ":65534:65534:") {
		t.Errorf("passwd has no entry for 65534: %q", b)
	}

	// Reproducible, and the base layer is shared between controllers.
	same := fakeImage(t, "source-controller", "binary-one")
	other := fakeImage(t, "kustomize-controller", "binary-two")
	d1, _ := img.Digest()
	d2, _ := same.Digest()
	d3, _ := other.Digest()
	if d1 != d2 || d1 == d3 {
		t.Errorf("digests %s %s %s: want equal inputs to give equal digests, different ones different", d1, d2, d3)
	}
	l1, _ := img.Layers()
	l3, _ := other.Layers()
	b1, _ := l1[0].Digest()
	b3, _ := l3[0].Digest()
	if len(l1) != 2 || b1 != b3 {
		t.Errorf("%d layers; base layers %s and %s should be one blob", len(l1), b1, b3)
	}
}

func TestLayoutRoundTrip(t *testing.T) {
	img := fakeImage(t, "source-controller", "bin")
	dir := filepath.Join(t.TempDir(), "source-controller")
	for range 2 { // rewriting replaces, never accumulates
		if err := WriteLayout(dir, img, "v1.2.3"); err != nil {
			t.Fatal(err)
		}
	}
	got, tag, err := ReadLayout(dir)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := img.Digest()
	if d, _ := got.Digest(); d != want || tag != "v1.2.3" {
		t.Fatalf("read back %s:%s, want %s:v1.2.3", d, tag, want)
	}
	if _, _, err := ReadLayout(t.TempDir()); err == nil {
		t.Fatal("an empty directory read as a layout")
	}
}
