package chart

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	helmchart "helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"

	"gotk.dev/source-controller/internal/helm"
)

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// tarEntry is one entry of a hand-made (possibly malicious) chart archive.
type tarEntry struct {
	name     string
	body     string
	typeflag byte
	linkname string
	size     int64 // header size when not len(body)
}

func makeTgz(t testing.TB, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		typ := e.typeflag
		if typ == 0 {
			typ = tar.TypeReg
		}
		size := int64(len(e.body))
		if e.size != 0 {
			size = e.size
		}
		if typ != tar.TypeReg {
			size = 0
		}
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Typeflag: typ, Linkname: e.linkname, Size: size, Mode: 0o644}); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg && e.size == 0 {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// minimalChart are the entries of a valid chart named "demo".
func minimalChart(extra ...tarEntry) []tarEntry {
	return append([]tarEntry{
		{name: "demo/Chart.yaml", body: "apiVersion: v2\nname: demo\nversion: 1.0.0\n"},
		{name: "demo/values.yaml", body: "a: 1\n"},
		{name: "demo/templates/cm.yaml", body: "kind: ConfigMap\n"},
	}, extra...)
}

// loadTgz loads an archive with helm's own loader, to inspect what a build produced.
func loadTgz(t testing.TB, data []byte) *helmchart.Chart {
	t.Helper()
	c, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("helm cannot load the built chart: %v", err)
	}
	return c
}

func wantReason(t testing.TB, err error, want Reason, contains ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", want.Reason)
	}
	got, ok := ReasonOf(err)
	if !ok || got != want {
		t.Fatalf("error %q has reason %q, want %q", err, got.Reason, want.Reason)
	}
	for _, c := range contains {
		if !strings.Contains(err.Error(), c) {
			t.Errorf("error %q does not mention %q", err, c)
		}
	}
}

func wantLimit(t testing.TB, err error, flag string, contains string) {
	t.Helper()
	var le *helm.LimitError
	if !errors.As(err, &le) || le.Flag != flag || !strings.Contains(err.Error(), contains) {
		t.Fatalf("error = %v, want a LimitError (flag %q) mentioning %q", err, flag, contains)
	}
}

// writeTree writes files (slash paths -> content) under a fresh real directory and returns it.
func writeTree(t testing.TB, files map[string]string) string {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for p, body := range files {
		abs := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(abs, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func symlink(t testing.TB, target, link string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}
