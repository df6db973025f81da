package artifact

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gotk.dev/pkg/tarball"
)

func TestArchiveDir(t *testing.T) {
	for _, algo := range []string{"", SHA256, SHA384, SHA512} {
		t.Run("algo="+algo, func(t *testing.T) {
			s := newTestStorage(t, StorageOptions{DigestAlgorithm: algo})
			src := srcDir(t, map[string]string{"deploy.yaml": "kind: Deployment", "sub/cm.yaml": "kind: ConfigMap"})
			a, err := s.ArchiveDir(context.Background(), testRef("podinfo"), src, nil)
			if err != nil {
				t.Fatal(err)
			}
			wantAlgo := algo
			if wantAlgo == "" {
				wantAlgo = SHA256
			}
			gotAlgo, hexSum, err := ParseDigest(a.Digest)
			if err != nil || gotAlgo != wantAlgo {
				t.Fatalf("digest %q: algo %q, err %v", a.Digest, gotAlgo, err)
			}
			wantPath := "gitrepository/default/podinfo/" + hexSum + ".tar.gz"
			if a.Path != wantPath {
				t.Errorf("path %q, want %q", a.Path, wantPath)
			}
			if want := "http://source-controller.flux-system.svc.cluster.local./" + wantPath; a.URL != want {
				t.Errorf("url %q, want %q", a.URL, want)
			}
			var buf bytes.Buffer
			if err := tarball.Write(&buf, src, nil); err != nil {
				t.Fatal(err)
			}
			onDisk, err := os.ReadFile(s.LocalPath(a))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(onDisk, buf.Bytes()) {
				t.Error("stored bytes differ from the deterministic tarball")
			}
			if a.Size == nil || *a.Size != int64(len(onDisk)) {
				t.Errorf("size %v, want %d", a.Size, len(onDisk))
			}
			if algo == SHA256 && hexSum != sha256Hex(onDisk) {
				t.Errorf("digest %s does not match the content", hexSum)
			}
			if a.LastUpdateTime.IsZero() {
				t.Error("LastUpdateTime not set")
			}
			if !s.Exists(a) {
				t.Error("Exists is false")
			}
			if err := s.Verify(a); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestNewStorageErrors(t *testing.T) {
	for _, tc := range []struct {
		opts StorageOptions
		err  string
	}{
		{StorageOptions{Hostname: "h"}, "base path is required"},
		{StorageOptions{BasePath: t.TempDir()}, "hostname is required"},
		{StorageOptions{BasePath: t.TempDir(), Hostname: "h", DigestAlgorithm: "md5"}, `unsupported digest algorithm "md5"`},
	} {
		if _, err := NewStorage(tc.opts); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%+v: error %v, want %q", tc.opts, err, tc.err)
		}
	}
}

func TestStoreReader(t *testing.T) {
	s := newTestStorage(t, StorageOptions{})
	ref := ObjectRef{Kind: "HelmChart", Namespace: "flux-system", Name: "podinfo"}
	content := []byte("not really a chart")
	a, err := s.StoreReader(context.Background(), ref, bytes.NewReader(content), ".tgz")
	if err != nil {
		t.Fatal(err)
	}
	if want := "helmchart/flux-system/podinfo/" + sha256Hex(content) + ".tgz"; a.Path != want {
		t.Errorf("path %q, want %q", a.Path, want)
	}
	if a.Digest != "sha256:"+sha256Hex(content) || *a.Size != int64(len(content)) {
		t.Errorf("digest %s size %d", a.Digest, *a.Size)
	}
	for _, bad := range []struct {
		ref ObjectRef
		ext string
		err string
	}{
		{ref, "tgz", `invalid file extension "tgz"`},
		{ref, "/../x", `invalid file extension "/../x"`},
		{ref, ".TGZ", `invalid file extension ".TGZ"`},
		{ObjectRef{Kind: "HelmChart", Namespace: "..", Name: "x"}, ".tgz", "invalid object reference"},
		{ObjectRef{Kind: "HelmChart", Namespace: "ns", Name: "a/b"}, ".tgz", "invalid object reference"},
		{ObjectRef{Kind: "", Namespace: "ns", Name: "a"}, ".tgz", "invalid object reference"},
	} {
		_, err := s.StoreReader(context.Background(), bad.ref, bytes.NewReader(content), bad.ext)
		if err == nil || !strings.Contains(err.Error(), bad.err) {
			t.Errorf("%v %q: error %v, want %q", bad.ref, bad.ext, err, bad.err)
		}
	}
}

func TestStoreCancelled(t *testing.T) {
	s := newTestStorage(t, StorageOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.StoreReader(ctx, testRef("x"), strings.NewReader(strings.Repeat("x", 1<<20)), ".bin"); err == nil {
		t.Fatal("a cancelled store succeeded")
	}
	if entries, _ := os.ReadDir(filepath.Join(s.BasePath(), tmpDir)); len(entries) != 0 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

// TestSharedContentCostsOneBlob stores the same artifact for 1000 objects.
func TestSharedContentCostsOneBlob(t *testing.T) {
	s := newTestStorage(t, StorageOptions{})
	// Incompressible content, so a thousand copies would show in du.
	noise := make([]byte, 16<<10)
	if _, err := rand.Read(noise); err != nil {
		t.Fatal(err)
	}
	src := srcDir(t, map[string]string{"app.bin": string(noise)})
	var first string
	for i := range 1000 {
		a, err := s.ArchiveDir(context.Background(), testRef("app-"+strconv.Itoa(i)), src, nil)
		if err != nil {
			t.Fatal(err)
		}
		if first == "" {
			first = a.Digest
		} else if a.Digest != first {
			t.Fatalf("object %d got digest %s, want %s", i, a.Digest, first)
		}
	}
	n, size := inodes(t, s.BasePath())
	if n != 1 {
		t.Fatalf("1000 objects with one artifact use %d inodes, want 1", n)
	}
	// du counts hard links once: the files must cost about one blob, not a thousand.
	if _, err := exec.LookPath("du"); err == nil {
		out, err := exec.Command("du", "-s", "--block-size=1", "--apparent-size", filepath.Join(s.BasePath(), blobsDir), filepath.Join(s.BasePath(), "gitrepository")).Output()
		if err != nil {
			t.Fatalf("du: %v", err)
		}
		var total int64
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			v, _ := strconv.ParseInt(strings.Fields(line)[0], 10, 64)
			total += v
		}
		// 1000 object directories and a few more, each at most a block of entries; a
		// thousand copies of the 16 KiB blob would be four times that.
		if limit := size + 1100*4096; total > limit || total < size {
			t.Errorf("du reports %d bytes for 1000 shared artifacts of %d bytes", total, size)
		}
	}
	// Removing all but one object keeps the blob; removing the last frees it.
	for i := range 999 {
		if err := s.RemoveAll(testRef("app-" + strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := inodes(t, s.BasePath()); n != 1 {
		t.Fatalf("%d inodes with one object left, want 1", n)
	}
	if err := s.RemoveAll(testRef("app-999")); err != nil {
		t.Fatal(err)
	}
	if n, _ := inodes(t, s.BasePath()); n != 0 {
		t.Fatalf("%d inodes left after removing every object", n)
	}
}

func TestVerifyHashesSharedBlobOnce(t *testing.T) {
	base := t.TempDir()
	writer := newTestStorage(t, StorageOptions{BasePath: base})
	src := srcDir(t, map[string]string{"a.yaml": "a"})
	var arts []*metaArtifact
	for i := range 200 {
		a, err := writer.ArchiveDir(context.Background(), testRef("o"+strconv.Itoa(i)), src, nil)
		if err != nil {
			t.Fatal(err)
		}
		arts = append(arts, a)
	}
	if h := writer.hashes.Load(); h != 0 {
		t.Errorf("storing hashed %d existing files; the digest computed while writing should suffice", h)
	}
	// A fresh Storage (a restarted controller) knows nothing: one hash for all 200.
	s := newTestStorage(t, StorageOptions{BasePath: base})
	var wg sync.WaitGroup
	for _, a := range arts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Verify(a); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if h := s.hashes.Load(); h != 1 {
		t.Errorf("verifying 200 objects sharing a blob hashed %d times, want 1", h)
	}
	// Rewrite the blob in place with the same size and restore its mtime: ctime still
	// changes, so the change must be noticed.
	p := s.LocalPath(arts[0])
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	time.Sleep(20 * time.Millisecond) // let the ctime tick
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	for _, a := range arts[:10] {
		if err := s.Verify(a); err == nil || !strings.Contains(err.Error(), "digest is sha256:") {
			t.Fatalf("corrupted %s verified: %v", a.Path, err)
		}
	}
	if h := s.hashes.Load(); h != 2 {
		t.Errorf("after corruption %d hashes in total, want 2", h)
	}
	// Storing the content again for another object replaces the damaged blob.
	fresh, err := s.ArchiveDir(context.Background(), testRef("fresh"), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Verify(fresh); err != nil {
		t.Errorf("re-stored artifact: %v", err)
	}
}

func TestVerifyErrors(t *testing.T) {
	s := newTestStorage(t, StorageOptions{})
	a, err := s.StoreReader(context.Background(), testRef("x"), strings.NewReader("content"), ".txt")
	if err != nil {
		t.Fatal(err)
	}
	wrongSize := *a
	n := int64(3)
	wrongSize.Size = &n
	wrongDigest := *a
	wrongDigest.Digest = "sha256:" + strings.Repeat("0", 64)
	missing := *a
	missing.Path = "gitrepository/default/x/" + strings.Repeat("1", 64) + ".txt"
	escape := *a
	escape.Path = "../../etc/passwd"
	badDigest := *a
	badDigest.Digest = "md5:abc"
	for _, tc := range []struct {
		a   *metaArtifact
		err string
	}{
		{&wrongSize, "size is 7 bytes, expected 3"},
		{&wrongDigest, "expected sha256:0000"},
		{&missing, "no such file"},
		{&escape, `invalid path "../../etc/passwd"`},
		{&badDigest, `unsupported digest algorithm "md5"`},
		{nil, "no artifact"},
	} {
		if err := s.Verify(tc.a); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("error %v, want %q", err, tc.err)
		}
	}
	if s.LocalPath(&escape) != "" || s.Exists(&escape) {
		t.Error("an escaping path resolved to a local file")
	}
}

func TestGarbageCollect(t *testing.T) {
	clk := newClock()
	s := newTestStorage(t, StorageOptions{Now: clk.now, RetentionTTL: time.Minute, RetentionRecords: 3})
	ref := testRef("app")
	store := func(content string) *metaArtifact {
		t.Helper()
		a, err := s.StoreReader(context.Background(), ref, strings.NewReader(content), ".txt")
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	// v1..v5 stored 10s apart; v1 is also used by another object.
	shared, err := s.StoreReader(context.Background(), testRef("other"), strings.NewReader("v1"), ".txt")
	if err != nil {
		t.Fatal(err)
	}
	var arts []*metaArtifact
	for i := 1; i <= 5; i++ {
		arts = append(arts, store(fmt.Sprintf("v%d", i)))
		clk.advance(10 * time.Second)
	}
	current := arts[4]
	deleted, err := s.GarbageCollect(ref, current)
	if err != nil {
		t.Fatal(err)
	}
	// Three records: current v5 plus the two newest others (v4, v3); v1, v2 go.
	want := []string{arts[1].Path, arts[0].Path}
	if strings.Join(deleted, ",") != strings.Join(want, ",") {
		t.Errorf("deleted %v, want %v", deleted, want)
	}
	for i, a := range arts {
		if exists := s.Exists(a); exists != (i >= 2) {
			t.Errorf("v%d exists=%v", i+1, exists)
		}
	}
	if err := s.Verify(shared); err != nil {
		t.Errorf("the blob shared with another object went: %v", err)
	}
	if _, err := os.Stat(s.blobPath(SHA256, sha256Hex([]byte("v2")))); !os.IsNotExist(err) {
		t.Errorf("the unreferenced blob of v2 is still there: %v", err)
	}
	// Past the TTL only the current artifact stays.
	clk.advance(time.Minute)
	deleted, err = s.GarbageCollect(ref, current)
	if err != nil {
		t.Fatal(err)
	}
	if len(deleted) != 2 || !s.Exists(current) || s.Exists(arts[3]) {
		t.Errorf("after the TTL deleted %v", deleted)
	}
	// Storing an old content again makes it current; the previous current, stored more
	// than a TTL ago, goes.
	again := store("v3")
	clk.advance(time.Second)
	if deleted, _ := s.GarbageCollect(ref, again); strings.Join(deleted, ",") != current.Path {
		t.Errorf("deleted %v, want only %s", deleted, current.Path)
	}
	// Within the TTL and the records, nothing goes.
	newer := store("v6")
	if deleted, _ := s.GarbageCollect(ref, newer); len(deleted) != 0 || !s.Exists(again) {
		t.Errorf("deleted %v although within TTL and records", deleted)
	}
	if err := s.Verify(again); err != nil {
		t.Error(err)
	}
}

func TestCollectBlobs(t *testing.T) {
	s := newTestStorage(t, StorageOptions{})
	a, err := s.StoreReader(context.Background(), testRef("x"), strings.NewReader("kept"), ".txt")
	if err != nil {
		t.Fatal(err)
	}
	orphan := s.blobPath(SHA256, sha256Hex([]byte("orphan")))
	if err := os.WriteFile(orphan, []byte("orphan"), 0o644); err != nil {
		t.Fatal(err)
	}
	removed, err := s.CollectBlobs()
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || path.Base(removed[0]) != sha256Hex([]byte("orphan")) {
		t.Errorf("removed %v", removed)
	}
	if err := s.Verify(a); err != nil {
		t.Error(err)
	}
}

func TestLock(t *testing.T) {
	s := newTestStorage(t, StorageOptions{})
	var inside, maxInside atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock := s.Lock(testRef("same"))
			defer unlock()
			n := inside.Add(1)
			for {
				m := maxInside.Load()
				if n <= m || maxInside.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(time.Millisecond)
			inside.Add(-1)
		}()
	}
	wg.Wait()
	if maxInside.Load() != 1 {
		t.Errorf("%d holders at once", maxInside.Load())
	}
	// Different objects do not block each other.
	unlockA := s.Lock(testRef("a"))
	done := make(chan struct{})
	go func() {
		s.Lock(ObjectRef{Kind: "Bucket", Namespace: "default", Name: "a"})()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("locking another object blocked")
	}
	unlockA()
	unlockA() // idempotent
	s.locks.mu.Lock()
	left := len(s.locks.m)
	s.locks.mu.Unlock()
	if left != 0 {
		t.Errorf("%d lock entries left after every holder unlocked", left)
	}
}

// TestStoreLarge covers artifacts bigger than the in-memory threshold, new and repeated.
func TestStoreLarge(t *testing.T) {
	s := newTestStorage(t, StorageOptions{})
	data := make([]byte, 3*spillThreshold+123)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"first", "second"} {
		a, err := s.StoreReader(context.Background(), testRef(name), bytes.NewReader(data), ".bin")
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(s.LocalPath(a))
		if err != nil || !bytes.Equal(got, data) || a.Digest != "sha256:"+sha256Hex(data) {
			t.Fatalf("%s: stored %d bytes, digest %s, err %v", name, len(got), a.Digest, err)
		}
	}
	if n, _ := inodes(t, s.BasePath()); n != 1 {
		t.Errorf("%d inodes, want 1", n)
	}
	if entries, _ := os.ReadDir(filepath.Join(s.BasePath(), tmpDir)); len(entries) != 0 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}
