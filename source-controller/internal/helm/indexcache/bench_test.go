package indexcache

import (
	"context"
	"os"
	"sync"
	"testing"

	"helm.sh/helm/v3/pkg/repo"
	"sigs.k8s.io/yaml"

	"gotk.dev/source-controller/internal/helm/repository"
)

// A large repository: 500 charts x 20 versions (10,000 entries, about 6 MB of JSON).
const benchCharts, benchVersions = 500, 20

// BenchmarkIndexParseStored measures one load of the stored (JSON) index: the work a cache
// miss costs.
func BenchmarkIndexParseStored(b *testing.B) {
	path, _ := writeIndex(b, benchCharts, benchVersions)
	fi, _ := os.Stat(path)
	b.SetBytes(fi.Size())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := repository.LoadIndexFile(path, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIndexParseYAML measures parsing the same index as YAML, the form servers serve
// (what the HelmRepository step pays per fetch).
func BenchmarkIndexParseYAML(b *testing.B) {
	path, _ := writeIndex(b, benchCharts, benchVersions)
	idx, err := repository.LoadIndexFile(path, 0)
	if err != nil {
		b.Fatal(err)
	}
	data, err := yaml.Marshal(idx)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := repository.BuildIndex(data, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIndexCacheHit measures a HelmChart's index lookup once the index is cached.
func BenchmarkIndexCacheHit(b *testing.B) {
	path, rev := writeIndex(b, benchCharts, benchVersions)
	c := New(Options{MaxEntries: 10})
	key := Key{"default/big", rev}
	load := func() (*repo.IndexFile, error) { return repository.LoadIndexFile(path, 0) }
	if _, err := c.Get(context.Background(), key, load); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Get(context.Background(), key, load); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkIndexCacheConcurrentCharts: 1,000 HelmCharts of one repository resolve a chart
// version right after a new index revision appeared; the index must be parsed once per
// iteration, not 1,000 times.
func BenchmarkIndexCacheConcurrentCharts(b *testing.B) {
	path, rev := writeIndex(b, benchCharts, benchVersions)
	load := func() (*repo.IndexFile, error) { return repository.LoadIndexFile(path, 0) }
	var loads uint64
	for b.Loop() {
		c := New(Options{MaxEntries: 10})
		key := Key{"default/big", rev}
		var wg sync.WaitGroup
		for range 1000 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				idx, err := c.Get(context.Background(), key, load)
				if err != nil {
					b.Error(err)
					return
				}
				if _, err := repository.SelectVersion(idx, "chart-0042", "1.x"); err != nil {
					b.Error(err)
				}
			}()
		}
		wg.Wait()
		loads += c.Stats().Loads
	}
	if loads != uint64(b.N) {
		b.Fatalf("%d parses for %d iterations of 1,000 charts, want one per iteration", loads, b.N)
	}
	b.ReportMetric(float64(loads)/float64(b.N), "parses/op")
}
