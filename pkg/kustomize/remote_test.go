package kustomize

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gotk.dev/internal/testing/gitserver"
)

// TestBuildRemoteGitBase clones a remote base from a real git http-backend on loopback:
// built when remote bases are allowed (clone read through its own jail, then removed), never
// contacted when they are not.
func TestBuildRemoteGitBase(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // kustomize clones under os.TempDir(): watch it for leftovers
	srv := gitserver.New(t, gitserver.Options{})
	if _, err := srv.InitRepo("bases"); err != nil {
		t.Fatal(err)
	}
	srv.Commit("bases").Files(map[string]string{
		"deploy/kustomization.yaml": "namePrefix: remote-\nresources:\n- cm.yaml\n",
		"deploy/cm.yaml":            cm,
		"escape/kustomization.yaml": "resources:\n- ../../../../../../../etc/passwd\n",
	}).MustDo(t)
	base := srv.RepoURL("bases")

	tests := []struct {
		name  string
		ref   string
		opts  Options
		want  []string
		err   string
		fetch bool
	}{
		{name: "allowed", ref: base + "//deploy?ref=main", want: []string{"ConfigMap//remote-cm"}, fetch: true},
		{name: "refused", ref: base + "//deploy?ref=main", opts: Options{NoRemoteBases: true}, err: "is a remote reference, and remote bases are disabled"},
		{name: "remote base escaping its clone", ref: base + "//escape?ref=main", err: "points outside the source root", fetch: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := writeTree(t, map[string]string{"kustomization.yaml": "resources:\n- " + tt.ref + "\n"})
			before := srv.Requests().UploadPack
			objs, err := Build(root, ".", tt.opts)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.err)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if !reflect.DeepEqual(ids(objs), tt.want) {
				t.Fatalf("objects = %v, want %v", ids(objs), tt.want)
			}
			if fetched := srv.Requests().UploadPack > before; fetched != tt.fetch {
				t.Errorf("fetched = %v, want %v", fetched, tt.fetch)
			}
			left, _ := filepath.Glob(filepath.Join(tmp, cloneDirPrefix+"*"))
			if len(left) > 0 {
				t.Errorf("clone dirs left behind: %v", left)
			}
		})
	}
	if _, err := os.Stat(tmp); err != nil {
		t.Fatal(err)
	}
}
