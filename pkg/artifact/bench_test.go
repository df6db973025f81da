package artifact

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkArchiveDir packs a 200-manifest tree (one GitRepository reconcile's work).
func BenchmarkArchiveDir(b *testing.B) {
	files := map[string]string{}
	for i := range 200 {
		files[fmt.Sprintf("apps/app-%03d/deploy.yaml", i)] = strings.Repeat(fmt.Sprintf("# app %d\nkind: Deployment\n", i), 50)
	}
	src := srcDir(b, files)
	s := newTestStorage(b, StorageOptions{})
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := s.ArchiveDir(context.Background(), testRef("bench-"+strconv.Itoa(i%100)), src, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyShared verifies 1000 objects that share one blob, as a restarted source
// controller does for the benchmark's 1000 identical OCIRepositories.
func BenchmarkVerifyShared(b *testing.B) {
	base := b.TempDir()
	w := newTestStorage(b, StorageOptions{BasePath: base})
	src := srcDir(b, map[string]string{"a.yaml": strings.Repeat("kind: ConfigMap\n", 10000)})
	var arts []*metaArtifact
	for i := range 1000 {
		a, err := w.ArchiveDir(context.Background(), testRef("o"+strconv.Itoa(i)), src, nil)
		if err != nil {
			b.Fatal(err)
		}
		arts = append(arts, a)
	}
	s := newTestStorage(b, StorageOptions{BasePath: base})
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if err := s.Verify(arts[i%len(arts)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(s.hashes.Load()), "hashes")
}
