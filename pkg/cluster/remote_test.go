package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	ctrlreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"

	"gotk.dev/internal/testing/ports"
	"gotk.dev/internal/testing/testenv"
	"gotk.dev/pkg/cluster"
	"gotk.dev/pkg/health"
	"gotk.dev/pkg/ssa"
)

// hub is the cluster the controller runs in, spoke another one its objects deploy to: two
// real API servers, started by the first test that needs them.
var hub, spoke testenv.Lazy

func TestMain(m *testing.M) {
	ctrllog.SetLogger(logr.Discard())
	code := m.Run()
	hub.Stop()
	spoke.Stop()
	os.Exit(code)
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// newFactory is a factory of a controller running in the hub.
func newFactory(t *testing.T) *cluster.Factory {
	t.Helper()
	return newFactoryIdle(t, 0)
}

// newFactoryIdle is newFactory dropping remote targets unused for idle.
func newFactoryIdle(t *testing.T, idle time.Duration) *cluster.Factory {
	t.Helper()
	h := hub.Get(t)
	hc, err := rest.HTTPClientFor(h.Config)
	if err != nil {
		t.Fatal(err)
	}
	mapper, err := apiutil.NewDynamicRESTMapper(h.Config, hc)
	if err != nil {
		t.Fatal(err)
	}
	f, err := cluster.NewFactory(cluster.Options{Config: h.Config, Scheme: h.Scheme, Mapper: mapper,
		Owner: ssa.Owner{Field: "kustomize-controller", Group: "kustomize.toolkit.fluxcd.io"}, RemoteIdleTimeout: idle})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// kubeconfigFor renders an admin kubeconfig of cfg's API server at server.
func kubeconfigFor(t *testing.T, cfg *rest.Config, server string) []byte {
	t.Helper()
	kc := clientcmdapi.NewConfig()
	kc.Clusters["spoke"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData}
	kc.Contexts["spoke"] = &clientcmdapi.Context{Cluster: "spoke", AuthInfo: "admin"}
	kc.CurrentContext = "spoke"
	b, err := clientcmd.Write(*kc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// spokeSecret stores a kubeconfig of the spoke (at server; "" for its real address) in a
// Secret of the hub and returns the request of an object naming it.
func spokeSecret(t *testing.T, ns, name, server string) cluster.Request {
	t.Helper()
	s := spoke.Get(t)
	if server == "" {
		server = s.Config.Host
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string][]byte{"value": kubeconfigFor(t, s.Config, server)}}
	if err := hub.Get(t).Client.Create(testCtx(t), secret); err != nil {
		t.Fatal(err)
	}
	return cluster.Request{Namespace: ns, KubeConfig: &meta.KubeConfigReference{SecretRef: &meta.SecretKeyReference{Name: name}}}
}

func configMap(ns, name, value string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("v1")
	u.SetKind("ConfigMap")
	u.SetNamespace(ns)
	u.SetName(name)
	_ = unstructured.SetNestedField(u.Object, value, "data", "value")
	return u
}

// TestRemoteTargetOnePerSpoke: the first reconciles of many objects of one spoke, at once,
// share one target (one client, mapper and applier); another spoke gets its own; a changed
// kubeconfig Secret replaces the target.
func TestRemoteTargetOnePerSpoke(t *testing.T) {
	ctx := testCtx(t)
	f := newFactory(t)
	ns := hub.Get(t).NewNamespace(t, "one-per-spoke")
	reqA := spokeSecret(t, ns, "spoke-a", "")
	reqB := spokeSecret(t, ns, "spoke-b", "")

	targets := make([]*cluster.Target, 50)
	var wg sync.WaitGroup
	for i := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if targets[i], err = f.For(ctx, hub.Get(t).Client, reqA); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for i, tg := range targets {
		if tg != targets[0] {
			t.Fatalf("reconcile %d got its own target of spoke-a: %p, want the shared %p", i, tg, targets[0])
		}
	}
	if !targets[0].Remote || !strings.Contains(targets[0].Name, "spoke-a") {
		t.Errorf("target = remote %v name %q, want a remote target naming spoke-a", targets[0].Remote, targets[0].Name)
	}
	b, err := f.For(ctx, hub.Get(t).Client, reqB)
	if err != nil {
		t.Fatal(err)
	}
	if b == targets[0] || b.ClusterKey() == targets[0].ClusterKey() {
		t.Error("spoke-b shares spoke-a's target")
	}

	var secret corev1.Secret
	if err := hub.Get(t).Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "spoke-a"}, &secret); err != nil {
		t.Fatal(err)
	}
	secret.Labels = map[string]string{"rotated": "yes"}
	if err := hub.Get(t).Client.Update(ctx, &secret); err != nil {
		t.Fatal(err)
	}
	again, err := f.For(ctx, hub.Get(t).Client, reqA)
	if err != nil {
		t.Fatal(err)
	}
	if again == targets[0] || again.ClusterKey() == targets[0].ClusterKey() {
		t.Error("a changed kubeconfig Secret kept the old target")
	}
}

// TestRemoteTargetsDroppedWhenIdle: a spoke nothing deploys to any more is forgotten; one in
// use is kept.
func TestRemoteTargetsDroppedWhenIdle(t *testing.T) {
	ctx := testCtx(t)
	const idle = 300 * time.Millisecond
	f := newFactoryIdle(t, idle)
	ns := hub.Get(t).NewNamespace(t, "idle")
	reqA := spokeSecret(t, ns, "spoke-a", "")
	reqB := spokeSecret(t, ns, "spoke-b", "")
	a, err := f.For(ctx, hub.Get(t).Client, reqA)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.For(ctx, hub.Get(t).Client, reqB); err != nil {
		t.Fatal(err)
	}
	if n := f.RemoteTargets(); n != 2 {
		t.Fatalf("remote targets = %d, want 2", n)
	}
	// spoke-b is used, spoke-a not, for longer than the idle timeout.
	for end := time.Now().Add(2 * idle); time.Now().Before(end); time.Sleep(idle / 4) {
		if _, err := f.For(ctx, hub.Get(t).Client, reqB); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.RemoteTargets(); n != 1 {
		t.Errorf("remote targets after spoke-a idled = %d, want 1 (spoke-b's)", n)
	}
	again, err := f.For(ctx, hub.Get(t).Client, reqA)
	if err != nil {
		t.Fatal(err)
	}
	if again == a {
		t.Error("the idle spoke-a's target was kept")
	}
}

// blackhole listens and never answers: a spoke whose address swallows the connection.
func blackhole(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "https://" + l.Addr().String()
}

// TestUnreachableSpokeBlocksOnlyItself: while an apply to a spoke that never answers hangs,
// an apply to a healthy spoke completes; the hanging one then fails naming its kubeconfig
// Secret, and so does one to a spoke that refuses connections.
func TestUnreachableSpokeBlocksOnlyItself(t *testing.T) {
	ctx := testCtx(t)
	f := newFactory(t)
	ns := hub.Get(t).NewNamespace(t, "unreachable")
	spokeNS := spoke.Get(t).NewNamespace(t, "unreachable")
	closedPort, err := ports.Free()
	if err != nil {
		t.Fatal(err)
	}
	reqHealthy := spokeSecret(t, ns, "healthy", "")
	reqSilent := spokeSecret(t, ns, "silent", blackhole(t))
	reqRefusing := spokeSecret(t, ns, "refusing", fmt.Sprintf("https://127.0.0.1:%d", closedPort))

	apply := func(req cluster.Request, name string) error {
		tg, err := f.For(ctx, hub.Get(t).Client, req)
		if err != nil {
			return err
		}
		_, err = tg.Applier.ApplyAllStaged(ctx, []*unstructured.Unstructured{configMap(spokeNS, name, "v")}, ssa.ApplyOptions{})
		return err
	}
	silentErr := make(chan error, 1)
	go func() { silentErr <- apply(reqSilent, "silent") }()
	if err := apply(reqHealthy, "healthy"); err != nil {
		t.Fatalf("apply to the healthy spoke: %v", err)
	}
	select {
	case err := <-silentErr:
		t.Fatalf("the apply to the silent spoke ended before the healthy one was done: %v", err)
	default:
	}
	if err := <-silentErr; err == nil || !strings.Contains(err.Error(), "kubeconfig secret '"+ns+"/silent'") {
		t.Errorf("silent spoke: error %v, want one naming kubeconfig secret '%s/silent'", err, ns)
	}
	if err := apply(reqRefusing, "refusing"); err == nil || !strings.Contains(err.Error(), "kubeconfig secret '"+ns+"/refusing'") {
		t.Errorf("refusing spoke: error %v, want one naming kubeconfig secret '%s/refusing'", err, ns)
	}
}

// reflectors counts the running client-go reflectors (one per informer) of this process.
func reflectors() int {
	buf := make([]byte, 1<<22)
	n := runtime.Stack(buf, true)
	return strings.Count(string(buf[:n]), "k8s.io/client-go/tools/cache.(*Reflector).Run")
}

// startTracker returns a tracker whose owners are enqueued into the returned queue, as a
// controller would run it.
func startTracker(t *testing.T) (*health.Tracker[string], workqueue.TypedRateLimitingInterface[ctrlreconcile.Request]) {
	t.Helper()
	// Local waits are not exercised here: the manager cache is only needed for them.
	tr := health.NewTracker[string](nil, health.OwnerLabels{Name: "kustomize.toolkit.fluxcd.io/name", Namespace: "kustomize.toolkit.fluxcd.io/namespace"})
	q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[ctrlreconcile.Request]())
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); q.ShutDown() })
	if err := tr.Source().Start(ctx, q); err != nil {
		t.Fatal(err)
	}
	return tr, q
}

// nextRequest returns the next owner enqueued, or fails after timeout.
func nextRequest(t *testing.T, q workqueue.TypedRateLimitingInterface[ctrlreconcile.Request], timeout time.Duration) types.NamespacedName {
	t.Helper()
	got := make(chan ctrlreconcile.Request, 1)
	go func() {
		r, shutdown := q.Get()
		if !shutdown {
			q.Done(r)
			got <- r
		}
	}()
	select {
	case r := <-got:
		return r.NamespacedName
	case <-time.After(timeout):
		t.Fatalf("no owner enqueued within %s", timeout)
		return types.NamespacedName{}
	}
}

func owner(ns, name string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(name + "-uid")}}
}

// TestRemoteHealthIsWatched: a wait on objects of a spoke watches them there: the spoke's
// update wakes the owner (no polling), reads come from the watch, and the watch stops when
// the last owner waiting on the spoke is done.
func TestRemoteHealthIsWatched(t *testing.T) {
	ctx := testCtx(t)
	f := newFactory(t)
	ns := hub.Get(t).NewNamespace(t, "watched")
	spokeNS := spoke.Get(t).NewNamespace(t, "watched")
	target, err := f.For(ctx, hub.Get(t).Client, spokeSecret(t, ns, "spoke", ""))
	if err != nil {
		t.Fatal(err)
	}
	cm := configMap(spokeNS, "app", "v1")
	if err := spoke.Get(t).Client.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	before := reflectors()
	tr, q := startTracker(t)
	ref := health.RefOf(cm)
	own, other := owner(ns, "app"), owner(ns, "other")
	if err := tr.Wait(own, target, []health.Ref{ref}, "p1"); err != nil {
		t.Fatal(err)
	}
	if err := tr.Wait(other, target, []health.Ref{ref}, "p2"); err != nil {
		t.Fatal(err)
	}
	if n := tr.RemoteWatches(); n != 1 {
		t.Fatalf("remote watches = %d, want 1 (one cache per spoke and namespace, shared by its owners)", n)
	}
	// The initial list wakes both owners; after that the cache serves reads.
	woken := map[types.NamespacedName]bool{nextRequest(t, q, 30*time.Second): true, nextRequest(t, q, 30*time.Second): true}
	if !woken[types.NamespacedName{Namespace: ns, Name: "app"}] || !woken[types.NamespacedName{Namespace: ns, Name: "other"}] {
		t.Fatalf("woken by the initial list: %v, want both owners", woken)
	}
	got, err := tr.Get(ctx, target, ref)
	if err != nil || got == nil {
		t.Fatalf("Get = %v, %v", got, err)
	}
	if v, _, _ := unstructured.NestedString(got.Object, "data", "value"); v != "v1" {
		t.Fatalf("Get read value %q, want v1", v)
	}

	tr.Done(other)
	if err := unstructured.SetNestedField(cm.Object, "v2", "data", "value"); err != nil {
		t.Fatal(err)
	}
	if err := spoke.Get(t).Client.Update(ctx, cm); err != nil {
		t.Fatal(err)
	}
	if r := nextRequest(t, q, 30*time.Second); r != (types.NamespacedName{Namespace: ns, Name: "app"}) {
		t.Fatalf("the spoke's update woke %s, want %s/app (the other owner is done)", r, ns)
	}
	if err := waitFor(10*time.Second, func() bool {
		got, err := tr.Get(ctx, target, ref)
		v, _, _ := unstructured.NestedString(got.Object, "data", "value")
		return err == nil && v == "v2"
	}); err != nil {
		t.Fatal("the watch never saw the update:", err)
	}

	tr.Done(own)
	if n := tr.RemoteWatches(); n != 0 {
		t.Errorf("remote watches after the last owner is done = %d, want 0", n)
	}
	if err := waitFor(20*time.Second, func() bool { return reflectors() <= before }); err != nil {
		t.Errorf("the spoke's informer still runs after the last owner is done: %d reflectors, %d before", reflectors(), before)
	}
}

// TestRemoteHealthUnreachableSpoke: waiting on a spoke that never answers returns at once,
// reports its objects as not observed yet, does not hold up a wait on a healthy spoke, and
// leaves nothing running once done.
func TestRemoteHealthUnreachableSpoke(t *testing.T) {
	ctx := testCtx(t)
	f := newFactory(t)
	ns := hub.Get(t).NewNamespace(t, "silent-health")
	spokeNS := spoke.Get(t).NewNamespace(t, "silent-health")
	healthy, err := f.For(ctx, hub.Get(t).Client, spokeSecret(t, ns, "healthy", ""))
	if err != nil {
		t.Fatal(err)
	}
	silent, err := f.For(ctx, hub.Get(t).Client, spokeSecret(t, ns, "silent", blackhole(t)))
	if err != nil {
		t.Fatal(err)
	}
	cm := configMap(spokeNS, "app", "v1")
	if err := spoke.Get(t).Client.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	before := reflectors()
	tr, q := startTracker(t)
	ref := health.RefOf(cm)

	waited := make(chan error, 1)
	go func() { waited <- tr.Wait(owner(ns, "silent-app"), silent, []health.Ref{ref}, "") }()
	if err := tr.Wait(owner(ns, "healthy-app"), healthy, []health.Ref{ref}, ""); err != nil {
		t.Fatal(err)
	}
	if r := nextRequest(t, q, 30*time.Second); r.Name != "healthy-app" {
		t.Fatalf("woken: %s, want the owner waiting on the healthy spoke", r)
	}
	// The silent spoke's owner waits on an object of the same name: the healthy spoke's
	// events are not its own and must not wake it.
	if n := q.Len(); n != 0 {
		t.Errorf("%d more owners woken by the healthy spoke's object, want none", n)
	}
	if err := <-waited; err != nil {
		t.Logf("wait on the silent spoke: %v", err)
	}
	// Until the silent spoke's informer syncs (never), its objects are in progress.
	silentCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	got, err := tr.Get(silentCtx, silent, ref)
	switch {
	case err != nil && !strings.Contains(err.Error(), "kubeconfig secret '"+ns+"/silent'"):
		t.Errorf("reading from the silent spoke: %v, want an error naming kubeconfig secret '%s/silent'", err, ns)
	case err == nil && got.GetGeneration() <= mustObservedGeneration(t, got):
		t.Errorf("an object of the silent spoke reads as observed: %v", got.Object)
	}
	tr.Done(owner(ns, "silent-app"))
	tr.Done(owner(ns, "healthy-app"))
	if n := tr.RemoteWatches(); n != 0 {
		t.Errorf("remote watches after every owner is done = %d, want 0", n)
	}
	if err := waitFor(30*time.Second, func() bool { return reflectors() <= before }); err != nil {
		t.Errorf("informers still run after every owner is done: %d reflectors, %d before", reflectors(), before)
	}
}

func mustObservedGeneration(t *testing.T, u *unstructured.Unstructured) int64 {
	t.Helper()
	g, _, err := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func waitFor(timeout time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("timed out")
}
