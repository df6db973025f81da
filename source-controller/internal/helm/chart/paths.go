package chart

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// PathError reports a path from the HelmChart spec or a chart that may not be used: absolute,
// climbing out of the source artifact, or resolving through a symlink to outside it.
type PathError struct {
	// Path as the user wrote it (spec.chart, a values file, a file:// dependency).
	Path   string
	Reason string
}

func (e *PathError) Error() string { return fmt.Sprintf("path '%s' %s", e.Path, e.Reason) }

// realRoot returns the absolute, symlink-free form of an artifact root, the base every
// containment check compares against.
func realRoot(root string) (string, error) {
	if !filepath.IsAbs(root) {
		return "", fmt.Errorf("source directory '%s' must be absolute", root)
	}
	return filepath.EvalSymlinks(root)
}

// resolveInRoot returns the real path of rel (slash or OS separated, relative to root, which
// realRoot returned). rel may not be absolute or climb out of root, and symlinks on the way
// may only point inside root. A missing target returns an error matching fs.ErrNotExist.
func resolveInRoot(root, rel, what string) (string, error) {
	if rel == "" {
		return "", &PathError{Path: rel, Reason: "is empty"}
	}
	if filepath.IsAbs(rel) || strings.HasPrefix(rel, "/") {
		return "", &PathError{Path: rel, Reason: fmt.Sprintf("must be relative to the %s", what)}
	}
	clean := filepath.Clean(filepath.FromSlash(rel))
	if clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return "", &PathError{Path: rel, Reason: fmt.Sprintf("is outside the %s", what)}
	}
	real, err := filepath.EvalSymlinks(filepath.Join(root, clean))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("path '%s' does not exist in the %s: %w", rel, what, fs.ErrNotExist)
		}
		return "", fmt.Errorf("path '%s': %w", rel, err)
	}
	if !within(root, real) {
		return "", &PathError{Path: rel, Reason: fmt.Sprintf("resolves through a symlink to outside the %s", what)}
	}
	return real, nil
}

// within reports whether p is root or below it (both real, absolute paths).
func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// readFileLimited reads a regular file of at most limit bytes; what names it in errors.
func readFileLimited(path string, limit int64, what string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", what)
	}
	if fi.Size() > limit {
		return nil, chartFileLimit(what, limit)
	}
	data := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	return data, nil
}
