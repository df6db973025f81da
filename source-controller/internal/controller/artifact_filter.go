package controller

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"gotk.dev/pkg/sourceignore"
	"gotk.dev/pkg/tarball"
)

// sizeLimitError reports content larger than the configured artifact size cap.
type sizeLimitError struct{ size, limit int64 }

func (e *sizeLimitError) Error() string {
	return fmt.Sprintf("source content exceeds the maximum artifact size of %d bytes (--artifact-max-size): %d bytes or more", e.limit, e.size)
}

// filterReport collects what the filter left out, for the Ready message.
type filterReport struct{ skipped []string }

// newArtifactFilter combines the ignore rules (defaults, .sourceignore files, spec.ignore) with
// a safety rule: symlinks pointing outside root are left out, and reported.
func newArtifactFilter(root string, ignore *string) (tarball.Filter, *filterReport, error) {
	ignored, err := sourceignore.NewFilter(root, ignore)
	if err != nil {
		return nil, nil, err
	}
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return nil, nil, err
	}
	realRoot, err := filepath.EvalSymlinks(absRoot)
	if err != nil {
		return nil, nil, err
	}
	report := &filterReport{}
	return func(rel string, d fs.DirEntry) bool {
		if !ignored(rel, d) {
			return false
		}
		// A checked-out submodule has a .git file (not a directory, so the ".git/" rule
		// misses it) pointing at the parent's .git/modules: VCS metadata, and a local path.
		if path.Base(rel) == ".git" {
			return false
		}
		if d.Type()&fs.ModeSymlink != 0 {
			abs := filepath.Join(absRoot, filepath.FromSlash(rel))
			target, err := os.Readlink(abs)
			if err != nil || !inside(absRoot, filepath.Dir(abs), target) || resolvesOutside(realRoot, abs) {
				report.skipped = append(report.skipped, rel)
				return false
			}
		}
		return true
	}, report, nil
}

// checkSize walks root as the archiver will and fails once the regular files passing filter
// add up to more than max bytes, before anything is written.
func checkSize(root string, filter tarball.Filter, max int64) error {
	if max <= 0 {
		return nil
	}
	var total int64
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if !filter(filepath.ToSlash(rel), d) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			if total += info.Size(); total > max {
				return &sizeLimitError{size: total, limit: max}
			}
		}
		return nil
	})
}

// inside reports whether target, relative to dir, resolves under root, lexically.
func inside(root, dir, target string) bool {
	if filepath.IsAbs(target) {
		return false
	}
	return within(root, filepath.Clean(filepath.Join(dir, target)))
}

// resolvesOutside reports whether the link at abs, followed through the real file system,
// ends outside realRoot: chains such as a -> b/.. with b -> . look inside lexically but are
// not. A link that does not resolve (dangling, a loop) is left to the lexical check; the
// archiver drops whatever escapes either way, this decides what the Ready message names.
func resolvesOutside(realRoot, abs string) bool {
	resolved, err := filepath.EvalSymlinks(abs)
	return err == nil && !within(realRoot, resolved)
}

func within(root, p string) bool {
	return p == root || strings.HasPrefix(p, root+string(filepath.Separator))
}
