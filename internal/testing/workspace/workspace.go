// Package workspace finds this repository's checkout from a test or a development tool:
// the directory holding go.work, and the shared reference material next to it.
package workspace

import (
	"errors"
	"os"
	"path/filepath"
)

// Root walks up from the working directory to the directory holding go.work.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.work found above the working directory: run from inside the repository")
		}
		dir = parent
	}
}

// BinDir is $KUBEBUILDER_ASSETS when set, else bin/ at the repository root: where
// `make testbin` puts the local control plane and the test peers.
func BinDir() string {
	if d := os.Getenv("KUBEBUILDER_ASSETS"); d != "" {
		return d
	}
	if root, err := Root(); err == nil {
		return filepath.Join(root, "bin")
	}
	return "bin"
}

// SharedDir returns ../shared next to the repository root, or "" when it is absent: tests
// that read the shared reference material skip with a message in that case.
func SharedDir() string {
	root, err := Root()
	if err != nil {
		return ""
	}
	dir := filepath.Join(filepath.Dir(root), "shared")
	if _, err := os.Stat(filepath.Join(dir, "reference")); err != nil {
		return ""
	}
	return dir
}
