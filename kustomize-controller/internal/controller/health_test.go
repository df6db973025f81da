package controller

import (
	"fmt"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/kustomize"
	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
)

// patchStatus merges status into the live object's status subresource, as the object's
// controller would.
func patchStatus(t *testing.T, apiVersion, kind, ns, name string, status map[string]any) {
	t.Helper()
	eventually(t, 10*time.Second, func() error {
		u := getObj(t, apiVersion, kind, ns, name)
		if u == nil {
			return fmt.Errorf("%s %s/%s not found", kind, ns, name)
		}
		base := u.DeepCopy()
		st, _, _ := unstructured.NestedMap(u.Object, "status")
		if st == nil {
			st = map[string]any{}
		}
		for k, v := range status {
			st[k] = v
		}
		if _, ok := status["observedGeneration"]; !ok {
			st["observedGeneration"] = u.GetGeneration()
		}
		u.Object["status"] = st
		return k8s().Status().Patch(testCtx(t), u, client.MergeFrom(base))
	})
}

// rolledOut is the status the Deployment controller writes once a rollout is done.
func rolledOut() map[string]any {
	return map[string]any{
		"replicas": int64(1), "updatedReplicas": int64(1), "readyReplicas": int64(1), "availableReplicas": int64(1),
		"conditions": []any{
			map[string]any{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "message": "ok", "lastUpdateTime": "2024-01-01T00:00:00Z", "lastTransitionTime": "2024-01-01T00:00:00Z"},
			map[string]any{"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable", "message": "ok", "lastUpdateTime": "2024-01-01T00:00:00Z", "lastTransitionTime": "2024-01-01T00:00:00Z"},
		},
	}
}

// TestWaitDeploymentRollout waits (spec.wait) for a Deployment without holding a worker: the
// Kustomization reports the health checks in progress, and turns Ready as soon as the
// watch sees the rollout finish, long before the 30s recheck.
func TestWaitDeploymentRollout(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	src, a := gitRepo(t, ns, "repo", map[string]string{
		"deploy.yaml": deployYAML,
		"cm.yaml":     cmYAML("cm", nil),
	})
	newKustomization(t, ns, "app", src, "", func(ks *kustomizev1.Kustomization) {
		ks.Spec.Wait = true
		ks.Spec.Timeout = &metav1.Duration{Duration: 2 * time.Minute}
	})
	eventually(t, 30*time.Second, func() error {
		ks := getKS(t, ns, "app")
		ready, rec, healthy := condition(ks, meta.ReadyCondition), condition(ks, meta.ReconcilingCondition), condition(ks, kustomizev1.HealthyCondition)
		if ready == nil || ready.Status != metav1.ConditionUnknown || rec == nil || rec.Status != metav1.ConditionTrue ||
			healthy == nil || healthy.Status != metav1.ConditionUnknown {
			return fmt.Errorf("not waiting on health checks: %s", describe(ks))
		}
		assertContains(t, "Reconciling message", rec.Message, "Deployment/"+ns+"/web")
		if ks.Status.Inventory == nil || len(ks.Status.Inventory.Entries) != 2 {
			return fmt.Errorf("inventory not recorded while waiting: %v", inventoryIDs(ks))
		}
		return nil
	})
	if ks := getKS(t, ns, "app"); ks.Status.LastAppliedRevision != "" {
		t.Errorf("lastAppliedRevision %q set before health checks passed", ks.Status.LastAppliedRevision)
	}
	time.Sleep(500 * time.Millisecond)
	start := time.Now()
	patchStatus(t, "apps/v1", "Deployment", ns, "web", rolledOut())
	ks := waitReady(t, ns, "app", 10*time.Second)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s to notice the rollout", d)
	}
	if c := condition(ks, kustomizev1.HealthyCondition); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("Healthy = %v", c)
	}
	if ks.Status.LastAppliedRevision != a.Revision {
		t.Errorf("lastAppliedRevision %q", ks.Status.LastAppliedRevision)
	}
}

// TestHealthCheckTimeout fails the health checks after spec.timeout, naming the object.
func TestHealthCheckTimeout(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	src, _ := gitRepo(t, ns, "repo", map[string]string{"deploy.yaml": deployYAML})
	start := time.Now()
	newKustomization(t, ns, "app", src, "", func(ks *kustomizev1.Kustomization) {
		ks.Spec.Wait = true
		ks.Spec.Timeout = &metav1.Duration{Duration: 31 * time.Second} // 30s is the minimum
		ks.Spec.RetryInterval = &metav1.Duration{Duration: time.Hour}
	})
	ks := waitReadyReason(t, ns, "app", metav1.ConditionFalse, healthCheckFailedReason, 60*time.Second)
	if d := time.Since(start); d < 31*time.Second || d > 50*time.Second {
		t.Errorf("failed after %s, want about spec.timeout (31s)", d)
	}
	msg := condition(ks, meta.ReadyCondition).Message
	assertContains(t, "message", msg, "timeout waiting for: Deployment/"+ns+"/web", "Replicas")
	if c := condition(ks, kustomizev1.HealthyCondition); c == nil || c.Status != metav1.ConditionFalse {
		t.Errorf("Healthy = %v", c)
	}
}

// TestHealthCheckExprs judges a custom resource with spec.healthCheckExprs: a failed
// verdict fails at once, naming the object and its status message.
func TestHealthCheckExprs(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	src, _ := gitRepo(t, ns, "repo", map[string]string{
		"w.yaml": "apiVersion: test.gotk.dev/v1\nkind: Widget\nmetadata:\n  name: w1\nspec:\n  size: 1\n",
	})
	newKustomization(t, ns, "app", src, "", func(ks *kustomizev1.Kustomization) {
		ks.Spec.Wait = true
		ks.Spec.Timeout = &metav1.Duration{Duration: 2 * time.Minute}
		ks.Spec.HealthCheckExprs = []kustomize.CustomHealthCheck{{
			APIVersion: "test.gotk.dev/v1", Kind: "Widget",
			HealthCheckExpressions: kustomize.HealthCheckExpressions{
				Current: "status.phase == 'Ready'",
				Failed:  "status.phase == 'Failed'",
			},
		}}
	})
	waitReadyReason(t, ns, "app", metav1.ConditionUnknown, meta.ProgressingReason, 30*time.Second)
	patchStatus(t, "test.gotk.dev/v1", "Widget", ns, "w1", map[string]any{
		"phase": "Failed",
		"conditions": []any{map[string]any{"type": "Ready", "status": "False", "reason": "Quota",
			"message": "quota exceeded for widgets", "lastTransitionTime": "2024-01-01T00:00:00Z"}},
	})
	ks := waitReadyReason(t, ns, "app", metav1.ConditionFalse, healthCheckFailedReason, 10*time.Second)
	assertContains(t, "message", condition(ks, meta.ReadyCondition).Message, "Widget/"+ns+"/w1", "quota exceeded for widgets")

	// Fixed in the cluster: the retry (retryInterval 2s) finds it healthy.
	patchStatus(t, "test.gotk.dev/v1", "Widget", ns, "w1", map[string]any{
		"phase":      "Ready",
		"conditions": []any{map[string]any{"type": "Ready", "status": "True", "reason": "Ok", "message": "ok", "lastTransitionTime": "2024-01-01T00:00:00Z"}},
	})
	waitReady(t, ns, "app", 15*time.Second)
}

// TestHealthChecksForeignObject waits on spec.healthChecks naming an object this
// Kustomization does not apply (created by another controller): it too must be noticed
// through a watch, not by the 30s recheck.
func TestHealthChecksForeignObject(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	w := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "test.gotk.dev/v1", "kind": "Widget",
		"metadata": map[string]any{"name": "external", "namespace": ns},
		"spec":     map[string]any{"size": int64(1)},
	}}
	if err := k8s().Create(testCtx(t), w); err != nil {
		t.Fatal(err)
	}
	patchStatus(t, "test.gotk.dev/v1", "Widget", ns, "external", map[string]any{
		"conditions": []any{map[string]any{"type": "Reconciling", "status": "True", "reason": "Working", "message": "working", "lastTransitionTime": "2024-01-01T00:00:00Z"}},
	})
	src, _ := gitRepo(t, ns, "repo", map[string]string{"cm.yaml": cmYAML("cm", nil)})
	newKustomization(t, ns, "app", src, "", func(ks *kustomizev1.Kustomization) {
		ks.Spec.HealthChecks = []meta.NamespacedObjectKindReference{{APIVersion: "test.gotk.dev/v1", Kind: "Widget", Name: "external"}}
		ks.Spec.Timeout = &metav1.Duration{Duration: 2 * time.Minute}
	})
	ks := waitReadyReason(t, ns, "app", metav1.ConditionUnknown, meta.ProgressingReason, 30*time.Second)
	assertContains(t, "message", condition(ks, meta.ReconcilingCondition).Message, "Widget/"+ns+"/external")
	time.Sleep(500 * time.Millisecond)
	start := time.Now()
	patchStatus(t, "test.gotk.dev/v1", "Widget", ns, "external", map[string]any{
		"conditions": []any{map[string]any{"type": "Ready", "status": "True", "reason": "Done", "message": "done", "lastTransitionTime": "2024-01-01T00:00:00Z"}},
	})
	waitReady(t, ns, "app", 15*time.Second)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s to notice the health check pass", d)
	}
}

// TestNewRevisionSupersedesPendingHealth: a revision published while the health checks of
// the previous one are still running is applied and judged on its own objects and
// deadline, and reported as applied.
func TestNewRevisionSupersedesPendingHealth(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	src, a1 := gitRepo(t, ns, "repo", map[string]string{"deploy.yaml": deployYAML})
	newKustomization(t, ns, "app", src, "", func(ks *kustomizev1.Kustomization) {
		ks.Spec.Wait = true
		ks.Spec.Timeout = &metav1.Duration{Duration: 2 * time.Minute}
	})
	eventually(t, 30*time.Second, func() error {
		ks := getKS(t, ns, "app")
		if c := condition(ks, meta.ReconcilingCondition); ks.Status.LastAttemptedRevision != a1.Revision || c == nil || c.Reason != meta.ProgressingReason {
			return fmt.Errorf("not waiting on revision 1: %s", describe(ks))
		}
		return nil
	})
	a2 := publish(t, src, map[string]string{"cm.yaml": cmYAML("cm", nil)}, nil)
	ks := waitApplied(t, ns, "app", a2.Revision, 15*time.Second)
	if c := condition(ks, meta.ReadyCondition); c.Status != metav1.ConditionTrue || c.Message != "Applied revision: "+a2.Revision {
		t.Errorf("Ready = %+v", c)
	}
	if getObj(t, "apps/v1", "Deployment", ns, "web") != nil {
		t.Error("revision 1's Deployment not pruned")
	}
}

// TestWaitNestedKustomization waits on a Kustomization it applies (the Flux health rule):
// the parent turns Ready once the child, reconciled by this controller, is Ready.
func TestWaitNestedKustomization(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	child := `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: child
  namespace: ` + ns + `
spec:
  interval: 1h
  prune: true
  path: ./child
  targetNamespace: ` + ns + `
  sourceRef:
    kind: GitRepository
    name: repo
`
	src, a := gitRepo(t, ns, "repo", map[string]string{
		"parent/child.yaml": child,
		"child/cm.yaml":     cmYAML("from-child", nil),
	})
	newKustomization(t, ns, "parent", src, "./parent", func(ks *kustomizev1.Kustomization) {
		ks.Spec.Wait = true
		ks.Spec.Timeout = &metav1.Duration{Duration: 2 * time.Minute}
	})
	waitReady(t, ns, "child", 30*time.Second)
	start := time.Now()
	ks := waitReady(t, ns, "parent", 15*time.Second)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the parent took %s to notice its child Ready", d)
	}
	if ks.Status.LastAppliedRevision != a.Revision || getCM(t, ns, "from-child") == nil {
		t.Errorf("parent %s, child's ConfigMap %v", describe(ks), getCM(t, ns, "from-child"))
	}
}

// TestHealthOfCustomResourceWithoutStatus: a custom resource that reports no status counts
// as healthy, as kstatus has it, and the Healthy condition says it was assumed; with
// healthCheckExprs for its kind, the expressions decide instead.
func TestHealthOfCustomResourceWithoutStatus(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	src, _ := gitRepo(t, ns, "repo", map[string]string{
		"w.yaml": "apiVersion: test.gotk.dev/v1\nkind: Widget\nmetadata:\n  name: quiet\nspec:\n  size: 1\n",
	})
	newKustomization(t, ns, "assumed", src, "", func(ks *kustomizev1.Kustomization) { ks.Spec.Wait = true })
	ks := waitReady(t, ns, "assumed", 30*time.Second)
	if c := condition(ks, kustomizev1.HealthyCondition); c == nil || c.Status != metav1.ConditionTrue {
		t.Fatalf("Healthy = %v", c)
	}
	assertContains(t, "Healthy message", condition(ks, kustomizev1.HealthyCondition).Message, "assumed current: Widget/"+ns+"/quiet (no status)")

	ns2 := newNamespace(t)
	src2, _ := gitRepo(t, ns2, "repo", map[string]string{
		"w.yaml": "apiVersion: test.gotk.dev/v1\nkind: Widget\nmetadata:\n  name: quiet\nspec:\n  size: 1\n",
	})
	newKustomization(t, ns2, "judged", src2, "", func(ks *kustomizev1.Kustomization) {
		ks.Spec.Wait = true
		ks.Spec.HealthCheckExprs = []kustomize.CustomHealthCheck{{
			APIVersion: "test.gotk.dev/v1", Kind: "Widget",
			HealthCheckExpressions: kustomize.HealthCheckExpressions{Current: "has(status.phase) && status.phase == 'Ready'"},
		}}
	})
	waitReadyReason(t, ns2, "judged", metav1.ConditionUnknown, meta.ProgressingReason, 30*time.Second)
}
