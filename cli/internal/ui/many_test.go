package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"gotk.dev/cli/internal/fluxobj"
)

// manyObjects is the fleet size the issue asks the overview to handle.
const manyObjects = 5000

// kustomizationObject is a Kustomization as the API server would return it, with a Ready
// condition (every tenth failing).
func kustomizationObject(ns string, i int) *unstructured.Unstructured {
	ready := condition("Ready", "True", "ReconciliationSucceeded", "Applied revision: main@sha1:0123456789abcdef0123456789abcdef01234567")
	if i%10 == 0 {
		ready = condition("Ready", "False", "BuildFailed", fmt.Sprintf("kustomize build failed: app-%04d", i))
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
		"metadata": map[string]any{"name": fmt.Sprintf("app-%04d", i), "namespace": ns, "generation": int64(1)},
		"spec":     ksSpec(map[string]any{"path": fmt.Sprintf("./apps/%d", i)}),
		"status": map[string]any{"observedGeneration": int64(1), "conditions": []any{ready},
			"lastAppliedRevision": "main@sha1:0123456789abcdef0123456789abcdef01234567"},
	}}
}

// TestOverviewOfManyObjects pages through 5,000 Flux objects in Chromium: the browser only
// ever gets and renders one page (100 rows), the next pages, the search and the state filter
// are computed by the server. The objects are put into the server's hub directly, as its
// watch would (creating 5,000 objects in an API server takes minutes; BenchmarkOverview does
// that at 1,000 and 5,000 and measures the load time and memory).
func TestOverviewOfManyObjects(t *testing.T) {
	env := lazyEnv.Get(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := New(ctx, Options{Mode: LocalMode, Config: env.Config, LocalToken: RandomToken()})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Hub().WaitSynced(ctx, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	ks, err := fluxobj.LookupKind("", "Kustomization")
	if err != nil {
		t.Fatal(err)
	}
	const ns = "fleet-5000" // no such namespace in the API server: only the hub has them
	for i := range manyObjects {
		srv.Hub().upsert(ks, kustomizationObject(ns, i))
	}
	hs := httptest.NewServer(srv.Handler())
	defer closeServer(hs)

	t.Run("one page is all the server sends", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, hs.URL+"/api/objects?namespace="+ns, nil)
		req.AddCookie(&http.Cookie{Name: localCookie, Value: srv.opts.LocalToken})
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var p Page
		body := readAll(t, res)
		if err := json.Unmarshal([]byte(body), &p); err != nil {
			t.Fatal(err)
		}
		if p.Total != manyObjects || len(p.Items) != defaultLimit {
			t.Errorf("total %d, %d rows; want %d and one page of %d", p.Total, len(p.Items), manyObjects, defaultLimit)
		}
		// One row is about 300 bytes: all 5,000 would be 1.5 MB.
		if len(body) > 64<<10 {
			t.Errorf("a page is %d bytes", len(body))
		}
	})

	b := browser(t)
	rows := `document.querySelectorAll('[data-testid=row]')`
	rangeIs := func(want string) string {
		return `document.querySelector('[data-testid=range]')?.innerText === '` + want + `' && ` + rows + `.length === ` + fmt.Sprint(min(defaultLimit, manyObjects)) + ``
	}
	t.Run("the first page: failures first, 100 rows of 5,000", func(t *testing.T) {
		do(t, b, chromedp.Navigate(hs.URL+"/?namespace="+ns+"&token="+srv.opts.LocalToken))
		waitJS(t, b, "the first page", rangeIs("1–100 of 5000"))
		first, err := chromedp.Run(b, chromedp.Evaluate[string](rows+`[0].dataset.key`))
		if err != nil || first != "Kustomization/"+ns+"/app-0000" {
			t.Errorf("first row %q (%v), want the first failing one", first, err)
		}
		screenshot(t, b, "overview-5000")
	})
	t.Run("next pages come from the server", func(t *testing.T) {
		do(t, b, chromedp.Click(chromedp.CSS(`[data-testid=next]`)))
		waitJS(t, b, "the second page", rangeIs("101–200 of 5000"))
		do(t, b, chromedp.Click(chromedp.CSS(`[data-testid=next]`)))
		waitJS(t, b, "the third page", rangeIs("201–300 of 5000"))
		// Failures first: 500 failing rows, so the third page still lists failures, in name order.
		first, err := chromedp.Run(b, chromedp.Evaluate[string](rows+`[0].dataset.key`))
		if err != nil || first != "Kustomization/"+ns+"/app-2000" {
			t.Errorf("first row of the third page %q (%v)", first, err)
		}
	})
	t.Run("search is done by the server", func(t *testing.T) {
		do(t, b, chromedp.Navigate(hs.URL+"/?namespace="+ns))
		waitJS(t, b, "the first page", rangeIs("1–100 of 5000"))
		do(t, b, chromedp.SendKeys(chromedp.CSS(`[data-testid=search]`), "app-4321"))
		waitJS(t, b, "one match", `document.querySelector('[data-testid=range]')?.innerText === '1–1 of 1' && `+rows+`[0]?.dataset.key === 'Kustomization/`+ns+`/app-4321'`)
		screenshot(t, b, "overview-5000-search")
	})
	t.Run("the state filter is done by the server", func(t *testing.T) {
		do(t, b, chromedp.Navigate(hs.URL+"/?namespace="+ns))
		waitJS(t, b, "the first page", rangeIs("1–100 of 5000"))
		do(t, b, chromedp.Click(chromedp.CSS(`[data-testid=state-Failed]`)))
		waitJS(t, b, "the failures", rangeIs("1–100 of 500"))
		texts, err := chromedp.Run(b, chromedp.Evaluate[[]string](`[...`+rows+`].map(r => r.innerText)`))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range texts {
			if !strings.Contains(r, "kustomize build failed") {
				t.Errorf("a row of the Failed filter: %q", r)
				break
			}
		}
	})
}
