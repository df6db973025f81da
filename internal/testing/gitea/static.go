package gitea

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"

	"gotk.dev/internal/testing/workspace"
)

var (
	staticOnce sync.Once
	staticDir  string
	staticErr  error
)

// staticRoot is the Gitea module's directory in the module cache: Gitea is built without
// the bindata tag, so it reads its locales and templates from there at run time. The pinned
// module is the one tools/peers/gitea requires.
func staticRoot() (string, error) {
	staticOnce.Do(func() {
		root, err := workspace.Root()
		if err != nil {
			staticErr = err
			return
		}
		cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "code.gitea.io/gitea")
		cmd.Dir = filepath.Join(root, "tools", "peers", "gitea")
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
		out, err := cmd.Output()
		if err != nil {
			staticErr = fmt.Errorf("find the Gitea module (go list -m code.gitea.io/gitea in tools/peers/gitea): %w", err)
			return
		}
		staticDir = strings.TrimSpace(string(out))
		if _, err := os.Stat(filepath.Join(staticDir, "options", "locale")); err != nil {
			staticErr = fmt.Errorf("the Gitea module at %s has no options/locale: %w", staticDir, err)
		}
	})
	return staticDir, staticErr
}

// currentUser is who Gitea runs as (RUN_USER must match).
func currentUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "root"
}
