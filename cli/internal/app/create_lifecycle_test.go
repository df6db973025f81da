package app

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/e2e/framework"
)

// opEnv is the environment of the operate commands' live test: a local cluster with the
// real source-controller and kustomize-controller, a Git server and a registry.
type opEnv struct {
	*framework.Env
	kubeconfig string
	ctx        context.Context
	// normal are replacements (value -> placeholder) that make outputs stable: commit
	// hashes, digests, server addresses.
	normal []string
}

// flux runs the CLI against the cluster.
func (e *opEnv) flux(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return runFlux(t, stdin, append(args, "--kubeconfig="+e.kubeconfig)...)
}

// ok runs the CLI and fails the test unless it exits 0.
func (e *opEnv) ok(t *testing.T, args ...string) result {
	t.Helper()
	r := e.flux(t, "", args...)
	if r.code != 0 {
		t.Fatalf("flux %s: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r
}

// fails runs the CLI, expects exit 1 and the wanted stderr pieces.
func (e *opEnv) fails(t *testing.T, stdin string, args []string, want ...string) result {
	t.Helper()
	r := e.flux(t, stdin, args...)
	if r.code != 1 {
		t.Fatalf("flux %s: exit %d, want 1\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	wants(t, "stderr", r.stderr, want...)
	return r
}

// normalise replaces run-specific values, and the reconcile request timestamps.
func (e *opEnv) normalise(s string) string {
	s = strings.NewReplacer(e.normal...).Replace(s)
	return regexp.MustCompile(`(reconcile\.fluxcd\.io/requestedAt: )"?[^"\n]+"?`).ReplaceAllString(s, "${1}<time>")
}

// object reads a Flux object as the API server has it.
func (e *opEnv) object(t *testing.T, gvk schema.GroupVersionKind, name string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	if err := e.Client.Get(e.ctx, client.ObjectKey{Namespace: "flux-system", Name: name}, u); err != nil {
		t.Fatal(err)
	}
	return u
}

// configMapData is data[key] of a ConfigMap in default, "" when missing.
func (e *opEnv) configMapData(t *testing.T, name, key string) string {
	t.Helper()
	cm, err := e.Clientset.CoreV1().ConfigMaps("default").Get(e.ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return ""
	} else if err != nil {
		t.Fatal(err)
	}
	return cm.Data[key]
}

// secret reads a Secret in flux-system; nil when missing.
func (e *opEnv) secret(t *testing.T, name string) *corev1.Secret {
	t.Helper()
	s, err := e.Clientset.CoreV1().Secrets("flux-system").Get(e.ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	} else if err != nil {
		t.Fatal(err)
	}
	return s
}

// waitGone polls until get reports NotFound.
func (e *opEnv) waitGone(t *testing.T, what string, get func() error) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		err := get()
		if apierrors.IsNotFound(err) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still exists after a minute (%v)", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// configMapManifests is a kustomization with one ConfigMap in default holding version.
func configMapManifests(name, version string) map[string]string {
	return map[string]string{
		"deploy/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [cm.yaml]\n",
		"deploy/cm.yaml": fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: default\ndata:\n  version: %q\n",
			name, version),
	}
}

var (
	opGitRepositoryGVK = schema.GroupVersionKind{Group: "source.toolkit.fluxcd.io", Version: "v1", Kind: "GitRepository"}
	opKustomizationGVK = schema.GroupVersionKind{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Kind: "Kustomization"}
)

// TestOperateLifecycle drives the operate commands against a local cluster with the real
// source-controller and kustomize-controller: create source git (HTTP, SSH with a generated
// and with a given key, basic auth) and oci, create kustomization, get, reconcile
// --with-source, suspend/resume, export (and apply the export back), a failing
// reconciliation, missing objects, and delete with and without confirmation.
func TestOperateLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a local cluster with Flux controllers")
	}
	opts, err := framework.OptionsFromEnv(nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	fw := framework.Setup(t, opts.WithControllers("source-controller", "kustomize-controller"))
	t.Logf("environment up in %s", time.Since(start).Round(time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	e := &opEnv{Env: fw, kubeconfig: fw.Cluster.Kubeconfig, ctx: ctx}

	repo, err := e.CreateGitRepo("podinfo")
	if err != nil {
		t.Fatal(err)
	}
	hash1, err := repo.Commit(configMapManifests("podinfo-config", "1"), "v1")
	if err != nil {
		t.Fatal(err)
	}
	digest, err := e.PushFiles(ctx, "podinfo-oci", "v1", map[string]string{
		"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: oci-config\n  namespace: default\ndata:\n  from: oci\n",
	})
	if err != nil {
		t.Fatal(err)
	}
	e.normal = []string{hash1[:8], "11111111", repo.HTTPURL, "http://git.example/podinfo.git",
		strings.TrimPrefix(digest, "sha256:")[:8], "dddddddd", e.OCIURL("podinfo-oci"), "oci://registry.example/podinfo-oci"}

	step := func(name string, f func(t *testing.T)) {
		if !t.Run(name, f) {
			t.FailNow() // later steps build on this one
		}
	}
	step("create", func(t *testing.T) { testCreate(t, e, repo.HTTPURL, hash1, digest) })
	step("get", func(t *testing.T) { testGet(t, e) })
	hash2, err := repo.Commit(configMapManifests("podinfo-config", "2"), "v2")
	if err != nil {
		t.Fatal(err)
	}
	e.normal = append(e.normal, hash2[:8], "22222222")
	step("reconcile", func(t *testing.T) { testReconcile(t, e, hash2, digest) })
	step("suspend and resume", func(t *testing.T) { testSuspendResume(t, e, hash2) })
	step("export", func(t *testing.T) { testExport(t, e) })
	step("status selector and watch", func(t *testing.T) { testSelectorWatch(t, e) })
	step("failing reconciliation", func(t *testing.T) { testReconcileFailure(t, e, repo) })
	step("missing objects", func(t *testing.T) { testMissing(t, e) })
	step("ssh", func(t *testing.T) { testCreateSSH(t, e, repo.SSHURL) })
	step("basic auth", func(t *testing.T) { testCreateBasicAuth(t, e) })
	step("delete", func(t *testing.T) { testDelete(t, e) })
}
