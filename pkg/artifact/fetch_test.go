package artifact

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gotk.dev/pkg/tarball"
)

// fastFetcher retries quickly so tests stay short.
func fastFetcher(retries int) *Fetcher {
	return &Fetcher{Retries: retries, RetryWaitMin: 10 * time.Millisecond, RetryWaitMax: 50 * time.Millisecond}
}

func readTree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestFetch(t *testing.T) {
	ss := serveStorage(t, StorageOptions{})
	files := map[string]string{"apps/deploy.yaml": "kind: Deployment", "kustomization.yaml": "resources: []"}
	a, err := ss.ArchiveDir(context.Background(), testRef("app"), srcDir(t, files), nil)
	if err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "dest")
	if err := fastFetcher(0).Fetch(context.Background(), a.URL, a.Digest, dest); err != nil {
		t.Fatal(err)
	}
	got := readTree(t, dest)
	if len(got) != len(files) || got["apps/deploy.yaml"] != files["apps/deploy.yaml"] {
		t.Errorf("fetched %v", got)
	}
}

// TestFetchWaitsForArtifact: the first request sees 404 (the source has not written the
// artifact yet); the artifact appears and the retry succeeds.
func TestFetchWaitsForArtifact(t *testing.T) {
	ss := serveStorage(t, StorageOptions{})
	src := srcDir(t, map[string]string{"a.yaml": "a"})
	// Tarballs are deterministic, so the digest and URL are known before storing.
	var buf bytes.Buffer
	if err := tarball.Write(&buf, src, nil); err != nil {
		t.Fatal(err)
	}
	hexSum := sha256Hex(buf.Bytes())
	url := ss.URL("gitrepository/default/late/" + hexSum + ".tar.gz")
	ss.after = func(n int32) {
		if n == 1 {
			if _, err := ss.ArchiveDir(context.Background(), testRef("late"), src, nil); err != nil {
				t.Error(err)
			}
		}
	}
	dest := t.TempDir()
	if err := fastFetcher(DefaultRetries).Fetch(context.Background(), url, "sha256:"+hexSum, dest); err != nil {
		t.Fatal(err)
	}
	if n := ss.requests.Load(); n != 2 {
		t.Errorf("%d requests, want 404 then 200", n)
	}
	if got := readTree(t, dest); got["a.yaml"] != "a" {
		t.Errorf("fetched %v", got)
	}
}

func TestFetchGivesUp(t *testing.T) {
	ss := serveStorage(t, StorageOptions{})
	url := ss.URL("gitrepository/default/none/" + strings.Repeat("a", 64) + ".tar.gz")
	err := fastFetcher(2).Fetch(context.Background(), url, "sha256:"+strings.Repeat("a", 64), t.TempDir())
	if err == nil || !strings.Contains(err.Error(), url) || !strings.Contains(err.Error(), "after 3 attempts: 404") {
		t.Fatalf("error %v", err)
	}
	if n := ss.requests.Load(); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

func TestFetchDigestMismatch(t *testing.T) {
	ss := serveStorage(t, StorageOptions{})
	a, err := ss.ArchiveDir(context.Background(), testRef("app"), srcDir(t, map[string]string{"a": "a"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	wrong := "sha256:" + strings.Repeat("0", 64)
	dest := filepath.Join(t.TempDir(), "dest")
	err = fastFetcher(3).Fetch(context.Background(), a.URL, wrong, dest)
	for _, want := range []string{a.URL, "digest mismatch", "expected " + wrong, "got " + a.Digest} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not contain %q", err, want)
		}
	}
	if n := ss.requests.Load(); n != 1 {
		t.Errorf("a digest mismatch was retried: %d requests", n)
	}
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		t.Error("something was extracted from an unverified artifact")
	}
	// Other algorithms are verified too.
	err = fastFetcher(0).Fetch(context.Background(), a.URL, "sha512:"+strings.Repeat("0", 128), dest)
	if err == nil || !strings.Contains(err.Error(), "got sha512:") {
		t.Errorf("sha512 mismatch: %v", err)
	}
	if err := fastFetcher(0).Fetch(context.Background(), a.URL, "md5:abc", dest); err == nil || !strings.Contains(err.Error(), "unsupported digest") {
		t.Errorf("bad digest: %v", err)
	}
}

func TestFetchServerErrorIsRetried(t *testing.T) {
	ss := serveStorage(t, StorageOptions{})
	a, err := ss.StoreReader(context.Background(), testRef("app"), strings.NewReader("x"), ".tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ss.LocalPath(a), []byte("y"), 0o644); err != nil { // corrupt: 500
		t.Fatal(err)
	}
	err = fastFetcher(1).Fetch(context.Background(), a.URL, a.Digest, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "after 2 attempts: 500") {
		t.Errorf("error %v", err)
	}
}

func maliciousTarball(t *testing.T, ents ...tar.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, h := range ents {
		body := h.Linkname
		if h.Typeflag == tar.TypeReg {
			h.Linkname, h.Size = "", int64(len(body))
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(body)); err != nil {
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

func TestFetchMaliciousTarball(t *testing.T) {
	ss := serveStorage(t, StorageOptions{})
	for _, tc := range []struct {
		name string
		ents []tar.Header
		err  string
	}{
		{"dot-dot entry", []tar.Header{{Typeflag: tar.TypeReg, Name: "../evil", Linkname: "pwned", Mode: 0o644}}, `tar entry "../evil"`},
		{"symlink out", []tar.Header{{Typeflag: tar.TypeSymlink, Name: "out", Linkname: "../outside", Mode: 0o777}}, `tar entry "out": symlink target "../outside" points outside`},
		{"write through symlink", []tar.Header{
			{Typeflag: tar.TypeSymlink, Name: "etc", Linkname: "/etc", Mode: 0o777},
			{Typeflag: tar.TypeReg, Name: "etc/passwd", Linkname: "pwned", Mode: 0o644},
		}, `tar entry "etc": symlink target "/etc"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ss.StoreReader(context.Background(), testRef("evil"), bytes.NewReader(maliciousTarball(t, tc.ents...)), ".tar.gz")
			if err != nil {
				t.Fatal(err)
			}
			parent := t.TempDir()
			outside := filepath.Join(parent, "outside")
			if err := os.Mkdir(outside, 0o755); err != nil {
				t.Fatal(err)
			}
			err = fastFetcher(0).Fetch(context.Background(), a.URL, a.Digest, filepath.Join(parent, "dest"))
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), a.URL) {
				t.Fatalf("error %v, want %q and the URL", err, tc.err)
			}
			entries, _ := os.ReadDir(parent)
			for _, e := range entries {
				if e.Name() != "dest" && e.Name() != "outside" {
					t.Errorf("%s written outside the destination", e.Name())
				}
			}
			if entries, _ := os.ReadDir(outside); len(entries) != 0 {
				t.Errorf("written through a symlink into %s", outside)
			}
		})
	}
}

func TestFetchLimits(t *testing.T) {
	ss := serveStorage(t, StorageOptions{})
	a, err := ss.ArchiveDir(context.Background(), testRef("big"), srcDir(t, map[string]string{"zeros": strings.Repeat("\x00", 1<<20)}), nil)
	if err != nil {
		t.Fatal(err)
	}
	f := fastFetcher(0)
	f.MaxSize = 100
	if err := f.Fetch(context.Background(), a.URL, a.Digest, t.TempDir()); err == nil || !strings.Contains(err.Error(), "size limit of 100 bytes") {
		t.Errorf("download limit: %v", err)
	}
	f = fastFetcher(0)
	f.Limits = tarball.ExtractOptions{MaxSize: 1 << 10}
	if err := f.Fetch(context.Background(), a.URL, a.Digest, t.TempDir()); err == nil || !strings.Contains(err.Error(), "size limit of 1024 bytes") {
		t.Errorf("extraction limit: %v", err)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestFetchConnectionRefusedThenUp: the storage server starts while the consumer retries.
func TestFetchConnectionRefusedThenUp(t *testing.T) {
	addr := freePort(t)
	s := newTestStorage(t, StorageOptions{Hostname: addr})
	a, err := s.StoreReader(context.Background(), testRef("x"), bytes.NewReader(maliciousTarball(t,
		tar.Header{Typeflag: tar.TypeReg, Name: "ok.yaml", Linkname: "ok", Mode: 0o644})), ".tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		time.Sleep(150 * time.Millisecond)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("port %s was taken meanwhile: %v", addr, err)
			return
		}
		_ = s.ServeListener(ctx, ln)
	}()
	dest := t.TempDir()
	if err := fastFetcher(DefaultRetries).Fetch(ctx, a.URL, a.Digest, dest); err != nil {
		t.Fatal(err)
	}
	if got := readTree(t, dest); got["ok.yaml"] != "ok" {
		t.Errorf("fetched %v", got)
	}
}

func TestFetchErrorsHideCredentials(t *testing.T) {
	ss := serveStorage(t, StorageOptions{})
	digest := "sha256:" + strings.Repeat("a", 64)
	for _, url := range []string{
		"http://user:s3cr3t-pw@" + freePort(t) + "/x/y/z/" + strings.Repeat("a", 64) + ".tar.gz", // refused
		"http://user:s3cr3t-pw@" + ss.addr + "/x/y/z/" + strings.Repeat("a", 64) + ".tar.gz",     // 404
		"http://user:s3cr3t-pw@" + ss.addr + "/\x7f",                                             // invalid
	} {
		err := fastFetcher(1).Fetch(context.Background(), url, digest, t.TempDir())
		if err == nil {
			t.Fatalf("fetching %q succeeded", url)
		}
		if strings.Contains(err.Error(), "s3cr3t-pw") {
			t.Errorf("error leaks the password: %v", err)
		}
	}
}

func TestFetchCancelled(t *testing.T) {
	ss := serveStorage(t, StorageOptions{})
	url := ss.URL("gitrepository/default/none/" + strings.Repeat("a", 64) + ".tar.gz")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	f := &Fetcher{Retries: DefaultRetries} // default backoff: seconds between attempts
	start := time.Now()
	err := f.Fetch(ctx, url, "sha256:"+strings.Repeat("a", 64), t.TempDir())
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("cancelled fetch returned %v after %v", err, time.Since(start))
	}
}
