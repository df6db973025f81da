package journeys_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	helmv2 "gotk.dev/helm-controller/api/v2"
	"gotk.dev/internal/testing/helmrepo"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// podinfoChartVersion is the version of the shared podinfo chart fixture; the OCI tag of
// its artifact must be it (the controller checks the tag against the chart's version).
const podinfoChartVersion = "6.14.1"

// pushPodinfoChart pushes the shared podinfo chart to the registry as repository repo and
// returns an OCIRepository in namespace following it.
func pushPodinfoChart(t *testing.T, ctx context.Context, namespace, repo string) *sourcev1.OCIRepository {
	t.Helper()
	podinfo := helmrepo.PodinfoDir()
	if _, err := suite.env.PushArtifact(ctx, repo, podinfoChartVersion, podinfo, "gotk-e2e", ""); err != nil {
		t.Fatal(err)
	}
	src := &sourcev1.OCIRepository{
		ObjectMeta: metav1.ObjectMeta{Name: repo, Namespace: namespace},
		Spec: sourcev1.OCIRepositorySpec{
			URL: suite.env.OCIURL(repo), Insecure: true,
			Reference: &sourcev1.OCIRepositoryRef{Tag: podinfoChartVersion},
			Interval:  metav1.Duration{Duration: longInterval},
		},
	}
	apply(t, ctx, src)
	return src
}

// helmRelease is a HelmRelease of the chart of OCIRepository source with values (YAML).
func helmRelease(t *testing.T, namespace, name, source, values string) *helmv2.HelmRelease {
	t.Helper()
	raw, err := yaml.YAMLToJSON([]byte(values))
	if err != nil {
		t.Fatal(err)
	}
	return &helmv2.HelmRelease{
		TypeMeta:   metav1.TypeMeta{APIVersion: helmv2.GroupVersion.String(), Kind: helmv2.HelmReleaseKind},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: helmv2.HelmReleaseSpec{
			Interval: metav1.Duration{Duration: longInterval},
			Timeout:  &metav1.Duration{Duration: 2 * time.Minute},
			ChartRef: &helmv2.CrossNamespaceSourceReference{Kind: sourcev1.OCIRepositoryKind, Name: source},
			Values:   &apiextensionsv1.JSON{Raw: raw},
		},
	}
}

// waitRelease waits until the HelmRelease is Ready with a release of version at least min
// in its history, and returns it.
func waitRelease(t *testing.T, ctx context.Context, hr *helmv2.HelmRelease, min int, timeout time.Duration) *helmv2.HelmRelease {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		mustGet(t, ctx, hr)
		ready := apimeta.FindStatusCondition(hr.Status.Conditions, meta.ReadyCondition)
		if cur := hr.Status.History.Latest(); ready != nil && ready.Status == metav1.ConditionTrue &&
			hr.Status.ObservedGeneration == hr.Generation && cur != nil && cur.Version >= min {
			return hr
		}
		if time.Now().After(deadline) {
			t.Fatalf("HelmRelease %s/%s not ready with release v%d after %s: %s", hr.Namespace, hr.Name, min, timeout, describeHR(hr))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func describeHR(hr *helmv2.HelmRelease) string {
	s := fmt.Sprintf("failures %d/%d/%d;", hr.Status.Failures, hr.Status.InstallFailures, hr.Status.UpgradeFailures)
	for _, c := range hr.Status.Conditions {
		s += fmt.Sprintf(" %s=%s (%s: %s);", c.Type, c.Status, c.Reason, c.Message)
	}
	for _, h := range hr.Status.History {
		s += fmt.Sprintf(" [%s %s]", h.FullReleaseName(), h.Status)
	}
	return s
}

// deployment reads a Deployment and fails the test when it is missing.
func deployment(t *testing.T, ctx context.Context, namespace, name string) *appsv1.Deployment {
	t.Helper()
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	mustGet(t, ctx, d)
	return d
}

// TestHelmRelease is the HelmRelease journey: podinfo from an OCIRepository is installed,
// its health checked until its Deployment is available (pods run on the kwok node), upgraded
// with new values, and uninstalled when the HelmRelease is deleted.
func TestHelmRelease(t *testing.T) {
	t.Parallel()
	env, ctx := journey(t, 4*time.Minute)
	ns := "helm-journey"
	createNamespace(t, ctx, ns)
	pushPodinfoChart(t, ctx, ns, "podinfo-chart")
	hr := helmRelease(t, ns, "podinfo", "podinfo-chart", "replicaCount: 2")
	apply(t, ctx, hr)
	hr = waitRelease(t, ctx, hr, 1, 2*time.Minute)
	if err := env.WaitDeploymentAvailable(ctx, ns, "podinfo", time.Minute); err != nil {
		t.Fatal(err)
	}
	if c := apimeta.FindStatusCondition(hr.Status.Conditions, helmv2.ReleasedCondition); c == nil || c.Reason != helmv2.InstallSucceededReason {
		t.Errorf("Released = %+v", c)
	}

	hr.Spec.Values.Raw = []byte(`{"replicaCount":3}`)
	hr.ManagedFields = nil
	apply(t, ctx, hr)
	hr = waitRelease(t, ctx, hr, 2, 2*time.Minute)
	if d := deployment(t, ctx, ns, "podinfo"); *d.Spec.Replicas != 3 || d.Status.AvailableReplicas != 3 {
		t.Errorf("after the upgrade: replicas %d, available %d", *d.Spec.Replicas, d.Status.AvailableReplicas)
	}

	if err := env.Client.Delete(ctx, hr); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		if gone, err := notFound(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "podinfo"}}); err == nil && gone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the uninstall left the Deployment behind")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestHelmControllerCrash is the SIGKILL journey of helm-controller: it is killed while an
// upgrade is in flight (the release is pending-upgrade in the storage, waiting for a
// pre-upgrade hook Job) and restarted. The restarted controller unlocks the release (the
// pending record becomes failed, event PendingRelease) and upgrades it again: the
// HelmRelease converges, never stuck on "another operation is in progress".
//
// It kills a controller every journey shares, so it does not run in parallel.
func TestHelmControllerCrash(t *testing.T) {
	env, ctx := journey(t, 5*time.Minute)
	hc, err := env.Controller("helm-controller")
	if err != nil {
		t.Fatal(err)
	}
	ns := "helm-crash"
	createNamespace(t, ctx, ns)
	pushPodinfoChart(t, ctx, ns, "crash-chart")
	// The pre-upgrade hook keeps the release pending while its Job runs; recreated before
	// each attempt (the killed attempt's Job may be left behind).
	values := func(replicas int) string {
		return fmt.Sprintf("replicaCount: %d\nhooks:\n  preUpgrade:\n    job:\n      enabled: true\n      hookDeletePolicy: before-hook-creation\n", replicas)
	}
	hr := helmRelease(t, ns, "crash", "crash-chart", values(1))
	apply(t, ctx, hr)
	hr = waitRelease(t, ctx, hr, 1, 2*time.Minute)

	// Watch the release storage before asking for the upgrade.
	wc, err := client.NewWithWatch(env.Config, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	w, err := wc.Watch(ctx, &corev1.SecretList{}, client.InNamespace(ns), client.MatchingLabels{"owner": "helm", "name": "crash", "status": "pending-upgrade"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	hr.Spec.Values.Raw = mustJSON(t, values(2))
	hr.ManagedFields = nil
	apply(t, ctx, hr)
	select {
	case <-w.ResultChan():
	case <-time.After(2 * time.Minute):
		t.Fatalf("the upgrade never went pending: %s", describeHR(hr))
	}
	hc.Kill()
	killed := time.Now()
	var pending corev1.SecretList
	if err := env.Client.List(ctx, &pending, client.InNamespace(ns), client.MatchingLabels{"owner": "helm", "name": "crash", "status": "pending-upgrade"}); err != nil {
		t.Fatal(err)
	}
	if len(pending.Items) != 1 {
		t.Fatalf("%d pending-upgrade records at the kill, want 1: the kill did not interrupt the upgrade", len(pending.Items))
	}
	if err := hc.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	hr = waitRelease(t, ctx, hr, 3, 3*time.Minute)
	t.Logf("converged %s after the kill: %s", time.Since(killed).Round(time.Millisecond), describeHR(hr))
	if d := deployment(t, ctx, ns, "crash-podinfo"); *d.Spec.Replicas != 2 {
		t.Errorf("replicas = %d after converging, want 2", *d.Spec.Replicas)
	}
	var failed corev1.SecretList
	if err := env.Client.List(ctx, &failed, client.InNamespace(ns), client.MatchingLabels{"owner": "helm", "name": "crash", "version": "2"}); err != nil {
		t.Fatal(err)
	}
	if len(failed.Items) != 1 || failed.Items[0].Labels["status"] != "failed" {
		t.Errorf("the interrupted release v2 was not unlocked (marked failed): %v", failed.Items)
	}
	var events corev1.EventList
	if err := env.Client.List(ctx, &events, client.InNamespace(ns), client.MatchingFields{"reason": "PendingRelease"}); err != nil {
		t.Fatal(err)
	}
	if len(events.Items) == 0 {
		t.Error("no PendingRelease event for the unlock")
	}
	if hr.Status.UpgradeFailures != 0 {
		t.Errorf("the unlock spent an upgrade retry: %s", describeHR(hr))
	}
}

func mustJSON(t *testing.T, y string) []byte {
	t.Helper()
	b, err := yaml.YAMLToJSON([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
