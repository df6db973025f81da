package kustomize

import (
	"strings"
	"testing"

	"github.com/fluxcd/pkg/apis/kustomize"
)

func TestBuildErrorMessages(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		path  string
		opts  Options
		err   []string // substrings the message must contain
	}{
		{
			name:  "malformed manifest names file and line",
			files: map[string]string{"app/kustomization.yaml": "resources:\n- cm.yaml\n", "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n data: 1\n"},
			path:  "app",
			err:   []string{"kustomize build failed: ", "yaml: line 4: did not find expected key", "in File: app/cm.yaml"},
		},
		{
			name: "malformed manifest in a base names the file from the root",
			files: map[string]string{
				"app/kustomization.yaml":      "resources:\n- ../base\n",
				"base/kustomization.yaml":     "resources:\n- cm.yaml\n",
				"base/cm.yaml":                "a: [\n",
				"other/cm.yaml":               cm,
				"app/unrelated/cm.yaml":       cm,
				"base/unrelated/deep/cm.yaml": cm,
			},
			path: "app",
			err:  []string{"in File: base/cm.yaml", "recursed accumulation of path 'base'"},
		},
		{
			name:  "invalid kustomization names file and line",
			files: map[string]string{"kustomization.yaml": "resources:\n- cm.yaml\n foo: [\n"},
			err:   []string{"kustomization.yaml: invalid Kustomization: yaml: line 3: mapping values are not allowed in this context"},
		},
		{
			name:  "invalid nested kustomization names that file",
			files: map[string]string{"app/kustomization.yaml": "resources:\n- ../base\n", "base/kustomization.yaml": "resources: {\n"},
			path:  "app",
			err:   []string{"base/kustomization.yaml: invalid Kustomization: yaml: line"},
		},
		{
			name:  "invalid kustomization with overrides still names the file",
			files: map[string]string{"kustomization.yaml": "resources:\n- cm.yaml\n foo: [\n"},
			opts:  Options{TargetNamespace: "x"},
			err:   []string{"kustomization.yaml: invalid Kustomization: yaml: line 3"},
		},
		{
			name:  "unknown kustomization field",
			files: map[string]string{"k/kustomization.yaml": "resourcez:\n- cm.yaml\n"},
			path:  "k",
			err:   []string{"k/kustomization.yaml: invalid Kustomization: json: unknown field \"resourcez\""},
		},
		{
			name:  "missing resource",
			files: map[string]string{"app/kustomization.yaml": "resources:\n- nothere.yaml\n"},
			path:  "app",
			err:   []string{"accumulating resources from 'nothere.yaml'", "stat app/nothere.yaml: no such file or directory"},
		},
		{
			name:  "missing build path",
			files: map[string]string{"cm.yaml": cm},
			path:  "./nope",
			err:   []string{"path './nope' not found in the source"},
		},
		{
			name:  "build path is a file",
			files: map[string]string{"cm.yaml": cm},
			path:  "cm.yaml",
			err:   []string{"path 'cm.yaml' is not a directory"},
		},
		{
			name:  "malformed YAML in a plain directory",
			files: map[string]string{"ok.yaml": cm, "sub/broken.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  x: [\n"},
			err:   []string{"failed to decode Kubernetes YAML from 'sub/broken.yaml': yaml: line 5"},
		},
		{
			name:  "JSON6902 patch without a target",
			files: map[string]string{"kustomization.yaml": "resources:\n- cm.yaml\n", "cm.yaml": cm},
			opts:  Options{Patches: []kustomize.Patch{{Patch: `[{"op": "remove", "path": "/data"}]`}}},
			err:   []string{"must specify a target for JSON patch"},
		},
		{
			name:  "two kustomization files",
			files: map[string]string{"app/kustomization.yaml": "resources: []\n", "app/Kustomization": "resources: []\n"},
			path:  "app",
			err:   []string{"Found multiple kustomization files under: app"},
		},
		{
			name:  "duplicate objects",
			files: map[string]string{"kustomization.yaml": "resources:\n- a.yaml\n- b.yaml\n", "a.yaml": cm, "b.yaml": cm},
			err:   []string{"merging resources from 'b.yaml': may not add resource with an already registered id: ConfigMap.v1.[noGrp]/cm.[noNs]"},
		},
		{
			name:  "JSON6902 patch that does not apply",
			files: map[string]string{"kustomization.yaml": "resources:\n- cm.yaml\n", "cm.yaml": cm},
			opts: Options{Patches: []kustomize.Patch{{
				Patch:  `[{"op": "replace", "path": "/nope/x", "value": 1}]`,
				Target: &kustomize.Selector{Kind: "ConfigMap"},
			}}},
			err: []string{"replace operation does not apply: doc is missing path: /nope/x"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := writeTree(t, tt.files)
			_, err := Build(root, tt.path, tt.opts)
			if err == nil {
				t.Fatal("build succeeded")
			}
			for _, want := range tt.err {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error = %q\nwant it to contain %q", err, want)
				}
			}
			if strings.Contains(err.Error(), root) {
				t.Errorf("error shows the absolute root: %v", err)
			}
		})
	}
}

func TestCleanString(t *testing.T) {
	f := &secureFS{root: "/tmp/src"}
	tests := map[string]string{
		"stat /tmp/src/apps/x.yaml: no such file": "stat apps/x.yaml: no such file",
		"path '/tmp/src' contains '/tmp/src/a'":   "path '.' contains 'a'",
		"sibling /tmp/src2/a and /tmp/src-x stay": "sibling /tmp/src2/a and /tmp/src-x stay",
		"at end /tmp/src":                         "at end .",
		"twice /tmp/src/a,/tmp/src/b (/tmp/src)":  "twice a,b (.)",
		"no root here":                            "no root here",
	}
	for in, want := range tests {
		if got := f.cleanString(in); got != want {
			t.Errorf("cleanString(%q) = %q, want %q", in, got, want)
		}
	}
}
