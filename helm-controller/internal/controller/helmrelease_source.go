package controller

import (
	"context"
	"fmt"

	"github.com/fluxcd/pkg/apis/meta"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v2 "gotk.dev/helm-controller/api/v2"
	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// sourceNotReadyReason is upstream's Ready reason while the chart's source has no artifact.
const sourceNotReadyReason = "SourceNotReady"

// sourceObject is a source kind helm-controller reads charts from.
type sourceObject interface {
	client.Object
	sourcev1.Source
	GetConditions() []metav1.Condition
}

// getSource reads the source of the chart (from the cache): the HelmChart of spec.chart,
// or spec.chartRef (an OCIRepository or HelmChart, cross-namespace unless
// --no-cross-namespace-refs), and waits until it has an artifact for its current spec.
func (r *HelmReleaseReconciler) getSource(ctx context.Context, s *scope) (reconcile.Result, error) {
	obj := s.obj
	var kind, ns, name string
	switch {
	case obj.HasChartTemplate() && obj.HasChartRef():
		return reconcile.Result{}, reconcile.Stall(v2.InitFailedReason, fmt.Errorf("spec.chart and spec.chartRef are mutually exclusive: set one of them"))
	case obj.HasChartTemplate():
		kind, ns, name = sourcev1.HelmChartKind, chartTemplateNamespace(obj), obj.GetHelmChartName()
	case obj.HasChartRef():
		kind, ns, name = obj.Spec.ChartRef.Kind, obj.Spec.ChartRef.Namespace, obj.Spec.ChartRef.Name
		if ns == "" {
			ns = obj.Namespace
		}
		if r.opts.NoCrossNamespaceRefs && ns != obj.Namespace {
			return reconcile.Result{}, reconcile.Stall(accessDeniedReason, fmt.Errorf("can't access '%s', cross-namespace references have been blocked (--no-cross-namespace-refs)", objRef(kind, ns, name)))
		}
	default:
		return reconcile.Result{}, reconcile.Stall(v2.InitFailedReason, fmt.Errorf("one of spec.chart or spec.chartRef must be set"))
	}
	var src sourceObject
	switch kind {
	case sourcev1.HelmChartKind:
		src = &sourcev1.HelmChart{}
	case sourcev1.OCIRepositoryKind:
		src = &sourcev1.OCIRepository{}
	default:
		return reconcile.Result{}, reconcile.Stall(artifactFailedReason, fmt.Errorf("spec.chartRef.kind '%s' is not supported: can be OCIRepository or HelmChart", kind))
	}
	err := r.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, src)
	if apierrors.IsNotFound(err) && obj.HasChartTemplate() && s.templateChart != nil {
		// Just created by the template step: the cache has not caught up with it yet.
		src, err = s.templateChart, nil
	}
	switch {
	case apierrors.IsNotFound(err):
		return reconcile.Result{}, reconcile.Wait(artifactFailedReason, fmt.Errorf("could not get Source object: %s not found", objRef(kind, ns, name)), 0)
	case err != nil:
		return reconcile.Result{}, reconcile.Fail(artifactFailedReason, fmt.Errorf("could not get Source object %s: %w", objRef(kind, ns, name), err))
	}
	if msg, ready := sourceReady(src, kind); !ready {
		// The source's watch wakes the HelmRelease when the artifact arrives.
		return reconcile.Result{}, reconcile.Wait(sourceNotReadyReason, fmt.Errorf("%s", msg), obj.GetRequeueAfter())
	}
	s.source, s.artifact = src, src.GetArtifact()
	return reconcile.Result{}, nil
}

// sourceReady tells, as upstream does, whether a source's artifact is the one of its current
// spec: observed generation current, not stalled, with an artifact.
func sourceReady(src sourceObject, kind string) (string, bool) {
	ref := fmt.Sprintf("%s '%s/%s'", kind, src.GetNamespace(), src.GetName())
	conds := src.GetConditions()
	var observed int64
	switch o := src.(type) {
	case *sourcev1.HelmChart:
		observed = o.Status.ObservedGeneration
	case *sourcev1.OCIRepository:
		observed = o.Status.ObservedGeneration
	}
	switch {
	case src.GetGeneration() != observed:
		msg := "latest generation of object has not been reconciled"
		if c := apimeta.FindStatusCondition(conds, meta.ReadyCondition); c != nil && c.Status == metav1.ConditionFalse {
			msg = c.Message
		}
		return fmt.Sprintf("%s is not ready: %s", ref, msg), false
	case apimeta.IsStatusConditionTrue(conds, meta.StalledCondition):
		return fmt.Sprintf("%s is not ready: %s", ref, apimeta.FindStatusCondition(conds, meta.StalledCondition).Message), false
	case src.GetArtifact() == nil:
		return fmt.Sprintf("%s is not ready: does not have an artifact", ref), false
	}
	return "", true
}
