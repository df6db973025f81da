package journeys_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/e2e/framework"
	helmv2 "gotk.dev/helm-controller/api/v2"
	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

const hubNS = "hubspoke"

// TestHubAndSpoke is the hub-and-spoke journey: the shared cluster is a hub whose controllers
// deploy a fleet repository (testdata/hubspoke, laid out as flux2-hub-spoke-example) to two
// spoke clusters, staging and production, each its own control plane. For each spoke the hub
// holds a namespace with the spoke's kubeconfig Secret, a Kustomization of its infrastructure
// (with spec.wait: health checked on the spoke) and a HelmRelease of podinfo, both through
// spec.kubeConfig.
//
// Then staging's API goes away (its proxy is cut) while a new revision is pushed: production
// applies it regardless; staging's Kustomization fails with a message and an event on the hub
// naming its kubeconfig Secret; when the API is back staging catches up by itself, without a
// reconcile request. Throughout, the controllers reach each spoke over one long-lived client:
// reconciles do not open new connections.
func TestHubAndSpoke(t *testing.T) {
	t.Parallel()
	env, ctx := journey(t, 5*time.Minute)
	spokes := startSpokes(t, ctx, "staging", "production")
	staging, production := spokes["staging"], spokes["production"]

	for _, ns := range []string{hubNS, "staging", "production"} {
		createNamespace(t, ctx, ns)
	}
	for name, s := range spokes {
		s.kubeconfigSecret(t, ctx, name, "kubeconfig")
	}
	pushPodinfoChart(t, ctx, hubNS, "podinfo-chart")
	files, err := framework.ReadTree("testdata/hubspoke")
	if err != nil {
		t.Fatal(err)
	}
	repo, err := env.CreateGitRepo("hubspoke")
	if err != nil {
		t.Fatal(err)
	}
	first, err := repo.Commit(files, "Hub and two spokes")
	if err != nil {
		t.Fatal(err)
	}
	apply(t, ctx, gitRepository(hubNS, "fleet", repo.HTTPURL))
	hub := kustomization(hubNS, "hub", sourcev1.GitRepositoryKind, "fleet", "./clusters/hub")
	apply(t, ctx, hub)

	infra := map[string]*kustomizev1.Kustomization{}
	for name := range spokes {
		infra[name] = &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "infrastructure"}}
		waitApplied(t, ctx, infra[name], repo.Revision(first), 3*time.Minute)
	}
	for name, s := range spokes {
		hr := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "podinfo"}}
		waitRelease(t, ctx, hr, 1, 3*time.Minute)
		s.waitConfigMap(t, ctx, "platform", "cluster-info", "environment", name, 10*time.Second)
		if err := waitSpokeDeployment(ctx, s, "apps", "podinfo", time.Minute); err != nil {
			t.Errorf("spoke %s: %v", name, err)
		}
	}

	t.Run("objects are on the spokes, not the hub", func(t *testing.T) {
		if _, ok := getConfigMap(t, ctx, "platform", "cluster-info"); ok {
			t.Error("ConfigMap platform/cluster-info is on the hub")
		}
		var releases corev1.SecretList
		if err := production.client.List(ctx, &releases, client.InNamespace("apps"), client.MatchingLabels{"owner": "helm", "name": "podinfo"}); err != nil {
			t.Fatal(err)
		}
		if len(releases.Items) != 1 {
			t.Errorf("production spoke holds %d podinfo release records in apps, want 1 (storageNamespace on the spoke)", len(releases.Items))
		}
		d := spokeDeployment(t, ctx, production, "platform", "edge-proxy")
		if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
			t.Errorf("production edge-proxy replicas = %v, want 2 (production patch)", d.Spec.Replicas)
		}
	})

	t.Run("one client per spoke", func(t *testing.T) {
		before := production.proxy.Connections()
		for range 3 {
			token := requestReconcile(t, ctx, "production", "kustomization/infrastructure")
			waitHandled(t, ctx, infra["production"], token, 30*time.Second)
		}
		opened := production.proxy.Connections() - before
		t.Logf("connections to the production spoke: %d in all, %d opened by 3 reconciles", production.proxy.Connections(), opened)
		// A client per reconcile would open one connection each (TLS, no pooling across
		// clients); a cached client reuses its HTTP/2 connection.
		if opened > 1 {
			t.Errorf("3 reconciles opened %d new connections to the spoke, want at most 1", opened)
		}
	})

	// staging's API goes away while a new revision is pushed.
	next := map[string]string{"infrastructure/base/cluster-info.yaml": strings.Replace(files["infrastructure/base/cluster-info.yaml"], `release: "1"`, `release: "2"`, 1)}
	for name := range spokes {
		path := "clusters/" + name + "/apps.yaml"
		next[path] = strings.Replace(files[path], "message: "+name, "message: "+name+"-release-2", 1)
		if next[path] == files[path] {
			t.Fatalf("%s has no ui.message %s", path, name)
		}
	}
	staging.proxy.Cut()
	t.Cleanup(func() { _ = staging.proxy.Restore() })
	down := time.Now()
	second, err := repo.Commit(next, "Release 2")
	if err != nil {
		t.Fatal(err)
	}
	requestReconcile(t, ctx, hubNS, "gitrepository/fleet")
	waitApplied(t, ctx, infra["production"], repo.Revision(second), time.Minute)
	production.waitConfigMap(t, ctx, "platform", "cluster-info", "release", "2", 10*time.Second)
	releases := map[string]*helmv2.HelmRelease{}
	for name := range spokes {
		releases[name] = &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "podinfo"}}
	}
	waitRelease(t, ctx, releases["production"], 2, time.Minute)
	t.Logf("production applied release 2 %s after staging went down", time.Since(down).Round(time.Millisecond))

	waitFor(t, ctx, infra["staging"], time.Minute, "staging infrastructure to fail naming its spoke", func() (bool, string) {
		ready := condition(infra["staging"], "Ready")
		if ready == nil || ready.Status != metav1.ConditionFalse {
			return false, "Ready is not False"
		}
		if !strings.Contains(ready.Message, "kubeconfig secret 'staging/kubeconfig'") {
			return false, "Ready message does not name the kubeconfig Secret: " + ready.Message
		}
		return true, ""
	})
	t.Logf("staging while down: %s", condition(infra["staging"], "Ready").Message)
	waitFor(t, ctx, releases["staging"], time.Minute, "staging podinfo to fail naming its spoke", func() (bool, string) {
		ready := condition(releases["staging"], "Ready")
		if ready == nil || ready.ObservedGeneration != releases["staging"].Generation || ready.Status != metav1.ConditionFalse {
			return false, "the new generation has not failed"
		}
		if !strings.Contains(ready.Message, "kubeconfig secret 'staging/kubeconfig'") {
			return false, "Ready message does not name the kubeconfig Secret: " + ready.Message
		}
		return true, ""
	})
	t.Logf("staging podinfo while down: %s", condition(releases["staging"], "Ready").Message)
	if ev := hubEvent(t, ctx, "staging", "Kustomization", "infrastructure", "kubeconfig secret 'staging/kubeconfig'"); ev == nil {
		t.Error("no event on the hub for Kustomization staging/infrastructure naming kubeconfig secret 'staging/kubeconfig'")
	}
	if ks := infra["production"]; condition(ks, "Ready").Status != metav1.ConditionTrue {
		mustGet(t, ctx, ks)
		if c := condition(ks, "Ready"); c.Status != metav1.ConditionTrue {
			t.Errorf("production affected by staging's outage: %s", c.Message)
		}
	}

	// Back up: staging catches up on its retry interval, nobody asks.
	if err := staging.proxy.Restore(); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	waitApplied(t, ctx, infra["staging"], repo.Revision(second), time.Minute)
	staging.waitConfigMap(t, ctx, "platform", "cluster-info", "release", "2", 10*time.Second)
	hr := waitRelease(t, ctx, releases["staging"], 2, time.Minute)
	if hr.Status.UpgradeFailures != 0 {
		t.Errorf("the outage spent an upgrade retry of staging's podinfo: %s", describeHR(hr))
	}
	t.Logf("staging recovered %s after its API came back", time.Since(back).Round(time.Millisecond))
}

// hubEvent returns the newest Kubernetes Event in the hub's namespace about kind/name whose
// message contains text, or nil.
func hubEvent(t *testing.T, ctx context.Context, namespace, kind, name, text string) *corev1.Event {
	t.Helper()
	var events corev1.EventList
	if err := suite.env.Client.List(ctx, &events, client.InNamespace(namespace)); err != nil {
		t.Fatal(err)
	}
	var found *corev1.Event
	for i, e := range events.Items {
		if e.InvolvedObject.Kind == kind && e.InvolvedObject.Name == name && strings.Contains(e.Message, text) {
			found = &events.Items[i]
		}
	}
	return found
}

// spokeDeployment reads a Deployment of the spoke and fails the test when it is missing.
func spokeDeployment(t *testing.T, ctx context.Context, s *spoke, namespace, name string) *appsv1.Deployment {
	t.Helper()
	d := &appsv1.Deployment{}
	if err := s.client.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, d); err != nil {
		t.Fatalf("spoke %s: %v", s.name, err)
	}
	return d
}

// waitSpokeDeployment waits until a Deployment of the spoke has all its replicas available
// (the spoke's kwok node runs its pods).
func waitSpokeDeployment(ctx context.Context, s *spoke, namespace, name string, timeout time.Duration) error {
	return framework.Poll(ctx, timeout, "Deployment "+namespace+"/"+name+" on spoke "+s.name+" to be available", func(ctx context.Context) (bool, error, error) {
		d := &appsv1.Deployment{}
		if err := s.client.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, d); err != nil {
			return false, err, nil
		}
		want := int32(1)
		if d.Spec.Replicas != nil {
			want = *d.Spec.Replicas
		}
		if d.Status.AvailableReplicas < want {
			return false, fmt.Errorf("%d of %d replicas available", d.Status.AvailableReplicas, want), nil
		}
		return true, nil, nil
	})
}
