package manager_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"gotk.dev/internal/testing/ports"
	"gotk.dev/internal/testing/testenv"
	"gotk.dev/internal/testing/testkind"
	"gotk.dev/pkg/manager"
	"gotk.dev/pkg/options"
	"gotk.dev/pkg/reconcile"
	"gotk.dev/pkg/timeline"
)

// env is the API server shared by the tests of this package; set once by TestMain.
var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env, testenv.Options{}) }

// parseOptions binds the runtime flags and parses args, as a controller's main does.
func parseOptions(t *testing.T, args ...string) *options.Runtime {
	t.Helper()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	var o options.Runtime
	o.BindFlags(fs, 3)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	if err := o.Validate(nil); err != nil {
		t.Fatal(err)
	}
	return &o
}

func httpGet(url string) (int, string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func TestManagerRunsAController(t *testing.T) {
	metricsAddr, healthAddr := ports.FreeAddrT(t), ports.FreeAddrT(t)
	opts := parseOptions(t,
		"--metrics-addr="+metricsAddr,
		"--health-addr="+healthAddr,
		"--watch-label-selector=sharding.fluxcd.io/key=shard1",
		"--requeue-dependency=17s",
		"--interval-jitter-percentage=7",
		"--log-level=error",
	)
	rt, err := manager.New(manager.Setup{
		Name:       "source-controller",
		Scheme:     env.Scheme,
		Options:    opts,
		Watched:    []client.Object{&testkind.TestObject{}},
		RESTConfig: env.Config,
	})
	if err != nil {
		t.Fatal(err)
	}
	if sh := rt.Shared(); sh.RequeueDependency != 17*time.Second || sh.JitterPercent != 7 || sh.Events == nil || sh.Metrics == nil {
		t.Errorf("Shared = %+v", sh)
	}
	co := rt.ControllerOptions()
	if co.MaxConcurrentReconciles != 3 || co.RateLimiter == nil || co.RecoverPanic == nil || !*co.RecoverPanic {
		t.Errorf("ControllerOptions = %+v", co)
	}

	// go test -count=N runs this again in the same process, where controller names must be unique.
	skip := true
	co.SkipNameValidation = &skip

	rec, err := reconcile.New(reconcile.Options[*testkind.TestObject, *testkind.TestObject]{
		Shared:    rt.Shared(),
		Client:    rt.Manager.GetClient(),
		Kind:      testkind.Kind,
		NewObject: func() *testkind.TestObject { return &testkind.TestObject{} },
		Steps: []reconcile.Step[*testkind.TestObject]{{Name: "test", Run: func(context.Context, *testkind.TestObject) (reconcile.Result, error) {
			return reconcile.Done("reconciled by the test controller"), nil
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	err = ctrl.NewControllerManagedBy(rt.Manager).
		For(&testkind.TestObject{}, builder.WithPredicates(reconcile.SpecOrRequestChanged())).
		WithOptions(co).
		Complete(rec)
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- rt.Manager.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-stopped:
			if err != nil {
				t.Errorf("manager stopped with %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("manager did not stop")
		}
	})

	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "mgr-"}}
	if err := env.Client.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	for name, shard := range map[string]string{"in-shard": "shard1", "other-shard": "shard2"} {
		obj := &testkind.TestObject{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns.Name, Labels: map[string]string{"sharding.fluxcd.io/key": shard}},
			Spec:       testkind.TestObjectSpec{URL: "https://git.example.com/" + name, Interval: metav1.Duration{Duration: time.Hour}},
		}
		if err := env.Client.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}

	get := func(name string) *testkind.TestObject {
		obj := &testkind.TestObject{}
		if err := env.Client.Get(ctx, types.NamespacedName{Namespace: ns.Name, Name: name}, obj); err != nil {
			t.Fatal(err)
		}
		return obj
	}
	waitFor(t, 30*time.Second, "in-shard to become Ready", func() bool { return reconcile.IsReady(get("in-shard")) })
	// The other shard's object is outside the cache: never reconciled.
	time.Sleep(500 * time.Millisecond)
	if obj := get("other-shard"); controllerutil.ContainsFinalizer(obj, reconcile.DefaultFinalizer) || len(obj.Status.Conditions) > 0 {
		t.Errorf("object outside --watch-label-selector was reconciled: %+v", obj.Status)
	}

	for _, path := range []string{"/healthz", "/readyz"} {
		code, body, err := httpGet("http://" + healthAddr + path)
		if err != nil || code != http.StatusOK {
			t.Errorf("GET %s: %d %q %v", path, code, body, err)
		}
	}
	series := fmt.Sprintf(`gotk_reconcile_duration_seconds_count{kind="TestObject",name="in-shard",namespace=%q}`, ns.Name)
	var body string
	waitFor(t, 10*time.Second, "the reconcile duration on /metrics", func() bool {
		_, body, _ = httpGet("http://" + metricsAddr + "/metrics")
		return strings.Contains(body, series)
	})
	if !strings.Contains(body, "gotk_suspend_status{") {
		t.Error("gotk_suspend_status missing from /metrics")
	}
	if strings.Contains(body, `name="other-shard"`) {
		t.Error("/metrics has series of an object outside --watch-label-selector")
	}

	// The reconcile is on the timeline: when its request became ready, when a worker took
	// it, its step and its status patch.
	_, body, err = httpGet("http://" + metricsAddr + "/debug/reconciles")
	if err != nil {
		t.Fatal(err)
	}
	var page timeline.Page
	if err := json.Unmarshal([]byte(body), &page); err != nil {
		t.Fatalf("/debug/reconciles: %v: %s", err, body)
	}
	var span *timeline.Span
	for i, s := range page.Spans {
		if s.Name == "in-shard" && s.Namespace == ns.Name && s.Outcome == timeline.Ready {
			span = &page.Spans[i]
		}
	}
	if span == nil {
		t.Fatalf("no Ready span of in-shard on /debug/reconciles: %s", body)
	}
	if span.Kind != testkind.Kind || span.Queued.IsZero() || span.Queued.After(span.Start) || span.End.Before(span.Start) ||
		len(span.Steps) != 1 || span.Steps[0].Name != "test" || span.StatusPatchSeconds <= 0 || span.Generation != 1 {
		t.Errorf("span %+v", span)
	}
}

func TestNewRejectsBadSelector(t *testing.T) {
	opts := parseOptions(t)
	opts.WatchLabelSelector = "a in (b"
	_, err := manager.New(manager.Setup{Name: "c", Scheme: env.Scheme, Options: opts, RESTConfig: env.Config})
	if err == nil || !strings.Contains(err.Error(), "--watch-label-selector") {
		t.Errorf("New = %v, want an error naming --watch-label-selector", err)
	}
}

func TestRESTConfig(t *testing.T) {
	dir := t.TempDir()
	path, err := env.Kubeconfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	opts := parseOptions(t, "--kubeconfig="+path, "--kube-api-qps=20", "--kube-api-burst=40")
	cfg, err := manager.RESTConfig(opts, "kustomize-controller")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.QPS != 20 || cfg.Burst != 40 || cfg.UserAgent != "kustomize-controller" {
		t.Errorf("QPS %v, burst %d, user agent %q", cfg.QPS, cfg.Burst, cfg.UserAgent)
	}
	if strings.TrimSuffix(cfg.Host, "/") != strings.TrimSuffix(env.Config.Host, "/") {
		t.Errorf("host %s, want %s", cfg.Host, env.Config.Host)
	}

	opts = parseOptions(t, "--kubeconfig="+dir+"/missing")
	if _, err := manager.RESTConfig(opts, "x"); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing kubeconfig: %v, want an error naming the file", err)
	}
}

func TestNewLogger(t *testing.T) {
	for _, level := range []string{"trace", "debug", "info", "error"} {
		for _, enc := range []string{"json", "console"} {
			log := manager.NewLogger(&options.Runtime{LogLevel: level, LogEncoding: enc})
			wantDebug := level == "trace" || level == "debug"
			if got := log.V(1).Enabled(); got != wantDebug {
				t.Errorf("%s/%s: V(1) enabled = %t, want %t", level, enc, got, wantDebug)
			}
			if got := log.V(2).Enabled(); got != (level == "trace") {
				t.Errorf("%s/%s: V(2) enabled = %t", level, enc, got)
			}
			if got := log.GetSink().Enabled(0); got != (level != "error") {
				t.Errorf("%s/%s: info enabled = %t", level, enc, got)
			}
		}
	}
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestLeaderElection(t *testing.T) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "lease-"}}
	if err := env.Client.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	// Out of cluster (as in e2e, where controllers run as processes) the lease goes to the
	// runtime namespace.
	t.Setenv("RUNTIME_NAMESPACE", ns.Name)
	opts := parseOptions(t,
		"--enable-leader-election",
		"--leader-election-lease-duration=4s", "--leader-election-renew-deadline=3s", "--leader-election-retry-period=1s",
		"--metrics-addr=0", "--health-addr=0", "--log-level=error",
	)
	rt, err := manager.New(manager.Setup{Name: "kustomize-controller", Scheme: env.Scheme, Options: opts, RESTConfig: env.Config})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- rt.Manager.Start(ctx) }()
	select {
	case <-rt.Manager.Elected():
	case err := <-stopped:
		t.Fatalf("manager stopped before it was elected: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("not elected")
	}
	lease := &coordinationv1.Lease{}
	if err := env.Client.Get(ctx, types.NamespacedName{Namespace: ns.Name, Name: "kustomize-controller-leader-election"}, lease); err != nil {
		t.Fatalf("lease: %v", err)
	}
	if d := lease.Spec.LeaseDurationSeconds; d == nil || *d != 4 {
		t.Errorf("leaseDurationSeconds = %v, want 4", d)
	}
	cancel()
	select {
	case err := <-stopped:
		if err != nil {
			t.Errorf("manager stopped with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("manager did not stop")
	}
	// --leader-election-release-on-cancel: the lease is released for the next leader.
	if err := env.Client.Get(context.Background(), types.NamespacedName{Namespace: ns.Name, Name: "kustomize-controller-leader-election"}, lease); err != nil {
		t.Fatal(err)
	}
	if h := lease.Spec.HolderIdentity; h != nil && *h != "" {
		t.Errorf("lease still held by %q after shutdown", *h)
	}
}

// TestShardsLeadTogether: a primary instance and a shard of one controller, in one namespace
// with leader election on, each take their own lease and both run.
func TestShardsLeadTogether(t *testing.T) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "shards-"}}
	if err := env.Client.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	t.Setenv("RUNTIME_NAMESPACE", ns.Name)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	leases := map[string]bool{}
	for _, selector := range []string{"!sharding.fluxcd.io/key", "sharding.fluxcd.io/key=shard1"} {
		opts := parseOptions(t, "--enable-leader-election", "--watch-label-selector="+selector,
			"--leader-election-lease-duration=4s", "--leader-election-renew-deadline=3s", "--leader-election-retry-period=1s",
			"--metrics-addr=0", "--health-addr=0", "--log-level=error")
		rt, err := manager.New(manager.Setup{Name: "kustomize-controller", Scheme: env.Scheme, Options: opts, RESTConfig: env.Config})
		if err != nil {
			t.Fatal(err)
		}
		stopped := make(chan error, 1)
		go func() { stopped <- rt.Manager.Start(ctx) }()
		select {
		case <-rt.Manager.Elected():
		case err := <-stopped:
			t.Fatalf("%s: manager stopped before it was elected: %v", selector, err)
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: not elected while the other instance leads", selector)
		}
		leases[manager.LeaderElectionID("kustomize-controller", selector)] = true
	}
	if len(leases) != 2 {
		t.Fatalf("lease names %v, want two", leases)
	}
	for name := range leases {
		lease := &coordinationv1.Lease{}
		if err := env.Client.Get(ctx, types.NamespacedName{Namespace: ns.Name, Name: name}, lease); err != nil {
			t.Errorf("lease %s: %v", name, err)
		}
	}
	if got := manager.LeaderElectionID("kustomize-controller", ""); got != "kustomize-controller-leader-election" {
		t.Errorf("unsharded lease %q, want kustomize-controller-leader-election", got)
	}
}

func TestWatchRuntimeNamespaceOnly(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var namespaces []string
	for range 2 {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "watch-"}}
		if err := env.Client.Create(ctx, ns); err != nil {
			t.Fatal(err)
		}
		obj := &testkind.TestObject{
			ObjectMeta: metav1.ObjectMeta{Name: "repo", Namespace: ns.Name},
			Spec:       testkind.TestObjectSpec{URL: "https://git.example.com/repo", Interval: metav1.Duration{Duration: time.Hour}},
		}
		if err := env.Client.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
		namespaces = append(namespaces, ns.Name)
	}
	t.Setenv("RUNTIME_NAMESPACE", namespaces[0])
	opts := parseOptions(t, "--watch-all-namespaces=false", "--metrics-addr=0", "--health-addr=0", "--log-level=error")
	rt, err := manager.New(manager.Setup{Name: "helm-controller", Scheme: env.Scheme, Options: opts, RESTConfig: env.Config})
	if err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- rt.Manager.Start(ctx) }()
	defer func() { cancel(); <-stopped }()
	if !rt.Manager.GetCache().WaitForCacheSync(ctx) {
		t.Fatal("cache did not sync")
	}
	var list testkind.TestObjectList
	if err := rt.Manager.GetClient().List(ctx, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 || list.Items[0].Namespace != namespaces[0] {
		var got []string
		for _, o := range list.Items {
			got = append(got, o.Namespace+"/"+o.Name)
		}
		t.Errorf("cached TestObjects = %v, want only %s/repo", got, namespaces[0])
	}
}

// WatchConfigs scopes the metadata informers of ConfigMaps and Secrets: the labelled
// ConfigMap's metadata is cached, the other never reaches the cache, and no full ConfigMap is
// cached at all.
func TestWatchConfigsCachesOnlyLabelledMetadata(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "byobject-"}}
	if err := env.Client.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	for name, l := range map[string]map[string]string{"watched": {"reconcile.fluxcd.io/watch": "Enabled"}, "other": nil} {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns.Name, Labels: l}}
		if err := env.Client.Create(ctx, cm); err != nil {
			t.Fatal(err)
		}
	}
	opts := parseOptions(t, "--metrics-addr=0", "--health-addr=0", "--log-level=error")
	rt, err := manager.New(manager.Setup{Name: "helm-controller", Scheme: env.Scheme, Options: opts, RESTConfig: env.Config,
		WatchConfigs: labels.SelectorFromSet(labels.Set{"reconcile.fluxcd.io/watch": "Enabled"})})
	if err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- rt.Manager.Start(ctx) }()
	defer func() { cancel(); <-stopped }()
	if !rt.Manager.GetCache().WaitForCacheSync(ctx) {
		t.Fatal("cache did not sync")
	}
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("ConfigMapList"))
	if err := rt.Manager.GetCache().List(ctx, list, client.InNamespace(ns.Name)); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 || list.Items[0].Name != "watched" {
		var got []string
		for _, o := range list.Items {
			got = append(got, o.Name)
		}
		t.Errorf("cached ConfigMaps = %v, want only the labelled one", got)
	}
}
