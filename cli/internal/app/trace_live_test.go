package app

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"gotk.dev/internal/testing/golden"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/e2e/framework"
	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// liveFleet is the Git repository the live tests reconcile: a root Kustomization applying a
// namespace and a nested Kustomization, which applies an app with post-build variables.
func liveFleet() map[string]string {
	return map[string]string{
		"clusters/dev/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n",
		"clusters/dev/apps.yaml": `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 10m
  path: ./apps
  prune: true
  sourceRef:
    kind: GitRepository
    name: fleet
  postBuild:
    substituteFrom:
      - kind: ConfigMap
        name: cluster-vars
`,
		"apps/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
  namespace: apps
spec:
  replicas: 1
  selector:
    matchLabels: {app: podinfo}
  template:
    metadata:
      labels: {app: podinfo}
    spec:
      containers:
        - name: podinfo
          image: ghcr.io/stefanprodan/podinfo:6.0.0
`,
		"apps/service.yaml": `apiVersion: v1
kind: Service
metadata:
  name: podinfo
  namespace: apps
spec:
  selector: {app: podinfo}
  ports:
    - port: 9898
`,
		"apps/settings.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: apps
data:
  cluster: ${CLUSTER_NAME}
`,
		"apps/secret.yaml": `apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: apps
stringData:
  password: hunter2-live
`,
	}
}

// TestLiveCluster runs events, logs, tree, trace, build and diff against one local cluster
// with the real source-controller and kustomize-controller reconciling a Git repository and
// an OCI artifact.
func TestLiveCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a local cluster and controllers")
	}
	opts, err := framework.OptionsFromEnv(nil)
	if err != nil {
		t.Fatal(err)
	}
	opts = opts.WithControllers("source-controller", "kustomize-controller")
	opts.Namespaces = []string{"staging", "golden-events"}
	start := time.Now()
	env := framework.Setup(t, opts)
	t.Logf("environment up in %s", time.Since(start).Round(time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	repo, err := env.CreateGitRepo("fleet")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Commit(liveFleet(), "fleet"); err != nil {
		t.Fatal(err)
	}
	if _, err := env.PushFiles(ctx, "oci-app", "v1", map[string]string{"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: oci-cm\n  namespace: apps\ndata:\n  from: oci\n"}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Apply(ctx, fmt.Sprintf(`
apiVersion: v1
kind: ConfigMap
metadata: {name: cluster-vars, namespace: flux-system}
data: {CLUSTER_NAME: dev-1}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: fleet, namespace: flux-system}
spec: {url: %[1]q, interval: 10m, ref: {branch: main}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: root, namespace: flux-system}
spec: {interval: 10m, path: ./clusters/dev, prune: true, sourceRef: {kind: GitRepository, name: fleet}}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: oci-app, namespace: flux-system}
spec: {url: %[2]q, interval: 10m, insecure: true, ref: {tag: v1}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: oci-app, namespace: flux-system}
spec: {interval: 10m, prune: true, sourceRef: {kind: OCIRepository, name: oci-app}, dependsOn: [{name: root}]}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: fleet, namespace: staging}
spec: {url: %[1]q, interval: 10m, ref: {branch: main}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: broken, namespace: staging}
spec: {interval: 10m, retryInterval: 1h, path: ./does-not-exist, prune: true, sourceRef: {kind: GitRepository, name: fleet}}
`, repo.HTTPURL, env.OCIURL("oci-app"))); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"root", "apps", "oci-app"} {
		if err := waitReadyEventually(ctx, env, &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "flux-system"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := env.WaitReady(ctx, &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Name: "fleet", Namespace: "staging"}}, time.Minute); err != nil {
		t.Fatal(err)
	}
	t.Logf("fleet reconciled after %s", time.Since(start).Round(time.Millisecond))
	kc := "--kubeconfig=" + env.Cluster.Kubeconfig
	norm := liveNormalizer()
	lc := &liveCase{env: env, kc: kc, norm: norm, repoURL: repo.HTTPURL}

	t.Run("tree", lc.tree)
	t.Run("source-watcher kinds", lc.sourceWatcher)
	t.Run("stats", lc.stats)
	t.Run("debug kustomization", lc.debugKustomization)
	t.Run("trace", lc.trace)
	t.Run("helm", lc.helm)
	t.Run("build", lc.build)
	t.Run("diff", lc.diff)
	t.Run("logs", lc.logs)
	t.Run("events", lc.events)
	t.Run("events golden", lc.eventsGolden)
	t.Run("events --watch", func(t *testing.T) { lc.eventsWatch(t, ctx, repo) })
	t.Run("version", lc.version)
}

// waitReadyEventually waits for a Flux object that another reconcile creates (a nested
// Kustomization) to exist, then to be Ready.
func waitReadyEventually(ctx context.Context, env *framework.Env, obj client.Object) error {
	deadline := time.Now().Add(time.Minute)
	for env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj) != nil {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s/%s was never created", obj.GetNamespace(), obj.GetName())
		}
		time.Sleep(200 * time.Millisecond)
	}
	return env.WaitReady(ctx, obj, time.Minute)
}

// liveNormalizer hides what differs between runs: times, revisions, digests, ports.
func liveNormalizer() normalizer {
	return normalizer{
		{regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} [A-Z]+`), "<time>"},
		{regexp.MustCompile(`sha1:[0-9a-f]{40}`), "sha1:<hash>"},
		{regexp.MustCompile(`sha256:[0-9a-f]{64}`), "sha256:<digest>"},
		{regexp.MustCompile(`127\.0\.0\.1:\d+`), "127.0.0.1:<port>"},
	}
}

// liveCase holds what the live subtests share.
type liveCase struct {
	env     *framework.Env
	kc      string
	norm    normalizer
	repoURL string
}

func (lc *liveCase) run(t *testing.T, wantCode int, args ...string) result {
	t.Helper()
	r := runFlux(t, "", append(args, lc.kc)...)
	if r.code != wantCode {
		t.Fatalf("flux %s: exit %d, want %d\n%s", strings.Join(args, " "), r.code, wantCode, r.stderr)
	}
	return r
}

func (lc *liveCase) tree(t *testing.T) {
	r := lc.run(t, 0, "tree", "kustomization", "root")
	golden.Assert(t, "tree-root", r.stdout)
	r = lc.run(t, 0, "tree", "ks", "root", "--compact")
	if want := "Kustomization/flux-system/root\n└── Kustomization/flux-system/apps\n"; r.stdout != want {
		t.Errorf("--compact:\n%s\nwant:\n%s", r.stdout, want)
	}
	r = lc.run(t, 0, "tree", "ks", "root", "-o", "json")
	var tree objectTree
	if err := json.Unmarshal([]byte(r.stdout), &tree); err != nil {
		t.Fatal(err)
	}
	nested := 0
	for _, ch := range tree.Children {
		if ch.Resource.GroupKind.Kind == "Kustomization" && ch.Resource.Name == "apps" {
			nested = len(ch.Children)
		}
	}
	if len(tree.Children) != 2 || nested != 4 {
		t.Errorf("-o json: %s", r.stdout)
	}
	r = lc.run(t, 0, "tree", "ks", "root", "-o", "yaml")
	wants(t, "yaml", r.stdout, "resource:\n  GroupKind:\n    Group: kustomize.toolkit.fluxcd.io\n    Kind: Kustomization\n  Name: root\n")
	r = lc.run(t, 1, "tree", "ks", "nope")
	wants(t, "stderr", r.stderr, "✗ Kustomization/flux-system/nope not found")
}

func (lc *liveCase) trace(t *testing.T) {
	r := lc.run(t, 0, "trace", "podinfo", "--kind", "deployment", "--api-version", "apps/v1", "-n", "apps")
	golden.Assert(t, "trace-deployment", lc.norm.apply(r.stdout))
	deployment := r.stdout
	// Upstream's other forms: a resource word (or kubectl short name) and names, and
	// several <resource>/<name> pairs.
	if r = lc.run(t, 0, "trace", "deployment", "podinfo", "-n", "apps"); r.stdout != deployment {
		t.Errorf("trace deployment podinfo:\n%s", r.stdout)
	}
	if r = lc.run(t, 0, "trace", "deploy", "podinfo", "-n", "apps"); r.stdout != deployment {
		t.Errorf("trace deploy podinfo:\n%s", r.stdout)
	}
	r = lc.run(t, 0, "trace", "deploy/podinfo", "cm/oci-cm", "-n", "apps")
	wants(t, "stdout", r.stdout, "Object:         Deployment/podinfo", "Object:         ConfigMap/oci-cm")
	r = lc.run(t, 0, "trace", "Kustomization/apps")
	golden.Assert(t, "trace-kustomization", lc.norm.apply(r.stdout))
	r = lc.run(t, 0, "trace", "ConfigMap/oci-cm", "-n", "apps")
	golden.Assert(t, "trace-oci", lc.norm.apply(r.stdout))
	r = lc.run(t, 0, "trace", "apps", "--kind", "Namespace")
	wants(t, "stdout", r.stdout, "Object:         Namespace/apps\nStatus:         Managed by Flux\n---\nKustomization:  root\n")
	r = lc.run(t, 1, "trace", "ConfigMap/kube-root-ca.crt", "-n", "apps")
	wants(t, "stderr", r.stderr, "✗ object ConfigMap/kube-root-ca.crt not managed by Flux")
	r = lc.run(t, 1, "trace", "Gadget/x")
	wants(t, "stderr", r.stderr, `✗ the cluster serves no kind "Gadget"`)
	r = lc.run(t, 1, "trace", "Deployment/nope", "-n", "apps")
	wants(t, "stderr", r.stderr, "✗ Deployment apps/nope not found")
	r = lc.run(t, 1, "trace", "podinfo")
	wants(t, "stderr", r.stderr, "name and kind are required")
}
