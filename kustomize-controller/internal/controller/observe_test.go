package controller

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	"gotk.dev/pkg/timeline"
)

// TestHealthObservedDuringTheApplyReconcile: when the applied Deployment's controller
// observes it moments after the apply (here the test, as kube-controller-manager would), the
// reconcile that applied waits for that instead of ending Progressing: one reconcile, one
// status patch, Ready. A Deployment whose rollout is still under way once observed is not
// waited for (TestWaitDeploymentRollout).
func TestHealthObservedDuringTheApplyReconcile(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	src, _ := gitRepo(t, ns, "repo", map[string]string{"deploy.yaml": strings.Replace(deployYAML, "replicas: 1", "replicas: 0", 1)})
	// The "Deployment controller": marks the Deployment observed and available (0 replicas)
	// half a second after it exists, well after the apply reconcile first looked.
	observed := make(chan struct{})
	go func() {
		defer close(observed)
		eventually(t, 30*time.Second, func() error {
			if getObj(t, "apps/v1", "Deployment", ns, "web") == nil {
				return fmt.Errorf("not applied yet")
			}
			return nil
		})
		time.Sleep(500 * time.Millisecond)
		st := rolledOut()
		for _, k := range []string{"replicas", "updatedReplicas", "readyReplicas", "availableReplicas"} {
			delete(st, k) // 0 replicas: the Deployment controller leaves them out
		}
		patchStatus(t, "apps/v1", "Deployment", ns, "web", st)
	}()
	newKustomization(t, ns, "app", src, "", func(ks *kustomizev1.Kustomization) {
		ks.Spec.Wait = true
		ks.Spec.Timeout = &metav1.Duration{Duration: time.Minute}
	})
	waitReadyReason(t, ns, "app", metav1.ConditionTrue, meta.ReconciliationSucceededReason, 30*time.Second)
	<-observed

	// The span is recorded once the status patch returns: it may lag the Ready we saw.
	var spans []timeline.Span
	eventually(t, 10*time.Second, func() error {
		spans = nil
		for _, s := range suiteEnv.rt.Timeline.Since(0).Spans {
			if s.Kind == kustomizev1.KustomizationKind && s.Namespace == ns && s.Name == "app" {
				spans = append(spans, s)
			}
		}
		if len(spans) == 0 || spans[len(spans)-1].Outcome != timeline.Ready {
			return fmt.Errorf("no Ready reconcile recorded yet: %d spans", len(spans))
		}
		return nil
	})
	for _, s := range spans {
		if s.Outcome == timeline.Progressing {
			t.Errorf("a reconcile ended Progressing although the Deployment was observed within %v: %+v", observationWait, s)
		}
	}
}
