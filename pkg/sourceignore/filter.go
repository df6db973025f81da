package sourceignore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"

	"gotk.dev/pkg/tarball"
)

// LoadIgnoreFiles reads every .sourceignore file under root, shallow directories first,
// each file's patterns scoped to its directory. Directories excluded by the VCS patterns
// (.git) are not searched.
func LoadIgnoreFiles(root string) ([]gitignore.Pattern, error) {
	return loadIgnoreFiles(root, Compile(VCSPatterns(), nil), nil)
}

// loadIgnoreFiles walks root, skipping directories that base, the files read so far and
// top exclude: nothing below an excluded directory reaches the artifact, so its ignore
// files do not matter, and big excluded trees (.git, vendored media) are never listed.
func loadIgnoreFiles(root string, base, top []gitignore.Pattern) ([]gitignore.Pattern, error) {
	var loaded []gitignore.Pattern
	var walk func(parts []string) error
	walk = func(parts []string) error {
		dir := filepath.Join(append([]string{root}, parts...)...)
		ps, err := readIgnoreFile(filepath.Join(dir, IgnoreFile), parts)
		if err != nil {
			return err
		}
		loaded = append(loaded, ps...)
		entries, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("listing %s: %w", dir, err)
		}
		for _, e := range entries {
			if !e.IsDir() {
				continue
			}
			sub := append(parts[:len(parts):len(parts)], e.Name())
			all := make([]gitignore.Pattern, 0, len(base)+len(loaded)+len(top))
			all = append(append(append(all, base...), loaded...), top...)
			if gitignore.NewMatcher(all).Match(sub, true) {
				continue
			}
			if err := walk(sub); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(nil); err != nil {
		return nil, err
	}
	return loaded, nil
}

// readIgnoreFile reads one .sourceignore; a missing one, or one that is not a regular file
// (a symlink could point anywhere on the host), contributes nothing.
func readIgnoreFile(path string, domain []string) ([]gitignore.Pattern, error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && !fi.Mode().IsRegular()) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f, path, domain)
}

// NewMatcher returns the matcher for a source tree at root with the given spec.ignore
// (nil when unset), reading the tree's .sourceignore files. Match reports exclusion.
func NewMatcher(root string, ignore *string) (gitignore.Matcher, error) {
	var top []gitignore.Pattern
	if ignore != nil {
		top = Parse(*ignore, nil)
	}
	base := BasePatterns(ignore)
	files, err := loadIgnoreFiles(root, base, top)
	if err != nil {
		return nil, fmt.Errorf("loading %s files: %w", IgnoreFile, err)
	}
	return gitignore.NewMatcher(Rules(ignore, files)), nil
}

// NewFilter returns the tarball.Filter that archives root according to the ignore rules.
func NewFilter(root string, ignore *string) (tarball.Filter, error) {
	m, err := NewMatcher(root, ignore)
	if err != nil {
		return nil, err
	}
	return FilterFor(m), nil
}

// FilterFor adapts a matcher (true = excluded) to a tarball.Filter (true = included).
func FilterFor(m gitignore.Matcher) tarball.Filter {
	return func(rel string, d fs.DirEntry) bool {
		return !m.Match(strings.Split(rel, "/"), d.IsDir())
	}
}
