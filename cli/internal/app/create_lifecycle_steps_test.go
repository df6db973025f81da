package app

import (
	"strings"
	"testing"

	"gotk.dev/internal/testing/golden"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/e2e/framework"
)

// wantStderr fails unless stderr is exactly want.
func wantStderr(t *testing.T, r result, want string) {
	t.Helper()
	if r.stderr != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", r.stderr, want)
	}
	if r.stdout != "" {
		t.Errorf("stdout not empty: %q", r.stdout)
	}
}

func testCreate(t *testing.T, e *opEnv, url, hash1, digest string) {
	r := e.ok(t, "create", "source", "git", "podinfo", "--url="+url, "--branch=main", "--interval=10m")
	wantStderr(t, r, `✚ generating GitRepository source
► applying GitRepository source
✔ GitRepository source created
◎ waiting for GitRepository source reconciliation
✔ GitRepository source reconciliation completed
✔ fetched revision: main@sha1:`+hash1+"\n")

	r = e.ok(t, "create", "source", "git", "podinfo", "--url="+url, "--branch=main", "--interval=10m")
	wants(t, "stderr", r.stderr, "✔ GitRepository source updated\n")

	r = e.ok(t, "create", "kustomization", "podinfo", "--source=GitRepository/podinfo", "--path=./deploy", "--prune", "--interval=10m")
	wantStderr(t, r, `✚ generating Kustomization
► applying Kustomization
✔ Kustomization created
◎ waiting for Kustomization reconciliation
✔ Kustomization podinfo is ready
✔ applied revision main@sha1:`+hash1+"\n")
	if v := e.configMapData(t, "podinfo-config", "version"); v != "1" {
		t.Errorf("ConfigMap version %q, want 1", v)
	}

	r = e.ok(t, "create", "source", "oci", "podinfo-oci", "--url="+e.OCIURL("podinfo-oci"), "--tag=v1", "--insecure", "--interval=10m")
	wantStderr(t, r, `✚ generating OCIRepository source
► applying OCIRepository source
✔ OCIRepository source created
◎ waiting for OCIRepository source reconciliation
✔ OCIRepository source reconciliation completed
✔ fetched revision: v1@`+digest+"\n")
	e.ok(t, "create", "ks", "oci-app", "--source=OCIRepository/podinfo-oci", "--prune", "--interval=10m")
	if v := e.configMapData(t, "oci-config", "from"); v != "oci" {
		t.Errorf("ConfigMap from OCI: %q", v)
	}
}

func testGet(t *testing.T, e *opEnv) {
	for _, tt := range []struct {
		golden string
		args   []string
	}{
		{"get-sources-git", []string{"get", "sources", "git"}},
		{"get-sources-git-by-name", []string{"get", "source", "git", "podinfo"}},
		{"get-sources-all", []string{"get", "sources", "all"}},
		{"get-kustomizations", []string{"get", "kustomizations"}},
		{"get-kustomizations-all-namespaces", []string{"get", "ks", "-A"}},
		{"get-kustomizations-no-header", []string{"get", "ks", "--no-header"}},
		{"get-all", []string{"get", "all"}},
	} {
		t.Run(tt.golden, func(t *testing.T) {
			r := e.ok(t, tt.args...)
			if r.stderr != "" {
				t.Errorf("stderr: %q", r.stderr)
			}
			golden.Assert(t, tt.golden, e.normalise(r.stdout))
		})
	}
	r := e.ok(t, "get", "sources", "helm")
	wantStderr(t, r, "✗ no HelmRepository objects found in flux-system namespace\n")
	r = e.ok(t, "get", "ks", "-n", "default")
	wantStderr(t, r, "✗ no Kustomization objects found in default namespace\n")
}

func testReconcile(t *testing.T, e *opEnv, hash2, digest string) {
	r := e.ok(t, "reconcile", "ks", "podinfo", "--with-source")
	wantStderr(t, r, `► annotating GitRepository podinfo in flux-system namespace
✔ GitRepository annotated
◎ waiting for GitRepository reconciliation
✔ fetched revision main@sha1:`+hash2+`
► annotating Kustomization podinfo in flux-system namespace
✔ Kustomization annotated
◎ waiting for Kustomization reconciliation
✔ applied revision main@sha1:`+hash2+"\n")
	if v := e.configMapData(t, "podinfo-config", "version"); v != "2" {
		t.Errorf("ConfigMap version %q after reconcile, want 2", v)
	}
	ks := e.object(t, opKustomizationGVK, "podinfo")
	handled, _, _ := unstructured.NestedString(ks.Object, "status", "lastHandledReconcileAt")
	if token := ks.GetAnnotations()["reconcile.fluxcd.io/requestedAt"]; token == "" || token != handled {
		t.Errorf("requestedAt %q, lastHandledReconcileAt %q", token, handled)
	}

	r = e.ok(t, "reconcile", "source", "oci", "podinfo-oci")
	wantStderr(t, r, `► annotating OCIRepository podinfo-oci in flux-system namespace
✔ OCIRepository annotated
◎ waiting for OCIRepository reconciliation
✔ fetched revision v1@`+digest+"\n")
}

func testSuspendResume(t *testing.T, e *opEnv, hash2 string) {
	r := e.ok(t, "suspend", "kustomization", "podinfo")
	wantStderr(t, r, "► suspending kustomization podinfo in flux-system namespace\n✔ kustomization suspended\n")
	if s, _, _ := unstructured.NestedBool(e.object(t, opKustomizationGVK, "podinfo").Object, "spec", "suspend"); !s {
		t.Error("spec.suspend is not true")
	}
	e.fails(t, "", []string{"reconcile", "ks", "podinfo"},
		"✗ Kustomization flux-system/podinfo is suspended: resume it first (flux resume kustomization podinfo -n flux-system)")
	r = e.ok(t, "get", "ks", "podinfo", "--no-header")
	if f := strings.Fields(r.stdout); len(f) < 4 || f[0] != "podinfo" || f[2] != "True" {
		t.Errorf("get does not show the Kustomization suspended: %q", r.stdout)
	}

	r = e.ok(t, "resume", "ks", "podinfo")
	wantStderr(t, r, `► resuming kustomization podinfo in flux-system namespace
✔ kustomization resumed
◎ waiting for Kustomization reconciliation
✔ Kustomization reconciliation completed
✔ applied revision main@sha1:`+hash2+"\n")
	if _, found, _ := unstructured.NestedFieldNoCopy(e.object(t, opKustomizationGVK, "podinfo").Object, "spec", "suspend"); found {
		t.Error("spec.suspend still set after resume")
	}

	r = e.ok(t, "suspend", "source", "git", "--all")
	wantStderr(t, r, "► suspending source git podinfo in flux-system namespace\n✔ source git suspended\n")
	r = e.ok(t, "resume", "source", "git", "--all")
	wants(t, "stderr", r.stderr, "✔ source git resumed\n◎ waiting for GitRepository reconciliation\n✔ GitRepository reconciliation completed\n✔ fetched revision main@sha1:"+hash2+"\n")
	r = e.ok(t, "suspend", "source", "bucket", "--all")
	wantStderr(t, r, "✗ no Bucket objects found in flux-system namespace\n")
}

func testExport(t *testing.T, e *opEnv) {
	var exported []string
	for _, tt := range []struct {
		golden string
		args   []string
	}{
		{"export-source-git", []string{"export", "source", "git", "podinfo"}},
		{"export-kustomizations", []string{"export", "kustomization", "--all"}},
		{"export-source-all", []string{"export", "source", "all"}},
	} {
		r := e.ok(t, tt.args...)
		if r.stderr != "" {
			t.Errorf("stderr: %q", r.stderr)
		}
		for _, server := range []string{"uid:", "resourceVersion:", "managedFields", "creationTimestamp", "generation:", "finalizers", "status:"} {
			if strings.Contains(r.stdout, server) {
				t.Errorf("%s: export has %q:\n%s", tt.golden, server, r.stdout)
			}
		}
		golden.Assert(t, tt.golden, e.normalise(r.stdout))
		exported = append(exported, r.stdout)
	}
	// The export is what is in the cluster: applied back, it changes no spec.
	docs, err := framework.DecodeObjects([]byte(strings.Join(exported, "")))
	if err != nil {
		t.Fatal(err)
	}
	generation := func(u *unstructured.Unstructured) int64 {
		live := u.DeepCopy()
		if err := e.Client.Get(e.ctx, client.ObjectKeyFromObject(u), live); err != nil {
			t.Fatal(err)
		}
		return live.GetGeneration()
	}
	before := map[string]int64{}
	for _, u := range docs {
		before[u.GetKind()+"/"+u.GetName()] = generation(u)
	}
	if _, err := e.Apply(e.ctx, strings.Join(exported, "")); err != nil {
		t.Fatalf("the export does not apply: %v", err)
	}
	for _, u := range docs {
		if g := generation(u); g != before[u.GetKind()+"/"+u.GetName()] {
			t.Errorf("%s %s: applying its export changed its spec (generation %d -> %d)", u.GetKind(), u.GetName(), before[u.GetKind()+"/"+u.GetName()], g)
		}
	}
}
