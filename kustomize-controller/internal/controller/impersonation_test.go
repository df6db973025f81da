package controller

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
)

// configMapsOnly creates a ServiceAccount in ns bound to a Role allowing ConfigMaps only,
// with the given verbs.
func configMapsOnly(t *testing.T, ns, sa string, verbs ...string) {
	t.Helper()
	ctx := testCtx(t)
	for _, obj := range []client.Object{
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: sa}},
		&rbacv1.Role{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: sa},
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: verbs}},
		},
		&rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: sa},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: sa},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: sa}},
		},
	} {
		if err := k8s().Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
}

// allowVerbs replaces the verbs of the Role made by configMapsOnly.
func allowVerbs(t *testing.T, ns, sa string, verbs ...string) {
	t.Helper()
	var role rbacv1.Role
	if err := k8s().Get(testCtx(t), client.ObjectKey{Namespace: ns, Name: sa}, &role); err != nil {
		t.Fatal(err)
	}
	role.Rules[0].Verbs = verbs
	if err := k8s().Update(testCtx(t), &role); err != nil {
		t.Fatal(err)
	}
}

var cmVerbsNoDelete = []string{"get", "list", "watch", "create", "update", "patch"}

// TestImpersonationApply applies as spec.serviceAccountName: what its Role allows is applied,
// what it does not fails with a forbidden error naming the object and the account.
func TestImpersonationApply(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	configMapsOnly(t, ns, "deployer", cmVerbsNoDelete...)
	src, _ := gitRepo(t, ns, "repo", map[string]string{
		"cm.yaml":     cmYAML("allowed", nil),
		"secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: token\nstringData:\n  k: v\n",
	})
	newKustomization(t, ns, "app", src, "", func(ks *kustomizev1.Kustomization) { ks.Spec.ServiceAccountName = "deployer" })
	ks := waitReadyReason(t, ns, "app", metav1.ConditionFalse, reconciliationFailedReason, 20*time.Second)
	assertContains(t, "message", condition(ks, meta.ReadyCondition).Message,
		"Secret/"+ns+"/token", "forbidden", "system:serviceaccount:"+ns+":deployer")
	if getObj(t, "v1", "Secret", ns, "token") != nil {
		t.Error("the Secret was applied")
	}
	if getCM(t, ns, "allowed") == nil {
		t.Error("the allowed ConfigMap was not applied")
	}
}

// TestImpersonationPrune: a deletion the service account may not do fails the reconcile,
// keeps the object in the inventory and is retried until it is allowed.
func TestImpersonationPrune(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	configMapsOnly(t, ns, "deployer", cmVerbsNoDelete...)
	src, _ := gitRepo(t, ns, "repo", map[string]string{"a.yaml": cmYAML("a", nil), "b.yaml": cmYAML("b", nil)})
	newKustomization(t, ns, "app", src, "", func(ks *kustomizev1.Kustomization) { ks.Spec.ServiceAccountName = "deployer" })
	waitReady(t, ns, "app", 20*time.Second)

	publish(t, src, map[string]string{"a.yaml": cmYAML("a", nil)}, nil)
	ks := waitReadyReason(t, ns, "app", metav1.ConditionFalse, pruneFailedReason, 20*time.Second)
	assertContains(t, "message", condition(ks, meta.ReadyCondition).Message, "ConfigMap/"+ns+"/b", "forbidden")
	if ids := inventoryIDs(ks); !slices.Contains(ids, ns+"_b__ConfigMap") || !slices.Contains(ids, ns+"_a__ConfigMap") {
		t.Errorf("inventory %v must keep the object that was not deleted", ids)
	}
	if getCM(t, ns, "b") == nil {
		t.Fatal("b deleted without permission")
	}

	allowVerbs(t, ns, "deployer", append(cmVerbsNoDelete, "delete")...)
	ks = waitReady(t, ns, "app", 20*time.Second)
	if ids := inventoryIDs(ks); !sameSet(ids, []string{ns + "_a__ConfigMap"}) {
		t.Errorf("inventory = %v", ids)
	}
	if getCM(t, ns, "b") != nil {
		t.Error("b not pruned after the retry")
	}
}

// TestImpersonationFinalizer garbage-collects as the service account on deletion: while it
// may not delete, the Kustomization stays (finalizer) and its objects stay.
func TestImpersonationFinalizer(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	configMapsOnly(t, ns, "deployer", cmVerbsNoDelete...)
	src, _ := gitRepo(t, ns, "repo", map[string]string{"a.yaml": cmYAML("a", nil)})
	newKustomization(t, ns, "app", src, "", func(ks *kustomizev1.Kustomization) {
		ks.Spec.ServiceAccountName = "deployer"
		ks.Spec.DeletionPolicy = kustomizev1.DeletionPolicyDelete
	})
	waitReady(t, ns, "app", 20*time.Second)
	if err := k8s().Delete(testCtx(t), getKS(t, ns, "app")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	if !ksExists(t, ns, "app") || getCM(t, ns, "a") == nil {
		t.Fatal("deleted without the service account being allowed to")
	}
	allowVerbs(t, ns, "deployer", append(cmVerbsNoDelete, "delete")...)
	eventually(t, 20*time.Second, func() error {
		if ksExists(t, ns, "app") {
			return fmt.Errorf("Kustomization still exists")
		}
		return nil
	})
	if getCM(t, ns, "a") != nil {
		t.Error("ConfigMap a not garbage-collected")
	}
}

// TestImpersonationHealthChecksOtherNamespace: a tenant's spec.healthChecks cannot probe
// objects its service account may not read. Health is read from the controller's watch
// cache, so without a check as the tenant its status would tell whether another
// namespace's ConfigMap exists; the reconcile fails naming the check and the account, and
// the same check of its own namespace passes.
func TestImpersonationHealthChecksOtherNamespace(t *testing.T) {
	t.Parallel()
	ns, other := newNamespace(t), newNamespace(t)
	configMapsOnly(t, ns, "deployer", cmVerbsNoDelete...)
	if err := k8s().Create(testCtx(t), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: other, Name: "secret-plans"}}); err != nil {
		t.Fatal(err)
	}
	src, _ := gitRepo(t, ns, "repo", map[string]string{"cm.yaml": cmYAML("mine", nil)})
	check := func(namespace, name string) ksOpt {
		return func(ks *kustomizev1.Kustomization) {
			ks.Spec.ServiceAccountName = "deployer"
			ks.Spec.HealthChecks = []meta.NamespacedObjectKindReference{{APIVersion: "v1", Kind: "ConfigMap", Namespace: namespace, Name: name}}
		}
	}
	newKustomization(t, ns, "probe", src, "", check(other, "secret-plans"))
	newKustomization(t, ns, "own", src, "", check(ns, "mine"))
	ks := waitReadyReason(t, ns, "probe", metav1.ConditionFalse, healthCheckFailedReason, 20*time.Second)
	assertContains(t, "message", condition(ks, meta.ReadyCondition).Message,
		"spec.healthChecks[0] ConfigMap "+other+"/secret-plans", "system:serviceaccount:"+ns+":deployer", "forbidden")
	waitReady(t, ns, "own", 20*time.Second)
}
