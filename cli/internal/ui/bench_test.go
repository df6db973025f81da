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

// benchSizes are the fleet sizes measured: the 1,000, and 5,000.
var benchSizes = []int{1000, 5000}

// benchFleet is one namespace of Kustomizations, grown to each size in turn.
var benchFleet struct {
	ns string
	n  int
}

// growFleet creates Kustomizations with statuses (one in ten failing) until the fleet has n.
func growFleet(b *testing.B, env *testenv.Env, n int) string {
	if benchFleet.ns == "" {
		benchFleet.ns = env.NewNamespace(b, "ui-bench")
	}
	var wg sync.WaitGroup
	work := make(chan int)
	for range 16 {
		wg.Go(func() {
			for i := range work {
				k := kustomizationObject(benchFleet.ns, i)
				status := k.Object["status"].(map[string]any)
				delete(status, "observedGeneration")
				flux(b, env, "kustomize.toolkit.fluxcd.io/v1", "Kustomization", benchFleet.ns, k.GetName(), k.Object["spec"].(map[string]any), status)
			}
		})
	}
	for i := benchFleet.n; i < n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	benchFleet.n = n
	return benchFleet.ns
}

// BenchmarkOverview measures the UI with 1,000 and then 5,000 Flux objects in a real API
// server. server: the time to list them all into the hub (one watch per kind), the heap the
// hub holds (total and per object), then per op the answer of one overview page (100 rows,
// failures first). browser: per op, Chromium's load of the overview, from navigation to the
// first page of rows on screen.
func BenchmarkOverview(b *testing.B) {
	env := lazyEnv.Get(b)
	for _, n := range benchSizes {
		ns := growFleet(b, env, n)
		b.Run(fmt.Sprintf("objects=%d/server", n), func(b *testing.B) { benchServer(b, env, ns, n) })
		b.Run(fmt.Sprintf("objects=%d/browser", n), func(b *testing.B) { benchBrowser(b, env, ns) })
	}
}

func benchServer(b *testing.B, env *testenv.Env, ns string, n int) {
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
	if err := srv.Hub().WaitSynced(ctx, 5*time.Minute); err != nil {
		b.Fatal(err)
	}
	synced := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	held := srv.Hub().Len()
	if held < n {
		b.Fatalf("hub holds %d objects, want at least %d", held, n)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	req, _ := http.NewRequest(http.MethodGet, hs.URL+"/api/objects?namespace="+ns, nil)
	req.AddCookie(&http.Cookie{Name: localCookie, Value: "t"})
	for b.Loop() {
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != http.StatusOK {
			b.Fatalf("%v %v", err, res)
		}
		res.Body.Close()
	}
	heap := float64(after.HeapAlloc - min(before.HeapAlloc, after.HeapAlloc))
	b.ReportMetric(float64(synced.Milliseconds()), "ms-to-list")
	b.ReportMetric(heap/(1<<20), "hub-heap-MiB")
	b.ReportMetric(heap/float64(held), "hub-heap-B/object")
}

func benchBrowser(b *testing.B, env *testenv.Env, ns string) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := New(ctx, Options{Mode: LocalMode, Config: env.Config, LocalToken: "t"})
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Hub().WaitSynced(ctx, 5*time.Minute); err != nil {
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
	for b.Loop() {
		b.StopTimer()
		if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := chromedp.Do(bctx, chromedp.Navigate(url)); err != nil {
			b.Fatal(err)
		}
		if _, err := chromedp.Run(bctx, chromedp.Poll[chromedp.Void](`document.querySelectorAll('[data-testid=row]').length === 100`,
			chromedp.WithPollingTimeout(time.Minute), chromedp.WithPollingInterval(5*time.Millisecond))); err != nil {
			b.Fatal(err)
		}
	}
}
