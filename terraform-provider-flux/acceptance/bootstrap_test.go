// Package acceptance runs flux_bootstrap_git through the real OpenTofu against a local
// cluster (kube-apiserver, kube-controller-manager and kwok from `make testbin`, with the real
// source- and kustomize-controller as processes, as the flux CLI's bootstrap tests run) and
// the local Git server.
package acceptance

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"gotk.dev/e2e/framework"
	"gotk.dev/internal/testing/gitserver"
)

// mainTF is the configuration under test: the provider reaches the cluster through a
// kubeconfig and the repository over HTTP with a password; the resource bootstraps
// namespace (not flux-system, which the test cluster creates unlabelled for its own
// controllers) at the version given as a variable.
const mainTF = `
terraform {
  required_providers {
    flux = { source = "fluxcd/flux" }
  }
}

variable "flux_version" { type = string }
variable "kustomization_override" {
  type    = string
  default = null
}
variable "git_password" {
  type      = string
  sensitive = true
}

provider "flux" {
  kubernetes = {
    config_path = %q
  }
  git = {
    url    = %q
    author_name  = "Terraform"
    author_email = "tf@example.com"
    http = {
      username            = "flux"
      password            = var.git_password
      allow_insecure_http = true
    }
  }
}

resource "flux_bootstrap_git" "this" {
  path      = "clusters/test"
  namespace = %q
  version   = var.flux_version

  kustomization_override = var.kustomization_override
}
`

const token = "s3cr3t-t0k3n-value"

func TestMain(m *testing.M) {
	ctrllog.SetLogger(logr.Discard())
	os.Exit(m.Run())
}

func TestBootstrapGit(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a local cluster with controllers")
	}
	opts, err := framework.OptionsFromEnv(nil)
	if err != nil {
		t.Fatal(err)
	}
	// The provider builds while the cluster starts.
	pluginDir := t.TempDir()
	built := make(chan error, 1)
	go func() { built <- buildProvider(pluginDir) }()
	env := framework.Setup(t, opts.WithControllers("source-controller", "kustomize-controller"))
	if err := <-built; err != nil {
		t.Fatal(err)
	}
	srv := gitserver.New(t, gitserver.Options{Username: "flux", Password: token})
	e := &acc{t: t, env: env, srv: srv, pluginDir: pluginDir}

	t.Run("bad credentials", e.testBadCredentials)
	t.Run("lifecycle", e.testLifecycle)
}

type acc struct {
	t         *testing.T
	env       *framework.Env
	srv       *gitserver.Server
	pluginDir string
}

func (e *acc) tofu(t *testing.T, repo, namespace string) (*tofu, string) {
	url, err := e.srv.InitRepo(repo)
	if err != nil {
		t.Fatal(err)
	}
	return newTofu(t, e.pluginDir, fmt.Sprintf(mainTF, e.env.Cluster.Kubeconfig, url, namespace)), url
}

// testBadCredentials: a wrong Git password fails before anything is installed or committed,
// with an error naming the attribute and not showing the password; so does a wrong
// Kubernetes token.
func (e *acc) testBadCredentials(t *testing.T) {
	tf, _ := e.tofu(t, "fleet/bad", "flux-bad")
	r := tf.run(t, append([]string{"apply", "-auto-approve"}, vars("flux_version=v1.0.0", "git_password=wrong-password")...)...)
	if r.code == 0 {
		t.Fatal("apply with a wrong password succeeded")
	}
	wants(t, r.stderr, "Cannot bootstrap Flux", "provider attribute git.http.password", "cannot read http://")
	if strings.Contains(r.String(), "wrong-password") {
		t.Error("the password was printed")
	}
	e.wantNotInstalled(t, "flux-bad")
	if _, err := e.srv.Resolve("fleet/bad", "main"); err == nil {
		t.Error("something was committed to fleet/bad")
	}
	if st := tf.run(t, "state", "list"); strings.TrimSpace(st.stdout) != "" {
		t.Errorf("the failed apply left state: %s", st.stdout)
	}

	badKube := newTofu(t, e.pluginDir, strings.Replace(fmt.Sprintf(mainTF, "unused", e.srv.RepoURL("fleet/bad"), "flux-bad"),
		`config_path = "unused"`, fmt.Sprintf("host = %q\n    insecure = true\n    token = \"not-a-token\"", e.env.Config.Host), 1))
	r = badKube.run(t, append([]string{"apply", "-auto-approve"}, vars("flux_version=v1.0.0", "git_password="+token)...)...)
	if r.code == 0 {
		t.Fatal("apply with a wrong Kubernetes token succeeded")
	}
	wants(t, r.stderr, "provider attribute kubernetes: cannot reach the Kubernetes API server", "provide credentials")
	e.wantNotInstalled(t, "flux-bad")
}

// testLifecycle: apply bootstraps and the cluster reconciles the repository; a second plan
// shows no changes; a new version upgrades through Git; an edit of the manifests in Git
// shows as drift and apply restores them; so is a controller deleted from the cluster;
// import finds the install again;
// kustomization_override patches the controllers through Git; destroy removes
// everything (nothing left on finalizers) and the manifests from Git.
func (e *acc) testLifecycle(t *testing.T) {
	const ns = "flux-tf"
	tf, _ := e.tofu(t, "fleet/tf", ns)
	apply := func(version string) result {
		t.Helper()
		return tf.run(t, append([]string{"apply", "-auto-approve"}, vars("flux_version="+version, "git_password="+token)...)...)
	}
	plan := func(version string) result {
		t.Helper()
		return tf.run(t, append([]string{"plan", "-detailed-exitcode"}, vars("flux_version="+version, "git_password="+token)...)...)
	}
	head := func() string {
		t.Helper()
		h, err := e.srv.Resolve("fleet/tf", "main")
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	components := "clusters/test/" + ns + "/gotk-components.yaml"

	if r := apply("v1.0.0"); r.code != 0 {
		t.Fatalf("apply: exit %d", r.code)
	} else if strings.Contains(r.String(), token) {
		t.Error("the password was printed")
	}
	first := head()
	e.wantSynced(t, ns, "main@sha1:"+first)
	wants(t, e.file(t, "fleet/tf", components), "# Flux Version: v1.0.0\n", "image: ghcr.io/gotk-dev/source-controller:v1.0.0\n")
	for _, f := range []string{"gotk-sync.yaml", "kustomization.yaml"} {
		if e.file(t, "fleet/tf", "clusters/test/"+ns+"/"+f) == "" {
			t.Errorf("%s was not committed", f)
		}
	}
	if log := e.log(t, "fleet/tf"); !strings.Contains(log, "Terraform <tf@example.com>: Add Flux v1.0.0 component manifests") {
		t.Errorf("history:\n%s", log)
	}

	if r := plan("v1.0.0"); r.code != 0 {
		t.Fatalf("a second plan wants changes (exit %d)", r.code)
	}

	if r := plan("v1.1.0"); r.code != 2 {
		t.Fatalf("plan of a new version: exit %d, want 2 (changes)", r.code)
	} else {
		wants(t, r.stdout, "~ version", "-> \"v1.1.0\"", "~ repository_files", "image: ghcr.io/gotk-dev/source-controller:v1.1.0")
	}
	if r := apply("v1.1.0"); r.code != 0 {
		t.Fatalf("upgrade: exit %d", r.code)
	}
	upgraded := head()
	if upgraded == first {
		t.Fatal("the upgrade committed nothing")
	}
	wants(t, e.file(t, "fleet/tf", components), "# Flux Version: v1.1.0\n")
	e.wantSynced(t, ns, "main@sha1:"+upgraded)
	e.wantImage(t, ns, "source-controller", "ghcr.io/gotk-dev/source-controller:v1.1.0")
	if r := plan("v1.1.0"); r.code != 0 {
		t.Fatalf("plan after the upgrade wants changes (exit %d)", r.code)
	}

	edited := strings.Replace(e.file(t, "fleet/tf", components), "--log-level=info", "--log-level=debug", 1)
	if _, err := e.srv.Commit("fleet/tf").File(components, edited).Message("hand edit").Do(); err != nil {
		t.Fatal(err)
	}
	if r := plan("v1.1.0"); r.code != 2 {
		t.Fatalf("plan after a hand edit in Git: exit %d, want 2 (drift)", r.code)
	} else {
		wants(t, r.stdout, "~ repository_files", "--log-level=debug")
	}
	if r := apply("v1.1.0"); r.code != 0 {
		t.Fatalf("apply restoring the manifests: exit %d", r.code)
	}
	if strings.Contains(e.file(t, "fleet/tf", components), "--log-level=debug") {
		t.Error("apply did not restore gotk-components.yaml")
	}

	// A controller deleted from the cluster (with the Kustomization suspended, or
	// kustomize-controller puts it back first): the plan bootstraps again, which installs it.
	e.suspend(t, ns, true)
	// A reconcile that started before the suspension (the last apply requested one) would
	// still put the Deployment back.
	time.Sleep(2 * time.Second)
	if err := e.env.Clientset.AppsV1().Deployments(ns).Delete(context.Background(), "helm-controller", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.env.Clientset.AppsV1().Deployments(ns).Get(context.Background(), "helm-controller", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("helm-controller was put back before the plan (%v)", err)
	}
	if r := plan("v1.1.0"); r.code != 2 {
		t.Fatalf("plan with a controller missing: exit %d, want 2", r.code)
	} else {
		wants(t, r.String(), "Flux controllers are missing", "no Deployment helm-controller in namespace flux-tf", "flux_bootstrap_git.this will be created")
	}
	// Resumed, as bootstrap waits for the Kustomization to be reconciled (a suspended one
	// never is).
	e.suspend(t, ns, false)
	if r := apply("v1.1.0"); r.code != 0 {
		t.Fatalf("apply with a controller missing: exit %d", r.code)
	}
	e.wantImage(t, ns, "helm-controller", "ghcr.io/gotk-dev/helm-controller:v1.1.0")
	if r := plan("v1.1.0"); r.code != 0 {
		t.Fatalf("plan after the controller is back wants changes (exit %d)", r.code)
	}

	if r := tf.run(t, "state", "rm", "flux_bootstrap_git.this"); r.code != 0 {
		t.Fatalf("state rm: exit %d", r.code)
	}
	if r := tf.run(t, append([]string{"import"}, append(vars("flux_version=v1.1.0", "git_password="+token), "flux_bootstrap_git.this", ns)...)...); r.code != 0 {
		t.Fatalf("import: exit %d", r.code)
	}
	if r := plan("v1.1.0"); r.code != 0 {
		t.Errorf("plan after import wants changes (exit %d)", r.code)
	}

	override := `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - gotk-components.yaml
  - gotk-sync.yaml
patches:
  - target:
      kind: Deployment
      name: source-controller
    patch: |
      - op: add
        path: /metadata/labels/team
        value: platform
`
	withOverride := vars("flux_version=v1.1.0", "git_password="+token, "kustomization_override="+override)
	if r := tf.run(t, append([]string{"apply", "-auto-approve"}, withOverride...)...); r.code != 0 {
		t.Fatalf("apply with kustomization_override: exit %d", r.code)
	}
	if got := e.file(t, "fleet/tf", "clusters/test/"+ns+"/kustomization.yaml"); got != override {
		t.Errorf("kustomization.yaml is not the override:\n%s", got)
	}
	if d, err := e.env.Clientset.AppsV1().Deployments(ns).Get(context.Background(), "source-controller", metav1.GetOptions{}); err != nil || d.Labels["team"] != "platform" {
		t.Errorf("the override's patch was not applied from Git: %v %v", err, d.Labels)
	}
	if r := tf.run(t, append([]string{"plan", "-detailed-exitcode"}, withOverride...)...); r.code != 0 {
		t.Errorf("plan after the override wants changes (exit %d)", r.code)
	}

	if r := tf.run(t, append([]string{"destroy", "-auto-approve"}, vars("flux_version=v1.1.0", "git_password="+token)...)...); r.code != 0 {
		t.Fatalf("destroy: exit %d", r.code)
	}
	e.wantNotInstalled(t, ns)
	e.wantGone(t, ns)
	if f := e.file(t, "fleet/tf", components); f != "" {
		t.Error("destroy left gotk-components.yaml in Git")
	}
}

// suspend sets the sync Kustomization's spec.suspend.
func (e *acc) suspend(t *testing.T, ns string, suspend bool) {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("kustomize.toolkit.fluxcd.io/v1")
	u.SetKind("Kustomization")
	u.SetNamespace(ns)
	u.SetName(ns)
	patch := fmt.Sprintf(`{"spec":{"suspend":%t}}`, suspend)
	if err := e.env.Client.Patch(context.Background(), u, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
		t.Fatal(err)
	}
}

// wantNotInstalled checks that no Deployment of the install in ns exists.
func (e *acc) wantNotInstalled(t *testing.T, ns string) {
	t.Helper()
	list, err := e.env.Clientset.AppsV1().Deployments(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) > 0 {
		t.Errorf("%d Deployments in %s", len(list.Items), ns)
	}
}

// wantGone waits until the namespace and every Flux CRD are deleted: nothing waits on a
// finalizer no controller will remove.
func (e *acc) wantGone(t *testing.T, ns string) {
	t.Helper()
	ctx := context.Background()
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := e.env.Clientset.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		n, _ := e.env.Clientset.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		t.Errorf("namespace %s is still there: %+v", ns, n.Status)
	}
	crds := &unstructured.UnstructuredList{}
	crds.SetAPIVersion("apiextensions.k8s.io/v1")
	crds.SetKind("CustomResourceDefinitionList")
	if err := e.env.Client.List(ctx, crds); err != nil {
		t.Fatal(err)
	}
	for _, c := range crds.Items {
		if strings.HasSuffix(c.GetName(), ".toolkit.fluxcd.io") {
			t.Errorf("CRD %s is still there (finalizers %v)", c.GetName(), c.GetFinalizers())
		}
	}
}

// wantSynced checks the sync objects of ns are Ready at revision.
func (e *acc) wantSynced(t *testing.T, ns, revision string) {
	t.Helper()
	for _, kind := range []string{"GitRepository", "Kustomization"} {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion(map[string]string{"GitRepository": "source.toolkit.fluxcd.io/v1", "Kustomization": "kustomize.toolkit.fluxcd.io/v1"}[kind])
		u.SetKind(kind)
		if err := e.env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: ns}, u); err != nil {
			t.Errorf("%s %s/%s: %v", kind, ns, ns, err)
			continue
		}
		ready, msg := framework.Readiness(u)
		rev, _, _ := unstructured.NestedString(u.Object, "status", "artifact", "revision")
		if kind == "Kustomization" {
			rev, _, _ = unstructured.NestedString(u.Object, "status", "lastAppliedRevision")
		}
		if !ready || rev != revision {
			t.Errorf("%s %s/%s: ready=%v revision=%s (want %s): %s", kind, ns, ns, ready, rev, revision, msg)
		}
	}
}

// wantImage checks a controller Deployment's image (applied by kustomize-controller from Git).
func (e *acc) wantImage(t *testing.T, ns, name, image string) {
	t.Helper()
	d, err := e.env.Clientset.AppsV1().Deployments(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Spec.Template.Spec.Containers[0].Image; got != image {
		t.Errorf("Deployment %s/%s image %s, want %s", ns, name, got, image)
	}
}

// file reads a file of main in a repository ("" when missing).
func (e *acc) file(t *testing.T, repo, path string) string {
	t.Helper()
	r, err := gogit.PlainOpen(e.srv.Repos.Path(repo))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := r.Reference(plumbing.NewBranchReferenceName("main"), true)
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.CommitObject(ref.Hash())
	if err != nil {
		t.Fatal(err)
	}
	f, err := c.File(path)
	if err != nil {
		return ""
	}
	s, err := f.Contents()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// log is the branch's history as "author <email>: message" lines, newest first.
func (e *acc) log(t *testing.T, repo string) string {
	t.Helper()
	r, err := gogit.PlainOpen(e.srv.Repos.Path(repo))
	if err != nil {
		t.Fatal(err)
	}
	iter, err := r.Log(&gogit.LogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	_ = iter.ForEach(func(c *object.Commit) error {
		fmt.Fprintf(&b, "%s <%s>: %s\n", c.Author.Name, c.Author.Email, strings.TrimSpace(c.Message))
		return nil
	})
	return b.String()
}

// wants checks got has every want, white space compared loosely (tofu wraps diagnostics).
func wants(t *testing.T, got string, want ...string) {
	t.Helper()
	flat := strings.Join(strings.Fields(got), " ")
	for _, w := range want {
		if !strings.Contains(flat, strings.Join(strings.Fields(w), " ")) {
			t.Errorf("missing %q in:\n%s", w, got)
		}
	}
}
