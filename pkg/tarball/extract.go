package tarball

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// ExtractOptions bounds what an untrusted tarball may cost. Zero values mean unlimited.
type ExtractOptions struct {
	// MaxSize caps the total uncompressed bytes of all entries (a gzip bomb stops here).
	MaxSize int64
	// MaxFiles caps the number of entries of any type.
	MaxFiles int
	// MaxFileSize caps the size of a single file.
	MaxFileSize int64
}

// Extract unpacks a tarball (gzipped or plain, detected by the gzip magic number) from r
// into dir, creating dir if needed. The tarball is treated as hostile:
//   - entries with absolute names or ".." components are rejected with an error naming them;
//   - nothing is ever written through a symlink: every parent directory of an entry must be
//     a real directory, and files are created with O_EXCL after removing what was there;
//   - symlinks must resolve inside dir, checked when created and again once every entry is
//     in place (a later entry can change what an earlier link resolves to); offending links
//     are removed before the error is returned;
//   - hard links become copies of files extracted earlier; devices, FIFOs and other special
//     entries are dropped;
//   - directories get mode 0755, files 0644, or 0755 when any execute bit was set.
//
// On error dir may hold a partial tree: extract into a fresh directory and remove it on
// failure.
func Extract(r io.Reader, dir string, opts ExtractOptions) error {
	root, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return fmt.Errorf("creating extraction directory: %w", err)
	}
	br := bufio.NewReaderSize(r, 64<<10)
	var src io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("reading gzip header: %w", err)
		}
		defer gz.Close()
		src = gz
	}
	x := &extractor{root: root, opts: opts, dirs: map[string]bool{"": true}, files: map[string]bool{}}
	err = x.extractAll(tar.NewReader(src))
	// Links are checked even when extraction stopped early: an escaping link created
	// before the failure must not stay behind.
	if lerr := x.checkLinks(); err == nil {
		err = lerr
	}
	return err
}

func (x *extractor) extractAll(tr *tar.Reader) error {
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading tarball after %d entries: %w", x.entries, err)
		}
		if err := x.entry(tr, h); err != nil {
			return err
		}
	}
}

// extractor carries the state of one Extract call.
type extractor struct {
	root    string
	opts    ExtractOptions
	entries int
	total   int64
	// dirs holds relative paths known to be real directories (never symlinks). Extract
	// never replaces a directory, so the knowledge stays true for the whole call.
	dirs map[string]bool
	// files holds regular files written so far, the only valid hard link targets.
	files map[string]bool
	links []string
}

func (x *extractor) entry(tr *tar.Reader, h *tar.Header) error {
	x.entries++
	if x.opts.MaxFiles > 0 && x.entries > x.opts.MaxFiles {
		return fmt.Errorf("tarball has more than %d entries, the limit", x.opts.MaxFiles)
	}
	rel, err := cleanName(h.Name)
	if err != nil {
		return fmt.Errorf("tar entry %q: %w", h.Name, err)
	}
	// Every entry's payload counts, even of dropped entries: it costs decompression time.
	if err := x.account(h.Name, h.Size); err != nil {
		return err
	}
	switch h.Typeflag {
	case tar.TypeDir:
		if err := x.ensureDir(rel); err != nil {
			return fmt.Errorf("tar entry %q: %w", h.Name, err)
		}
		return nil
	case tar.TypeReg:
		if rel == "" {
			return fmt.Errorf("tar entry %q: not a file name", h.Name)
		}
		return x.writeFile(h.Name, rel, tr, h.Size, fileMode(h.Mode))
	case tar.TypeSymlink:
		if rel == "" {
			return fmt.Errorf("tar entry %q: not a link name", h.Name)
		}
		return x.symlink(h.Name, rel, h.Linkname)
	case tar.TypeLink:
		if rel == "" {
			return fmt.Errorf("tar entry %q: not a link name", h.Name)
		}
		return x.hardlink(h.Name, rel, h.Linkname)
	default:
		// Devices, FIFOs, sparse and vendor specific entries are not artifact content.
		return nil
	}
}

// account adds n bytes to the running totals and enforces the size limits.
func (x *extractor) account(name string, n int64) error {
	if n < 0 {
		return fmt.Errorf("tar entry %q: negative size", name)
	}
	if x.opts.MaxFileSize > 0 && n > x.opts.MaxFileSize {
		return fmt.Errorf("tar entry %q: size %d exceeds the file size limit of %d bytes", name, n, x.opts.MaxFileSize)
	}
	x.total += n
	if x.opts.MaxSize > 0 && x.total > x.opts.MaxSize {
		return fmt.Errorf("tar entry %q: tarball content exceeds the size limit of %d bytes", name, x.opts.MaxSize)
	}
	return nil
}

// cleanName turns an entry name into a clean slash separated relative path ("" for the
// root), rejecting absolute names and any ".." component, even one that would stay inside.
func cleanName(name string) (string, error) {
	if strings.ContainsRune(name, 0) {
		return "", errors.New("name contains a NUL byte")
	}
	if strings.HasPrefix(name, "/") || filepath.IsAbs(name) {
		return "", errors.New("absolute path not allowed")
	}
	parts := splitRel(name)
	for _, p := range parts {
		if p == ".." {
			return "", errors.New(`path contains "..", refusing to extract outside the destination`)
		}
	}
	return strings.Join(parts, "/"), nil
}

func (x *extractor) abs(rel string) string {
	return filepath.Join(x.root, filepath.FromSlash(rel))
}

// ensureDir makes rel and all its parents real directories, refusing symlinks and files.
func (x *extractor) ensureDir(rel string) error {
	if x.dirs[rel] {
		return nil
	}
	if err := x.ensureDir(parentOf(rel)); err != nil {
		return err
	}
	p := x.abs(rel)
	fi, err := os.Lstat(p)
	switch {
	case err == nil && fi.IsDir():
	case err == nil && fi.Mode()&os.ModeSymlink != 0:
		return fmt.Errorf("%s is a symlink, refusing to write through it", rel)
	case err == nil:
		return fmt.Errorf("%s exists and is not a directory", rel)
	case errors.Is(err, os.ErrNotExist):
		if err := os.Mkdir(p, 0o755); err != nil {
			return err
		}
		if err := os.Chmod(p, 0o755); err != nil { // undo the umask
			return err
		}
	default:
		return err
	}
	x.dirs[rel] = true
	return nil
}

func parentOf(rel string) string {
	d := path.Dir(rel)
	if d == "." {
		return ""
	}
	return d
}

// prepare readies the place of a non-directory entry: the parents become real directories
// and whatever non-directory sits at rel is removed (a later tar entry replaces an earlier one).
func (x *extractor) prepare(name, rel string) (string, error) {
	if err := x.ensureDir(parentOf(rel)); err != nil {
		return "", fmt.Errorf("tar entry %q: %w", name, err)
	}
	if x.dirs[rel] {
		return "", fmt.Errorf("tar entry %q: %s is a directory", name, rel)
	}
	p := x.abs(rel)
	fi, err := os.Lstat(p)
	if err == nil {
		if fi.IsDir() {
			return "", fmt.Errorf("tar entry %q: %s is a directory", name, rel)
		}
		if err := os.Remove(p); err != nil {
			return "", fmt.Errorf("tar entry %q: %w", name, err)
		}
	}
	delete(x.files, rel)
	return p, nil
}

func fileMode(m int64) os.FileMode {
	if m&0o111 != 0 {
		return 0o755
	}
	return 0o644
}

func (x *extractor) writeFile(name, rel string, r io.Reader, size int64, mode os.FileMode) error {
	p, err := x.prepare(name, rel)
	if err != nil {
		return err
	}
	// O_EXCL also fails on a symlink, so a link planted meanwhile is never followed.
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("tar entry %q: %w", name, err)
	}
	n, err := io.Copy(f, io.LimitReader(r, size))
	if err == nil && n != size {
		err = io.ErrUnexpectedEOF
	}
	if err == nil {
		err = f.Chmod(mode) // undo the umask
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("tar entry %q: %w", name, err)
	}
	x.files[rel] = true
	return nil
}

func (x *extractor) symlink(name, rel, target string) error {
	if target == "" || strings.HasPrefix(target, "/") || filepath.IsAbs(target) || strings.ContainsRune(target, 0) {
		return fmt.Errorf("tar entry %q: symlink target %q must be a relative path inside the destination", name, target)
	}
	if resolved := path.Join(parentOf(rel), target); resolved == ".." || strings.HasPrefix(resolved, "../") {
		return fmt.Errorf("tar entry %q: symlink target %q points outside the destination", name, target)
	}
	p, err := x.prepare(name, rel)
	if err != nil {
		return err
	}
	if err := os.Symlink(target, p); err != nil {
		return fmt.Errorf("tar entry %q: %w", name, err)
	}
	x.links = append(x.links, rel)
	return nil
}

// hardlink materialises a hard link as a copy of a regular file extracted earlier: a real
// hard link could reach a file outside the destination, and copies keep the tree self-contained.
func (x *extractor) hardlink(name, rel, target string) error {
	trel, err := cleanName(target)
	if err != nil {
		return fmt.Errorf("tar entry %q: hard link target %q: %w", name, target, err)
	}
	if !x.files[trel] || trel == rel {
		return fmt.Errorf("tar entry %q: hard link target %q is not a file extracted earlier", name, target)
	}
	src, err := os.Open(x.abs(trel))
	if err != nil {
		return fmt.Errorf("tar entry %q: %w", name, err)
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return fmt.Errorf("tar entry %q: %w", name, err)
	}
	if err := x.account(name, fi.Size()); err != nil {
		return err
	}
	return x.writeFile(name, rel, src, fi.Size(), fileMode(int64(fi.Mode().Perm())))
}

// checkLinks re-checks every symlink against the final tree and removes those that escape.
func (x *extractor) checkLinks() error {
	var bad []string
	for _, rel := range x.links {
		p := x.abs(rel)
		fi, err := os.Lstat(p)
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			continue // replaced by a later entry
		}
		target, err := os.Readlink(p)
		if err != nil || linkEscapes(x.root, rel, target) {
			bad = append(bad, rel)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	for _, rel := range bad {
		_ = os.Remove(x.abs(rel))
	}
	return fmt.Errorf("tar entry %q: symlink resolves outside the destination", bad[0])
}
