package controller

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// TestNewKustomizationWaitsForItsSourceUnwritten: a Kustomization created before its
// source has an artifact (both created together) is applied when the artifact appears
// with one status write, Ready; the "source not ready" in between is not written.
func TestNewKustomizationWaitsForItsSourceUnwritten(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	src := newSource(t, sourcev1.GitRepositoryKind, ns, "repo") // no artifact yet
	mark := suiteEnv.requests.Mark()
	created := time.Now()
	newKustomization(t, ns, "app", src, "")
	// The first reconcile ran: it added the finalizer and found no artifact.
	eventually(t, 10*time.Second, func() error {
		if !controllerutil.ContainsFinalizer(getKS(t, ns, "app"), kustomizev1.KustomizationFinalizer) {
			return fmt.Errorf("no finalizer yet")
		}
		return nil
	})
	time.Sleep(500 * time.Millisecond) // a status write of that reconcile would be sent by now
	if ks := getKS(t, ns, "app"); len(ks.Status.Conditions) != 0 {
		t.Errorf("conditions written while the source is new and not ready: %s", describe(ks))
	}
	publish(t, src, map[string]string{"cm.yaml": cmYAML("cm", nil)}, nil)
	waitReady(t, ns, "app", 20*time.Second)
	if d := time.Since(created); d > sourceGrace {
		t.Fatalf("the test took %s, longer than the grace %s: it checks nothing", d, sourceGrace)
	}
	time.Sleep(500 * time.Millisecond) // a late status write would show now
	statusPatches := 0
	for _, r := range suiteEnv.requests.Since(mark, ns) {
		if r.Method == "PATCH" && strings.HasSuffix(r.Path, "/kustomizations/app/status") {
			statusPatches++
		}
	}
	if statusPatches != 1 {
		t.Errorf("%d status patches, want 1 (Ready)", statusPatches)
	}
}

// TestSourceNotReadyAfterTheGrace: a source that gets no artifact is reported (ArtifactFailed,
// naming the source) once the new Kustomization's grace is over, and at once to a
// Kustomization that had a Ready condition already.
func TestSourceNotReadyAfterTheGrace(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	src := newSource(t, sourcev1.GitRepositoryKind, ns, "repo")
	newKustomization(t, ns, "app", src, "")
	ks := waitReadyReason(t, ns, "app", metav1.ConditionFalse, artifactFailedReason, sourceGrace+20*time.Second)
	assertContains(t, "message", condition(ks, meta.ReadyCondition).Message, "GitRepository/"+ns+"/repo", "not ready")
	if age := condition(ks, meta.ReadyCondition).LastTransitionTime.Sub(ks.CreationTimestamp.Time); age < sourceGrace-time.Second {
		t.Errorf("ArtifactFailed written %s after the creation, before the grace %s", age, sourceGrace)
	}

	// Not new any more: a source that is deleted is reported at once.
	publish(t, src, map[string]string{"cm.yaml": cmYAML("cm", nil)}, nil)
	waitReady(t, ns, "app", 20*time.Second)
	if err := k8s().Delete(testCtx(t), src); err != nil {
		t.Fatal(err)
	}
	token := requestReconcile(t, ns, "app")
	start := time.Now()
	ks = waitReadyReason(t, ns, "app", metav1.ConditionFalse, artifactFailedReason, sourceGrace)
	assertContains(t, "message", condition(ks, meta.ReadyCondition).Message, "GitRepository/"+ns+"/repo", "not found")
	if d := time.Since(start); d > sourceGrace/2 {
		t.Errorf("ArtifactFailed took %s for a Kustomization that was Ready (token %s)", d, token)
	}
}
