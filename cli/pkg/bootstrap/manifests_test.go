package bootstrap

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gotk.dev/internal/testing/golden"

	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	"gotk.dev/cli/pkg/manifests"
	"gotk.dev/pkg/kustomize"
)

// TestBootstrapSyncYAML compares gotk-sync.yaml with a golden file (-update refreshes it):
// its layout is what users see in their repositories and what upstream writes.
func TestBootstrapSyncYAML(t *testing.T) {
	s := Sync{Namespace: "flux-system", URL: "ssh://git@example.com/org/fleet", Branch: "main",
		Secret: "flux-system", Interval: time.Minute, Path: "clusters/my-cluster"}
	got, err := s.YAML()
	if err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "bootstrap-sync", string(got))
	s.Path, s.RecurseSubmodules = "", true
	objs := s.Objects()
	if p := objs[1].Object["spec"].(map[string]any)["path"]; p != "./" {
		t.Errorf("path for the repository root = %v, want ./", p)
	}
	if objs[0].Object["spec"].(map[string]any)["recurseSubmodules"] != true {
		t.Error("--recurse-submodules is not in the GitRepository")
	}
}

// TestBootstrapFluxDirBuilds writes the three files as bootstrap does and builds them with
// kustomize, as kustomize-controller will: every component and both sync objects come out.
func TestBootstrapFluxDirBuilds(t *testing.T) {
	opts := manifests.DefaultOptions("v1.2.3")
	objs, err := manifests.Generate(opts)
	if err != nil {
		t.Fatal(err)
	}
	components, err := ComponentsYAML(opts, objs)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(components), "---\n"+GeneratedHeader+"# Flux Version: v1.2.3\n# Components: source-controller,kustomize-controller,helm-controller,notification-controller\napiVersion: ") {
		t.Errorf("header:\n%s", components[:300])
	}
	again, _ := ComponentsYAML(opts, objs)
	if string(again) != string(components) {
		t.Error("gotk-components.yaml is not deterministic")
	}
	sync, err := Sync{Namespace: "flux-system", URL: "https://example.com/fleet.git", Branch: "main",
		Secret: "flux-system", Interval: time.Minute, Path: "clusters/dev"}.YAML()
	if err != nil {
		t.Fatal(err)
	}
	k, err := Kustomization(nil, []string{ComponentsFile, SyncFile})
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	for name, data := range map[string][]byte{ComponentsFile: components, SyncFile: sync, KustomizationFile: k} {
		if err := writeFile(root, "clusters/dev/flux-system/"+name, data); err != nil {
			t.Fatal(err)
		}
	}
	// The Kustomization syncs clusters/dev, which has no kustomization of its own.
	built, err := kustomize.Build(root, "./clusters/dev", kustomize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var syncObjs []string
	for _, u := range built {
		if IsSyncObject(u) {
			syncObjs = append(syncObjs, manifests.ID(u))
		}
	}
	if len(built) != len(objs)+2 || strings.Join(syncObjs, ",") != "GitRepository/flux-system/flux-system,Kustomization/flux-system/flux-system" {
		t.Errorf("built %d objects (want %d), sync objects %v", len(built), len(objs)+2, syncObjs)
	}
}

func TestBootstrapKustomization(t *testing.T) {
	resources := []string{ComponentsFile, SyncFile}
	patched := `# my customisations
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - gotk-components.yaml # the components
patches:
  - patch: |
      - op: add
        path: /spec/template/spec/containers/0/args/-
        value: --concurrent=20
    target:
      kind: Deployment
`
	tests := []struct {
		name      string
		existing  string
		unchanged bool
		contains  []string
		wantErr   string
	}{
		{name: "new", existing: "", contains: []string{"kind: Kustomization\nresources:\n- gotk-components.yaml\n- gotk-sync.yaml\n"}},
		{name: "complete file is kept byte for byte", existing: "resources: [./gotk-sync.yaml, gotk-components.yaml]   # odd but fine\n", unchanged: true},
		{name: "patches and comments survive", existing: patched, contains: []string{
			"# my customisations", "- gotk-components.yaml # the components", "- gotk-sync.yaml", "value: --concurrent=20", "kind: Deployment"}},
		{name: "no resources yet", existing: "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n", contains: []string{"resources:\n- gotk-components.yaml\n- gotk-sync.yaml\n"}},
		{name: "invalid YAML", existing: "resources: [\n", wantErr: "invalid kustomization.yaml"},
		{name: "not a mapping", existing: "- a\n- b\n", wantErr: "not a YAML mapping"},
		{name: "resources not a list", existing: "resources: gotk-sync.yaml\n", wantErr: "resources"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Kustomization([]byte(tt.existing), resources)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.unchanged && string(got) != tt.existing {
				t.Errorf("changed a complete file:\n%s", got)
			}
			for _, c := range tt.contains {
				if !strings.Contains(string(got), c) {
					t.Errorf("lacks %q:\n%s", c, got)
				}
			}
		})
	}
}

// FuzzBootstrapKustomization: whatever a user's kustomization.yaml holds, the merge never
// panics, and what it returns is YAML listing both files.
func FuzzBootstrapKustomization(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "bootstrap-kustomization-*.yaml"))
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("resources: [a, b]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := Kustomization(data, []string{ComponentsFile, SyncFile})
		if err != nil {
			return
		}
		node, err := kyaml.Parse(string(out))
		if err != nil {
			if len(strings.TrimSpace(string(data))) > 0 && string(out) == string(data) {
				return // returned unchanged: the input was already complete
			}
			t.Fatalf("output does not parse: %v\n%s", err, out)
		}
		list, err := node.Pipe(kyaml.Lookup("resources"))
		if err != nil || list == nil {
			t.Fatalf("no resources in the output: %v\n%s", err, out)
		}
		values := list.MustString()
		for _, r := range []string{ComponentsFile, SyncFile} {
			if !strings.Contains(values, r) {
				t.Fatalf("%s is not listed:\n%s", r, out)
			}
		}
	})
}

func TestBootstrapRepoPath(t *testing.T) {
	tests := []struct{ in, want, wantErr string }{
		{"", "", ""},
		{".", "", ""},
		{"./clusters/my-cluster", "clusters/my-cluster", ""},
		{"clusters//dev/", "clusters/dev", ""},
		{`clusters\dev`, "clusters/dev", ""},
		{"/clusters", "", "must be relative"},
		{"../other", "", "must stay inside"},
		{"a/../../b", "", "must stay inside"},
	}
	for _, tt := range tests {
		got, err := CleanPath(tt.in)
		if (err != nil) != (tt.wantErr != "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) || got != tt.want {
			t.Errorf("CleanPath(%q) = %q, %v; want %q, %q", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestBootstrapSSHURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"git@github.com:org/repo.git", "ssh://git@github.com/org/repo.git"},
		{"example.com:repo", "ssh://example.com/repo"},
		{"ssh://git@example.com:2222/repo", "ssh://git@example.com:2222/repo"},
		{"https://example.com/repo", "https://example.com/repo"},
		{"git@host:/srv/git/repo.git", "ssh://git@host/srv/git/repo.git"},
		{"/local/path", "/local/path"},
		{"C:/windows/path", "C:/windows/path"},
	}
	for _, tt := range tests {
		if got := SSHURL(tt.in); got != tt.want {
			t.Errorf("SSHURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
