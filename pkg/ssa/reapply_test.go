package ssa

// These tests pin that an object applied before, unchanged in the manifest and not written
// since, still goes through the API server's apply path every reconcile, as upstream's
// periodic dry-run apply does: its result depends on more than the object (the CRD's schema,
// admission, the applier's rights), so a reconcile must surface a change of any of them.
// They were written against an optimisation that replaced such applies by reads (reverted).

import (
	"context"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/pkg/inventory"
)

// TestReapplySurfacesCRDSchemaChange: the definition drops a field a custom resource still
// sets. The next apply of the unchanged custom resource fails ("field not declared in
// schema"), as upstream reports it.
func TestReapplySurfacesCRDSchemaChange(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	group := ns + ".test.gotk.dev"
	cr := `
apiVersion: GROUP/v1
kind: Widget
metadata:
  name: w1
  namespace: NS
spec:
  size: 3
  color: blue
`
	v1 := widgetCRD(group, "              color: {type: string}\n") + "---\n" + strings.ReplaceAll(cr, "GROUP", group)
	v2 := widgetCRD(group, "") + "---\n" + strings.ReplaceAll(cr, "GROUP", group)
	crdGVK := schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"}
	t.Cleanup(func() {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(crdGVK)
		u.SetName("widgets." + group)
		_ = cluster(t).Client.Delete(context.Background(), u)
	})
	c, cnt := countingClient(t, "")
	m := NewManager(c, testOwner)
	var inv *inventory.Inventory
	apply := func(mgr *Manager, manifests string) *ChangeSet {
		t.Helper()
		objs := objects(t, ns, manifests)
		cs, err := mgr.ApplyAllStaged(ctx, objs, ApplyOptions{WaitCRDs: 20 * time.Second, PreviousInventory: inv})
		if err != nil {
			t.Fatal(err)
		}
		inv = inventory.New(objs)
		return cs
	}
	apply(m, v1)
	time.Sleep(1100 * time.Millisecond)
	apply(m, v1)
	cnt.take()

	// The definition drops spec.color (an operator upgrade removing a deprecated field),
	// applied on its own first (by this Kustomization's previous revision, or by Helm / an
	// operator), and given time to be served.
	if _, err := m.ApplyAllStaged(ctx, objects(t, ns, v2)[:1], ApplyOptions{WaitCRDs: 20 * time.Second}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	cnt.take()
	objs := objects(t, ns, v2)
	cs, err := m.ApplyAllStaged(ctx, objs, ApplyOptions{WaitCRDs: 20 * time.Second, PreviousInventory: inv})
	t.Logf("requests: %v", cnt.take())
	if err == nil {
		t.Errorf("no error after the definition dropped spec.color (change set %v); an apply fails", actions(cs))
	}
}

// TestReapplySurfacesRevokedWrite: a service account that may no longer patch ConfigMaps
// (only read them): the next apply of the unchanged object fails with Forbidden.
func TestReapplySurfacesRevokedWrite(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	sa := grantServiceAccount(t, ns, []string{"configmaps"}, []string{"get", "list", "patch", "create"})
	c, _ := countingClient(t, sa)
	m := applySettings(t, c, ns)
	// Revoke write: get and list only.
	role := &rbacv1.Role{}
	if err := cluster(t).Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "applier"}, role); err != nil {
		t.Fatal(err)
	}
	role.Rules[0].Verbs = []string{"get", "list"}
	if err := cluster(t).Client.Update(ctx, role); err != nil {
		t.Fatal(err)
	}
	waitRefused(t, c, ns, settingsCM) // until the authorizer sees it
	cs, err := m.ApplyAllStaged(ctx, objects(t, ns, settingsCM), ApplyOptions{})
	if err == nil {
		t.Errorf("no error, change set %v; want the Forbidden an apply gets", actions(cs))
	}
}

// TestReapplySurfacesValidatingPolicy: a ValidatingAdmissionPolicy added after the last apply
// refuses the object: the next apply reports it, as upstream's does.
func TestReapplySurfacesValidatingPolicy(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	c, _ := countingClient(t, "")
	m := applySettings(t, c, ns)
	fail := admissionv1.Deny
	pol := &admissionv1.ValidatingAdmissionPolicy{ObjectMeta: metav1.ObjectMeta{Name: "no-blue-" + ns},
		Spec: admissionv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr.To(admissionv1.Fail),
			MatchConstraints: &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionv1.RuleWithOperations{Operations: []admissionv1.OperationType{"CREATE", "UPDATE"},
					Rule: admissionv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"configmaps"}}}}}},
			Validations: []admissionv1.Validation{{Expression: `!has(object.data) || !('color' in object.data) || object.data['color'] != 'blue'`, Message: "no blue"}},
		}}
	bind := &admissionv1.ValidatingAdmissionPolicyBinding{ObjectMeta: metav1.ObjectMeta{Name: "no-blue-" + ns},
		Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: pol.Name, ValidationActions: []admissionv1.ValidationAction{fail},
			MatchResources: &admissionv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns}}}}}
	for _, o := range []client.Object{pol, bind} {
		if err := cluster(t).Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cluster(t).Client.Delete(context.Background(), o) })
	}
	waitRefused(t, c, ns, settingsCM) // until the API server enforces the policy
	cs, err := m.ApplyAllStaged(ctx, objects(t, ns, settingsCM), ApplyOptions{})
	if err == nil {
		t.Errorf("no error, change set %v; want the policy's refusal", actions(cs))
	}
}

// TestReapplyGoesThroughMutatingPolicy: a MutatingAdmissionPolicy (or a webhook, a Kyverno
// mutate rule...) added after the last apply: the next apply brings its mutation, as
// upstream's does.
func TestReapplyGoesThroughMutatingPolicy(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	c, cnt := countingClient(t, "")
	m := applySettings(t, c, ns)
	for _, u := range objects(t, ns, `
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingAdmissionPolicy
metadata: {name: label-NS}
spec:
  matchConstraints:
    resourceRules:
    - apiGroups: [""]
      apiVersions: ["v1"]
      operations: ["CREATE", "UPDATE"]
      resources: ["configmaps"]
  failurePolicy: Fail
  reinvocationPolicy: Never
  mutations:
  - patchType: ApplyConfiguration
    applyConfiguration:
      expression: 'Object{metadata: Object.metadata{labels: {"team": "platform"}}}'
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingAdmissionPolicyBinding
metadata: {name: label-NS}
spec:
  policyName: label-NS
  matchResources:
    namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: NS}}
`) {
		if err := cluster(t).Client.Create(ctx, u); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cluster(t).Client.Delete(context.Background(), u) })
	}
	// Wait until the policy mutates (a dry-run apply, which leaves the object alone).
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		u := objects(t, ns, settingsCM)[0]
		if err := cluster(t).Client.Patch(ctx, u, client.Apply, client.FieldOwner("kustomize-controller"), client.ForceOwnership, client.DryRunAll); err != nil {
			t.Fatal(err)
		}
		if u.GetLabels()["team"] == "platform" {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	cnt.take()
	cs, err := m.ApplyAllStaged(ctx, objects(t, ns, settingsCM), ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("change set %v, requests %v", actions(cs), cnt.take())
	if got := live(t, configMapGVK, ns, "settings").GetLabels()["team"]; got != "platform" {
		t.Errorf("label team = %q after a reconcile, want platform (an apply goes through the policy)", got)
	}
}

// waitRefused waits until an apply of manifest by a new Manager is refused: changes to RBAC
// and admission take a moment to take effect.
func waitRefused(t *testing.T, c client.Client, ns, manifest string) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if _, err := NewManager(c, testOwner).ApplyAllStaged(context.Background(), objects(t, ns, manifest), ApplyOptions{}); err != nil {
			return
		}
	}
	t.Fatal("the change never took effect for a new Manager's apply")
}

// settingsCM is the ConfigMap the admission and RBAC tests apply.
const settingsCM = `
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: NS}
data: {color: blue}
`

// applySettings applies settingsCM in ns through c and returns the Manager that did.
func applySettings(t *testing.T, c client.Client, ns string) *Manager {
	t.Helper()
	m := NewManager(c, testOwner)
	if _, err := m.ApplyAllStaged(context.Background(), objects(t, ns, settingsCM), ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	return m
}
