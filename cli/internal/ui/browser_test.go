package ui

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"

	"gotk.dev/e2e/framework"
	"gotk.dev/internal/testing/workspace"
)

// chromiumPath is Debian's chromium, which `make test-deps` installs.
const chromiumPath = "/usr/bin/chromium"

// browser starts a headless Chromium for the test.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("%s not found: run `make test-deps` (apt-get install chromium)", chromiumPath)
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1400, 1000))
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancel = context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// screenshot writes the page to bin/ui-screenshots/<name>.png (git-ignored) for reviewers.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	root, err := workspace.Root()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "bin", "ui-screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitJS waits for a JavaScript expression to be truthy.
func waitJS(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(90*time.Second), chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		body, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("document.body.innerText"))
		t.Fatalf("waiting for %s: %v\npage:\n%s", what, err, body)
	}
}

func do(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	for _, a := range actions {
		if err := chromedp.Do(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
}

const browserFleet = `apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: apps}
data: {color: blue}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: podinfo, namespace: apps}
spec:
  replicas: 2
  selector: {matchLabels: {app: podinfo}}
  template:
    metadata: {labels: {app: podinfo}}
    spec:
      containers: [{name: podinfo, image: ghcr.io/stefanprodan/podinfo:6.0.0}]
`

// TestBrowser drives Chromium through the UI against a local cluster with the real
// source-, kustomize- and helm-controller: the overview, a failing Kustomization's message,
// reconcile (requestedAt changes, the page follows), the resource tree against the
// inventory, the diff of a drifted object, the HelmRelease pages (browser_helm_test.go), and
// an action refused by RBAC.
func TestBrowser(t *testing.T) {
	opts, err := framework.OptionsFromEnv(nil)
	if err != nil {
		t.Fatal(err)
	}
	opts.Namespaces = []string{"apps", "charts"}
	env := framework.Setup(t, opts.WithControllers("source-controller", "kustomize-controller", "helm-controller"))
	ctx := context.Background()
	repo, err := env.CreateGitRepo("fleet")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Commit(map[string]string{"apps/all.yaml": browserFleet}, "fleet"); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Apply(ctx, fmt.Sprintf(`
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: fleet, namespace: flux-system}
spec: {url: %q, interval: 10m, ref: {branch: main}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec: {interval: 10m, path: ./apps, prune: true, sourceRef: {kind: GitRepository, name: fleet}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: broken, namespace: flux-system}
spec: {interval: 10m, retryInterval: 1h, path: ./does-not-exist, prune: true, sourceRef: {kind: GitRepository, name: fleet}, dependsOn: [{name: apps}]}
`, repo.HTTPURL)); err != nil {
		t.Fatal(err)
	}
	applyHelmFleet(t, env)
	apps := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Name: "apps", Namespace: "flux-system"}}
	if err := env.WaitReady(ctx, apps, 2*time.Minute); err != nil {
		t.Fatal(err)
	}

	srvCtx, stop := context.WithCancel(ctx)
	defer stop()
	local, err := New(srvCtx, Options{Mode: LocalMode, Config: env.Config, LocalToken: RandomToken()})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(local.Handler())
	defer closeServer(hs)
	b := browser(t)

	t.Run("overview lists the fleet, failures first", func(t *testing.T) {
		// The namespace of the Kustomizations (the HelmRelease is in charts).
		do(t, b, chromedp.Navigate(hs.URL+"/?namespace=flux-system&token="+local.opts.LocalToken))
		waitJS(t, b, "the broken Kustomization to fail", `(() => { const r = document.querySelector('[data-testid=row]'); return r && r.dataset.key === 'Kustomization/flux-system/broken' && r.innerText.includes('not found') })()`)
		keys, err := chromedp.Run(b, chromedp.Evaluate[[]string](`[...document.querySelectorAll('[data-testid=row]')].map(r => r.dataset.key)`))
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"Kustomization/flux-system/broken", "GitRepository/flux-system/fleet", "Kustomization/flux-system/apps"}
		if strings.Join(keys, " ") != strings.Join(want, " ") {
			t.Errorf("rows %v, want %v", keys, want)
		}
		screenshot(t, b, "overview")
	})

	t.Run("a failing Kustomization shows its message", func(t *testing.T) {
		do(t, b, chromedp.Click(chromedp.CSS(`[data-key="Kustomization/flux-system/broken"] a`)))
		waitJS(t, b, "the object page", `document.querySelector('[data-testid=message]')?.innerText.includes('does-not-exist')`)
		screenshot(t, b, "object-failing")
	})

	t.Run("reconcile changes requestedAt and the page follows", func(t *testing.T) {
		do(t, b, chromedp.Navigate(hs.URL+"/Kustomization/flux-system/apps"))
		waitJS(t, b, "the reconcile button", `!!document.querySelector('[data-testid=reconcile]')`)
		before := annotation(t, env, apps)
		do(t, b, chromedp.Click(chromedp.CSS(`[data-testid=reconcile]`)))
		waitJS(t, b, "the outcome", `document.querySelector('[data-testid=outcome]')?.innerText.startsWith('Reconciled')`)
		after := annotation(t, env, apps)
		if after == "" || after == before {
			t.Errorf("requestedAt %q → %q", before, after)
		}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(apps), apps); err != nil {
			t.Fatal(err)
		}
		if apps.Status.LastHandledReconcileAt != after {
			t.Errorf("the page said reconciled, lastHandledReconcileAt %q, requestedAt %q", apps.Status.LastHandledReconcileAt, after)
		}
		screenshot(t, b, "object-reconciled")
	})

	t.Run("the tree matches the inventory", func(t *testing.T) {
		do(t, b, chromedp.Click(chromedp.CSS(`[data-testid=tab-tree]`)))
		waitJS(t, b, "the pods", `[...document.querySelectorAll('[data-testid=node]')].filter(n => n.dataset.id.startsWith('Pod/')).length === 2`)
		ids, err := chromedp.Run(b, chromedp.Evaluate[[]string](`[...document.querySelectorAll('[data-testid=node]')].map(n => n.dataset.id)`))
		if err != nil {
			t.Fatal(err)
		}
		shown := strings.Join(ids, "\n")
		for _, e := range apps.Status.Inventory.Entries {
			parts := strings.Split(e.ID, "_") // namespace_name_group_kind
			id := parts[3] + "/" + parts[0] + "/" + parts[1]
			if parts[0] == "" {
				id = parts[3] + "/" + parts[1]
			}
			if !strings.Contains(shown, id) {
				t.Errorf("inventory entry %s not in the tree:\n%s", id, shown)
			}
		}
		if !strings.Contains(shown, "ReplicaSet/apps/podinfo-") {
			t.Errorf("no ReplicaSet under the Deployment:\n%s", shown)
		}
		screenshot(t, b, "tree")
	})

	t.Run("the diff shows drift side by side", func(t *testing.T) {
		cm := &unstructured.Unstructured{}
		cm.SetAPIVersion("v1")
		cm.SetKind("ConfigMap")
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "apps", Name: "settings"}, cm); err != nil {
			t.Fatal(err)
		}
		_ = unstructured.SetNestedField(cm.Object, "red", "data", "color")
		if err := env.Client.Update(ctx, cm); err != nil {
			t.Fatal(err)
		}
		do(t, b, chromedp.Click(chromedp.CSS(`[data-testid=tab-diff]`)))
		waitJS(t, b, "the drifted ConfigMap", `[...document.querySelectorAll('[data-testid=diff-entry]')].some(e => e.dataset.action === 'drifted' && e.innerText.includes('ConfigMap/apps/settings') && e.querySelectorAll('.cm-editor').length === 2)`)
		screenshot(t, b, "diff")
	})

	t.Run("HelmRelease pages", func(t *testing.T) { helmReleasePages(t, env, b, hs.URL) })

	t.Run("an action RBAC refuses is refused", func(t *testing.T) {
		cluster, err := New(srvCtx, Options{Mode: ClusterMode, Config: env.Config})
		if err != nil {
			t.Fatal(err)
		}
		cs := httptest.NewServer(cluster.Handler())
		defer closeServer(cs)
		token := viewerToken(t, env.Client, env.Config, "flux-system", "ui-reader", false)
		do(t, b, chromedp.Navigate(cs.URL+"/Kustomization/flux-system/apps"),
			chromedp.WaitVisible(chromedp.CSS(`textarea[name=token]`)),
			chromedp.SetValue(chromedp.CSS(`textarea[name=token]`), token),
			chromedp.SendKeys(chromedp.CSS(`textarea[name=token]`), " "),
			chromedp.Click(chromedp.CSS(`button[type=submit]`)))
		waitJS(t, b, "the object page as the reader", `!!document.querySelector('[data-testid=reconcile]')`)
		before := annotation(t, env, apps)
		do(t, b, chromedp.Click(chromedp.CSS(`[data-testid=reconcile]`)))
		waitJS(t, b, "the refusal", `document.querySelector('[data-testid=outcome]')?.innerText.startsWith('Refused')`)
		if after := annotation(t, env, apps); after != before {
			t.Errorf("a refused reconcile changed requestedAt %q → %q", before, after)
		}
		screenshot(t, b, "refused")
	})
}

func annotation(t *testing.T, env *framework.Env, ks *kustomizev1.Kustomization) string {
	t.Helper()
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(ks), ks); err != nil {
		t.Fatal(err)
	}
	return ks.GetAnnotations()["reconcile.fluxcd.io/requestedAt"]
}

// closeServer ends the browser's open streams first: Close waits for every connection.
func closeServer(s *httptest.Server) {
	s.CloseClientConnections()
	s.Close()
}
