package controller_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	"github.com/spf13/pflag"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/examples/summary/api/v1alpha1"
	"gotk.dev/examples/summary/controller"
	"gotk.dev/internal/testing/eventsink"
	"gotk.dev/internal/testing/ports"
	"gotk.dev/internal/testing/testenv"
	"gotk.dev/pkg/artifact"
	"gotk.dev/pkg/manager"
	"gotk.dev/pkg/options"
	"gotk.dev/pkg/reconcile"
)

var env *testenv.Env

func TestMain(m *testing.M) {
	scheme, err := testenv.DefaultScheme()
	if err == nil {
		err = v1alpha1.AddToScheme(scheme)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testenv.Main(m, &env, testenv.Options{Scheme: scheme, CRDDirs: []string{"examples/summary/crd"}})
}

var gitRepositoryGVK = schema.GroupVersionKind{Group: "source.toolkit.fluxcd.io", Version: "v1", Kind: "GitRepository"}

// TestSummaryOfAGitRepository runs the example controller the way its main does, against a
// real API server, with a GitRepository whose artifact an artifact server serves: the
// summary becomes Ready with the artifact's file count, records an event and metrics, and
// follows a new artifact of its source through the watch (its interval is an hour).
func TestSummaryOfAGitRepository(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	storage := startArtifactServer(t, ctx)
	sink := eventsink.New(t)
	metricsAddr := ports.FreeAddrT(t)
	rt := newRuntime(t, "--events-addr="+sink.URL, "--metrics-addr="+metricsAddr)
	cache, err := artifact.NewCache(t.TempDir(), &artifact.Fetcher{Client: &http.Client{Timeout: 10 * time.Second}}, 8)
	if err != nil {
		t.Fatal(err)
	}
	r, err := controller.New(rt, cache, gitRepositoryGVK)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.SetupWithManager(rt); err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- rt.Manager.Start(ctx) }()
	defer func() { cancel(); <-stopped }()

	ns := "summary-" + fmt.Sprint(time.Now().UnixNano())
	if err := env.Client.Create(ctx, &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}}); err != nil {
		t.Fatal(err)
	}
	repo := newGitRepository(t, ctx, ns)
	setArtifact(t, ctx, repo, storeFiles(t, ctx, storage, ns, "main@sha1:1111", 3))

	summary := &v1alpha1.ArtifactSummary{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "podinfo"},
		Spec: v1alpha1.ArtifactSummarySpec{
			SourceRef: v1alpha1.SourceReference{APIVersion: "source.toolkit.fluxcd.io/v1", Kind: "GitRepository", Name: "podinfo"},
			Interval:  metav1.Duration{Duration: time.Hour},
		},
	}
	if err := env.Client.Create(ctx, summary); err != nil {
		t.Fatal(err)
	}
	got := waitForSummary(t, ctx, ns, "main@sha1:1111")
	if got.Status.Files != 3 || got.Status.Bytes != int64(3*len("content of file N\n")) {
		t.Errorf("status = %+v, want 3 files of the artifact", got.Status)
	}
	ready := reconcile.GetCondition(got, meta.ReadyCondition)
	if !strings.Contains(ready.Message, "3 files") || ready.Reason != meta.SucceededReason {
		t.Errorf("Ready = %+v", ready)
	}
	// One event per new revision; a second reconcile that reads the object from the cache
	// before the status write reached it sees the revision as new again and repeats the
	// event (as upstream's controllers would), so two identical ones are accepted.
	evs := sink.Of(v1alpha1.Kind, ns, "podinfo", "Summarized")
	if len(evs) == 0 || len(evs) > 2 {
		t.Errorf("Summarized events = %+v, want one (or its repeat) carrying the revision", evs)
	}
	for _, ev := range evs {
		if eventsink.UpstreamMetadata(ev)["revision"] != "main@sha1:1111" {
			t.Errorf("Summarized event %+v does not carry the revision", ev)
		}
	}

	// A summary of a source that does not exist waits: Ready=False with the step's reason,
	// not Stalled.
	missing := &v1alpha1.ArtifactSummary{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "missing"},
		Spec: v1alpha1.ArtifactSummarySpec{
			SourceRef: v1alpha1.SourceReference{APIVersion: "source.toolkit.fluxcd.io/v1", Kind: "GitRepository", Name: "nope"},
			Interval:  metav1.Duration{Duration: time.Hour},
		},
	}
	if err := env.Client.Create(ctx, missing); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the missing source's condition", func() bool {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(missing), missing); err != nil {
			return false
		}
		ready := reconcile.GetCondition(missing, meta.ReadyCondition)
		return ready != nil && ready.Status == metav1.ConditionFalse && ready.Reason == "SourceNotFound" &&
			!reconcile.IsTrue(missing, meta.StalledCondition)
	})

	// A new artifact of the source wakes the summary through the watch.
	setArtifact(t, ctx, repo, storeFiles(t, ctx, storage, ns, "main@sha1:2222", 5))
	if got := waitForSummary(t, ctx, ns, "main@sha1:2222"); got.Status.Files != 5 {
		t.Errorf("files = %d after the new revision, want 5", got.Status.Files)
	}
	body := httpGet(t, "http://"+metricsAddr+"/metrics")
	for _, series := range []string{
		fmt.Sprintf(`gotk_reconcile_duration_seconds_count{kind="ArtifactSummary",name="podinfo",namespace=%q}`, ns),
		`gotk_reconcile_step_duration_seconds_count{kind="ArtifactSummary",step="fetch"}`,
	} {
		if !strings.Contains(body, series) {
			t.Errorf("/metrics lacks %s", series)
		}
	}
}

// newRuntime builds a manager the way the example's main does, with args added.
func newRuntime(t *testing.T, args ...string) *manager.Runtime {
	t.Helper()
	var o options.Runtime
	fs := pflag.NewFlagSet("summary-controller", pflag.ContinueOnError)
	o.BindFlags(fs, 2)
	if err := fs.Parse(append([]string{"--metrics-addr=0", "--health-addr=0", "--log-level=error"}, args...)); err != nil {
		t.Fatal(err)
	}
	rt, err := manager.New(manager.Setup{Name: "summary-controller-" + strings.ToLower(t.Name()), Options: &o,
		Scheme: env.Scheme, RESTConfig: env.Config, Watched: []client.Object{&v1alpha1.ArtifactSummary{}}})
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

// startArtifactServer serves an artifact storage on 127.0.0.1, standing in for
// source-controller.
func startArtifactServer(t *testing.T, ctx context.Context) *artifact.Storage {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	storage, err := artifact.NewStorage(artifact.StorageOptions{BasePath: t.TempDir(), Hostname: ln.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = storage.ServeListener(ctx, ln) }()
	return storage
}

// storeFiles archives n files as an artifact of GitRepository ns/podinfo.
func storeFiles(t *testing.T, ctx context.Context, storage *artifact.Storage, ns, revision string, n int) *meta.Artifact {
	t.Helper()
	dir := t.TempDir()
	for i := range n {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("file%d.yaml", i)), []byte("content of file N\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a, err := storage.ArchiveDir(ctx, artifact.ObjectRef{Kind: "GitRepository", Namespace: ns, Name: "podinfo"}, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	a.Revision = revision
	return a
}

func newGitRepository(t *testing.T, ctx context.Context, ns string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{Object: map[string]any{
		"spec": map[string]any{"url": "https://git.example.com/podinfo", "interval": "1h"},
	}}
	u.SetGroupVersionKind(gitRepositoryGVK)
	u.SetNamespace(ns)
	u.SetName("podinfo")
	if err := env.Client.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	return u
}

// setArtifact records a as the GitRepository's artifact, as source-controller would.
func setArtifact(t *testing.T, ctx context.Context, repo *unstructured.Unstructured, a *meta.Artifact) {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(a)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(repo), repo); err != nil {
		t.Fatal(err)
	}
	if err := unstructured.SetNestedMap(repo.Object, m, "status", "artifact"); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Status().Update(ctx, repo); err != nil {
		t.Fatal(err)
	}
}

func waitForSummary(t *testing.T, ctx context.Context, ns, revision string) *v1alpha1.ArtifactSummary {
	t.Helper()
	var s v1alpha1.ArtifactSummary
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "podinfo"}, &s); err == nil &&
			reconcile.IsReady(&s) && s.Status.Revision == revision {
			return &s
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("summary not Ready for %s in time: %+v", revision, s.Status)
	return nil
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
