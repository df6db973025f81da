package kustomize

import (
	"path/filepath"
	"regexp"
	"strings"
)

// buildError carries a kustomize error with the source root's absolute location removed
// from its message: the root is a per-reconcile temp dir, meaningless to the user and
// different on every run (it would also defeat event de-duplication). Paths read as
// root-relative, "apps/base/deploy.yaml". The original error stays reachable via Unwrap.
type buildError struct {
	msg string
	err error
}

func (e *buildError) Error() string { return e.msg }
func (e *buildError) Unwrap() error { return e.err }

// clean rewrites err's message with root-relative paths.
func (f *secureFS) clean(err error) error {
	if err == nil {
		return nil
	}
	msg := f.cleanString(err.Error())
	if msg == err.Error() {
		return err
	}
	return &buildError{msg: msg, err: err}
}

// cleanString replaces root+"/" by "" and a bare root by ".", only where root is a whole
// path (not the prefix of a sibling such as root+"2").
func (f *secureFS) cleanString(s string) string {
	if f.root == string(filepath.Separator) {
		return s // every absolute path would match
	}
	var b strings.Builder
	for {
		i := strings.Index(s, f.root)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		rest := s[i+len(f.root):]
		switch {
		case strings.HasPrefix(rest, string(filepath.Separator)):
			rest = rest[1:]
		case rest == "" || !isPathChar(rest[0]):
			b.WriteString(".")
		default:
			b.WriteString(f.root)
		}
		s = rest
	}
}

func isPathChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
}

// inFile matches the file kustomize names in a MalformedYAMLError, relative to the
// kustomization that listed it.
var inFile = regexp.MustCompile(`in File: (\S+)`)

// kustomizeError turns an error from kustomize into one a user can act on: prefixed like
// Flux's, root-relative paths, and a malformed file named from the source root (kustomize
// names it relative to the kustomization that listed it; the last file read with that
// name is the one that failed).
func (f *secureFS) kustomizeError(err error) error {
	msg := "kustomize build failed: " + f.cleanString(err.Error())
	msg = inFile.ReplaceAllStringFunc(msg, func(m string) string {
		name := filepath.ToSlash(filepath.Clean(inFile.FindStringSubmatch(m)[1]))
		f.mu.Lock()
		defer f.mu.Unlock()
		for i := len(f.reads) - 1; i >= 0; i-- {
			if r := f.reads[i]; r == name || strings.HasSuffix(r, "/"+name) {
				return "in File: " + r
			}
		}
		return m
	})
	return &buildError{msg: msg, err: err}
}
