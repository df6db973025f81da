package registry

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/errgroup"

	imagev1 "gotk.dev/image-reflector-controller/api/v1"
	"gotk.dev/internal/testing/registry"
)

// BenchmarkScan10kTags scans a distribution registry repository holding 10,000 tags (ten
// pages of 1,000). Besides time and allocations it reports the live heap right after a scan,
// with the result still referenced (result-heap-MB).
func BenchmarkScan10kTags(b *testing.B) {
	reg := startRegistry(b, registry.Options{})
	const n = 10_000
	first := pushTags(b, reg.Host(), "bench/app", nil, "seed")
	tagAll(b, reg.Host()+"/bench/app", first.String(), n)

	c := newClient(b, Options{})
	img := mustParse(b, reg.Host()+"/bench/app")
	ctx := testContext(b)
	b.ReportAllocs()
	var res *ScanResult
	for b.Loop() {
		var err error
		if res, err = c.Scan(ctx, img, ScanOptions{ExclusionList: imagev1.DefaultExclusionList}); err != nil {
			b.Fatal(err)
		}
	}
	if len(res.Tags) != n+1 || res.Pages != 11 {
		b.Fatalf("scan found %d tags in %d pages", len(res.Tags), res.Pages)
	}
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	b.ReportMetric(float64(m.HeapInuse)/(1<<20), "result-heap-MB")
	runtime.KeepAlive(res)
}

// tagAll points n new tags at an existing manifest: one manifest PUT per tag, eight at once.
func tagAll(b *testing.B, repo, digest string, n int) {
	b.Helper()
	ctx := testContext(b)
	src, err := name.NewDigest(repo + "@" + digest)
	if err != nil {
		b.Fatal(err)
	}
	desc, err := remote.Get(src, remote.WithContext(ctx))
	if err != nil {
		b.Fatal(err)
	}
	pusher, err := remote.NewPusher()
	if err != nil {
		b.Fatal(err)
	}
	var g errgroup.Group
	g.SetLimit(8)
	for i := range n {
		g.Go(func() error {
			ref, err := name.NewTag(fmt.Sprintf("%s:1.%d.%d", repo, i/100, i%100))
			if err != nil {
				return err
			}
			return pusher.Push(ctx, ref, desc)
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
}
