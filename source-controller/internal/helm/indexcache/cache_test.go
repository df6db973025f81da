package indexcache

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/repo"

	"gotk.dev/source-controller/internal/helm/repository"
)

// writeIndex stores a normalised index of charts x versions entries (as the HelmRepository
// step stores it) and returns its path and revision.
func writeIndex(tb testing.TB, charts, versions int) (path, revision string) {
	tb.Helper()
	idx := repo.NewIndexFile()
	for c := range charts {
		for v := range versions {
			md := &chart.Metadata{
				APIVersion:  chart.APIVersionV2,
				Name:        fmt.Sprintf("chart-%04d", c),
				Version:     fmt.Sprintf("1.%d.0", v),
				AppVersion:  fmt.Sprintf("%d.0", v),
				Description: "A chart in a large test repository, with a description of realistic length.",
				Home:        "https://example.com/charts",
				Keywords:    []string{"test", "benchmark"},
				Maintainers: []*chart.Maintainer{{Name: "gotk", Email: "gotk@example.com"}},
			}
			if err := idx.MustAdd(md, fmt.Sprintf("%s-%s.tgz", md.Name, md.Version), "https://example.com/charts",
				"sha256:0000000000000000000000000000000000000000000000000000000000000000"); err != nil {
				tb.Fatal(err)
			}
		}
	}
	data, rev, err := repository.NormalizeIndex(idx)
	if err != nil {
		tb.Fatal(err)
	}
	path = filepath.Join(tb.TempDir(), "index.yaml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return path, rev
}

// TestSingleFlight: 1,000 HelmCharts asking at once for the index of one revision parse it once
// and all get the same parsed index.
func TestSingleFlight(t *testing.T) {
	path, rev := writeIndex(t, 200, 10)
	c := New(Options{MaxEntries: 10})
	key := Key{Repository: "default/podinfo", Revision: rev}
	var parses atomic.Int64
	load := func() (*repo.IndexFile, error) {
		parses.Add(1)
		return repository.LoadIndexFile(path, 0)
	}

	const n = 1000
	results := make([]*repo.IndexFile, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i], errs[i] = c.Get(context.Background(), key, load)
		}()
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if results[i] != results[0] {
			t.Fatalf("caller %d got a different index than caller 0", i)
		}
	}
	if got := parses.Load(); got != 1 {
		t.Fatalf("index parsed %d times, want 1", got)
	}
	st := c.Stats()
	if st.Loads != 1 || st.Hits+st.Misses != n || st.Entries != 1 {
		t.Fatalf("stats = %+v, want 1 load, %d lookups, 1 entry", st, n)
	}
	if len(results[0].Entries) != 200 {
		t.Fatalf("index has %d charts, want 200", len(results[0].Entries))
	}

	// Later callers hit without loading.
	if _, err := c.Get(context.Background(), key, load); err != nil || parses.Load() != 1 {
		t.Fatalf("later Get: err %v, parses %d", err, parses.Load())
	}
}

func TestNewRevisionReplacesOld(t *testing.T) {
	c := New(Options{MaxEntries: 10})
	var loads []string
	get := func(repoName, rev string) *repo.IndexFile {
		t.Helper()
		idx, err := c.Get(context.Background(), Key{repoName, rev}, func() (*repo.IndexFile, error) {
			loads = append(loads, repoName+"@"+rev)
			return repo.NewIndexFile(), nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return idx
	}
	a1 := get("ns/a", "sha256:1")
	get("ns/b", "sha256:1")
	a2 := get("ns/a", "sha256:2")
	if a1 == a2 {
		t.Fatal("a new revision returned the old index")
	}
	if st := c.Stats(); st.Entries != 2 || st.Evictions != 1 {
		t.Fatalf("stats = %+v, want 2 entries (one per repository) and the old revision evicted", st)
	}
	get("ns/b", "sha256:1") // still cached
	if fmt.Sprint(loads) != "[ns/a@sha256:1 ns/b@sha256:1 ns/a@sha256:2]" {
		t.Fatalf("loads = %v", loads)
	}
}

func TestLRUEviction(t *testing.T) {
	var events []Event
	c := New(Options{MaxEntries: 2, OnEvent: func(e Event) { events = append(events, e) }})
	load := func() (*repo.IndexFile, error) { return repo.NewIndexFile(), nil }
	ctx := context.Background()
	for _, r := range []string{"a", "b", "a", "c"} { // "b" is least recently used when "c" arrives
		if _, err := c.Get(ctx, Key{r, "x"}, load); err != nil {
			t.Fatal(err)
		}
	}
	st := c.Stats()
	if st.Entries != 2 || st.Evictions != 1 || st.Loads != 3 || st.Hits != 1 {
		t.Fatalf("stats = %+v", st)
	}
	var evicted []Key
	for _, e := range events {
		if e.Type == EventEvict {
			evicted = append(evicted, e.Key)
		}
	}
	if len(evicted) != 1 || evicted[0] != (Key{"b", "x"}) {
		t.Fatalf("evicted %v, want b", evicted)
	}
}

func TestTTLAndPurge(t *testing.T) {
	now := time.Unix(1000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	c := New(Options{MaxEntries: 5, TTL: time.Minute, PurgeInterval: 5 * time.Millisecond, Now: clock})
	loads := 0
	load := func() (*repo.IndexFile, error) { loads++; return repo.NewIndexFile(), nil }
	ctx := context.Background()
	key := Key{"ns/a", "r"}

	c.Get(ctx, key, load)
	advance(50 * time.Second)
	c.Get(ctx, key, load) // a hit refreshes the TTL
	advance(50 * time.Second)
	if _, err := c.Get(ctx, key, load); err != nil || loads != 1 {
		t.Fatalf("loads = %d after hits within the refreshed TTL, want 1", loads)
	}
	advance(61 * time.Second)
	c.Get(ctx, key, load) // expired: loads again
	if loads != 2 {
		t.Fatalf("loads = %d after expiry, want 2", loads)
	}

	advance(2 * time.Minute)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- c.Start(runCtx) }()
	deadline := time.Now().Add(5 * time.Second)
	for c.Stats().Entries != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the purge loop did not drop the expired entry")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.Expirations != 1 {
		t.Fatalf("stats = %+v, want 1 expiration", st)
	}
}

func TestDisabledCacheStillCoalesces(t *testing.T) {
	c := New(Options{MaxEntries: 0})
	release := make(chan struct{})
	var loads atomic.Int64
	load := func() (*repo.IndexFile, error) {
		loads.Add(1)
		<-release
		return repo.NewIndexFile(), nil
	}
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Get(context.Background(), Key{"a", "r"}, load); err != nil {
				t.Error(err)
			}
		}()
	}
	// Let the goroutines join the flight before it finishes.
	for c.Stats().Misses < 50 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if loads.Load() != 1 {
		t.Fatalf("loads = %d, want 1", loads.Load())
	}
	if c.Stats().Entries != 0 {
		t.Fatal("a disabled cache stored an entry")
	}
	c.Get(context.Background(), Key{"a", "r"}, load)
	if loads.Load() != 2 {
		t.Fatalf("a disabled cache served a later call without loading")
	}
}

func TestErrorsAreNotCached(t *testing.T) {
	c := New(Options{MaxEntries: 5})
	boom := errors.New("boom")
	calls := 0
	_, err := c.Get(context.Background(), Key{"a", "r"}, func() (*repo.IndexFile, error) { calls++; return nil, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if _, err := c.Get(context.Background(), Key{"a", "r"}, func() (*repo.IndexFile, error) { calls++; return repo.NewIndexFile(), nil }); err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Fatalf("calls = %d, want the failed load retried", calls)
	}
}

func TestWaiterContextCancelled(t *testing.T) {
	c := New(Options{MaxEntries: 5})
	release := make(chan struct{})
	defer close(release)
	go c.Get(context.Background(), Key{"a", "r"}, func() (*repo.IndexFile, error) { <-release; return repo.NewIndexFile(), nil })
	for c.Stats().Loads == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := c.Get(ctx, Key{"a", "r"}, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the waiter's deadline", err)
	}
}

func TestDelete(t *testing.T) {
	c := New(Options{MaxEntries: 5})
	c.Set(Key{"ns/a", "r"}, repo.NewIndexFile())
	c.Delete("ns/a")
	if c.Stats().Entries != 0 {
		t.Fatal("Delete left the entry")
	}
}

func TestFlags(t *testing.T) {
	var o Options
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	o.BindFlags(fs)
	if err := fs.Parse([]string{"--helm-cache-max-size=10", "--helm-cache-ttl=1h"}); err != nil {
		t.Fatal(err)
	}
	if o.MaxEntries != 10 || o.TTL != time.Hour || o.PurgeInterval != time.Minute {
		t.Fatalf("options = %+v", o)
	}
}
