package controller

import (
	"bytes"
	"context"

	"gotk.dev/pkg/artifact"
	"gotk.dev/pkg/events"
	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"

	"gotk.dev/source-controller/internal/helm/chart"
)

// reconcileArtifact stores the built chart (or takes the linked one) and records it: the
// artifact revision is the chart version, status.observedChartName, observedValuesFiles and
// observedSourceArtifactRevision follow the build. A current chart changes nothing but the
// observed source revision (a new index that did not change the chart version).
func (r *HelmChartReconciler) reconcileArtifact(ctx context.Context, s *helmChartScope) (reconcile.Result, error) {
	obj := s.obj
	obj.Status.ObservedSourceArtifactRevision = s.sourceRevision()
	if s.upToDate {
		c := reconcile.GetCondition(obj, sourcev1.ArtifactInStorageCondition)
		return reconcile.Result{Reason: c.Reason, Message: c.Message}, nil
	}
	b, a := s.build, s.linked
	if a == nil {
		ref := artifact.ObjectRef{Kind: sourcev1.HelmChartKind, Namespace: obj.Namespace, Name: obj.Name}
		unlock := r.Storage.Lock(ref)
		stored, err := r.Storage.StoreReader(ctx, ref, bytes.NewReader(b.Data), ".tgz")
		unlock()
		if err != nil {
			reconcile.MarkTrue(obj, sourcev1.StorageOperationFailedCondition, sourcev1.ArchiveOperationFailedReason, err.Error())
			return reconcile.Result{}, reconcile.Fail(sourcev1.ArchiveOperationFailedReason, err)
		}
		a = stored
		if s.memoKey != "" {
			memo := *b
			memo.Data = nil
			r.built.put(s.memoKey, builtChart{digest: a.Digest, build: memo})
		}
	}
	a.Revision = b.Version
	previous := obj.Status.Artifact
	obj.Status.Artifact = a
	obj.Status.ObservedChartName = b.Name
	obj.Status.ObservedValuesFiles = b.ValuesFiles
	setHelmChartURL(obj)
	reason := buildReason(b)
	reconcile.MarkTrue(obj, sourcev1.ArtifactInStorageCondition, reason, b.Summary())
	if previous == nil || previous.Revision != a.Revision || previous.Digest != a.Digest {
		r.events.Event(obj, events.SeverityInfo, reason, b.Summary(), map[string]string{
			sourcev1.GroupVersion.Group + "/revision": a.Revision,
			sourcev1.GroupVersion.Group + "/digest":   a.Digest,
		})
	}
	return reconcile.Result{Reason: reason, Message: b.Summary()}, nil
}

// buildReason is upstream's reason for the Ready and ArtifactInStorage conditions and the
// event of a new chart: ChartPackageSucceeded when packaged here, ChartPullSucceeded when
// stored as pulled.
func buildReason(b *chart.Build) string {
	if b.Packaged {
		return sourcev1.ChartPackageSucceededReason
	}
	return sourcev1.ChartPullSucceededReason
}
