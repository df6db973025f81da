package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv2 "gotk.dev/helm-controller/api/v2"

	"gotk.dev/e2e/framework"
	"gotk.dev/internal/testing/helmrepo"
)

// podinfoChartVersion is the version of internal/testing/helmrepo's podinfo chart; the OCI
// tag must be it (helm-controller checks the tag against the chart's version).
const podinfoChartVersion = "6.14.1"

// helmFleet is podinfo from an OCIRepository, released by helm-controller in namespace charts
// (apps has the Kustomization's podinfo).
const helmFleet = `
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: podinfo-chart, namespace: charts}
spec: {url: %q, insecure: true, interval: 10m, ref: {tag: %s}}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: podinfo, namespace: charts}
spec:
  interval: 10m
  timeout: 2m
  chartRef: {kind: OCIRepository, name: podinfo-chart}
  values: {replicaCount: 2}
`

// applyHelmFleet pushes the podinfo chart and applies helmFleet; helmReleasePages waits for
// the release.
func applyHelmFleet(t *testing.T, env *framework.Env) {
	t.Helper()
	ctx := context.Background()
	if _, err := env.PushArtifact(ctx, "podinfo-chart", podinfoChartVersion, helmrepo.PodinfoDir(), "gotk-ui-test", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Apply(ctx, fmt.Sprintf(helmFleet, env.OCIURL("podinfo-chart"), podinfoChartVersion)); err != nil {
		t.Fatal(err)
	}
}

// helmReleasePages drives the HelmRelease pages with the real helm-controller: the overview
// row, the object page's conditions and release history, the tree of the release's
// inventory, reconcile (requestedAt, and the page follows), suspend and resume.
func helmReleasePages(t *testing.T, env *framework.Env, b context.Context, base string) {
	ctx := context.Background()
	hr := &helmv2.HelmRelease{}
	hr.Name, hr.Namespace = "podinfo", "charts"
	if err := env.WaitReady(ctx, hr, 3*time.Minute); err != nil {
		t.Fatal(err)
	}
	key := "HelmRelease/charts/podinfo"

	t.Run("overview row", func(t *testing.T) {
		do(t, b, chromedp.Navigate(base+"/?kind=HelmRelease"))
		waitJS(t, b, "the HelmRelease row", `[...document.querySelectorAll('[data-testid=row]')].some(r => r.dataset.key === '`+key+`' && r.innerText.includes('Ready'))`)
		screenshot(t, b, "helm-overview")
	})

	t.Run("object page: conditions and history", func(t *testing.T) {
		do(t, b, chromedp.Click(chromedp.CSS(`[data-key="`+key+`"] a`)))
		waitJS(t, b, "the conditions", `(() => { const c = document.querySelector('[data-testid=conditions]')?.innerText || ''; return c.includes('Ready') && c.includes('Released') && c.includes('InstallSucceeded') })()`)
		waitJS(t, b, "the release history", `document.querySelector('[data-testid=history]')?.innerText.includes('`+podinfoChartVersion+`')`)
		history, err := chromedp.Run(b, chromedp.Evaluate[string](`document.querySelector('[data-testid=history]').innerText`))
		if err != nil {
			t.Fatal(err)
		}
		latest := hr.Status.History.Latest()
		if latest == nil || !strings.Contains(history, latest.ChartName) || !strings.Contains(history, latest.Status) {
			t.Errorf("history on the page:\n%s\nwant the latest release %+v", history, latest)
		}
		screenshot(t, b, "helm-object")
	})

	t.Run("the tree matches the release inventory", func(t *testing.T) {
		if hr.Status.Inventory == nil || len(hr.Status.Inventory.Entries) == 0 {
			t.Fatalf("the HelmRelease has no inventory: %+v", hr.Status)
		}
		do(t, b, chromedp.Click(chromedp.CSS(`[data-testid=tab-tree]`)))
		waitJS(t, b, "the pods", `[...document.querySelectorAll('[data-testid=node]')].filter(n => n.dataset.id.startsWith('Pod/charts/podinfo-')).length === 2`)
		ids, err := chromedp.Run(b, chromedp.Evaluate[[]string](`[...document.querySelectorAll('[data-testid=node]')].map(n => n.dataset.id)`))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range hr.Status.Inventory.Entries {
			parts := strings.Split(e.ID, "_") // namespace_name_group_kind
			id := parts[3] + "/" + parts[0] + "/" + parts[1]
			if parts[0] == "" {
				id = parts[3] + "/" + parts[1]
			}
			if !slices.Contains(ids, id) {
				t.Errorf("inventory entry %s not in the tree %v", id, ids)
			}
		}
		screenshot(t, b, "helm-tree")
	})

	t.Run("reconcile, suspend, resume", func(t *testing.T) {
		do(t, b, chromedp.Navigate(base+"/"+key))
		waitJS(t, b, "the reconcile button", `!!document.querySelector('[data-testid=reconcile]')`)
		do(t, b, chromedp.Click(chromedp.CSS(`[data-testid=reconcile]`)))
		waitJS(t, b, "the outcome", `document.querySelector('[data-testid=outcome]')?.innerText.startsWith('Reconciled')`)
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(hr), hr); err != nil {
			t.Fatal(err)
		}
		if requested := hr.GetAnnotations()["reconcile.fluxcd.io/requestedAt"]; requested == "" || hr.Status.LastHandledReconcileAt != requested {
			t.Errorf("the page said reconciled: requestedAt %q, lastHandledReconcileAt %q", requested, hr.Status.LastHandledReconcileAt)
		}

		do(t, b, chromedp.Click(chromedp.CSS(`[data-testid=suspend]`)))
		waitJS(t, b, "the resume button", `!!document.querySelector('[data-testid=resume]')`)
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(hr), hr); err != nil {
			t.Fatal(err)
		}
		if !hr.Spec.Suspend {
			t.Error("the page shows Resume but spec.suspend is not set")
		}
		screenshot(t, b, "helm-suspended")
		do(t, b, chromedp.Click(chromedp.CSS(`[data-testid=resume]`)))
		waitJS(t, b, "the suspend button again", `!!document.querySelector('[data-testid=suspend]')`)
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(hr), hr); err != nil {
			t.Fatal(err)
		}
		if hr.Spec.Suspend {
			t.Error("resumed on the page, spec.suspend still set")
		}
	})
}
