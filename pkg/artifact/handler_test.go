package artifact

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// servedStorage is a Storage served on a real loopback listener; its advertised hostname
// is the listener's address, so artifact URLs work as they would in a cluster.
type servedStorage struct {
	*Storage
	addr     string
	requests atomic.Int32
	// after runs after each request was handled (tests use it to change the storage
	// between a consumer's attempts).
	after func(n int32)
}

func serveStorage(t *testing.T, opts StorageOptions) *servedStorage {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts.Hostname = ln.Addr().String()
	ss := &servedStorage{Storage: newTestStorage(t, opts), addr: ln.Addr().String()}
	h := ss.Handler()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		n := ss.requests.Add(1)
		if ss.after != nil {
			ss.after(n)
		}
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ss
}

// rawRequest sends a request line as is (clients would clean "..") and returns the status.
func rawRequest(t *testing.T, addr, method, target string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", method, target, addr)
	req, _ := http.NewRequest(method, "http://"+addr, nil)
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestHandler(t *testing.T) {
	ss := serveStorage(t, StorageOptions{})
	a, err := ss.ArchiveDir(context.Background(), testRef("app"), srcDir(t, map[string]string{"a.yaml": "a: 1"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	content, err := os.ReadFile(ss.LocalPath(a))
	if err != nil {
		t.Fatal(err)
	}
	_, hexSum, _ := ParseDigest(a.Digest)
	// A file in storage whose name is not a digest, and a symlink planted next to the artifact.
	objDir := filepath.Dir(ss.LocalPath(a))
	if err := os.WriteFile(filepath.Join(objDir, "index.yaml"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	other := strings.Repeat("e", 64) + ".tar.gz"
	if err := os.Symlink(ss.LocalPath(a), filepath.Join(objDir, other)); err != nil {
		t.Fatal(err)
	}

	resp, err := http.Get(a.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != string(content) {
		t.Fatalf("GET %s: %d, %d bytes", a.URL, resp.StatusCode, len(body))
	}
	etag := resp.Header.Get("ETag")
	if etag != `"`+a.Digest+`"` {
		t.Errorf("ETag %q", etag)
	}

	for _, tc := range []struct {
		method, target string
		status         int
	}{
		{"HEAD", "/" + a.Path, 200},
		{"POST", "/" + a.Path, 405},
		{"DELETE", "/" + a.Path, 405},
		{"GET", "/", 404},
		{"GET", "/gitrepository/", 404},
		{"GET", "/gitrepository/default/app/", 404},
		{"GET", "/gitrepository/default/app", 404},
		{"GET", "/.blobs/sha256/" + hexSum, 404},
		{"GET", "/.tmp/", 404},
		{"GET", "/gitrepository/default/app/../app/" + hexSum + ".tar.gz", 404},
		{"GET", "/x/../.blobs/sha256/" + hexSum, 404},
		{"GET", "/%2e%2e/%2e%2e/etc/passwd", 404},
		{"GET", "/gitrepository/default/app/index.yaml", 404},
		{"GET", "/gitrepository/default/app/" + other, 404},
		{"GET", "/gitrepository/default/missing/" + hexSum + ".tar.gz", 404},
	} {
		if status, _ := rawRequest(t, ss.addr, tc.method, tc.target); status != tc.status {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.target, status, tc.status)
		}
	}

	// Conditional and range requests work.
	req, _ := http.NewRequest("GET", a.URL, nil)
	req.Header.Set("If-None-Match", etag)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %v %v", resp.StatusCode, err)
	} else {
		resp.Body.Close()
	}
	req.Header.Del("If-None-Match")
	req.Header.Set("Range", "bytes=0-1")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusPartialContent {
		t.Errorf("Range: %v %v", resp.StatusCode, err)
	} else {
		resp.Body.Close()
	}
	if h := ss.hashes.Load(); h != 0 {
		t.Errorf("serving hashed %d times; the digest from storing should be remembered", h)
	}

	// A corrupted file is refused, never served.
	corrupt := append([]byte(nil), content...)
	corrupt[len(corrupt)-1] ^= 0xff
	if err := os.WriteFile(ss.LocalPath(a), corrupt, 0o644); err != nil {
		t.Fatal(err)
	}
	status, body2 := rawRequest(t, ss.addr, "GET", "/"+a.Path)
	if status != http.StatusInternalServerError || strings.Contains(body2, string(corrupt[:4])) {
		t.Errorf("corrupted artifact: %d %q", status, body2)
	}
}

func TestServeListener(t *testing.T) {
	s := newTestStorage(t, StorageOptions{})
	a, err := s.StoreReader(context.Background(), testRef("x"), strings.NewReader("hello"), ".txt")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ServeListener(ctx, ln) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/" + a.Path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "hello" {
		t.Errorf("got %q", b)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("shutdown: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server did not stop with its context")
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("still listening after shutdown")
	}
	if err := s.Serve(context.Background(), "256.0.0.1:1"); err == nil {
		t.Error("Serve on an invalid address succeeded")
	}
}
