package ui

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gotk.dev/internal/testing/testenv"
)

// benchObjects is how many Kustomizations the benchmarks list (the 1,000).
const benchObjects = 1000

var benchFleet struct {
	once sync.Once
	ns   string
}

// manyKustomizations creates benchObjects Kustomizations with statuses (one in ten failing)
// once per run.
func manyKustomizations(b *testing.B, env *testenv.Env) string {
	benchFleet.once.Do(func() {
		benchFleet.ns = env.NewNamespace(b, "ui-bench")
		var wg sync.WaitGroup
		work := make(chan int)
		for range 16 {
			wg.Go(func() {
				for i := range work {
					ready := condition("Ready", "True", "ReconciliationSucceeded", "Applied revision: main@sha1:0123456789abcdef0123456789abcdef01234567")
					if i%10 == 0 {
						ready = condition("Ready", "False", "BuildFailed", fmt.Sprintf("kustomize build failed: app-%d", i))
					}
					flux(b, env, "kustomize.toolkit.fluxcd.io/v1", "Kustomization", benchFleet.ns, fmt.Sprintf("app-%04d", i),
						ksSpec(map[string]any{"path": fmt.Sprintf("./apps/%d", i)}),
						map[string]any{"conditions": []any{ready}, "lastAppliedRevision": "main@sha1:0123456789abcdef0123456789abcdef01234567"})
				}
			})
		}
		for i := range benchObjects {
			work <- i
		}
		close(work)
		wg.Wait()
	})
	return benchFleet.ns
}

// BenchmarkOverview measures the server with 1,000 Flux objects: the time to list them all
// into the hub (one watch per kind) and the heap the hub holds per object, then the time to
// answer one overview page (100 rows, failures first) per op.
func BenchmarkOverview(b *testing.B) {
	env := lazyEnv.Get(b)
	ns := manyKustomizations(b, env)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	srv, err := New(ctx, Options{Mode: LocalMode, Config: env.Config, LocalToken: "t"})
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Hub().WaitSynced(ctx, time.Minute); err != nil {
		b.Fatal(err)
	}
	synced := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	n := srv.Hub().Len()
	if n < benchObjects {
		b.Fatalf("hub holds %d objects", n)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	req, _ := http.NewRequest(http.MethodGet, hs.URL+"/api/objects?namespace="+ns, nil)
	req.AddCookie(&http.Cookie{Name: localCookie, Value: "t"})
	b.ResetTimer()
	for b.Loop() {
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != http.StatusOK {
			b.Fatalf("%v %v", err, res)
		}
		res.Body.Close()
	}
	b.ReportMetric(float64(synced.Milliseconds()), "ms-to-list")
	b.ReportMetric(float64(after.HeapAlloc-min(before.HeapAlloc, after.HeapAlloc))/float64(n), "hub-heap-B/object")
}

// BenchmarkBrowserPageLoad measures, in Chromium, the load of the overview of 1,000 Flux
// objects: from navigation to the first page of rows on screen.
func BenchmarkBrowserPageLoad(b *testing.B) {
	env := lazyEnv.Get(b)
	ns := manyKustomizations(b, env)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := New(ctx, Options{Mode: LocalMode, Config: env.Config, LocalToken: "t"})
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Hub().WaitSynced(ctx, time.Minute); err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer closeServer(hs)
	actx, acancel := chromedp.NewExecAllocator(ctx, chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-dev-shm-usage", true))
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	if err := chromedp.Do(bctx, chromedp.Navigate(hs.URL+"/?token=t")); err != nil {
		b.Fatal(err)
	}
	url := hs.URL + "/?namespace=" + ns
	b.ResetTimer()
	for b.Loop() {
		if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
			b.Fatal(err)
		}
		if err := chromedp.Do(bctx, chromedp.Navigate(url)); err != nil {
			b.Fatal(err)
		}
		if _, err := chromedp.Run(bctx, chromedp.Poll[chromedp.Void](`document.querySelectorAll('[data-testid=row]').length === 100`,
			chromedp.WithPollingTimeout(time.Minute), chromedp.WithPollingInterval(5*time.Millisecond))); err != nil {
			b.Fatal(err)
		}
	}
}
