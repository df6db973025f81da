package controller

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"gotk.dev/internal/testing/eventsink"

	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
)

// TestStatusHistory records the applied revisions in status.history: newest first, at most
// 5, one snapshot per distinct content (a re-apply of the same content counts up).
func TestStatusHistory(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	src := newSource(t, "GitRepository", ns, "repo")
	var revisions []string
	rev := func(i int) map[string]string {
		return map[string]string{"cm.yaml": cmYAML("cm", map[string]string{"rev": fmt.Sprint(i)})}
	}
	revisions = append(revisions, publish(t, src, rev(0), nil).Revision)
	newKustomization(t, ns, "app", src, "")
	waitApplied(t, ns, "app", revisions[0], 30*time.Second)
	for i := 1; i < 7; i++ {
		revisions = append(revisions, publish(t, src, rev(i), nil).Revision)
		waitApplied(t, ns, "app", revisions[i], 30*time.Second)
	}
	ks := waitReady(t, ns, "app", 10*time.Second)
	h := ks.Status.History
	if len(h) != meta.HistoryMaxSize {
		t.Fatalf("history has %d entries, want %d", len(h), meta.HistoryMaxSize)
	}
	digests := map[string]bool{}
	for i, s := range h {
		want := revisions[len(revisions)-1-i]
		if s.Metadata["revision"] != want || s.LastReconciledStatus != meta.ReconciliationSucceededReason || s.TotalReconciliations != 1 {
			t.Errorf("history[%d] = %+v, want revision %s succeeded once", i, s, want)
		}
		if !strings.HasPrefix(s.Digest, "sha256:") || digests[s.Digest] {
			t.Errorf("history[%d] digest %q is not a distinct sha256", i, s.Digest)
		}
		digests[s.Digest] = true
	}

	// The same content again (a new revision of the source, nothing changed in the
	// manifests) updates the newest snapshot.
	again := publish(t, src, map[string]string{"cm.yaml": cmYAML("cm", map[string]string{"rev": "6"}), "README.md": "docs\n"}, nil)
	ks = waitApplied(t, ns, "app", again.Revision, 30*time.Second)
	if h := ks.Status.History; len(h) != meta.HistoryMaxSize || h[0].TotalReconciliations != 2 || h[0].Metadata["revision"] != again.Revision || h[1].Metadata["revision"] != revisions[5] {
		t.Errorf("history after re-applying the same content: %+v", h)
	}
}

// TestStatusAndEvents checks the conditions and revisions of a successful and a failed
// revision, and the events notification-controller receives: each carries the revision
// in its metadata, and a change event lists what changed, not what stayed the same.
func TestStatusAndEvents(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	files := map[string]string{"a.yaml": cmYAML("a", map[string]string{"v": "1"}), "b.yaml": cmYAML("b", nil)}
	src, a1 := gitRepo(t, ns, "repo", files)
	newKustomization(t, ns, "app", src, "")
	ks := waitReady(t, ns, "app", 30*time.Second)
	for _, ct := range []string{meta.ReconcilingCondition, meta.StalledCondition, kustomizev1.HealthyCondition} {
		if c := condition(ks, ct); c != nil {
			t.Errorf("%s condition on a Ready object without health checks: %+v", ct, c)
		}
	}
	if c := condition(ks, meta.ReadyCondition); c.Reason != meta.ReconciliationSucceededReason || c.Message != "Applied revision: "+a1.Revision {
		t.Errorf("Ready = %+v", c)
	}

	files["a.yaml"] = cmYAML("a", map[string]string{"v": "2"})
	a2 := publish(t, src, files, nil)
	waitApplied(t, ns, "app", a2.Revision, 30*time.Second)
	eventually(t, 10*time.Second, func() error {
		for _, ev := range suiteEnv.events.InNamespace(ns) {
			if eventsink.UpstreamMetadata(ev)["revision"] != a2.Revision || ev.Severity != "info" {
				continue
			}
			if !strings.Contains(ev.Message, "ConfigMap/"+ns+"/a configured") {
				continue
			}
			if strings.Contains(ev.Message, "ConfigMap/"+ns+"/b") {
				return fmt.Errorf("change event lists an unchanged object: %q", ev.Message)
			}
			if ev.ReportingController != "kustomize-controller" || ev.InvolvedObject.Kind != kustomizev1.KustomizationKind {
				return fmt.Errorf("event %+v", ev)
			}
			return nil
		}
		return fmt.Errorf("no change event for revision %s: %+v", a2.Revision, suiteEnv.events.InNamespace(ns))
	})
	// Every successful reconcile ends with upstream's "Reconciliation finished" event, asking
	// notification-controller's Git providers to update the commit status.
	eventually(t, 10*time.Second, func() error {
		for _, ev := range suiteEnv.events.InNamespace(ns) {
			md := eventsink.UpstreamMetadata(ev)
			if ev.Reason != meta.ReconciliationSucceededReason || md["revision"] != a2.Revision {
				continue
			}
			if md["commit_status"] != "update" || ev.Severity != "info" || !strings.HasPrefix(ev.Message, "Reconciliation finished in ") ||
				!strings.HasSuffix(ev.Message, ", next run in "+ks.Spec.Interval.Duration.String()) {
				return fmt.Errorf("success event %+v", ev)
			}
			return nil
		}
		return fmt.Errorf("no success event for revision %s: %+v", a2.Revision, suiteEnv.events.InNamespace(ns))
	})
	// The Kubernetes Event carries the revision as an annotation.
	eventually(t, 10*time.Second, func() error {
		var list corev1.EventList
		if err := k8s().List(testCtx(t), &list); err != nil {
			return err
		}
		for _, ev := range list.Items {
			if ev.InvolvedObject.Namespace == ns && ev.Annotations[kustomizev1.GroupVersion.Group+"/revision"] == a2.Revision {
				return nil
			}
		}
		return fmt.Errorf("no Kubernetes Event annotated with revision %s", a2.Revision)
	})

	// A broken revision: attempted, not applied; the failure event names the revision too.
	files["broken.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [broken\n"
	a3 := publish(t, src, files, nil)
	ks = waitReadyReason(t, ns, "app", metav1.ConditionFalse, buildFailedReason, 30*time.Second)
	if ks.Status.LastAttemptedRevision != a3.Revision || ks.Status.LastAppliedRevision != a2.Revision {
		t.Errorf("lastAttemptedRevision %q lastAppliedRevision %q", ks.Status.LastAttemptedRevision, ks.Status.LastAppliedRevision)
	}
	if c := condition(ks, meta.ReconcilingCondition); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("Reconciling = %+v while retrying", c)
	}
	assertContains(t, "message", condition(ks, meta.ReadyCondition).Message, "broken.yaml")
	eventually(t, 10*time.Second, func() error {
		for _, ev := range suiteEnv.events.InNamespace(ns) {
			if ev.Severity == "error" && ev.Reason == buildFailedReason {
				if eventsink.UpstreamMetadata(ev)["revision"] != a3.Revision {
					return fmt.Errorf("failure event metadata %v lacks revision %s", ev.Metadata, a3.Revision)
				}
				return nil
			}
		}
		return fmt.Errorf("no failure event")
	})
}

// TestSuspend: a suspended Kustomization applies nothing, not even a new revision, until it
// is resumed.
func TestSuspend(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	src, a1 := gitRepo(t, ns, "repo", map[string]string{"cm.yaml": cmYAML("cm", map[string]string{"v": "1"})})
	newKustomization(t, ns, "app", src, "")
	waitApplied(t, ns, "app", a1.Revision, 30*time.Second)
	updateKS(t, ns, "app", func(ks *kustomizev1.Kustomization) { ks.Spec.Suspend = true })
	time.Sleep(500 * time.Millisecond)
	a2 := publish(t, src, map[string]string{"cm.yaml": cmYAML("cm", map[string]string{"v": "2"})}, nil)
	time.Sleep(2 * time.Second)
	if ks := getKS(t, ns, "app"); ks.Status.LastAppliedRevision != a1.Revision || getCM(t, ns, "cm").Data["v"] != "1" {
		t.Fatalf("suspended Kustomization applied %s", ks.Status.LastAppliedRevision)
	}
	updateKS(t, ns, "app", func(ks *kustomizev1.Kustomization) { ks.Spec.Suspend = false })
	waitApplied(t, ns, "app", a2.Revision, 20*time.Second)
	if getCM(t, ns, "cm").Data["v"] != "2" {
		t.Error("resumed Kustomization did not apply the new revision")
	}
}
