package controller

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	"gotk.dev/pkg/timeline"
)

// TestHealthObservedAfterTheApplyReconcile: an upgrade changes the applied Deployment; its
// controller (here the test, as kube-controller-manager would) observes it moments after the
// apply. The reconcile that applied ends Deferred, without a status patch and without
// holding its worker, and the observation wakes the Kustomization to Ready: no Progressing
// status in between. (The first apply writes Progressing: the new inventory must be stored
// before anything waits.) A Deployment whose rollout is still under way once observed is
// not deferred for (TestWaitDeploymentRollout).
func TestHealthObservedAfterTheApplyReconcile(t *testing.T) {
	t.Parallel()
	// The "Deployment controller": marks the Deployment observed and available (0 replicas)
	// half a second after each generation appears.
	testUpgradeInOneApply(t, "replicas: 0", func(t *testing.T, ns string, generation int64) {
		time.Sleep(500 * time.Millisecond)
		st := rolledOut()
		for _, k := range []string{"replicas", "updatedReplicas", "readyReplicas", "availableReplicas"} {
			delete(st, k) // 0 replicas: the Deployment controller leaves them out
		}
		patchStatus(t, "apps/v1", "Deployment", ns, "web", st)
	})
}

// TestHealthSettledAfterTwoStatusWrites: kube-controller-manager writes a Deployment's status
// twice per rollout: observed, with the new ReplicaSet progressing, then NewReplicaSetAvailable.
// The deferred wait ends on the second write, the one that makes the Deployment Current: the
// upgrade costs the apply and one status write, with no Progressing reconcile woken by the
// first.
func TestHealthSettledAfterTwoStatusWrites(t *testing.T) {
	t.Parallel()
	testUpgradeInOneApply(t, "replicas: 1", func(t *testing.T, ns string, generation int64) {
		time.Sleep(time.Second)
		patchStatus(t, "apps/v1", "Deployment", ns, "web", map[string]any{
			"replicas": int64(1), "updatedReplicas": int64(0), "readyReplicas": int64(1), "availableReplicas": int64(1),
			"conditions": []any{
				map[string]any{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "message": "ok", "lastUpdateTime": "2024-01-01T00:00:00Z", "lastTransitionTime": "2024-01-01T00:00:00Z"},
				map[string]any{"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated", "message": "progressing", "lastUpdateTime": "2024-01-01T00:00:00Z", "lastTransitionTime": "2024-01-01T00:00:00Z"},
			},
		})
		time.Sleep(time.Second)
		patchStatus(t, "apps/v1", "Deployment", ns, "web", rolledOut())
	})
}

// testUpgradeInOneApply installs a Kustomization of one Deployment (with replicas), upgrades
// it, and checks that the upgrade took one deferred apply and then Ready, with no
// Progressing reconcile; controller plays the Deployment controller once each generation
// is applied.
func testUpgradeInOneApply(t *testing.T, replicas string, controller func(t *testing.T, ns string, generation int64)) {
	ns := newNamespace(t)
	deploy := strings.Replace(deployYAML, "replicas: 1", replicas, 1)
	deploy = strings.Replace(deploy, "        app: web\n    spec:", "        app: web\n      annotations:\n        version: \"${VERSION}\"\n    spec:", 1)
	src, _ := gitRepo(t, ns, "repo", map[string]string{"deploy.yaml": deploy})
	observe := func(generation int64) {
		eventually(t, 30*time.Second, func() error {
			if d := getObj(t, "apps/v1", "Deployment", ns, "web"); d == nil || d.GetGeneration() < generation {
				return fmt.Errorf("generation %d not applied yet", generation)
			}
			return nil
		})
		controller(t, ns, generation)
	}
	go observe(1)
	ks := newKustomization(t, ns, "app", src, "", func(ks *kustomizev1.Kustomization) {
		ks.Spec.Wait = true
		ks.Spec.Timeout = &metav1.Duration{Duration: time.Minute}
		ks.Spec.PostBuild = &kustomizev1.PostBuild{Substitute: map[string]string{"VERSION": "v1"}}
	})
	waitReadyReason(t, ns, "app", metav1.ConditionTrue, meta.ReconciliationSucceededReason, 30*time.Second)

	// The upgrade.
	observed := make(chan struct{})
	go func() { defer close(observed); observe(2) }()
	eventually(t, 10*time.Second, func() error {
		live := &kustomizev1.Kustomization{}
		if err := k8s().Get(testCtx(t), client.ObjectKeyFromObject(ks), live); err != nil {
			return err
		}
		base := live.DeepCopy()
		live.Spec.PostBuild.Substitute["VERSION"] = "v2"
		return k8s().Patch(testCtx(t), live, client.MergeFrom(base))
	})
	<-observed
	var spans []timeline.Span
	eventually(t, 30*time.Second, func() error {
		spans = nil
		for _, s := range suiteEnv.rt.Timeline.Since(0).Spans {
			if s.Kind == kustomizev1.KustomizationKind && s.Namespace == ns && s.Name == "app" && s.Generation == 2 {
				spans = append(spans, s)
			}
		}
		if len(spans) == 0 || spans[len(spans)-1].Outcome != timeline.Ready {
			return fmt.Errorf("generation 2 not Ready yet: %d spans", len(spans))
		}
		return nil
	})
	deferred := 0
	for _, s := range spans {
		switch s.Outcome {
		case timeline.Progressing:
			t.Errorf("a reconcile ended Progressing although the Deployment settled within %v: %+v", observationWait, s)
		case timeline.Deferred:
			deferred++
			if s.StatusPatchSeconds != 0 {
				t.Errorf("a deferred reconcile patched the status: %+v", s)
			}
		}
	}
	if deferred != 1 {
		t.Errorf("%d deferred reconciles, want the apply's: %+v", deferred, spans)
	}
	if d := getObj(t, "apps/v1", "Deployment", ns, "web"); d.GetGeneration() != 2 {
		t.Errorf("Deployment generation %d, want 2", d.GetGeneration())
	}
}

// TestHealthFailedAfterTheApplyReconcile: the deferred wait also ends on the watch event that
// makes an object Failed (fail-fast): a Deployment whose rollout exceeds its progress deadline
// fails the Kustomization at once, not when the deferral's bound runs out.
func TestHealthFailedAfterTheApplyReconcile(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	deploy := strings.Replace(deployYAML, "        app: web\n    spec:", "        app: web\n      annotations:\n        version: \"${VERSION}\"\n    spec:", 1)
	src, _ := gitRepo(t, ns, "repo", map[string]string{"deploy.yaml": deploy})
	ks := newKustomization(t, ns, "app", src, "", func(ks *kustomizev1.Kustomization) {
		ks.Spec.Wait = true
		ks.Spec.Timeout = &metav1.Duration{Duration: time.Minute}
		ks.Spec.PostBuild = &kustomizev1.PostBuild{Substitute: map[string]string{"VERSION": "v1"}}
	})
	eventually(t, 30*time.Second, func() error {
		if getObj(t, "apps/v1", "Deployment", ns, "web") == nil {
			return fmt.Errorf("Deployment not applied yet")
		}
		return nil
	})
	patchStatus(t, "apps/v1", "Deployment", ns, "web", rolledOut())
	waitReadyReason(t, ns, "app", metav1.ConditionTrue, meta.ReconciliationSucceededReason, 30*time.Second)

	// The upgrade; the "Deployment controller" reports the rollout stuck a second after it.
	eventually(t, 10*time.Second, func() error {
		live := &kustomizev1.Kustomization{}
		if err := k8s().Get(testCtx(t), client.ObjectKeyFromObject(ks), live); err != nil {
			return err
		}
		base := live.DeepCopy()
		live.Spec.PostBuild.Substitute["VERSION"] = "v2"
		return k8s().Patch(testCtx(t), live, client.MergeFrom(base))
	})
	eventually(t, 30*time.Second, func() error {
		if d := getObj(t, "apps/v1", "Deployment", ns, "web"); d == nil || d.GetGeneration() < 2 {
			return fmt.Errorf("generation 2 not applied yet")
		}
		return nil
	})
	time.Sleep(time.Second)
	stuck := time.Now()
	patchStatus(t, "apps/v1", "Deployment", ns, "web", map[string]any{
		"updatedReplicas": int64(0),
		"conditions": []any{
			map[string]any{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "message": "ok", "lastUpdateTime": "2024-01-01T00:00:00Z", "lastTransitionTime": "2024-01-01T00:00:00Z"},
			map[string]any{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "ReplicaSet \"web-2\" has timed out progressing.", "lastUpdateTime": "2024-01-01T00:00:00Z", "lastTransitionTime": "2024-01-01T00:00:00Z"},
		},
	})
	// The deferral began about a second before the status write: its bound would run out
	// about observationWait-1s after it.
	got := waitReadyReason(t, ns, "app", metav1.ConditionFalse, healthCheckFailedReason, observationWait)
	if d := time.Since(stuck); d >= observationWait/2 {
		t.Errorf("the failure took %s to be reported: the deferral waited for its bound (%s)", d, observationWait)
	}
	if c := condition(got, meta.ReadyCondition); c == nil || !strings.Contains(c.Message, "Deployment/"+ns+"/web") {
		t.Errorf("Ready = %v, want the failed Deployment named", c)
	}
}
