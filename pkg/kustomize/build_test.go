package kustomize

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"gotk.dev/internal/testing/workspace"
)

func TestBuildTrees(t *testing.T) {
	root := copyTree(t, "testdata")
	tests := []struct {
		name  string
		path  string
		check func(t *testing.T, objs []*unstructured.Unstructured)
		want  []string // expected ids, in order
	}{
		{
			name: "plain directory gets a generated kustomization",
			path: "./plain",
			// base/ has its own kustomization: one resource dir, its other files unlisted.
			// values.yaml and ci/config.yaml are not Kubernetes objects; README.md is not YAML.
			want: []string{
				"ServiceAccount//base-builder",
				"Deployment//web",
				"ConfigMap//settings",
				"ServiceAccount//runner",
				"Role//runner",
				"Service//web",
			},
		},
		{
			name: "path without ./ prefix",
			path: "plain/nested",
			want: []string{"ConfigMap//settings", "ServiceAccount//runner", "Role//runner"},
		},
		{
			name: "leading slash is root-relative",
			path: "/plain/nested/deeper",
			want: []string{"ServiceAccount//runner", "Role//runner"},
		},
		{
			name: "overlay over ../base with its own patches",
			path: "overlay/staging",
			want: []string{"Deployment/staging/web", "Service/staging/web", "Namespace//staging"},
			check: func(t *testing.T, objs []*unstructured.Unstructured) {
				d := find(t, objs, "Deployment", "web")
				if r, _, _ := unstructured.NestedInt64(d.Object, "spec", "replicas"); r != 1 {
					t.Errorf("replicas = %d, want 1 from the overlay patch", r)
				}
				if got := d.GetAnnotations()["team"]; got != "blue" {
					t.Errorf("team annotation = %q", got)
				}
				if got := find(t, objs, "Service", "web").GetLabels()["exposed"]; got != "true" {
					t.Errorf("exposed label = %q", got)
				}
			},
		},
		{
			name: "objects without namespace keep none",
			path: "overlay/base",
			want: []string{"Deployment//web", "Service//web"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := Build(root, tt.path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(objs); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("objects:\n got %v\nwant %v", got, tt.want)
			}
			if tt.check != nil {
				tt.check(t, objs)
			}
		})
	}
}

// TestBuildPlaceholdersPassThrough builds the flux-benchmark app: its ${VAR} placeholders are
// substituted after the build, so they must come out untouched, even where a number is due.
func TestBuildPlaceholdersPassThrough(t *testing.T) {
	objs, err := Build("testdata", "podinfo", Options{TargetNamespace: "bench"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"ServiceAccount/bench/podinfo-${INDEX}",
		"Service/bench/podinfo-${INDEX}",
		"Deployment/bench/podinfo-${INDEX}",
		"Ingress/bench/podinfo-${INDEX}",
	}
	if got := ids(objs); !reflect.DeepEqual(got, want) {
		t.Fatalf("objects:\n got %v\nwant %v", got, want)
	}
	d := find(t, objs, "Deployment", "podinfo-${INDEX}")
	if got := nested(t, d, "spec", "replicas"); got != "${PODS:=0}" {
		t.Errorf("replicas = %q, want the placeholder", got)
	}
	if got := nested(t, d, "spec", "template", "spec", "serviceAccountName"); got != "podinfo-${INDEX}" {
		t.Errorf("serviceAccountName = %q", got)
	}
}

// TestBuildReferenceRepository builds a real Flux repository layout.
func TestBuildReferenceRepository(t *testing.T) {
	shared := workspace.SharedDir()
	if shared == "" {
		t.Skip("../shared is absent next to the repository: no reference repository to build")
	}
	ref := filepath.Join(shared, "reference", "flux2-kustomize-helm-example")
	before := hashTree(t, ref)
	tests := []struct {
		path string
		opts Options
		want []string
		err  string
	}{
		{
			path: "./apps/staging",
			want: []string{"Namespace//podinfo", "HelmRepository/podinfo/podinfo", "HelmRelease/podinfo/podinfo"},
		},
		{
			path: "./infrastructure/controllers",
			want: []string{
				"Namespace//cert-manager", "HelmRepository/cert-manager/cert-manager", "HelmRelease/cert-manager/cert-manager",
				"Namespace//ingress-nginx", "HelmRepository/ingress-nginx/ingress-nginx", "HelmRelease/ingress-nginx/ingress-nginx",
			},
		},
		{
			// No kustomization at clusters/staging: the generated one lists apps.yaml,
			// flux-system/ (own kustomization) and infrastructure.yaml. flux-system lists
			// gotk-components.yaml, which `flux bootstrap` writes and the example omits.
			path: "./clusters/staging",
			err:  "stat clusters/staging/flux-system/gotk-components.yaml: no such file or directory",
		},
		{
			path: "./clusters/staging",
			opts: Options{NoRemoteBases: true, NamePrefix: "x-"},
			err:  "clusters/staging/flux-system/gotk-components.yaml",
		},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			objs, err := Build(ref, tt.path, tt.opts)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.err)
				}
				if strings.Contains(err.Error(), ref) {
					t.Errorf("error leaks the absolute root: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(objs); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("objects:\n got %v\nwant %v", got, tt.want)
			}
		})
	}
	if after := hashTree(t, ref); after != before {
		t.Fatal("reference repository changed during builds")
	}
}

// TestBuildLeavesRootUnchanged runs generating and overriding builds and checks the tree is
// byte-for-byte what it was: generated and overridden kustomizations live in memory only.
func TestBuildLeavesRootUnchanged(t *testing.T) {
	root := copyTree(t, "testdata")
	before := hashTree(t, root)
	opts := Options{
		TargetNamespace: "ns", NamePrefix: "p-", NameSuffix: "-s",
		Components:              []string{"../components/monitoring", "missing"},
		IgnoreMissingComponents: true,
		CommonMetadata:          &CommonMetadata{Labels: map[string]string{"a": "b"}},
	}
	for _, path := range []string{"plain", "plain/nested", "overlay/staging", "components/app", "podinfo"} {
		for _, o := range []Options{{}, opts} {
			if _, err := Build(root, path, o); err != nil && !strings.Contains(err.Error(), "component") {
				t.Fatalf("%s: %v", path, err)
			}
		}
	}
	if after := hashTree(t, root); after != before {
		t.Fatal("source root changed during builds")
	}
}
