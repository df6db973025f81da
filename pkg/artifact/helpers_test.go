package artifact

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
)

type metaArtifact = meta.Artifact

func testRef(name string) ObjectRef {
	return ObjectRef{Kind: "GitRepository", Namespace: "default", Name: name}
}

func newTestStorage(t testing.TB, opts StorageOptions) *Storage {
	t.Helper()
	if opts.BasePath == "" {
		opts.BasePath = t.TempDir()
	}
	if opts.Hostname == "" {
		opts.Hostname = "source-controller.flux-system.svc.cluster.local."
	}
	s, err := NewStorage(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// srcDir creates a source tree from path -> content.
func srcDir(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// inodes returns the distinct inodes of the regular files under root and their total size.
func inodes(t testing.TB, root string) (count int, bytes int64) {
	t.Helper()
	seen := map[fileID]bool{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		id, _, _, ok := identify(fi)
		if !ok {
			return fmt.Errorf("cannot identify %s", p)
		}
		if !seen[id] {
			seen[id] = true
			bytes += fi.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return len(seen), bytes
}

// clock is a manual time source for retention tests.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock                   { return &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }
