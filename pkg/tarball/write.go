// Package tarball writes deterministic gzipped tarballs and extracts untrusted ones safely.
// Artifacts are content addressed by the digest of these bytes, so the same tree must always
// produce the same tarball: entries are sorted, and headers carry no owner, time or umask.
package tarball

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// Filter decides whether a path (slash separated, relative to the root) goes into the tarball.
// Returning false for a directory skips everything below it.
type Filter func(rel string, d fs.DirEntry) bool

// epoch is the modification time of every entry: a fixed time keeps digests stable.
var epoch = time.Unix(0, 0).UTC()

// Write writes root as a gzipped tarball to w. Regular files and directories are kept;
// symlinks are kept when they point inside root and dropped otherwise (they would dangle or
// leak the build host's layout); "inside" is decided by resolving the link against the real
// file system, so chains like a -> b/.. with b -> . are dropped too. Other file types are
// skipped. Directories are written before their contents, in byte order of their names.
func Write(w io.Writer, root string, filter Filter) error {
	root, err := filepath.Abs(root)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(root); err != nil {
		return err
	} else if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", root)
	}
	gz, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
	tw := tar.NewWriter(gz)
	if err := writeDir(tw, root, "", filter); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

// writeDir adds the entries of root/rel in sorted order, recursing into directories.
func writeDir(tw *tar.Writer, root, rel string, filter Filter) error {
	entries, err := os.ReadDir(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		return err
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		p := e.Name()
		if rel != "" {
			p = rel + "/" + e.Name()
		}
		if filter != nil && !filter(p, e) {
			continue
		}
		abs := filepath.Join(root, filepath.FromSlash(p))
		switch {
		case e.IsDir():
			if err := tw.WriteHeader(header(p+"/", tar.TypeDir, 0o755, 0)); err != nil {
				return err
			}
			if err := writeDir(tw, root, p, filter); err != nil {
				return err
			}
		case e.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(abs)
			if err != nil {
				return err
			}
			if linkEscapes(root, p, target) {
				continue
			}
			h := header(p, tar.TypeSymlink, 0o777, 0)
			h.Linkname = target
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
		case e.Type().IsRegular():
			if err := writeFile(tw, abs, p); err != nil {
				return err
			}
		}
	}
	return nil
}

func writeFile(tw *tar.Writer, abs, rel string) error {
	f, err := os.Open(abs)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	mode := int64(0o644)
	if fi.Mode()&0o111 != 0 {
		mode = 0o755
	}
	if err := tw.WriteHeader(header(rel, tar.TypeReg, mode, fi.Size())); err != nil {
		return err
	}
	// Copy exactly the size written in the header, even if the file grows meanwhile.
	if _, err := io.CopyN(tw, f, fi.Size()); err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	return nil
}

func header(name string, typ byte, mode, size int64) *tar.Header {
	return &tar.Header{
		Typeflag: typ,
		Name:     name,
		Mode:     mode,
		Size:     size,
		ModTime:  epoch,
	}
}
