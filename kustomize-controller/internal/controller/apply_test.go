package controller

import (
	"fmt"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/kustomize"
	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
)

// TestDriftCorrection reverts in-cluster edits made with kubectl (its field managers are
// taken over) on a requested reconcile, except for paths spec.ignore leaves alone.
func TestDriftCorrection(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	src, _ := gitRepo(t, ns, "repo", map[string]string{
		"cm.yaml":    cmYAML("drift", map[string]string{"a": "1", "keep": "from-git"}),
		"other.yaml": cmYAML("other", map[string]string{"keep": "from-git"}),
	})
	newKustomization(t, ns, "app", src, "", func(ks *kustomizev1.Kustomization) {
		ks.Spec.Ignore = []kustomizev1.IgnoreRule{{Paths: []string{"/data/keep"}, Target: &kustomize.Selector{Kind: "ConfigMap", Name: "drift"}}}
	})
	waitReady(t, ns, "app", 30*time.Second)
	if cm := getCM(t, ns, "drift"); cm.Data["keep"] != "from-git" {
		t.Fatalf("a new object starts from the manifest, ignored paths included: %v", cm.Data)
	}
	for _, name := range []string{"drift", "other"} {
		editCM(t, ns, name, "kubectl-edit", func(cm *corev1.ConfigMap) {
			cm.Data["a"], cm.Data["keep"], cm.Data["added"] = "edited", "edited", "edited"
		})
	}
	token := requestReconcile(t, ns, "app")
	waitHandled(t, ns, "app", token, 20*time.Second)

	cm := getCM(t, ns, "drift")
	if cm.Data["a"] != "1" {
		t.Errorf("data.a = %q, want the edit reverted to 1", cm.Data["a"])
	}
	if _, ok := cm.Data["added"]; ok {
		t.Errorf("data.added = %q, want the field kubectl added removed", cm.Data["added"])
	}
	if cm.Data["keep"] != "edited" {
		t.Errorf("data.keep = %q, want the ignored path's edit kept", cm.Data["keep"])
	}
	if other := getCM(t, ns, "other"); other.Data["keep"] != "from-git" {
		t.Errorf("the ignore rule's target selector leaked to another object: %v", other.Data)
	}
	for _, mf := range cm.ManagedFields {
		if mf.Manager == "kubectl-edit" && mf.FieldsV1 != nil && len(mf.FieldsV1.Raw) > 0 {
			if s := string(mf.FieldsV1.Raw); s != `{"f:data":{"f:keep":{}}}` {
				t.Errorf("kubectl-edit still owns %s", s)
			}
		}
	}
}

// TestSSAPolicies applies objects annotated kustomize.toolkit.fluxcd.io/ssa: Merge keeps
// fields of other managers, IfNotPresent creates but never updates, Ignore never touches.
func TestSSAPolicies(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	ann := func(policy string) string { return "  annotations:\n    kustomize.toolkit.fluxcd.io/ssa: " + policy }
	if err := k8s().Create(testCtx(t), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ignore-existing"},
		Data:       map[string]string{"a": "orig"},
	}); err != nil {
		t.Fatal(err)
	}
	rev := func(v string) map[string]string {
		return map[string]string{
			"merge.yaml":           cmYAML("merge", map[string]string{"a": v}, ann("Merge")),
			"ifnp.yaml":            cmYAML("ifnp", map[string]string{"a": v}, ann("IfNotPresent")),
			"ignore.yaml":          cmYAML("ignore", map[string]string{"a": v}, ann("Ignore")),
			"ignore-existing.yaml": cmYAML("ignore-existing", map[string]string{"a": v}, ann("Ignore")),
			"override.yaml":        cmYAML("override", map[string]string{"a": v}, ann("Override")),
		}
	}
	src, _ := gitRepo(t, ns, "repo", rev("1"))
	newKustomization(t, ns, "app", src, "")
	waitReady(t, ns, "app", 30*time.Second)
	if getCM(t, ns, "ignore") != nil {
		t.Error("ssa: Ignore object was created")
	}
	for _, name := range []string{"merge", "override"} {
		editCM(t, ns, name, "kubectl-edit", func(cm *corev1.ConfigMap) { cm.Data["extra"] = "kept?" })
	}

	a2 := publish(t, src, rev("2"), nil)
	waitApplied(t, ns, "app", a2.Revision, 30*time.Second)
	for _, tc := range []struct {
		name, a string
		extra   bool
	}{
		{"merge", "2", true},
		{"override", "2", false},
		{"ifnp", "1", false},
		{"ignore-existing", "orig", false},
	} {
		cm := getCM(t, ns, tc.name)
		_, extra := cm.Data["extra"]
		if cm.Data["a"] != tc.a || extra != tc.extra {
			t.Errorf("%s: data %v, want a=%s and extra field present=%v", tc.name, cm.Data, tc.a, tc.extra)
		}
	}
	if getCM(t, ns, "ignore") != nil {
		t.Error("ssa: Ignore object was created")
	}

	// IfNotPresent creates the object again when it is gone.
	if err := k8s().Delete(testCtx(t), getCM(t, ns, "ifnp")); err != nil {
		t.Fatal(err)
	}
	waitHandled(t, ns, "app", requestReconcile(t, ns, "app"), 20*time.Second)
	if cm := getCM(t, ns, "ifnp"); cm == nil || cm.Data["a"] != "2" {
		t.Errorf("IfNotPresent object after deletion: %v", cm)
	}
}

// TestForceRecreate changes an immutable field: without force the apply fails naming the
// object; spec.force or the force: enabled annotation recreate it.
func TestForceRecreate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		specForce bool
		annotate  bool
		recreated bool
	}{
		{name: "no force"},
		{name: "spec.force", specForce: true, recreated: true},
		{name: "annotation", annotate: true, recreated: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ns := newNamespace(t)
			manifest := func(v string) map[string]string {
				y := cmYAML("frozen", map[string]string{"v": v})
				if tt.annotate {
					y = cmYAML("frozen", map[string]string{"v": v}, "  annotations:\n    kustomize.toolkit.fluxcd.io/force: enabled")
				}
				return map[string]string{"cm.yaml": y + "immutable: true\n"}
			}
			src, _ := gitRepo(t, ns, "repo", manifest("1"))
			newKustomization(t, ns, "app", src, "", func(ks *kustomizev1.Kustomization) { ks.Spec.Force = tt.specForce })
			waitReady(t, ns, "app", 30*time.Second)
			uid := getCM(t, ns, "frozen").UID

			a2 := publish(t, src, manifest("2"), nil)
			if !tt.recreated {
				eventually(t, 30*time.Second, func() error {
					ks := getKS(t, ns, "app")
					c := condition(ks, meta.ReadyCondition)
					if ks.Status.LastAttemptedRevision != a2.Revision || c.Status != metav1.ConditionFalse {
						return fmt.Errorf("revision 2 not refused: %s", describe(ks))
					}
					assertContains(t, "message", c.Message, "ConfigMap/"+ns+"/frozen", "immutable", "force")
					return nil
				})
				if cm := getCM(t, ns, "frozen"); cm.UID != uid || cm.Data["v"] != "1" {
					t.Errorf("object changed without force: %v", cm.Data)
				}
				return
			}
			waitApplied(t, ns, "app", a2.Revision, 30*time.Second)
			cm := getCM(t, ns, "frozen")
			if cm.UID == uid || cm.Data["v"] != "2" {
				t.Errorf("not recreated: uid changed %v, data %v", cm.UID != uid, cm.Data)
			}
		})
	}
}

// TestIntervalReconciles reconciles again after spec.interval without any trigger: drift
// made in the cluster is reverted by the periodic reconcile.
func TestIntervalReconciles(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	src, _ := gitRepo(t, ns, "repo", map[string]string{"cm.yaml": cmYAML("cm", map[string]string{"a": "1"})})
	newKustomization(t, ns, "app", src, "", func(ks *kustomizev1.Kustomization) {
		ks.Spec.Interval = metav1.Duration{Duration: 2 * time.Second}
	})
	waitReady(t, ns, "app", 30*time.Second)
	editCM(t, ns, "cm", "kubectl-edit", func(cm *corev1.ConfigMap) { cm.Data["a"] = "edited" })
	eventually(t, 10*time.Second, func() error {
		if v := getCM(t, ns, "cm").Data["a"]; v != "1" {
			return fmt.Errorf("data.a = %q, not reverted yet", v)
		}
		return nil
	})
}
