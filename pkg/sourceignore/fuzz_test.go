package sourceignore

import (
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
)

// FuzzMatch feeds arbitrary ignore texts (they come from users' repositories) and paths
// through parsing and matching: nothing may panic, and VCS metadata stays excluded unless
// the text itself mentions it.
func FuzzMatch(f *testing.F) {
	f.Add("*.yaml\n!keep.yaml", "a/keep.yaml", false)
	f.Add("**/secrets/**", "x/secrets/y", false)
	f.Add("/anchored/\n[a-", "anchored", true)
	f.Add("\\!x\n#c\n  \n", ".git/config", false)
	f.Fuzz(func(t *testing.T, text, path string, isDir bool) {
		parts := strings.Split(path, "/")
		ignore := text
		m := gitignore.NewMatcher(Rules(&ignore, Parse(text, []string{"sub"})))
		_ = m.Match(parts, isDir)
		if !strings.Contains(text, "git") && !strings.Contains(text, "!") {
			if !m.Match([]string{".git", "config"}, false) {
				t.Fatalf("ignore text %q re-included .git/config", text)
			}
		}
	})
}
