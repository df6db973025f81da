package controller

import (
	"bytes"
	"context"
	"fmt"

	"github.com/fluxcd/pkg/apis/meta"

	"gotk.dev/pkg/artifact"
	"gotk.dev/pkg/events"
	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"

	"gotk.dev/source-controller/internal/helm/indexcache"
)

// reconcileArtifact stores the normalised index as the artifact (its revision and digest are
// both the index digest) and hands the parsed index to the cache the HelmCharts read. An
// unchanged index stores nothing and changes no status.
func (r *HelmRepositoryReconciler) reconcileArtifact(ctx context.Context, s *helmRepoScope) (reconcile.Result, error) {
	obj, idx := s.obj, s.index
	key := indexcache.Key{Repository: obj.Namespace + "/" + obj.Name, Revision: idx.Revision}
	if s.upToDate {
		// Parsed anyway: keep it warm for the charts (after a restart the cache is empty).
		r.IndexCache.Set(key, idx.File)
		return reconcile.Done(readyMessage(idx.Revision, nil)), nil
	}
	ref := artifact.ObjectRef{Kind: sourcev1.HelmRepositoryKind, Namespace: obj.Namespace, Name: obj.Name}
	unlock := r.Storage.Lock(ref)
	defer unlock()
	a, err := r.Storage.StoreReader(ctx, ref, bytes.NewReader(idx.JSON), ".yaml")
	if err != nil {
		reconcile.MarkTrue(obj, sourcev1.StorageOperationFailedCondition, sourcev1.ArchiveOperationFailedReason, err.Error())
		return reconcile.Result{}, reconcile.Fail(sourcev1.ArchiveOperationFailedReason, err)
	}
	a.Revision = idx.Revision
	previous := obj.Status.Artifact
	obj.Status.Artifact = a
	setHelmRepositoryURL(obj)
	reconcile.MarkTrue(obj, sourcev1.ArtifactInStorageCondition, meta.SucceededReason,
		fmt.Sprintf("stored artifact for revision '%s'", a.Revision))
	r.IndexCache.Set(key, idx.File)
	if previous == nil || previous.Revision != a.Revision || previous.Digest != a.Digest {
		r.events.Event(obj, events.SeverityInfo, sourcev1.NewArtifactReason,
			fmt.Sprintf("fetched index of size %s from '%s'", humanSize(idx.FetchedSize), obj.Spec.URL),
			map[string]string{
				sourcev1.GroupVersion.Group + "/revision": a.Revision,
				sourcev1.GroupVersion.Group + "/digest":   a.Digest,
			})
	}
	return reconcile.Done(readyMessage(a.Revision, nil)), nil
}

// humanSize writes a byte count the way upstream's events do (decimal units, two decimals:
// "30.88kB").
func humanSize(n int64) string {
	units := []string{"B", "kB", "MB", "GB", "TB"}
	v, i := float64(n), 0
	for v >= 1000 && i < len(units)-1 {
		v /= 1000
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%dB", n)
	}
	return fmt.Sprintf("%.2f%s", v, units[i])
}
