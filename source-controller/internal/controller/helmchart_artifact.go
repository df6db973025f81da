package controller

import (
	"context"

	"gotk.dev/pkg/events"
	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"

	"gotk.dev/source-controller/internal/helm/chart"
)

// reconcileArtifact records the chart the build step stored or linked: the
// artifact revision is the chart version, status.observedChartName, observedValuesFiles and
// observedSourceArtifactRevision follow the build. A current chart changes nothing but the
// observed source revision (a new index that did not change the chart version).
func (r *HelmChartReconciler) reconcileArtifact(ctx context.Context, s *helmChartScope) (reconcile.Result, error) {
	obj := s.obj
	obj.Status.ObservedSourceArtifactRevision = s.sourceRevision()
	if s.upToDate {
		if c := reconcile.GetCondition(obj, sourcev1.ArtifactInStorageCondition); c != nil {
			return reconcile.Result{Reason: c.Reason, Message: c.Message}, nil
		}
		return reconcile.Done(readyMessage(obj.Status.Artifact.Revision, nil)), nil
	}
	b, a := s.build, s.linked
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
