package gitserver

import (
	"compress/zlib"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/go-git/go-git/v5/plumbing"
)

// storeZeroBlob writes a loose blob of size zero bytes into the bare repository at repoPath,
// streaming it through zlib and SHA-1, and returns its hash.
func storeZeroBlob(repoPath string, size int64) (plumbing.Hash, error) {
	tmp, err := os.CreateTemp(filepath.Join(repoPath, "objects"), "tmp-blob-")
	if err != nil {
		return plumbing.ZeroHash, err
	}
	defer os.Remove(tmp.Name())
	h := sha1.New()
	zw, err := zlib.NewWriterLevel(tmp, zlib.BestSpeed)
	if err != nil {
		tmp.Close()
		return plumbing.ZeroHash, err
	}
	w := io.MultiWriter(zw, h)
	if _, err := fmt.Fprintf(w, "blob %d\x00", size); err != nil {
		tmp.Close()
		return plumbing.ZeroHash, err
	}
	chunk := make([]byte, 1<<20)
	for left := size; left > 0; left -= int64(len(chunk)) {
		if _, err := w.Write(chunk[:min(left, int64(len(chunk)))]); err != nil {
			tmp.Close()
			return plumbing.ZeroHash, err
		}
	}
	if err := zw.Close(); err != nil {
		tmp.Close()
		return plumbing.ZeroHash, err
	}
	if err := tmp.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	dir := filepath.Join(repoPath, "objects", sum[:2])
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, sum[2:])); err != nil {
		return plumbing.ZeroHash, err
	}
	return plumbing.NewHash(sum), nil
}
