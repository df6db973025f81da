package setters

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Report is the outcome of Apply over a directory tree.
type Report struct {
	// Result is the change set (the commit message template's .Changed).
	Result Result
	// Skipped are files that could not be processed (invalid YAML, unreadable), with why. They
	// are left untouched; the rest of the tree is still updated.
	Skipped []SkippedFile
	// Warnings are markers found but not applied, per file.
	Warnings []FileWarning
}

// Changed reports whether any file was rewritten.
func (r *Report) Changed() bool { return len(r.Result.FileChanges) > 0 }

// SkippedFile is a file Apply did not process.
type SkippedFile struct {
	Path   string
	Reason string
}

func (s SkippedFile) String() string { return s.Path + ": " + s.Reason }

// FileWarning is a marker Apply did not apply.
type FileWarning struct {
	Path string
	Warning
}

func (w FileWarning) String() string {
	return fmt.Sprintf("%s:%d: setter %q not applied: %s", w.Path, w.Line, w.Setter, w.Reason)
}

// Apply sets marked fields in every .yaml and .yml file under root, in place, from policies.
// Hidden files and directories (.git, ...) and symbolic links are not followed, so nothing
// outside root is read or written. Paths in the report are relative to root, with slashes.
// The returned error is for failures that stop the whole run (root missing, a write failing);
// per-file problems are in Report.Skipped.
func Apply(root string, policies []Policy) (*Report, error) {
	byKey := make(map[string]Policy, len(policies))
	for _, p := range policies {
		byKey[p.Key()] = p
	}
	info, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("update path: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("update path %s is not a directory", root)
	}
	rep := &Report{}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		rel, relErr := filepath.Rel(root, path)
		if relErr != nil {
			return relErr
		}
		rel = filepath.ToSlash(rel)
		if err != nil {
			rep.Skipped = append(rep.Skipped, SkippedFile{Path: rel, Reason: err.Error()})
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if path != root && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !isYAML(d.Name()) {
			return nil // directories are walked; symlinks and other files are left alone
		}
		return applyFile(path, rel, byKey, rep)
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

func isYAML(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".yaml" || ext == ".yml"
}

func applyFile(path, rel string, policies map[string]Policy, rep *Report) error {
	data, err := os.ReadFile(path)
	if err != nil {
		rep.Skipped = append(rep.Skipped, SkippedFile{Path: rel, Reason: err.Error()})
		return nil
	}
	out, changes, warnings, err := ApplyBytes(data, policies)
	for _, w := range warnings {
		rep.Warnings = append(rep.Warnings, FileWarning{Path: rel, Warning: w})
	}
	if err != nil {
		var pe *ParseError
		if errors.As(err, &pe) {
			rep.Skipped = append(rep.Skipped, SkippedFile{Path: rel, Reason: "not valid YAML: " + pe.Err.Error()})
			return nil
		}
		rep.Skipped = append(rep.Skipped, SkippedFile{Path: rel, Reason: err.Error()})
		return nil
	}
	if len(changes) == 0 {
		return nil
	}
	if err := writeFile(path, out); err != nil {
		return fmt.Errorf("write %s: %w", rel, err)
	}
	for _, c := range changes {
		rep.Result.add(rel, c.Object, c.Change)
	}
	return nil
}

// writeFile replaces path atomically, keeping its permissions.
func writeFile(path string, data []byte) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".setters-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), info.Mode().Perm()); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
