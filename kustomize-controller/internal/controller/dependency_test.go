package controller

import (
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

func dependsOn(refs ...meta.DependencyReference) ksOpt {
	return func(ks *kustomizev1.Kustomization) { ks.Spec.DependsOn = refs }
}

// TestDependsOn holds dependants with DependencyNotReady until their dependency is Ready (or
// their readyExpr holds), and wakes them as soon as it turns Ready: far sooner than
// --requeue-dependency (30s in this suite).
func TestDependsOn(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	infraSrc := newSource(t, sourcev1.GitRepositoryKind, ns, "infra-src") // no artifact yet
	appSrc, _ := gitRepo(t, ns, "app-src", map[string]string{
		"a/cm.yaml": cmYAML("a", nil),
		"b/cm.yaml": cmYAML("b", nil),
		"c/cm.yaml": cmYAML("c", nil),
	})
	newKustomization(t, ns, "infra", infraSrc, "")
	newKustomization(t, ns, "app", appSrc, "./a", dependsOn(meta.DependencyReference{Name: "infra"}))
	newKustomization(t, ns, "app-expr", appSrc, "./b", dependsOn(meta.DependencyReference{
		Name: "infra", ReadyExpr: "dep.status.?lastAppliedRevision.orValue('') != ''",
	}))
	// A readyExpr replaces the built-in readiness: this one holds while infra is not Ready.
	newKustomization(t, ns, "app-early", appSrc, "./c", dependsOn(meta.DependencyReference{
		Name: "infra", ReadyExpr: "dep.metadata.name == 'infra' && self.metadata.name == 'app-early'",
	}))

	waitReadyReason(t, ns, "infra", metav1.ConditionFalse, artifactFailedReason, 20*time.Second)
	for _, name := range []string{"app", "app-expr"} {
		ks := waitReadyReason(t, ns, name, metav1.ConditionFalse, dependencyNotReadyReason, 20*time.Second)
		assertContains(t, name+" message", condition(ks, meta.ReadyCondition).Message, ns+"/infra")
		if getCM(t, ns, map[string]string{"app": "a", "app-expr": "b"}[name]) != nil {
			t.Errorf("%s applied before its dependency was ready", name)
		}
	}
	waitReady(t, ns, "app-early", 20*time.Second)

	// The dependency turns Ready: its dependants are woken by the watch.
	publish(t, infraSrc, map[string]string{"cm.yaml": cmYAML("infra", nil)}, nil)
	waitReady(t, ns, "infra", 20*time.Second)
	start := time.Now()
	waitReady(t, ns, "app", 10*time.Second)
	waitReady(t, ns, "app-expr", 10*time.Second)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("dependants took %s", d)
	}
}

// TestDependsOnInvalidExpr stalls a Kustomization whose readyExpr does not compile: no
// retry fixes it, the user must.
func TestDependsOnInvalidExpr(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	src, _ := gitRepo(t, ns, "repo", map[string]string{"cm.yaml": cmYAML("cm", nil)})
	newKustomization(t, ns, "dep", src, "")
	newKustomization(t, ns, "bad", src, "", dependsOn(meta.DependencyReference{Name: "dep", ReadyExpr: "dep.status.("}))
	ks := waitReadyReason(t, ns, "bad", metav1.ConditionFalse, invalidExprReason, 20*time.Second)
	if c := condition(ks, meta.StalledCondition); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("Stalled = %v", c)
	}
	if c := condition(ks, meta.ReconcilingCondition); c != nil {
		t.Errorf("Reconciling = %v on a stalled object", c)
	}
	if ks.Status.ObservedGeneration != ks.Generation {
		t.Errorf("observedGeneration %d, generation %d", ks.Status.ObservedGeneration, ks.Generation)
	}
	assertContains(t, "message", condition(ks, meta.ReadyCondition).Message, "dep.status.(")

	// Fixing the spec recovers.
	updateKS(t, ns, "bad", func(ks *kustomizev1.Kustomization) {
		ks.Spec.DependsOn[0].ReadyExpr = "dep.status.?lastAppliedRevision.orValue('') != ''"
	})
	waitReady(t, ns, "bad", 20*time.Second)
}

// TestDependsOnSelf stalls a Kustomization that depends on itself: no wait can resolve it.
func TestDependsOnSelf(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	src, _ := gitRepo(t, ns, "repo", map[string]string{"cm.yaml": cmYAML("cm", nil)})
	newKustomization(t, ns, "self", src, "", dependsOn(meta.DependencyReference{Name: "self"}))
	ks := waitReadyReason(t, ns, "self", metav1.ConditionFalse, dependencyNotReadyReason, 20*time.Second)
	if c := condition(ks, meta.StalledCondition); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("Stalled = %v: %s", c, describe(ks))
	}
	assertContains(t, "message", condition(ks, meta.ReadyCondition).Message, ns+"/self")
	if getCM(t, ns, "cm") != nil {
		t.Error("applied")
	}
}
