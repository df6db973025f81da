package controller

import (
	"context"
	"fmt"

	"github.com/fluxcd/pkg/apis/meta"

	"gotk.dev/pkg/artifact"
	"gotk.dev/pkg/events"
	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// reconcileArtifact archives the downloaded objects as the artifact of the index revision,
// or keeps the stored one when the bucket did not change.
func (r *BucketReconciler) reconcileArtifact(ctx context.Context, s *bucketScope) (reconcile.Result, error) {
	obj := s.obj
	revision := s.index.Revision()
	if s.upToDate {
		return reconcile.Done(readyMessage(obj.Status.Artifact.Revision, nil)), nil
	}
	ref := artifact.ObjectRef{Kind: sourcev1.BucketKind, Namespace: obj.Namespace, Name: obj.Name}
	unlock := r.Storage.Lock(ref)
	defer unlock()
	// The objects are already selected (prefix, ignore rules): everything downloaded goes in.
	a, err := r.Storage.ArchiveDir(ctx, ref, s.workDir, nil)
	if err != nil {
		reconcile.MarkTrue(obj, sourcev1.StorageOperationFailedCondition, sourcev1.ArchiveOperationFailedReason, err.Error())
		return reconcile.Result{}, reconcile.Fail(sourcev1.ArchiveOperationFailedReason, fmt.Errorf("failed to archive revision '%s': %w", revision, err))
	}
	a.Revision = revision
	previous := obj.Status.Artifact
	obj.Status.Artifact = a
	obj.Status.ObservedIgnore = obj.Spec.Ignore
	setBucketURL(obj)
	reconcile.MarkTrue(obj, sourcev1.ArtifactInStorageCondition, meta.SucceededReason,
		fmt.Sprintf("stored artifact for revision '%s'", revision))
	if previous == nil || previous.Revision != a.Revision || previous.Digest != a.Digest {
		r.events.Event(obj, events.SeverityInfo, sourcev1.NewArtifactReason,
			fmt.Sprintf("stored artifact with %d fetched files from '%s' bucket", s.index.Len(), obj.Spec.BucketName),
			map[string]string{
				sourcev1.GroupVersion.Group + "/revision": a.Revision,
				sourcev1.GroupVersion.Group + "/digest":   a.Digest,
			})
	}
	return reconcile.Done(readyMessage(revision, nil)), nil
}
