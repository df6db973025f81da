package kustomize

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/kustomize"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/yaml"
)

// scalars.yaml exercises YAML features whose JSON rendering is easy to get wrong.
const scalarsYAML = `apiVersion: v1
kind: ConfigMap
metadata:
  name: scalars
  annotations:
    quoted-int: "42"
    quoted-bool: "true"
    date: "2024-01-02"
spec:
  int: 42
  negative: -7
  big: 9007199254740993
  hex: 0x1F
  float: 1.5
  whole-float: 2.0
  exp: 1e3
  small: 1.0e-7
  bool: true
  null-value: null
  tilde: ~
  empty:
  string: hello
  multiline: |
    line one
    line two
  list: [1, "two", 3.5, false, null]
  nested:
    - a: 1
      b: [x, y]
  defaults: &defaults
    cpu: 100m
    replicas: 3
  merged:
    <<: *defaults
    replicas: 5
  alias: *defaults
  placeholder: ${VAR:=1}
`

// TestConvertMatchesYAMLToJSON checks the direct node conversion against the text route
// upstream takes (render YAML, sigs.k8s.io/yaml to JSON, decode as unstructured).
func TestConvertMatchesYAMLToJSON(t *testing.T) {
	root := copyTree(t, "testdata")
	extra := writeTree(t, map[string]string{"scalars.yaml": scalarsYAML})
	for _, tc := range []struct{ root, path string }{
		{root, "plain"}, {root, "overlay/staging"}, {root, "components/app"}, {root, "podinfo"}, {extra, "."},
	} {
		t.Run(tc.path, func(t *testing.T) {
			fsys, err := newSecureFS(tc.root, false)
			if err != nil {
				t.Fatal(err)
			}
			dir, err := fsys.locate(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			if err := fsys.prepare(dir, Options{}); err != nil {
				t.Fatal(err)
			}
			k := krusty.MakeKustomizer(&krusty.Options{
				Reorder: krusty.ReorderOptionNone, LoadRestrictions: types.LoadRestrictionsNone,
				PluginConfig: types.DisabledPluginConfig(),
			})
			rm, err := k.Run(fsys, dir)
			if err != nil {
				t.Fatal(err)
			}
			got, err := toUnstructured(rm)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range rm.Resources() {
				text, err := r.AsYAML()
				if err != nil {
					t.Fatal(err)
				}
				j, err := yaml.YAMLToJSON(text)
				if err != nil {
					t.Fatal(err)
				}
				want := &unstructured.Unstructured{}
				if err := want.UnmarshalJSON(j); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got[i].Object, want.Object) {
					t.Errorf("object %d differs:\n got %#v\nwant %#v", i, got[i].Object, want.Object)
				}
				// DeepCopy panics on values unstructured does not allow.
				_ = got[i].DeepCopy()
			}
		})
	}
}

// aliasBomb is a small document whose aliases expand to 10^9 nodes.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [", i, i)
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	return b.String()
}

func TestBuildRejectsAliasBomb(t *testing.T) {
	const head = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n"
	tests := []struct {
		name  string
		files map[string]string
		opts  Options
		err   string
	}{
		{"in a plain directory", map[string]string{"bomb.yaml": head + aliasBomb()}, Options{}, "'bomb.yaml': YAML aliases expand to more than"},
		{"in a listed resource", map[string]string{"kustomization.yaml": "resources:\n- bomb.yaml\n", "bomb.yaml": head + aliasBomb()}, Options{}, "'bomb.yaml': YAML aliases expand"},
		{"in an inline patch", map[string]string{
			"kustomization.yaml": "resources:\n- cm.yaml\npatches:\n- patch: |\n" + indent(head+aliasBomb(), "    "),
			"cm.yaml":            cm,
		}, Options{}, "kustomization.yaml: inline patch or config: YAML aliases expand"},
		{"in a kustomization with Flux overrides", map[string]string{"kustomization.yaml": "resources:\n- cm.yaml\nx: &x [1]\ny: *x\n" + strings.ReplaceAll(aliasBomb(), "a", "q"), "cm.yaml": cm}, Options{TargetNamespace: "n"}, "'kustomization.yaml': YAML aliases expand"},
		{"in a Flux patch", map[string]string{"cm.yaml": cm}, Options{Patches: []kustomize.Patch{{Patch: head + aliasBomb()}}}, "inline patch or config: YAML aliases expand"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := writeTree(t, tt.files)
			done := make(chan error, 1)
			go func() { _, err := Build(root, ".", tt.opts); done <- err }()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("build still running after 30s")
			}
		})
	}
}

func TestConverterBudget(t *testing.T) {
	var doc kyaml.Node
	if err := kyaml.Unmarshal([]byte(aliasBomb()), &doc); err != nil {
		t.Fatal(err)
	}
	c := converter{budget: 1000}
	if _, err := c.value(&doc, 0); err == nil || !strings.Contains(err.Error(), "too many YAML nodes") {
		t.Fatalf("error = %v", err)
	}
	c = converter{budget: maxConvertNodes}
	small := "a: &x {b: 1}\nc: *x\nd:\n  <<: *x\n  e: 2\n"
	if err := kyaml.Unmarshal([]byte(small), &doc); err != nil {
		t.Fatal(err)
	}
	v, err := c.value(&doc, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"a": map[string]any{"b": int64(1)}, "c": map[string]any{"b": int64(1)}, "d": map[string]any{"b": int64(1), "e": int64(2)}}
	if !reflect.DeepEqual(v, want) {
		t.Fatalf("got %#v", v)
	}
}

// indent prefixes every line of s.
func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n"+prefix) + "\n"
}
