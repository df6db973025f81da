package kustomize

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/kustomize"
)

// FuzzBuild feeds arbitrary kustomization.yaml content (and a Flux patch and target
// namespace) into a small tree next to a directory of secrets. A build may fail, but it must
// not panic, read outside the root (no secret in errors or objects), contact a remote
// (an HTTP server stands in for the network) or write into the tree.
func FuzzBuild(f *testing.F) {
	seeds := []string{
		"resources:\n- cm.yaml\n- ../base\n",
		"namespace: x\nnamePrefix: p-\nresources:\n- cm.yaml\nimages:\n- name: nginx\n  newTag: \"1\"\n",
		"resources:\n- ../../outside/secret.yaml\n",
		"resources:\n- link.yaml\n",
		"resources:\n- /etc/passwd\n",
		"resources:\n- .\n",
		"resources:\n- REMOTE/cm.yaml\n",
		"resources:\n- github.com/org/repo//x?ref=main\n",
		"configMapGenerator:\n- name: c\n  files:\n  - ../../outside/secret.txt\n  - k=link.yaml\n",
		"secretGenerator:\n- name: s\n  envs:\n  - ../../outside/secret.txt\n",
		"resources:\n- cm.yaml\npatches:\n- path: REMOTE/p.yaml\n",
		"resources:\n- cm.yaml\ntransformers:\n- |\n  apiVersion: builtin\n  kind: PatchTransformer\n  metadata:\n    name: t\n  path: ../../outside/secret.yaml\n",
		"components:\n- ../comp\nresources:\n- cm.yaml\n",
		"openapi:\n  path: ../../outside/secret.txt\n",
		"crds:\n- ../../outside/secret.yaml\n",
		"helmCharts:\n- name: x\n  repo: REMOTE\n",
		"resources:\n- cm.yaml\nreplacements:\n- path: ../../outside/secret.yaml\n",
		"a: &a [1, 2]\nb: *a\n",
		"",
		"{{ not yaml",
	}
	for _, s := range seeds {
		f.Add([]byte(s), "", "")
	}
	f.Add([]byte("resources:\n- cm.yaml\n"), "target", `[{"op": "add", "path": "/data/x", "value": "y"}]`)
	f.Add([]byte("resources:\n- cm.yaml\n"), "", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  k: w\n")

	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		w.Write([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: remote\n"))
	}))
	f.Cleanup(srv.Close)

	parent := writeTree(f, map[string]string{
		"outside/secret.txt":           "k=" + secret + "\n",
		"outside/secret.yaml":          "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: leaked\ndata:\n  k: " + secret + "\n",
		"root/app/cm.yaml":             cm,
		"root/app/link.yaml":           "symlink:../../outside/secret.yaml",
		"root/app/inner.yaml":          "symlink:cm.yaml",
		"root/base/kustomization.yaml": "namePrefix: b-\nresources:\n- cm.yaml\n",
		"root/base/cm.yaml":            cm,
		"root/comp/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\ncommonLabels:\n  c: d\n",
	})
	root := filepath.Join(parent, "root")
	kfile := filepath.Join(root, "app", "kustomization.yaml")

	f.Fuzz(func(t *testing.T, kustomization []byte, namespace, patch string) {
		content := strings.ReplaceAll(string(kustomization), "REMOTE", srv.URL)
		if err := os.WriteFile(kfile, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		before := hashTree(t, parent)
		opts := Options{TargetNamespace: namespace, NoRemoteBases: true}
		if patch != "" {
			opts.Patches = []kustomize.Patch{{Patch: patch, Target: &kustomize.Selector{Kind: "ConfigMap"}}}
		}
		start := time.Now()
		objs, err := Build(root, "app", opts)
		if d := time.Since(start); d > 20*time.Second { // a hang in disguise
			t.Fatalf("build took %v: %q ns=%q patch=%q", d, content, namespace, patch)
		}
		if after := hashTree(t, parent); after != before {
			t.Fatal("build changed the file system")
		}
		if n := requests.Load(); n != 0 {
			t.Fatalf("build contacted a remote (%d requests)", n)
		}
		if err != nil {
			msg := err.Error()
			if strings.Contains(msg, "internal error:") {
				t.Fatalf("kustomize panicked: %s", msg)
			}
			if strings.Contains(msg, secret) {
				t.Fatalf("error leaks content from outside the root: %s", msg)
			}
			return
		}
		for _, o := range objs {
			b, err := json.Marshal(o.Object)
			if err != nil {
				t.Fatalf("object %s/%s does not marshal: %v", o.GetKind(), o.GetName(), err)
			}
			if strings.Contains(string(b), secret) {
				t.Fatalf("object %s/%s holds content from outside the root", o.GetKind(), o.GetName())
			}
			_ = o.DeepCopy() // panics on values unstructured does not allow
		}
	})
}
