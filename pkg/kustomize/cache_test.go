package kustomize

import (
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
)

func TestBuilderCache(t *testing.T) {
	root := copyTree(t, "testdata")
	opts := Options{TargetNamespace: "ns", CommonMetadata: &CommonMetadata{Labels: map[string]string{"a": "b"}}}
	b := NewBuilder(4)

	first, err := b.Build("sha256:one", root, "overlay/staging", opts)
	if err != nil {
		t.Fatal(err)
	}
	want := ids(first)
	first[0].SetName("mutated-by-caller")
	first[0].Object["spec"] = nil

	// Same key, path spelled differently, equal options (fresh map): served from the cache,
	// and unaffected by the caller's mutation.
	again, err := b.Build("sha256:one", root, "./overlay/staging", Options{TargetNamespace: "ns", CommonMetadata: &CommonMetadata{Labels: map[string]string{"a": "b"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(again); !reflect.DeepEqual(got, want) {
		t.Fatalf("cached objects = %v, want %v", got, want)
	}
	if again[0].Object["spec"] == nil {
		t.Fatal("cached copy shares state with a previous caller's objects")
	}
	if n := b.builds.Load(); n != 1 {
		t.Fatalf("builds = %d, want 1", n)
	}

	// The key stands for the content: a changed tree under the same key is not rebuilt,
	// under a new key it is.
	if err := os.WriteFile(filepath.Join(root, "overlay/staging/namespace.yaml"),
		[]byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.Build("sha256:one", root, "overlay/staging", opts); !reflect.DeepEqual(ids(got), want) {
		t.Fatalf("same key rebuilt: %v", ids(got))
	}
	changed, err := b.Build("sha256:two", root, "overlay/staging", opts)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(ids(changed), want) {
		t.Fatal("new key served the old build")
	}

	// Different options or path: separate entries.
	if _, err := b.Build("sha256:one", root, "overlay/staging", Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Build("sha256:one", root, "overlay/base", opts); err != nil {
		t.Fatal(err)
	}
	if n := b.builds.Load(); n != 4 {
		t.Fatalf("builds = %d, want 4", n)
	}

	// Failures are not cached.
	for range 2 {
		if _, err := b.Build("sha256:one", root, "does/not/exist", opts); err == nil {
			t.Fatal("missing path built")
		}
	}
	if n := b.builds.Load(); n != 6 {
		t.Fatalf("builds = %d after two failures, want 6", n)
	}
	if b.Len() != 4 {
		t.Fatalf("Len = %d, want 4", b.Len())
	}
}

func TestBuilderEvictsLeastRecentlyUsed(t *testing.T) {
	root := copyTree(t, "testdata")
	b := NewBuilder(2)
	build := func(key string) {
		t.Helper()
		if _, err := b.Build(key, root, "plain/nested", Options{}); err != nil {
			t.Fatal(err)
		}
	}
	build("a")
	build("b")
	build("a") // hit; a becomes most recent
	build("c") // evicts b
	if n := b.builds.Load(); n != 3 {
		t.Fatalf("builds = %d, want 3", n)
	}
	build("a") // still cached
	if n := b.builds.Load(); n != 3 {
		t.Fatalf("a was evicted: builds = %d", n)
	}
	build("b") // rebuilt
	if n := b.builds.Load(); n != 4 {
		t.Fatalf("b was not evicted: builds = %d", n)
	}
	if b.Len() != 2 {
		t.Fatalf("Len = %d, want 2", b.Len())
	}
}

func TestBuilderConcurrentCallersBuildOnce(t *testing.T) {
	for _, max := range []int{8, 0} {
		root := copyTree(t, "testdata")
		b := NewBuilder(max)
		const callers = 16
		var wg sync.WaitGroup
		start := make(chan struct{})
		results := make([][]string, callers)
		firstObj := make([]any, callers)
		for i := range callers {
			wg.Go(func() {
				<-start
				objs, err := b.Build("sha256:same", root, "podinfo", Options{NamePrefix: "p-"})
				if err != nil {
					t.Error(err)
					return
				}
				results[i] = ids(objs)
				firstObj[i] = objs[0]
				objs[0].SetName("mine") // callers own their copies
			})
		}
		close(start)
		wg.Wait()
		if n := b.builds.Load(); n < 1 || (max > 0 && n != 1) {
			t.Fatalf("max=%d: builds = %d, want 1", max, n)
		}
		for i := range callers {
			if !reflect.DeepEqual(results[i], results[0]) {
				t.Fatalf("caller %d got %v, caller 0 got %v", i, results[i], results[0])
			}
			for j := range i {
				if firstObj[i] == firstObj[j] {
					t.Fatalf("callers %d and %d share an object", i, j)
				}
			}
		}
	}
}

func TestBuilderEmptyKeyBypassesCache(t *testing.T) {
	root := copyTree(t, "testdata")
	b := NewBuilder(4)
	for range 2 {
		if _, err := b.Build("", root, "plain", Options{}); err != nil {
			t.Fatal(err)
		}
	}
	if b.Len() != 0 || b.builds.Load() != 0 {
		t.Fatalf("empty key cached: Len=%d builds=%d", b.Len(), b.builds.Load())
	}
}

// TestBuildConcurrent runs unrelated builds in parallel; with -race it checks kustomize's
// process-wide state (OpenAPI schema) is not raced on by concurrent builds.
func TestBuildConcurrent(t *testing.T) {
	root := copyTree(t, "testdata")
	paths := []string{"plain", "overlay/staging", "components/app", "podinfo"}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 4 {
				p := paths[(i+j)%len(paths)]
				if _, err := Build(root, p, Options{TargetNamespace: "n", Components: []string{"../components/monitoring"}, IgnoreMissingComponents: true}); err != nil {
					t.Errorf("%s: %v", p, err)
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkBuild(b *testing.B) {
	root := copyTree(b, "testdata")
	opts := Options{TargetNamespace: "bench", NamePrefix: "x-"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(root, "podinfo", opts); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuilderCached(b *testing.B) {
	root := copyTree(b, "testdata")
	opts := Options{TargetNamespace: "bench", NamePrefix: "x-"}
	builder := NewBuilder(16)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := builder.Build("sha256:podinfo", root, "podinfo", opts); err != nil {
			b.Fatal(err)
		}
	}
}
