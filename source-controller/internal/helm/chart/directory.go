package chart

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	helmchart "helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/ignore"

	"gotk.dev/source-controller/internal/helm"
)

// LoadDirectory loads the chart in dir, a directory inside the source artifact root (both
// real paths: see realRoot and resolveInRoot), like helm's loader.LoadDir: .helmignore rules
// apply and files are handed to loader.LoadFiles. Unlike LoadDir it never leaves root:
// a symlink is followed only when its target is inside root (a link pointing outside is an
// error naming it), link cycles are refused, every file is bounded by
// Limits.MaxChartFileSize and the chart by Limits.MaxDecompressedChartSize.
func LoadDirectory(root, dir string, limits helm.Limits) (*helmchart.Chart, error) {
	w := &dirWalker{root: root, limits: limits.WithDefaults(), visiting: map[string]bool{}}
	w.remaining = w.limits.MaxDecompressedChartSize
	w.rules = ignore.Empty()
	ignoreFile := filepath.Join(dir, ignore.HelmIgnore)
	if fi, err := os.Lstat(ignoreFile); err == nil && fi.Mode().IsRegular() {
		data, err := readFileLimited(ignoreFile, w.limits.MaxChartFileSize, "chart file '"+ignore.HelmIgnore+"'")
		if err != nil {
			return nil, err
		}
		if w.rules, err = ignore.Parse(bytes.NewReader(data)); err != nil {
			return nil, fmt.Errorf("parse %s: %w", ignore.HelmIgnore, err)
		}
	}
	w.rules.AddDefaults()
	if err := w.walk(dir, ""); err != nil {
		return nil, err
	}
	if err := checkNestedArchives(w.files, w.limits, &w.remaining, 0); err != nil {
		return nil, err
	}
	c, err := loader.LoadFiles(w.files)
	if err != nil {
		return nil, fmt.Errorf("load chart: %w", err)
	}
	return c, nil
}

type dirWalker struct {
	root      string
	limits    helm.Limits
	rules     *ignore.Rules
	remaining int64
	visiting  map[string]bool // real directories on the current path, to refuse link cycles
	files     []*loader.BufferedFile
}

// walk adds the files of the real directory abs, whose path inside the chart is rel.
func (w *dirWalker) walk(abs, rel string) error {
	if w.visiting[abs] {
		return fmt.Errorf("chart directory '%s' is part of a symlink cycle", rel)
	}
	w.visiting[abs] = true
	defer delete(w.visiting, abs)
	entries, err := os.ReadDir(abs) // sorted by name: the chart loads the same every time
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if rel != "" {
			name = rel + "/" + e.Name()
		}
		target := filepath.Join(abs, e.Name())
		if e.Type()&fs.ModeSymlink != 0 {
			real, err := filepath.EvalSymlinks(target)
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return fmt.Errorf("chart file '%s' is a broken symlink", name)
				}
				return err
			}
			if !within(w.root, real) {
				return &PathError{Path: name, Reason: "is a symlink to outside the source artifact"}
			}
			target = real
		}
		fi, err := os.Stat(target)
		if err != nil {
			return err
		}
		if w.rules.Ignore(name, fi) {
			continue
		}
		if fi.IsDir() {
			if err := w.walk(target, name); err != nil {
				return err
			}
			continue
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("chart file '%s' is not a regular file", name)
		}
		what := fmt.Sprintf("chart file '%s'", name)
		if fi.Size() > w.remaining {
			return &helm.LimitError{What: "chart", Limit: w.limits.MaxDecompressedChartSize}
		}
		data, err := readFileLimited(target, w.limits.MaxChartFileSize, what)
		if err != nil {
			return err
		}
		w.remaining -= int64(len(data))
		w.files = append(w.files, &loader.BufferedFile{Name: name, Data: bytes.TrimPrefix(data, utf8BOM)})
	}
	return nil
}
