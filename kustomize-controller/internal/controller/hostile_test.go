package controller

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	"gotk.dev/pkg/reconcile"
)

// TestOverflowingDuration: a Kustomization whose interval matches the CRD's pattern but does
// not fit a duration stalls on its own, with a condition naming the field; the Kustomizations
// beside it (created after it, so the controller's cache must have read past it) reconcile.
func TestOverflowingDuration(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	src, _ := gitRepo(t, ns, "repo", map[string]string{"cm.yaml": cmYAML("healthy", nil)})
	bad := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": kustomizev1.GroupVersion.String(), "kind": kustomizev1.KustomizationKind,
		"metadata": map[string]any{"name": "overflow", "namespace": ns},
		"spec": map[string]any{
			"interval": "9999999999999999999h", "path": "./", "prune": true,
			"sourceRef": map[string]any{"kind": "GitRepository", "name": src.GetName()},
		},
	}}
	if err := k8s().Create(testCtx(t), bad); err != nil {
		t.Fatalf("the API server refused the overflowing interval: %v", err)
	}
	newKustomization(t, ns, "healthy", src, "./")
	waitReady(t, ns, "healthy", 30*time.Second)
	eventually(t, 30*time.Second, func() error {
		if err := k8s().Get(testCtx(t), client.ObjectKeyFromObject(bad), bad); err != nil {
			return err
		}
		return stalledOn(bad, "spec.interval")
	})
}

// stalledOn checks that an object read as unstructured is Stalled with InvalidSpec naming
// field.
func stalledOn(u *unstructured.Unstructured, field string) error {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == meta.StalledCondition && m["status"] == "True" && m["reason"] == reconcile.InvalidSpecReason &&
			strings.Contains(fmt.Sprint(m["message"]), field) {
			return nil
		}
	}
	return fmt.Errorf("%s/%s: conditions %v, want Stalled/InvalidSpec naming %s", u.GetNamespace(), u.GetName(), conds, field)
}
