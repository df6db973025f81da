package controller

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	v2 "gotk.dev/helm-controller/api/v2"
	"gotk.dev/pkg/events"
	"gotk.dev/pkg/reconcile"
	"gotk.dev/pkg/ssa"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

const (
	accessDeniedReason   = "AccessDenied"
	artifactFailedReason = v2.ArtifactFailedReason
)

// reconcileChartTemplate keeps the HelmChart of spec.chart (named <namespace>-<name>, in
// the namespace of its sourceRef) as the template says, server-side applied and labelled
// with the HelmRelease it belongs to, and records it in status.helmChart. A HelmChart the
// HelmRelease no longer asks for (spec.chartRef now, or another namespace) is deleted.
func (r *HelmReleaseReconciler) reconcileChartTemplate(ctx context.Context, s *scope) (reconcile.Result, error) {
	obj := s.obj
	if !obj.HasChartTemplate() {
		return reconcile.Result{}, r.deleteHelmChart(ctx, obj)
	}
	ns := chartTemplateNamespace(obj)
	if r.opts.NoCrossNamespaceRefs && ns != obj.Namespace {
		return reconcile.Result{}, reconcile.Stall(accessDeniedReason, fmt.Errorf("can't access '%s', cross-namespace references have been blocked (--no-cross-namespace-refs)",
			objRef(sourcev1.HelmChartKind, ns, obj.GetHelmChartName())))
	}
	ref := types.NamespacedName{Namespace: ns, Name: obj.GetHelmChartName()}
	if obj.Status.HelmChart != "" && obj.Status.HelmChart != ref.String() {
		if err := r.deleteHelmChart(ctx, obj); err != nil {
			return reconcile.Result{}, err
		}
	}
	u, err := helmChartFromTemplate(obj)
	if err != nil {
		return reconcile.Result{}, err
	}
	m := ssa.NewManager(r.Client, ssa.Owner{Field: controllerName, Group: v2.GroupName})
	cs, err := m.ApplyAllStaged(ctx, []*unstructured.Unstructured{u}, ssa.ApplyOptions{})
	if err != nil {
		return reconcile.Result{}, reconcile.Fail(artifactFailedReason, fmt.Errorf("failed to apply %s: %w", objRef(sourcev1.HelmChartKind, ns, ref.Name), err))
	}
	if len(cs.Entries) == 1 {
		switch a := cs.Entries[0].Action; a {
		case ssa.Created, ssa.Configured:
			verb := strings.ToUpper(string(a[:1])) + string(a[1:])
			r.events.Event(obj, events.SeverityInfo, "HelmChart"+verb,
				fmt.Sprintf("%s %s with SourceRef '%s'", verb, objRef(sourcev1.HelmChartKind, ns, ref.Name),
					objRef(obj.Spec.Chart.Spec.SourceRef.Kind, ns, obj.Spec.Chart.Spec.SourceRef.Name)), nil)
		}
	}
	obj.Status.HelmChart = ref.String()
	// The apply response is the HelmChart as it is now; the cache may not have seen it yet
	// (just created), and the source step falls back to it.
	applied := &sourcev1.HelmChart{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, applied); err == nil {
		s.templateChart = applied
	}
	return reconcile.Result{}, nil
}

// chartTemplateNamespace is where the HelmChart of spec.chart lives: the namespace of its
// sourceRef, by default the HelmRelease's.
func chartTemplateNamespace(obj *v2.HelmRelease) string {
	if ns := obj.Spec.Chart.Spec.SourceRef.Namespace; ns != "" {
		return ns
	}
	return obj.Namespace
}

// helmChartFromTemplate builds the HelmChart spec.chart describes.
func helmChartFromTemplate(obj *v2.HelmRelease) (*unstructured.Unstructured, error) {
	tpl := obj.Spec.Chart
	interval := obj.Spec.Interval
	if tpl.Spec.Interval != nil {
		interval = *tpl.Spec.Interval
	}
	hc := &sourcev1.HelmChart{
		TypeMeta: metav1.TypeMeta{APIVersion: sourcev1.GroupVersion.String(), Kind: sourcev1.HelmChartKind},
		ObjectMeta: metav1.ObjectMeta{
			Name:      obj.GetHelmChartName(),
			Namespace: chartTemplateNamespace(obj),
		},
		Spec: sourcev1.HelmChartSpec{
			Chart:                    tpl.Spec.Chart,
			Version:                  tpl.Spec.Version,
			SourceRef:                sourcev1.LocalHelmChartSourceReference{Kind: tpl.Spec.SourceRef.Kind, Name: tpl.Spec.SourceRef.Name},
			Interval:                 interval,
			ReconcileStrategy:        tpl.Spec.ReconcileStrategy,
			ValuesFiles:              tpl.Spec.ValuesFiles,
			IgnoreMissingValuesFiles: tpl.Spec.IgnoreMissingValuesFiles,
		},
	}
	if v := tpl.Spec.Verify; v != nil {
		hc.Spec.Verify = &sourcev1.OCIVerification{Provider: v.Provider, SecretRef: v.SecretRef}
	}
	if m := tpl.ObjectMeta; m != nil {
		hc.Labels, hc.Annotations = copyMap(m.Labels), copyMap(m.Annotations)
	}
	if hc.Labels == nil {
		hc.Labels = map[string]string{}
	}
	hc.Labels[v2.NameLabel], hc.Labels[v2.NamespaceLabel] = obj.Name, obj.Namespace
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(hc)
	if err != nil {
		return nil, err
	}
	delete(m, "status")
	unstructured.RemoveNestedField(m, "metadata", "creationTimestamp")
	return &unstructured.Unstructured{Object: m}, nil
}

// deleteHelmChart deletes the HelmChart status.helmChart records (gone already is fine)
// and forgets it.
func (r *HelmReleaseReconciler) deleteHelmChart(ctx context.Context, obj *v2.HelmRelease) error {
	ns, name := obj.Status.GetHelmChart()
	if name == "" {
		return nil
	}
	hc := &sourcev1.HelmChart{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if err := r.Delete(ctx, hc); err != nil && !apierrors.IsNotFound(err) {
		return reconcile.Fail(artifactFailedReason, fmt.Errorf("failed to delete HelmChart '%s': %w", obj.Status.HelmChart, err))
	} else if err == nil {
		r.events.Event(obj, events.SeverityInfo, "HelmChartDeleted", fmt.Sprintf("deleted HelmChart '%s'", obj.Status.HelmChart), nil)
	}
	obj.Status.HelmChart = ""
	return nil
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
