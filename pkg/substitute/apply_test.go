package substitute

import (
	"bytes"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"
)

// loadDocs parses a multi-document YAML file into objects the way the build
// step hands them over (JSON value types, integers as int64), and returns
// each document's text too.
func loadDocs(t testing.TB, data []byte) ([]*unstructured.Unstructured, [][]byte) {
	t.Helper()
	var objs []*unstructured.Unstructured
	var texts [][]byte
	for _, doc := range bytes.Split(data, []byte("\n---")) {
		j, err := yaml.YAMLToJSON(doc)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := utiljson.Unmarshal(j, &m); err != nil {
			t.Fatal(err)
		}
		if m == nil {
			continue
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
		texts = append(texts, doc)
	}
	return objs, texts
}

func obj(t testing.TB, y string) *unstructured.Unstructured {
	t.Helper()
	objs, _ := loadDocs(t, []byte(y))
	if len(objs) != 1 {
		t.Fatalf("want one object, got %d", len(objs))
	}
	return objs[0]
}

func TestApplyPodinfo(t *testing.T) {
	data, err := os.ReadFile("testdata/podinfo-app.yaml")
	if err != nil {
		t.Fatal(err)
	}
	objs, _ := loadDocs(t, data)
	if len(objs) != 4 {
		t.Fatalf("got %d objects", len(objs))
	}
	vars := map[string]string{"INDEX": "42", "PODS": "2", "MCPU": "100m"}
	if err := Apply(objs, vars, Options{Strict: true}); err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if o.GetName() != "podinfo-42" {
			t.Errorf("%s: name %q", o.GetKind(), o.GetName())
		}
		if o.GetLabels()["app.kubernetes.io/name"] != "podinfo-42" {
			t.Errorf("%s: labels %v", o.GetKind(), o.GetLabels())
		}
	}
	dep := objs[2]
	if r, found, err := unstructured.NestedInt64(dep.Object, "spec", "replicas"); err != nil || !found || r != 2 {
		t.Errorf("replicas = %v %v %v, want int64 2", r, found, err)
	}
	sa, _, _ := unstructured.NestedString(dep.Object, "spec", "template", "spec", "serviceAccountName")
	if sa != "podinfo-42" {
		t.Errorf("serviceAccountName = %q", sa)
	}
	containers, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
	cpu, _, _ := unstructured.NestedString(containers[0].(map[string]any), "resources", "requests", "cpu")
	if cpu != "100m" {
		t.Errorf("cpu = %q", cpu)
	}
	host, _, _ := unstructured.NestedSlice(objs[3].Object, "spec", "rules")
	if h := host[0].(map[string]any)["host"]; h != "podinfo-42.local" {
		t.Errorf("host = %v", h)
	}

	// The default applies when PODS is not given.
	objs, _ = loadDocs(t, data)
	if err := Apply(objs, map[string]string{"INDEX": "1", "MCPU": "1"}, Options{Strict: true}); err != nil {
		t.Fatal(err)
	}
	if r, _, _ := unstructured.NestedInt64(objs[2].Object, "spec", "replicas"); r != 0 {
		t.Errorf("replicas = %d, want 0", r)
	}
}

func TestApplyTyping(t *testing.T) {
	src := `apiVersion: v1
kind: ConfigMap
metadata:
  name: typed
  namespace: apps
  labels:
    ${LABEL_KEY}: x
data:
  quoted: "${PORT}"
  plain: ${PORT}
  flag: ${FLAG}
  list: ${LIST}
  text: "port is ${PORT}"
  escaped: "$${PORT}"
  dollars: "$PORT $$ 5$"
  script: |
    echo ${MSG}
    exit 0
`
	vars := map[string]string{"PORT": "8080", "FLAG": "true", "LIST": "[a, b]", "LABEL_KEY": "team", "MSG": `it's "quoted"`}
	want := map[string]any{
		"plain":   int64(8080),
		"flag":    true,
		"list":    []any{"a", "b"},
		"text":    "port is 8080",
		"escaped": "${PORT}",
		"dollars": "$PORT $$ 5$",
		"script":  "echo it's \"quoted\"\nexit 0\n",
	}

	// From the map alone the author's quotes are gone: "${PORT}" lands as a number.
	o := obj(t, src)
	if err := Apply([]*unstructured.Unstructured{o}, vars, Options{Strict: true}); err != nil {
		t.Fatal(err)
	}
	data := o.Object["data"].(map[string]any)
	for k, v := range want {
		if !reflect.DeepEqual(data[k], v) {
			t.Errorf("Apply: data.%s = %#v, want %#v", k, data[k], v)
		}
	}
	if data["quoted"] != int64(8080) {
		t.Errorf("Apply: data.quoted = %#v, want the number (quoting is unknown)", data["quoted"])
	}
	if o.GetLabels()["team"] != "x" {
		t.Errorf("label key not substituted: %v", o.GetLabels())
	}

	// With the source text the quotes are kept, as upstream does.
	o = obj(t, src)
	if err := ApplyWithYAML([]*unstructured.Unstructured{o}, [][]byte{[]byte(src)}, vars, Options{Strict: true}); err != nil {
		t.Fatal(err)
	}
	data = o.Object["data"].(map[string]any)
	for k, v := range want {
		if !reflect.DeepEqual(data[k], v) {
			t.Errorf("ApplyWithYAML: data.%s = %#v, want %#v", k, data[k], v)
		}
	}
	if data["quoted"] != "8080" {
		t.Errorf("ApplyWithYAML: data.quoted = %#v, want the string", data["quoted"])
	}
}

func TestApplySkips(t *testing.T) {
	plain := obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\ndata: {a: \"$HOME $$ 5$\", n: \"1\"}\n")
	before := reflect.ValueOf(plain.Object).Pointer()
	byLabel := obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: l\n  labels: {kustomize.toolkit.fluxcd.io/substitute: disabled}\ndata: {a: \"${X} ${ bad\"}\n")
	byAnnotation := obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations: {kustomize.toolkit.fluxcd.io/substitute: disabled}\ndata: {a: \"${X}\"}\n")
	enabled := obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: e\n  annotations: {kustomize.toolkit.fluxcd.io/substitute: enabled}\ndata: {a: \"${X}\"}\n")
	objs := []*unstructured.Unstructured{plain, byLabel, byAnnotation, enabled, nil}
	if err := Apply(objs, map[string]string{"X": "x"}, Options{Strict: true}); err != nil {
		t.Fatal(err)
	}
	if reflect.ValueOf(plain.Object).Pointer() != before || plain.Object["data"].(map[string]any)["a"] != "$HOME $$ 5$" {
		t.Error("an object without ${ was rewritten")
	}
	if byLabel.Object["data"].(map[string]any)["a"] != "${X} ${ bad" {
		t.Error("label opt-out ignored")
	}
	if byAnnotation.Object["data"].(map[string]any)["a"] != "${X}" {
		t.Error("annotation opt-out ignored")
	}
	if enabled.Object["data"].(map[string]any)["a"] != "x" {
		t.Error("an object not opted out was not substituted")
	}
	// A source without ${ is not parsed either.
	o := obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: s}\n")
	p := reflect.ValueOf(o.Object).Pointer()
	if err := ApplyWithYAML([]*unstructured.Unstructured{o}, [][]byte{[]byte("not: [valid")}, nil, Options{}); err != nil || reflect.ValueOf(o.Object).Pointer() != p {
		t.Errorf("source without ${ was used: %v", err)
	}
}

func TestApplyErrors(t *testing.T) {
	const secret = "s3cr3t-value"
	tests := []struct {
		name string
		src  string
		vars map[string]string
		opts Options
		want []string
	}{{
		name: "strict unset",
		src:  "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: apps}\nspec: {replicas: \"${PODS}\", x: \"${OTHER}\"}\n",
		opts: Options{Strict: true},
		want: []string{"Deployment/apps/web", "'PODS'", "'OTHER'", "no value and no default"},
	}, {
		name: "cluster-scoped",
		src:  "apiVersion: v1\nkind: Namespace\nmetadata: {name: \"team-${TEAM}\"}\n",
		opts: Options{Strict: true},
		want: []string{"Namespace/team-${TEAM}", "'TEAM'"},
	}, {
		name: "syntax",
		src:  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: apps}\ndata: {a: \"${{ github.token }}\"}\n",
		want: []string{"ConfigMap/apps/cm", `"${{ github.token }"`, "$${"},
	}, {
		name: "value breaks the YAML",
		src:  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: apps}\ndata: {a: \"${V}\"}\n",
		vars: map[string]string{"V": secret + ": x"},
		want: []string{"ConfigMap/apps/cm", "invalid", "line"},
	}, {
		name: "value removes the kind",
		src:  "apiVersion: v1\nkind: \"${K}\"\nmetadata: {name: cm}\n",
		vars: map[string]string{"K": ""},
		want: []string{"kind is missing"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := obj(t, tt.src)
			orig := o.DeepCopy()
			err := Apply([]*unstructured.Unstructured{o}, tt.vars, tt.opts)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error leaks the substituted value: %q", err)
			}
			if !reflect.DeepEqual(o.Object, orig.Object) {
				t.Error("a failing object was changed")
			}
		})
	}
}

func TestApplyNonStrict(t *testing.T) {
	o := obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {a: \"x${UNSET}y\"}\n")
	if err := Apply([]*unstructured.Unstructured{o}, nil, Options{}); err != nil {
		t.Fatal(err)
	}
	if got := o.Object["data"].(map[string]any)["a"]; got != "xy" {
		t.Fatalf("got %v", got)
	}
}

func TestApplyManyFailures(t *testing.T) {
	var objs []*unstructured.Unstructured
	for i := range 25 {
		objs = append(objs, obj(t, fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm%d}\ndata: {a: \"${MISSING}\"}\n", i)))
	}
	err := Apply(objs, nil, Options{Strict: true})
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	if !strings.Contains(msg, "ConfigMap/cm0:") || !strings.Contains(msg, "ConfigMap/cm9:") || strings.Contains(msg, "ConfigMap/cm10:") {
		t.Errorf("unexpected objects in %q", msg)
	}
	if !strings.Contains(msg, "and 15 more objects") {
		t.Errorf("no summary in %q", msg)
	}
}

// BenchmarkApply substitutes 4 variables into 1000 objects (250 copies of the
// flux-benchmark podinfo app, every object using variables).
func BenchmarkApply(b *testing.B) {
	data, err := os.ReadFile("testdata/podinfo-app.yaml")
	if err != nil {
		b.Fatal(err)
	}
	tmpl, _ := loadDocs(b, data)
	vars := map[string]string{"INDEX": "7", "PODS": "1", "MCPU": "100m", "UNUSED": "x"}
	b.ReportAllocs()
	for b.Loop() {
		// Shallow copies suffice: Apply never modifies what objects hold.
		objs := make([]*unstructured.Unstructured, 0, 1000)
		for range 250 {
			for _, o := range tmpl {
				objs = append(objs, &unstructured.Unstructured{Object: o.Object})
			}
		}
		if err := Apply(objs, vars, Options{Strict: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkApplyNothingToDo is the common case of objects without variables.
func BenchmarkApplyNothingToDo(b *testing.B) {
	data, err := os.ReadFile("testdata/podinfo-app.yaml")
	if err != nil {
		b.Fatal(err)
	}
	data = bytes.ReplaceAll(data, []byte("${"), []byte("x{"))
	tmpl, _ := loadDocs(b, data)
	objs := make([]*unstructured.Unstructured, 0, 1000)
	for range 250 {
		objs = append(objs, tmpl...)
	}
	for b.Loop() {
		if err := Apply(objs, nil, Options{Strict: true}); err != nil {
			b.Fatal(err)
		}
	}
}
