package ssa

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/fluxcd/pkg/apis/kustomize"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

func TestParsePointer(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"", nil, false},
		{"/spec/replicas", []string{"spec", "replicas"}, false},
		{"/metadata/annotations/example.com~1owner", []string{"metadata", "annotations", "example.com/owner"}, false},
		{"/a~0b/~01", []string{"a~b", "~1"}, false},
		{"/", []string{""}, false},
		{"spec/replicas", nil, true},
		{"/a~2", nil, true},
		{"/a~", nil, true},
	}
	for _, tt := range tests {
		got, err := parsePointer(tt.in)
		if (err != nil) != tt.wantErr || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parsePointer(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func sample(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	err := json.Unmarshal([]byte(`{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": {"name": "podinfo", "namespace": "apps", "labels": {"app": "podinfo"}, "annotations": {"example.com/owner": "me"}},
		"spec": {"replicas": 2, "template": {"spec": {"containers": [
			{"name": "podinfo", "image": "podinfo:1", "ports": [{"containerPort": 9898, "protocol": "TCP"}]},
			{"name": "sidecar", "image": "sidecar:1"}]}}}}`), &m)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestStripPaths(t *testing.T) {
	tests := []struct {
		name  string
		paths []string
		check func(map[string]any) bool
	}{
		{"map field", []string{"/spec/replicas"}, func(m map[string]any) bool {
			_, has := m["spec"].(map[string]any)["replicas"]
			return !has
		}},
		{"escaped key", []string{"/metadata/annotations/example.com~1owner"}, func(m map[string]any) bool {
			return len(m["metadata"].(map[string]any)["annotations"].(map[string]any)) == 0
		}},
		{"field of a list element", []string{"/spec/template/spec/containers/1/image"}, func(m map[string]any) bool {
			c := containers(m)
			_, has := c[1].(map[string]any)["image"]
			return !has && c[0].(map[string]any)["image"] == "podinfo:1"
		}},
		{"list element", []string{"/spec/template/spec/containers/0"}, func(m map[string]any) bool {
			c := containers(m)
			return len(c) == 1 && c[0].(map[string]any)["name"] == "sidecar"
		}},
		{"missing paths are fine", []string{"/spec/nope/x", "/spec/template/spec/containers/7/image", "/spec/replicas/x", "/spec/template/spec/containers/x"}, func(m map[string]any) bool {
			return reflect.DeepEqual(m, sample(t))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := sample(t)
			var segs [][]string
			for _, p := range tt.paths {
				s, err := parsePointer(p)
				if err != nil {
					t.Fatal(err)
				}
				segs = append(segs, s)
			}
			stripPaths(m, segs)
			if !tt.check(m) {
				b, _ := json.Marshal(m)
				t.Errorf("after stripping %v: %s", tt.paths, b)
			}
		})
	}
}

func containers(m map[string]any) []any {
	return m["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)
}

func TestSelector(t *testing.T) {
	u := &unstructured.Unstructured{Object: sample(t)}
	tests := []struct {
		sel  kustomize.Selector
		want bool
	}{
		{kustomize.Selector{}, true},
		{kustomize.Selector{Kind: "Deployment"}, true},
		{kustomize.Selector{Kind: "Deploy"}, false}, // anchored
		{kustomize.Selector{Group: "apps", Version: "v1", Kind: "Deployment", Name: "pod.*", Namespace: "apps"}, true},
		{kustomize.Selector{Namespace: "other"}, false},
		{kustomize.Selector{LabelSelector: "app=podinfo"}, true},
		{kustomize.Selector{LabelSelector: "app in (other)"}, false},
		{kustomize.Selector{AnnotationSelector: "example.com/owner=me"}, true},
		{kustomize.Selector{AnnotationSelector: "!example.com/owner"}, false},
	}
	for _, tt := range tests {
		s, err := compileSelector(&tt.sel)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.matches(u); got != tt.want {
			t.Errorf("%+v matches = %v, want %v", tt.sel, got, tt.want)
		}
	}
	for _, bad := range []kustomize.Selector{{Name: "("}, {LabelSelector: "a=(b"}, {AnnotationSelector: "=="}} {
		if _, err := compileSelector(&bad); err == nil {
			t.Errorf("compileSelector(%+v): want an error", bad)
		}
	}
	if _, err := compileIgnoreRules([]IgnoreRule{{Paths: []string{"/a"}, Target: &kustomize.Selector{Kind: "("}}}); err == nil || !strings.Contains(err.Error(), "ignore rule 0") {
		t.Errorf("compileIgnoreRules: %v, want the rule named", err)
	}
}

// TestIgnoredSubset resolves pointers against the live object and finds the managed-fields
// paths they cover: list elements by their key, not their index.
func TestIgnoredSubset(t *testing.T) {
	fields := `{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:replicas":{},"f:template":{"f:spec":{"f:containers":{
		"k:{\"name\":\"podinfo\"}":{".":{},"f:image":{},"f:name":{},"f:ports":{"k:{\"containerPort\":9898,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}},
		"k:{\"name\":\"sidecar\"}":{".":{},"f:image":{},"f:name":{}}}}}}}`
	set := &fieldpath.Set{}
	if err := set.FromJSON(bytes.NewReader([]byte(fields))); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		pointer string
		want    []string // fieldpath strings
	}{
		{"/spec/replicas", []string{".spec.replicas"}},
		{"/metadata/labels", []string{".metadata.labels", ".metadata.labels.app"}},
		{"/spec/template/spec/containers/1/image", []string{`.spec.template.spec.containers[name="sidecar"].image`}},
		{"/spec/template/spec/containers/0/ports/0", []string{
			`.spec.template.spec.containers[name="podinfo"].ports[containerPort=9898,protocol="TCP"]`,
			`.spec.template.spec.containers[name="podinfo"].ports[containerPort=9898,protocol="TCP"].containerPort`}},
		{"/spec/template/spec/containers/5/image", nil},
		{"/spec/selector", nil},
	}
	for _, tt := range tests {
		segs, err := parsePointer(tt.pointer)
		if err != nil {
			t.Fatal(err)
		}
		var ms []fieldMatcher
		if fm, ok := resolvePointer(sample(t), segs); ok {
			ms = append(ms, fm)
		}
		var got []string
		ignoredSubset(set, ms).Iterate(func(p fieldpath.Path) { got = append(got, p.String()) })
		if strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("%s covers %q, want %q", tt.pointer, got, tt.want)
		}
	}
}

// FuzzIgnorePointer feeds spec.ignore paths (user input) through parsing, stripping and
// managed-fields matching: no panics, and a stripped map path is gone.
func FuzzIgnorePointer(f *testing.F) {
	for _, seed := range []string{"/spec/replicas", "/spec/template/spec/containers/0/image", "/metadata/annotations/a~1b",
		"/spec/template/spec/containers/-", "/spec/template/spec/containers/01", "/~", "//", "/spec/replicas/0"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, p string) {
		segs, err := parsePointer(p)
		if err != nil || len(segs) == 0 {
			return
		}
		obj := sample(t)
		if fm, ok := resolvePointer(obj, segs); ok {
			set := &fieldpath.Set{}
			set.Insert(fieldpath.MakePathOrDie("spec", "replicas"))
			ignoredSubset(set, []fieldMatcher{fm})
		}
		stripPaths(obj, [][]string{segs})
		// A path through maps only must be gone after stripping.
		var cur any = obj
		for i, s := range segs {
			m, ok := cur.(map[string]any)
			if !ok {
				return
			}
			v, has := m[s]
			if i == len(segs)-1 && has {
				t.Fatalf("%q still present after stripping", p)
			}
			cur = v
		}
	})
}
