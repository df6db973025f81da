package controller

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"gotk.dev/internal/testing/eventsink"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
)

// waitApplied waits until the Kustomization applied revision and returns it.
func waitApplied(t testing.TB, ns, name, revision string, timeout time.Duration) *kustomizev1.Kustomization {
	t.Helper()
	var ks *kustomizev1.Kustomization
	eventually(t, timeout, func() error {
		var err error
		if ks, err = tryGetKS(t, ns, name); err != nil {
			return err
		}
		if ks.Status.LastAppliedRevision != revision {
			return fmt.Errorf("revision %s not applied: %s", revision, describe(ks))
		}
		return nil
	})
	return ks
}

// editCM changes a live ConfigMap as another field manager would.
func editCM(t *testing.T, ns, name, manager string, mutate func(*corev1.ConfigMap)) {
	t.Helper()
	eventually(t, 10*time.Second, func() error {
		cm := getCM(t, ns, name)
		if cm == nil {
			return fmt.Errorf("ConfigMap %s/%s not found", ns, name)
		}
		mutate(cm)
		return k8s().Update(testCtx(t), cm, client.FieldOwner(manager))
	})
}

// TestPrune deletes what a new revision drops, but only objects that still carry this
// Kustomization's owner labels and are not annotated prune: disabled, reconcile: disabled or
// ssa: Ignore (in the manifest or on the live object).
func TestPrune(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	rev1 := map[string]string{
		"plain.yaml":         cmYAML("plain", nil),
		"keep.yaml":          cmYAML("keep", nil, "  annotations:\n    kustomize.toolkit.fluxcd.io/prune: disabled"),
		"live-disabled.yaml": cmYAML("live-disabled", nil),
		"live-ignore.yaml":   cmYAML("live-ignore", nil),
		"foreign.yaml":       cmYAML("foreign", nil),
		"stays.yaml":         cmYAML("stays", nil),
	}
	src, a1 := gitRepo(t, ns, "repo", rev1)
	newKustomization(t, ns, "app", src, "")
	ks := waitApplied(t, ns, "app", a1.Revision, 30*time.Second)
	for _, name := range []string{"plain", "keep", "live-disabled", "live-ignore", "foreign", "stays"} {
		id := ns + "_" + name + "__ConfigMap"
		found := false
		for _, e := range ks.Status.Inventory.Entries {
			found = found || e.ID == id && e.Version == "v1"
		}
		if !found {
			t.Errorf("inventory %v lacks %s (v1)", inventoryIDs(ks), id)
		}
	}

	editCM(t, ns, "live-disabled", "kubectl-annotate", func(cm *corev1.ConfigMap) {
		cm.Annotations = map[string]string{"kustomize.toolkit.fluxcd.io/reconcile": "disabled"}
	})
	editCM(t, ns, "live-ignore", "kubectl-annotate", func(cm *corev1.ConfigMap) {
		cm.Annotations = map[string]string{"kustomize.toolkit.fluxcd.io/ssa": "Ignore"}
	})
	editCM(t, ns, "foreign", "kubectl-label", func(cm *corev1.ConfigMap) {
		cm.Labels[ownerLabelName] = "someone-else"
	})

	a2 := publish(t, src, map[string]string{"stays.yaml": cmYAML("stays", nil), "new.yaml": cmYAML("new", nil)}, nil)
	ks = waitApplied(t, ns, "app", a2.Revision, 30*time.Second)
	if getCM(t, ns, "plain") != nil {
		t.Error("plain was not pruned")
	}
	for _, name := range []string{"keep", "live-disabled", "live-ignore", "foreign", "stays", "new"} {
		if getCM(t, ns, name) == nil {
			t.Errorf("%s was deleted", name)
		}
	}
	if want := []string{ns + "_stays__ConfigMap", ns + "_new__ConfigMap"}; !sameSet(inventoryIDs(ks), want) {
		t.Errorf("inventory = %v, want %v", inventoryIDs(ks), want)
	}
	eventually(t, 10*time.Second, func() error {
		for _, ev := range suiteEnv.events.InNamespace(ns) {
			if strings.Contains(ev.Message, "ConfigMap/"+ns+"/plain deleted") {
				if eventsink.UpstreamMetadata(ev)["revision"] != a2.Revision {
					return fmt.Errorf("prune event metadata %v lacks revision %s", ev.Metadata, a2.Revision)
				}
				for _, name := range []string{"keep", "live-disabled", "live-ignore", "foreign", "stays"} {
					if strings.Contains(ev.Message, "ConfigMap/"+ns+"/"+name+" ") {
						return fmt.Errorf("prune event lists %s, which it did not delete: %q", name, ev.Message)
					}
				}
				return nil
			}
		}
		return fmt.Errorf("no prune event for plain")
	})

	// With spec.prune off nothing is deleted.
	updateKS(t, ns, "app", func(ks *kustomizev1.Kustomization) { ks.Spec.Prune = false })
	waitReady(t, ns, "app", 20*time.Second)
	a3 := publish(t, src, map[string]string{"new.yaml": cmYAML("new", nil)}, nil)
	waitApplied(t, ns, "app", a3.Revision, 30*time.Second)
	if getCM(t, ns, "stays") == nil {
		t.Error("stays was deleted with prune disabled")
	}
}

// TestDeletionPolicy garbage-collects the inventory on deletion of the Kustomization as
// spec.deletionPolicy (and spec.prune, spec.suspend) says.
func TestDeletionPolicy(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		policy  string
		prune   bool
		suspend bool
		deleted bool
	}{
		{policy: "", prune: true, deleted: true},
		{policy: kustomizev1.DeletionPolicyMirrorPrune, prune: false, deleted: false},
		{policy: kustomizev1.DeletionPolicyDelete, prune: false, deleted: true},
		{policy: kustomizev1.DeletionPolicyDelete, prune: true, suspend: true, deleted: false},
		{policy: kustomizev1.DeletionPolicyOrphan, prune: true, deleted: false},
	} {
		t.Run(fmt.Sprintf("%s/prune=%v/suspend=%v", tt.policy, tt.prune, tt.suspend), func(t *testing.T) {
			t.Parallel()
			ns := newNamespace(t)
			src, _ := gitRepo(t, ns, "repo", map[string]string{"cm.yaml": cmYAML("cm", nil), "sa.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa\n"})
			newKustomization(t, ns, "app", src, "", func(ks *kustomizev1.Kustomization) {
				ks.Spec.DeletionPolicy, ks.Spec.Prune = tt.policy, tt.prune
			})
			waitReady(t, ns, "app", 30*time.Second)
			if tt.suspend {
				updateKS(t, ns, "app", func(ks *kustomizev1.Kustomization) { ks.Spec.Suspend = true })
			}
			deleteKSAndWait(t, ns, "app", 20*time.Second)
			cmGone := getCM(t, ns, "cm") == nil
			saGone := getObj(t, "v1", "ServiceAccount", ns, "sa") == nil
			if cmGone != tt.deleted || saGone != tt.deleted {
				t.Errorf("ConfigMap gone %v, ServiceAccount gone %v, want %v", cmGone, saGone, tt.deleted)
			}
		})
	}
}

// TestDeletionPolicyWaitForTermination keeps the Kustomization until the objects it deleted
// are gone.
func TestDeletionPolicyWaitForTermination(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	src, _ := gitRepo(t, ns, "repo", map[string]string{
		"cm.yaml": cmYAML("held", nil, "  finalizers:\n  - test.gotk.dev/hold"),
	})
	newKustomization(t, ns, "app", src, "", func(ks *kustomizev1.Kustomization) {
		ks.Spec.DeletionPolicy = kustomizev1.DeletionPolicyWaitForTermination
	})
	waitReady(t, ns, "app", 30*time.Second)
	if err := k8s().Delete(testCtx(t), getKS(t, ns, "app")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, func() error {
		if cm := getCM(t, ns, "held"); cm == nil || cm.DeletionTimestamp == nil {
			return fmt.Errorf("ConfigMap held not being deleted")
		}
		return nil
	})
	time.Sleep(time.Second)
	if ksExists(t, ns, "app") == false {
		t.Fatal("the Kustomization went away while an object it deleted was terminating")
	}
	editCM(t, ns, "held", "test", func(cm *corev1.ConfigMap) { cm.Finalizers = nil })
	eventually(t, 20*time.Second, func() error {
		if ksExists(t, ns, "app") {
			return fmt.Errorf("Kustomization still exists")
		}
		return nil
	})
}

// deleteKSAndWait deletes a Kustomization and waits until its finalizer let it go.
func deleteKSAndWait(t *testing.T, ns, name string, timeout time.Duration) {
	t.Helper()
	if err := k8s().Delete(testCtx(t), getKS(t, ns, name)); err != nil {
		t.Fatal(err)
	}
	eventually(t, timeout, func() error {
		if ksExists(t, ns, name) {
			return fmt.Errorf("Kustomization %s/%s still exists", ns, name)
		}
		return nil
	})
}

func ksExists(t *testing.T, ns, name string) bool {
	t.Helper()
	var ks kustomizev1.Kustomization
	err := k8s().Get(testCtx(t), client.ObjectKey{Namespace: ns, Name: name}, &ks)
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	return err == nil
}

// TestDeletionPolicyWaitForTerminationGivesUp: an object that never terminates (its foreign
// finalizer is never removed) holds the Kustomization until spec.timeout (30s, the least
// allowed), then the Kustomization goes with a warning event naming what was left.
func TestDeletionPolicyWaitForTerminationGivesUp(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	src, _ := gitRepo(t, ns, "repo", map[string]string{
		"cm.yaml": cmYAML("stuck", nil, "  finalizers:\n  - test.gotk.dev/never"),
	})
	newKustomization(t, ns, "app", src, "", func(ks *kustomizev1.Kustomization) {
		ks.Spec.DeletionPolicy = kustomizev1.DeletionPolicyWaitForTermination
		ks.Spec.Timeout = &metav1.Duration{Duration: 30 * time.Second}
	})
	waitReady(t, ns, "app", 30*time.Second)
	start := time.Now()
	if err := k8s().Delete(testCtx(t), getKS(t, ns, "app")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, func() error {
		if ksExists(t, ns, "app") {
			return fmt.Errorf("Kustomization still exists after %s", time.Since(start).Round(time.Second))
		}
		return nil
	})
	if d := time.Since(start); d < 29*time.Second {
		t.Errorf("the Kustomization went after %s, before its spec.timeout", d)
	}
	eventually(t, 10*time.Second, func() error {
		for _, ev := range suiteEnv.events.InNamespace(ns) {
			if ev.Reason == "TerminationTimeout" && strings.Contains(ev.Message, "ConfigMap/"+ns+"/stuck") {
				return nil
			}
		}
		return fmt.Errorf("no TerminationTimeout event naming the ConfigMap")
	})
	editCM(t, ns, "stuck", "test", func(cm *corev1.ConfigMap) { cm.Finalizers = nil })
}

// TestPruneEmptyRevision: a revision that renders no object (an empty directory, then an
// empty kustomization.yaml) with prune on deletes everything the Kustomization applied and
// empties its inventory; the next revision with objects applies them again.
func TestPruneEmptyRevision(t *testing.T) {
	t.Parallel()
	for name, empty := range map[string]map[string]string{
		"empty-dir":           {"README.md": "nothing to apply here\n"},
		"empty-kustomization": {"kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ns := newNamespace(t)
			full := map[string]string{"a.yaml": cmYAML("a", nil), "b.yaml": cmYAML("b", nil)}
			src, _ := gitRepo(t, ns, "repo", full)
			newKustomization(t, ns, "app", src, "./")
			ks := waitReady(t, ns, "app", 30*time.Second)
			if n := len(ks.Status.Inventory.Entries); n != 2 {
				t.Fatalf("inventory has %d entries, want 2", n)
			}
			a := publish(t, src, empty, nil)
			ks = waitApplied(t, ns, "app", a.Revision, 30*time.Second)
			if ks.Status.Inventory == nil || len(ks.Status.Inventory.Entries) != 0 {
				t.Errorf("inventory after the empty revision = %+v, want empty", ks.Status.Inventory)
			}
			for _, cm := range []string{"a", "b"} {
				if getCM(t, ns, cm) != nil {
					t.Errorf("ConfigMap %s survived the empty revision", cm)
				}
			}
			a = publish(t, src, full, nil)
			ks = waitApplied(t, ns, "app", a.Revision, 30*time.Second)
			if n := len(ks.Status.Inventory.Entries); n != 2 || getCM(t, ns, "a") == nil || getCM(t, ns, "b") == nil {
				t.Errorf("after the revision with objects again: inventory %d entries, a %v, b %v", n, getCM(t, ns, "a") != nil, getCM(t, ns, "b") != nil)
			}
		})
	}
}
