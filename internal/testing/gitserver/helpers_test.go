package gitserver

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gitCLI runs the real git client in an isolated environment: its own HOME,
// no system config, no prompts. extraEnv entries are KEY=VALUE.
type gitCLI struct {
	t    *testing.T
	home string
	env  []string
}

func newGitCLI(t *testing.T, extraEnv ...string) *gitCLI {
	t.Helper()
	home := t.TempDir()
	env := append(os.Environ(),
		"HOME="+home,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=cli", "GIT_AUTHOR_EMAIL=cli@example.com",
		"GIT_COMMITTER_NAME=cli", "GIT_COMMITTER_EMAIL=cli@example.com",
	)
	return &gitCLI{t: t, home: home, env: append(env, extraEnv...)}
}

func (g *gitCLI) run(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = g.env
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func (g *gitCLI) must(dir string, args ...string) string {
	g.t.Helper()
	out, err := g.run(dir, args...)
	if err != nil {
		g.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// lsRemote returns ref -> hash as `git ls-remote` reports them.
func (g *gitCLI) lsRemote(url string, extra ...string) (map[string]string, error) {
	out, err := g.run("", append(append([]string{}, extra...), "ls-remote", url)...)
	if err != nil {
		return nil, &cliError{out: out, err: err}
	}
	refs := map[string]string{}
	for line := range strings.SplitSeq(out, "\n") {
		if hash, ref, ok := strings.Cut(line, "\t"); ok {
			refs[ref] = hash
		}
	}
	return refs, nil
}

type cliError struct {
	out string
	err error
}

func (e *cliError) Error() string { return e.err.Error() + ": " + e.out }

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
