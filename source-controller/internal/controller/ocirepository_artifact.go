package controller

import (
	"context"
	"fmt"
	"os"

	"github.com/fluxcd/pkg/apis/meta"

	"gotk.dev/pkg/artifact"
	"gotk.dev/pkg/events"
	"gotk.dev/pkg/reconcile"
	"gotk.dev/pkg/tarball"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// reconcileArtifact pulls the resolved artifact and stores it: the selected layer is extracted
// and re-packed with the ignore rules applied, or copied as it is.
func (r *OCIRepositoryReconciler) reconcileArtifact(ctx context.Context, s *ociScope) (reconcile.Result, error) {
	if err := r.storeArtifact(ctx, s); err != nil {
		return reconcile.Result{}, err
	}
	setDownloadURL(s.obj)
	return reconcile.Done(readyMessage(s.obj.Status.Artifact.Revision, nil)), nil
}

func (r *OCIRepositoryReconciler) storeArtifact(ctx context.Context, s *ociScope) error {
	obj := s.obj
	if s.upToDate {
		return nil
	}
	ref := artifact.ObjectRef{Kind: sourcev1.OCIRepositoryKind, Namespace: obj.Namespace, Name: obj.Name}
	unlock := r.Storage.Lock(ref)
	defer unlock()

	key := buildKey(s.resolved.Digest, obj.Spec.LayerSelector, obj.Spec.Ignore)
	a, metadata, err := r.linkBuilt(ref, key)
	if err != nil {
		return err
	}
	if a == nil {
		if a, metadata, err = r.pullAndStore(ctx, s, ref); err != nil {
			return err
		}
		r.built.put(key, builtArtifact{digest: a.Digest, metadata: metadata})
	}
	a.Revision = s.revision
	a.Metadata = metadata
	previous := obj.Status.Artifact
	obj.Status.Artifact = a
	obj.Status.ObservedIgnore = obj.Spec.Ignore
	obj.Status.ObservedLayerSelector = obj.Spec.LayerSelector.DeepCopy()
	reconcile.MarkTrue(obj, sourcev1.ArtifactInStorageCondition, meta.SucceededReason,
		fmt.Sprintf("stored artifact for revision '%s'", a.Revision))
	if previous == nil || previous.Revision != a.Revision || previous.Digest != a.Digest {
		msg := fmt.Sprintf("stored artifact with revision '%s' from '%s'", a.Revision, obj.Spec.URL)
		if src, rev := metadata[sourcev1.OCISourceAnnotation], metadata[sourcev1.OCIRevisionAnnotation]; src != "" && rev != "" {
			msg += fmt.Sprintf(", origin source '%s', origin revision '%s'", src, rev)
		}
		r.events.Event(obj, events.SeverityInfo, sourcev1.NewArtifactReason, msg, map[string]string{
			sourcev1.GroupVersion.Group + "/revision": a.Revision,
			sourcev1.GroupVersion.Group + "/digest":   a.Digest,
		})
	}
	return nil
}

// linkBuilt reuses a blob another object already built from the same artifact and settings.
func (r *OCIRepositoryReconciler) linkBuilt(ref artifact.ObjectRef, key string) (*meta.Artifact, map[string]string, error) {
	b, ok := r.built.get(key)
	if !ok {
		return nil, nil, nil
	}
	a, err := r.Storage.LinkBlob(ref, b.digest)
	if err != nil {
		// The blob was collected meanwhile: build it again.
		r.built.forget(key)
		return nil, nil, nil
	}
	return a, b.metadata, nil
}

// pullAndStore downloads the selected layer and stores it as the object's artifact.
func (r *OCIRepositoryReconciler) pullAndStore(ctx context.Context, s *ociScope, ref artifact.ObjectRef) (*meta.Artifact, map[string]string, error) {
	obj := s.obj
	sel := obj.Spec.LayerSelector
	if sel == nil {
		sel = &sourcev1.OCILayerSelector{}
	}
	pulled, err := s.client.Pull(ctx, s.repoURL, s.resolved.Digest, ociLayerSelector(sel))
	if err != nil {
		return nil, nil, failOCIFetch(obj, reconcile.Fail(sourcev1.OCIPullFailedReason,
			fmt.Errorf("failed to pull artifact from '%s': %w", obj.Spec.URL, err)))
	}
	defer pulled.Layer.Close()
	if pulled.Operation == sourcev1.OCILayerCopy {
		a, err := r.Storage.StoreReader(ctx, ref, pulled.Layer, ".tar.gz")
		if err != nil {
			reconcile.MarkTrue(obj, sourcev1.StorageOperationFailedCondition, sourcev1.ArchiveOperationFailedReason, err.Error())
			return nil, nil, reconcile.Fail(sourcev1.ArchiveOperationFailedReason, fmt.Errorf("failed to store layer: %w", err))
		}
		return a, pulled.Annotations, nil
	}
	dir, err := os.MkdirTemp(r.TmpDir, fmt.Sprintf("ocirepository-%s-%s-", obj.Namespace, obj.Name))
	if err != nil {
		return nil, nil, reconcile.Fail(sourcev1.DirCreationFailedReason, err)
	}
	s.workDir = dir
	if err := pulled.ExtractTo(dir, tarball.ExtractOptions{MaxSize: r.MaxArtifactSize}); err != nil {
		// As upstream: a layer that cannot be extracted is a fetch failure of reason
		// OCIArtifactLayerOperationFailed.
		err = fmt.Errorf("failed to extract layer %s of '%s': %w", pulled.LayerDigest, s.revision, err)
		return nil, nil, failOCIFetch(obj, reconcile.Fail(sourcev1.OCILayerOperationFailedReason, err))
	}
	filter, _, err := newArtifactFilter(dir, obj.Spec.Ignore)
	if err != nil {
		reconcile.MarkTrue(obj, sourcev1.BuildFailedCondition, "IgnoreRulesInvalid", err.Error())
		return nil, nil, reconcile.Stall("IgnoreRulesInvalid", err)
	}
	a, err := r.Storage.ArchiveDir(ctx, ref, dir, filter)
	if err != nil {
		reconcile.MarkTrue(obj, sourcev1.StorageOperationFailedCondition, sourcev1.ArchiveOperationFailedReason, err.Error())
		return nil, nil, reconcile.Fail(sourcev1.ArchiveOperationFailedReason, fmt.Errorf("failed to archive '%s': %w", s.revision, err))
	}
	return a, pulled.Annotations, nil
}

func buildKey(digest string, sel *sourcev1.OCILayerSelector, ignore *string) string {
	k := digest
	if sel != nil {
		k += "|" + sel.MediaType + "|" + sel.Operation
	}
	if ignore != nil {
		k += "|" + *ignore
	}
	return k
}

// builtArtifact is a stored blob and the manifest annotations it came with.
type builtArtifact struct {
	digest   string
	metadata map[string]string
}
