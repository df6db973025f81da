package controller

import (
	"context"

	helmrelease "helm.sh/helm/v3/pkg/release"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	ctrl "sigs.k8s.io/controller-runtime"

	v2 "gotk.dev/helm-controller/api/v2"
	"gotk.dev/helm-controller/internal/drift"
	"gotk.dev/helm-controller/internal/release"
	"gotk.dev/pkg/inventory"
)

// recordInventory sets status.inventory to the objects of the current release: those of its
// manifest and the CRDs of the chart's crds/ directories (hooks are not part of a release).
// flux tree reads it. An absent or uninstalled release has none.
func (r *HelmReleaseReconciler) recordInventory(ctx context.Context, s *scope, res release.Result) {
	cur := res.Current
	if cur == nil || cur.Info == nil || cur.Info.Status == helmrelease.StatusUninstalled {
		s.obj.Status.Inventory = nil
		return
	}
	objs, err := r.manifestObjects(s, cur.Manifest)
	if err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "cannot list the objects of the release for status.inventory")
		return
	}
	if s.chart != nil {
		for _, crd := range s.chart.CRDObjects() {
			docs, err := drift.Objects(string(crd.File.Data), "")
			if err != nil {
				continue
			}
			for _, d := range docs {
				d.SetNamespace("")
				objs = append([]*unstructured.Unstructured{d}, objs...)
			}
		}
	}
	inv := inventory.New(objs)
	out := &v2.ResourceInventory{Entries: make([]v2.ResourceRef, 0, len(inv.Entries))}
	for _, e := range inv.Entries {
		out.Entries = append(out.Entries, v2.ResourceRef{ID: e.ID, Version: e.Version})
	}
	s.obj.Status.Inventory = out
}
