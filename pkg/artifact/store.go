package artifact

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gotk.dev/pkg/tarball"
)

// ArchiveDir packs dir (through filter, nil keeps everything) as a deterministic .tar.gz
// artifact of ref. The digest is computed while writing; the file appears atomically. The
// returned artifact has Path, URL, Digest, Size and LastUpdateTime set; the caller sets
// Revision and Metadata. Hold Lock(ref) around storing and collecting an object's artifacts.
func (s *Storage) ArchiveDir(ctx context.Context, ref ObjectRef, dir string, filter tarball.Filter) (*meta.Artifact, error) {
	a, err := s.store(ctx, ref, ".tar.gz", func(w io.Writer) error {
		return tarball.Write(w, dir, filter)
	})
	if err != nil {
		return nil, fmt.Errorf("archiving %s for %s: %w", dir, ref, err)
	}
	return a, nil
}

// StoreReader stores an already packed stream (an OCI layer, a Helm chart, an index) as an
// artifact of ref with the file extension ext (".tar.gz", ".tgz", ".yaml", ...).
func (s *Storage) StoreReader(ctx context.Context, ref ObjectRef, r io.Reader, ext string) (*meta.Artifact, error) {
	if !validExt(ext) {
		return nil, fmt.Errorf("storing artifact for %s: invalid file extension %q", ref, ext)
	}
	a, err := s.store(ctx, ref, ext, func(w io.Writer) error {
		_, err := io.Copy(w, r)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("storing artifact for %s: %w", ref, err)
	}
	return a, nil
}

// ctxWriter stops a long write when the context ends.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
	n   int64
}

func (c *ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// spillThreshold is how much of an artifact is kept in memory before it goes to a
// temporary file. Manifest artifacts are mostly far smaller, so storing content that
// already exists (the common case with many objects on one source) creates no file at all.
const spillThreshold = 1 << 20

func (s *Storage) store(ctx context.Context, ref ObjectRef, ext string, write func(io.Writer) error) (*meta.Artifact, error) {
	objDir, err := ref.dir()
	if err != nil {
		return nil, err
	}
	h, err := newHash(s.algo)
	if err != nil {
		return nil, err
	}
	sw := &spillWriter{dir: filepath.Join(s.base, tmpDir), limit: spillThreshold}
	defer sw.cleanup()
	cw := &ctxWriter{ctx: ctx, w: io.MultiWriter(sw, h)}
	bw := bufio.NewWriterSize(cw, 64<<10)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return nil, err
	}
	hexSum := hexOf(h)
	rel, err := s.link(sw, objDir, hexSum, ext)
	if err != nil {
		return nil, err
	}
	size := cw.n
	return &meta.Artifact{
		Path:           rel,
		URL:            s.URL(rel),
		Digest:         s.algo + ":" + hexSum,
		Size:           &size,
		LastUpdateTime: metav1.NewTime(s.now()),
	}, nil
}

// link makes sure the blob of hexSum exists (writing it from src only when it does not,
// or when the stored one was damaged) and links it as <objDir>/<hex><ext>, replacing
// atomically whatever was there.
// linkBlobAs links blob as rel (relative to the base), replacing atomically whatever was there.
func (s *Storage) linkBlobAs(blob, rel string) error {
	target := filepath.Join(s.base, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	bfi, err := os.Lstat(blob)
	if err != nil {
		return err
	}
	if tfi, err := os.Lstat(target); err == nil && os.SameFile(bfi, tfi) {
		return nil
	}
	// Link under a temporary name, then rename over the target: readers see the old file or
	// the new one, never a missing or partial one.
	tl := filepath.Join(s.base, tmpDir, "link-"+randomSuffix())
	if err := os.Link(blob, tl); err != nil {
		return fmt.Errorf("linking %s: %w", rel, err)
	}
	err = os.Rename(tl, target)
	_ = os.Remove(tl) // rename between links to one inode leaves the source in place
	if err != nil {
		return fmt.Errorf("linking %s: %w", rel, err)
	}
	return nil
}

func (s *Storage) link(src *spillWriter, objDir, hexSum, ext string) (string, error) {
	s.blobMu.RLock()
	defer s.blobMu.RUnlock()
	blob := s.blobPath(s.algo, hexSum)
	if intact, _ := s.blobIntact(blob, hexSum); !intact {
		if err := s.writeBlob(src, blob, hexSum); err != nil {
			return "", fmt.Errorf("storing blob %s: %w", hexSum, err)
		}
	}
	rel := path.Join(objDir, hexSum+ext)
	if err := s.linkBlobAs(blob, rel); err != nil {
		return "", err
	}
	// Linking changed the blob's ctime; its content is known, so remember it as verified.
	if fi, err := os.Lstat(blob); err == nil {
		s.memo.remember(fi, s.algo, hexSum)
	}
	s.touchStored(rel)
	return rel, nil
}

// writeBlob puts the content of src at blob. Linking (not renaming) the temporary file
// fails when a concurrent writer got there first, so both end up sharing one inode.
func (s *Storage) writeBlob(src *spillWriter, blob, hexSum string) error {
	tmp, err := src.materialize()
	if err != nil {
		return err
	}
	err = os.Link(tmp, blob)
	if errors.Is(err, fs.ErrExist) {
		err = nil
		if intact, _ := s.blobIntact(blob, hexSum); !intact {
			err = os.Rename(tmp, blob) // damaged on disk: the fresh bytes replace it
		}
	}
	// Drop the temporary name now: unlinking changes the blob's ctime, which must happen
	// before the verified stamp is taken.
	_ = os.Remove(tmp)
	return err
}

// spillWriter holds written bytes in memory up to limit, then in a temporary file.
type spillWriter struct {
	dir   string
	limit int
	buf   bytes.Buffer
	f     *os.File
	name  string
}

func (w *spillWriter) Write(p []byte) (int, error) {
	if w.f == nil && w.buf.Len()+len(p) <= w.limit {
		return w.buf.Write(p)
	}
	if w.f == nil {
		if err := w.spill(); err != nil {
			return 0, err
		}
	}
	return w.f.Write(p)
}

func (w *spillWriter) spill() error {
	f, err := os.CreateTemp(w.dir, "write-*")
	if err != nil {
		return err
	}
	w.f, w.name = f, f.Name()
	if _, err := f.Write(w.buf.Bytes()); err != nil {
		return err
	}
	w.buf = bytes.Buffer{}
	return nil
}

// materialize returns the name of a closed temporary file holding everything written.
func (w *spillWriter) materialize() (string, error) {
	if w.f == nil && w.name == "" {
		if err := w.spill(); err != nil {
			return "", err
		}
	}
	if w.f != nil {
		err := w.f.Close()
		w.f = nil
		if err != nil {
			return "", err
		}
	}
	return w.name, nil
}

func (w *spillWriter) cleanup() {
	if w.f != nil {
		_ = w.f.Close()
	}
	if w.name != "" {
		_ = os.Remove(w.name)
	}
}

// blobIntact reports whether an existing blob still hashes to its name.
func (s *Storage) blobIntact(blob, hexSum string) (bool, error) {
	f, _, err := openRegular(blob)
	if err != nil {
		return false, err
	}
	defer f.Close()
	got, err := s.fileDigest(f, s.algo)
	return got == hexSum, err
}

func randomSuffix() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
