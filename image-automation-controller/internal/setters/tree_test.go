package setters

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// copyTree copies testdata/golden/tree into a temporary directory.
func copyTree(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	src := "testdata/golden/tree"
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func policyList() []Policy {
	var ps []Policy
	for _, p := range testPolicies() {
		ps = append(ps, p)
	}
	return ps
}

func TestApplyTree(t *testing.T) {
	root := copyTree(t)
	// An executable file keeps its mode; a symlink to a marked file outside the tree is not
	// followed.
	if err := os.Chmod(filepath.Join(root, "apps/podinfo/values.yml"), 0o640); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(t.TempDir(), "outside.yaml")
	outsideContent := []byte("image: ghcr.io/stefanprodan/podinfo:6.3.0 # {\"$imagepolicy\": \"flux-system:podinfo\"}\n")
	if err := os.WriteFile(outside, outsideContent, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "apps/link.yaml")); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, root)

	rep, err := Apply(root, policyList())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rep.Result.Files(), []string{"apps/podinfo/deployment.yaml", "apps/podinfo/values.yml"}; !slices.Equal(got, want) {
		t.Fatalf("changed files = %v, want %v", got, want)
	}
	if !rep.Changed() {
		t.Fatal("Changed() = false")
	}
	if len(rep.Skipped) != 1 || rep.Skipped[0].Path != "apps/podinfo/broken.yaml" || !strings.Contains(rep.Skipped[0].String(), "apps/podinfo/broken.yaml: not valid YAML: yaml: line 1: did not find expected key") {
		t.Fatalf("skipped = %v", rep.Skipped)
	}
	after := snapshot(t, root)
	for path, data := range before {
		changed := !bytes.Equal(after[path], data)
		wantChanged := path == "apps/podinfo/deployment.yaml" || path == "apps/podinfo/values.yml"
		if changed != wantChanged {
			t.Errorf("%s changed = %v", path, changed)
		}
	}
	if got, _ := os.ReadFile(outside); !bytes.Equal(got, outsideContent) {
		t.Error("a file outside the tree was written through a symlink")
	}
	if fi, _ := os.Stat(filepath.Join(root, "apps/podinfo/values.yml")); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode = %v", fi.Mode().Perm())
	}
	if got := string(after["apps/podinfo/values.yml"]); got != "image:\n  tag: 6.5.0 # {\"$imagepolicy\": \"flux-system:podinfo:tag\"}\n" {
		t.Errorf("values.yml = %q", got)
	}

	// Template helpers see every change, grouped as upstream's .Changed.
	changes := rep.Result.Changes()
	if len(changes) != 2 || changes[0].NewValue != "ghcr.io/stefanprodan/podinfo:6.5.0@"+podinfoDigest || changes[1].NewValue != "6.5.0" {
		t.Fatalf("changes = %+v", changes)
	}
	objs := rep.Result.Objects()
	dep := ObjectIdentifier{Name: "podinfo", Namespace: "apps", APIVersion: "apps/v1", Kind: "Deployment"}
	if len(objs) != 2 || len(objs[dep]) != 1 || len(objs[ObjectIdentifier{}]) != 1 {
		t.Fatalf("objects = %+v", objs)
	}

	// A second run finds nothing to do.
	rep2, err := Apply(root, policyList())
	if err != nil || rep2.Changed() {
		t.Fatalf("second run: %+v, %v", rep2.Result, err)
	}
}

func snapshot(t *testing.T, root string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		data, err := os.ReadFile(path)
		out[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestApplyMissingRoot(t *testing.T) {
	if _, err := Apply(filepath.Join(t.TempDir(), "nope"), nil); err == nil {
		t.Fatal("missing root accepted")
	}
}

func TestLineEndingsAndBOM(t *testing.T) {
	policies := testPolicies()
	tests := []struct{ name, in, want string }{
		{name: "CRLF",
			in:   "a: 1\r\nb:\r\n  image: registry.example.com/team/app:1.0 # {\"$imagepolicy\": \"flux-system:app\"}\r\n  tag: '1.0' # {\"$imagepolicy\": \"flux-system:app:tag\"}\r\n",
			want: "a: 1\r\nb:\r\n  image: registry.example.com/team/app:1.10 # {\"$imagepolicy\": \"flux-system:app\"}\r\n  tag: '1.10' # {\"$imagepolicy\": \"flux-system:app:tag\"}\r\n"},
		{name: "BOM",
			in:   "\ufeffimage: registry.example.com/team/app:1.0 # {\"$imagepolicy\": \"flux-system:app\"}\n",
			want: "\ufeffimage: registry.example.com/team/app:1.10 # {\"$imagepolicy\": \"flux-system:app\"}\n"},
		{name: "no final newline",
			in:   "tag: v1 # {\"$imagepolicy\": \"flux-system:app:tag\"}",
			want: "tag: \"1.10\" # {\"$imagepolicy\": \"flux-system:app:tag\"}"},
		{name: "escaped double quotes",
			in:   "x: \"reg\\u0069stry.example.com/team/app:1.0\" # {\"$imagepolicy\": \"flux-system:app\"}\ny: \"\\\"keep\\\"\"\n",
			want: "x: \"registry.example.com/team/app:1.10\" # {\"$imagepolicy\": \"flux-system:app\"}\ny: \"\\\"keep\\\"\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, changes, _, err := ApplyBytes([]byte(tt.in), policies)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.want {
				t.Fatalf("got  %q\nwant %q", out, tt.want)
			}
			if len(changes) == 0 {
				t.Fatal("no changes reported")
			}
		})
	}
}

func TestMarkerParsing(t *testing.T) {
	tests := []struct {
		comment string
		ok      bool
		policy  string
		field   string
	}{
		{comment: `# {"$imagepolicy": "ns:p"}`, ok: true, policy: "ns:p"},
		{comment: `#{"$imagepolicy":"ns:p:tag"}`, ok: true, policy: "ns:p", field: "tag"},
		{comment: `#   {"$imagepolicy": "ns:p:name"}  `, ok: true, policy: "ns:p", field: "name"},
		{comment: `# {"$imagepolicy": "ns:p:digest"}`, ok: true, policy: "ns:p", field: "digest"},
		{comment: `# {"$imagepolicy": "ns:p:size"}`},
		{comment: `# {"$imagepolicy": "p"}`},
		{comment: `# {"$imagepolicy": ":p"}`},
		{comment: `# {"$imagepolicy": 3}`},
		{comment: `# {"$imagepolicy": "ns:p"`},
		{comment: `# $imagepolicy ns:p`},
		{comment: `# {"$ref": "#/definitions/io.k8s.cli.setters.image"}`},
	}
	for _, tt := range tests {
		m, ok := parseMarker(tt.comment)
		if ok != tt.ok || m.policy != tt.policy || m.field != tt.field {
			t.Errorf("%s: got %+v %v", tt.comment, m, ok)
		}
	}
}
