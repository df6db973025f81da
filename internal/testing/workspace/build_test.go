package workspace

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestBuildTagsDropThePluginPackage checks that no binary of the repository, built with
// BuildTags, links the standard library's plugin package (see BuildTags for what it costs),
// and that `make build` uses the same tags.
func TestBuildTagsDropThePluginPackage(t *testing.T) {
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	mains, err := filepath.Glob(filepath.Join(root, "*", "cmd"))
	if err != nil {
		t.Fatal(err)
	}
	mains = append(mains, filepath.Join(root, "cli", "cmd", "flux"), filepath.Join(root, "terraform-provider-flux"))
	var pkgs []string
	for _, dir := range mains {
		if _, err := os.Stat(filepath.Join(dir, "main.go")); err != nil {
			continue
		}
		rel, err := filepath.Rel(root, dir)
		if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, "./"+filepath.ToSlash(rel))
	}
	if len(pkgs) < 7 {
		t.Fatalf("found only %d main packages (%v): the six controllers, the flux CLI and the Terraform provider expected", len(pkgs), pkgs)
	}
	args := append([]string{"list", "-tags", BuildTags, "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`}, pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOWORK="+filepath.Join(root, "go.work"))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(pkgs) {
		t.Fatalf("go list printed %d packages, want %d: %s", len(lines), len(pkgs), out)
	}
	for _, line := range lines {
		fields := strings.Fields(line)
		for _, dep := range fields[1:] {
			if dep == "plugin" {
				t.Errorf("%s imports the plugin package even with -tags %s: find the importer with `go list -deps -tags %s -f '{{.ImportPath}}: {{.Imports}}' %s | grep -w plugin`",
					fields[0], BuildTags, BuildTags, fields[0])
			}
		}
	}

	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	got := "(not set)"
	if m := regexp.MustCompile(`(?m)^GO_TAGS := (.*)$`).FindSubmatch(makefile); m != nil {
		got = string(m[1])
	}
	if got != BuildTags {
		t.Errorf("the Makefile's GO_TAGS is %q, want workspace.BuildTags %q", got, BuildTags)
	}
	for _, line := range strings.Split(string(makefile), "\n") {
		if strings.Contains(line, "go build") && strings.Contains(line, "$(BIN)/") && !strings.Contains(line, "-tags $(GO_TAGS)") {
			t.Errorf("Makefile builds a binary without -tags $(GO_TAGS): %s", strings.TrimSpace(line))
		}
	}
}
