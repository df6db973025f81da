package tagstore

import (
	"iter"
	"path/filepath"
	"runtime"
	"testing"
)

// BenchmarkSetTags100k stores the tags of a repository with 100,000 tags (one transaction).
func BenchmarkSetTags100k(b *testing.B) {
	tags := manyTags(100_000)
	s := openStore(b, filepath.Join(b.TempDir(), "tags.db"))
	b.ReportAllocs()
	for b.Loop() {
		if err := s.SetTags("bench/app", tags, "sha256:bench"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkView100k streams 100,000 stored tags the way a policy evaluates them. It reports
// the Go heap the pass adds (view-extra-heap-KB, measured with runtime.MemStats half-way
// through) against the size the tag list would take as a []string (tags-as-slice-KB).
func BenchmarkView100k(b *testing.B) {
	path := filepath.Join(b.TempDir(), "tags.db")
	listBytes := func() int {
		s := openStore(b, path)
		tags := manyTags(100_000)
		if err := s.SetTags("bench/app", tags, "sha256:bench"); err != nil {
			b.Fatal(err)
		}
		n := 0
		for _, t := range tags {
			n += len(t) + 16 // bytes + string header
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		return n
	}()
	s := openStore(b, path) // a fresh process: nothing of the tags is on the heap
	b.ReportAllocs()
	var extra uint64
	for b.Loop() {
		before := heapInUse()
		var longest string
		err := s.View("bench/app", func(all iter.Seq[string]) error {
			n := 0
			for tag := range all {
				if len(tag) > len(longest) {
					longest = tag
				}
				if n++; n == 50_000 {
					if h := heapInUse(); h > before {
						extra = max(extra, h-before)
					}
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(listBytes)/1024, "tags-as-slice-KB")
	b.ReportMetric(float64(extra)/1024, "view-extra-heap-KB")
}

// heapInUse is the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}
