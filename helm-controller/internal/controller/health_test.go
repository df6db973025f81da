package controller

import (
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	helmrelease "helm.sh/helm/v3/pkg/release"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v2 "gotk.dev/helm-controller/api/v2"
)

// unavailable keeps the released Deployments from becoming available (the stand-in
// deployment controller leaves them alone).
func unavailable(hr *v2.HelmRelease) {
	hr.Spec.CommonMetadata = &v2.CommonMetadata{Annotations: map[string]string{unavailableAnnotation: "true"}}
}

// TestHealthVerification: after an install the HelmRelease is in progress, holding no
// worker, until its Deployment is available; a watch on the Deployment wakes it. Tests run
// only once the release is ready.
func TestHealthVerification(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	helmChartSource(t, ns, "widgets", chartOf(t, "widgets"))
	newHR(t, ns, "app", "widgets", unavailable, withTests(false))
	hr := waitFor(t, ns, "app", 60*time.Second, "health check in progress", func(hr *v2.HelmRelease) bool {
		c := condition(hr, meta.ReconcilingCondition)
		return c != nil && c.Reason == meta.ProgressingReason
	})
	assertContains(t, "Reconciling message", condition(hr, meta.ReconcilingCondition).Message,
		"Running health checks for release "+ns+"/app.v1", "Deployment/"+ns+"/app")
	if c := condition(hr, v2.ReleasedCondition); c == nil || c.Status != metav1.ConditionUnknown {
		t.Errorf("Released while waiting = %+v", c)
	}
	if c := condition(hr, meta.ReadyCondition); c == nil || c.Status != metav1.ConditionUnknown {
		t.Errorf("Ready while waiting = %+v", c)
	}
	if hr.Status.History.Latest().HasBeenTested() {
		t.Error("tests ran before the release was ready")
	}

	// The deployment controller rolls it out: the watch wakes the HelmRelease.
	rollOut(t, ns, "app")
	hr = waitReady(t, ns, "app", 30*time.Second)
	if c := condition(hr, meta.ReadyCondition); c.Reason != v2.TestSucceededReason {
		t.Errorf("Ready = %+v", c)
	}
	if c := condition(hr, v2.ReleasedCondition); c.Status != metav1.ConditionTrue || c.Reason != v2.InstallSucceededReason {
		t.Errorf("Released = %+v", c)
	}
}

// rollOut marks a Deployment rolled out, as the deployment controller would.
func rollOut(t *testing.T, ns, name string) {
	t.Helper()
	eventually(t, 10*time.Second, func() error {
		var d appsv1.Deployment
		if err := k8s().Get(testCtx(t), client.ObjectKey{Namespace: ns, Name: name}, &d); err != nil {
			return err
		}
		r := *d.Spec.Replicas
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: r, UpdatedReplicas: r, ReadyReplicas: r, AvailableReplicas: r,
			Conditions: []appsv1.DeploymentCondition{
				{Type: appsv1.DeploymentAvailable, Status: "True", Reason: "MinimumReplicasAvailable"},
				{Type: appsv1.DeploymentProgressing, Status: "True", Reason: "NewReplicaSetAvailable"},
			}}
		return k8s().Status().Update(testCtx(t), &d)
	})
}

// TestHealthTimeout: objects that do not become ready within the action's timeout fail the
// release as Helm's wait would: the release is marked failed in the storage and remediated
// (here: uninstalled, then retried, then stalled).
func TestHealthTimeout(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	helmChartSource(t, ns, "widgets", chartOf(t, "widgets"))
	newHR(t, ns, "app", "widgets", unavailable, func(hr *v2.HelmRelease) {
		hr.Spec.Timeout = &metav1.Duration{Duration: 3 * time.Second}
		hr.Spec.Install.Remediation = &v2.InstallRemediation{Retries: 1}
	})
	hr := stalled(t, ns, "app", v2.RetriesExceededReason)
	c := condition(hr, meta.ReadyCondition)
	if c.Reason != v2.InstallFailedReason {
		t.Fatalf("Ready = %+v, want InstallFailed", c)
	}
	assertContains(t, "Ready message", c.Message, "Helm install failed for release "+ns+"/app", "timeout waiting for", "Deployment/"+ns+"/app")
	if rls := latestRelease(t, ns, "app"); rls == nil || rls.Info.Status != helmrelease.StatusFailed {
		t.Errorf("release not marked failed in the storage: %v", rls)
	}
	waitEvent(t, ns, "app", v2.UninstallSucceededReason)
	if hr.Status.InstallFailures != 2 {
		t.Errorf("install failures = %d, want 2", hr.Status.InstallFailures)
	}
}

// TestDisableWait: with waiting disabled the release is Ready without its objects being
// ready.
func TestDisableWait(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	helmChartSource(t, ns, "widgets", chartOf(t, "widgets"))
	newHR(t, ns, "app", "widgets", unavailable, noWait)
	hr := waitReady(t, ns, "app", 60*time.Second)
	if c := condition(hr, meta.ReadyCondition); c.Reason != v2.InstallSucceededReason {
		t.Errorf("Ready = %+v", c)
	}
}
