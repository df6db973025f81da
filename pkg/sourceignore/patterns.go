// Package sourceignore decides which files of a source go into its artifact, with Flux's
// ignore semantics in gitignore syntax: built-in exclusions, .sourceignore files anywhere in
// the tree, and the object's spec.ignore.
//
// Priority, lowest first (a later match wins, as in git):
//  1. VCSPatterns, always;
//  2. DefaultPatterns, unless spec.ignore is set (spec.ignore replaces them);
//  3. .sourceignore files, each applying to its directory and below, deeper files winning;
//  4. spec.ignore lines.
package sourceignore

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
)

// IgnoreFile is the name of the per-directory ignore file.
const IgnoreFile = ".sourceignore"

// The built-in lists are functions, not variables, so no caller can change them for others.

// VCSPatterns excludes version control metadata; it applies even when spec.ignore is set.
func VCSPatterns() []string {
	// ".git", not ".git/": a checked-out submodule has a .git file pointing at the host path.
	return []string{".git", ".gitignore", ".gitmodules", ".gitattributes"}
}

// MediaPatterns excludes images, videos and archives, which manifests never need.
func MediaPatterns() []string {
	return []string{"*.jpg", "*.jpeg", "*.gif", "*.png", "*.wmv", "*.flv", "*.tar.gz", "*.zip"}
}

// CIPatterns excludes the configuration of CI systems.
func CIPatterns() []string {
	return []string{
		".github/", ".circleci/", ".travis.yml", ".gitlab-ci.yml", "appveyor.yml", ".drone.yml",
		"cloudbuild.yaml", "codeship-services.yml", "codeship-steps.yml",
	}
}

// FluxPatterns excludes files of tools around Flux that are not cluster manifests.
func FluxPatterns() []string {
	return []string{"**/.goreleaser.yml", "**/.sops.yaml", "**/.flux.yaml"}
}

// DefaultPatterns is what Flux documents as "excluded by default" besides the VCS
// patterns: media, CI and Flux specific files. spec.ignore replaces this list.
func DefaultPatterns() []string {
	var ps []string
	ps = append(ps, MediaPatterns()...)
	ps = append(ps, CIPatterns()...)
	return append(ps, FluxPatterns()...)
}

// Compile turns gitignore lines into patterns for the directory domain (path components
// relative to the matched root; nil for the root itself). Blank lines and comments are skipped.
func Compile(lines []string, domain []string) []gitignore.Pattern {
	var ps []gitignore.Pattern
	for _, l := range lines {
		l = strings.TrimRight(l, "\r")
		if strings.HasPrefix(l, "#") || strings.TrimSpace(l) == "" {
			continue
		}
		ps = append(ps, gitignore.ParsePattern(l, domain))
	}
	return ps
}

// Parse compiles a multi-line gitignore text such as spec.ignore.
func Parse(text string, domain []string) []gitignore.Pattern {
	return Compile(strings.Split(text, "\n"), domain)
}

// Read compiles gitignore lines from r; name (a file or object) only labels errors.
func Read(r io.Reader, name string, domain []string) ([]gitignore.Pattern, error) {
	var lines []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading ignore rules from %s: %w", name, err)
	}
	return Compile(lines, domain), nil
}

// BasePatterns returns the built-in patterns in force for an object: VCS always, the
// defaults only when spec.ignore (ignore) is nil.
func BasePatterns(ignore *string) []gitignore.Pattern {
	ps := Compile(VCSPatterns(), nil)
	if ignore == nil {
		ps = append(ps, Compile(DefaultPatterns(), nil)...)
	}
	return ps
}

// Rules puts the pattern sets in priority order: built-ins, then fromFiles (patterns of
// .sourceignore files, as LoadIgnoreFiles returns them), then spec.ignore.
func Rules(ignore *string, fromFiles []gitignore.Pattern) []gitignore.Pattern {
	ps := BasePatterns(ignore)
	ps = append(ps, fromFiles...)
	if ignore != nil {
		ps = append(ps, Parse(*ignore, nil)...)
	}
	return ps
}
