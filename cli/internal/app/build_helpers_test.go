package app

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// normalizer replaces what changes from run to run (times, digests, ports, hashes) with
// stable placeholders, so goldens hold only what the command decides.
type normalizer []struct {
	re   *regexp.Regexp
	repl string
}

func (n normalizer) apply(s string) string {
	for _, r := range n {
		s = r.re.ReplaceAllString(s, r.repl)
	}
	return s
}

// copyFixture copies testdata/<dir> into a temporary directory marked as a Git work tree
// (an empty .git directory), so builds are confined to it.
func copyFixture(t *testing.T, dir string) string {
	t.Helper()
	dst := t.TempDir()
	src := filepath.Join("testdata", dir)
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dst, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dst
}

// missingKubeconfig is a --kubeconfig flag pointing nowhere: commands that must not touch a
// cluster get it.
func missingKubeconfig(t *testing.T) string {
	return "--kubeconfig=" + filepath.Join(t.TempDir(), "no-such-kubeconfig")
}

// sha256Hex is the hex SHA-256 of s, for realistic digests in test objects.
func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func lines(s string) []string { return strings.Split(strings.TrimSuffix(s, "\n"), "\n") }
