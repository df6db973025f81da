package controller

import (
	"context"
	"fmt"

	"github.com/fluxcd/pkg/apis/meta"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/pkg/artifact"
	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// artifactHolder is a source kind whose status records an artifact.
type artifactHolder interface {
	client.Object
	GetArtifact() *meta.Artifact
	SetArtifact(*meta.Artifact)
	GetConditions() []metav1Condition
	SetConditions([]metav1Condition)
}

// reconcileStorage is every source kind's first step: it checks that the recorded artifact is
// still in storage and intact (a missing or corrupted file is dropped from the status so the
// next steps rebuild it; it is never served), refreshes its URL for the current advertised
// address, and collects old artifacts of the object.
func reconcileStorage(ctx context.Context, storage *artifact.Storage, obj artifactHolder, kind string) {
	if a := checkStoredArtifact(ctx, storage, obj, kind); a != nil {
		reconcile.MarkTrue(obj, sourcev1.ArtifactInStorageCondition, meta.SucceededReason,
			fmt.Sprintf("stored artifact for revision '%s'", a.Revision))
	}
}

// checkStoredArtifact does reconcileStorage's work except for the ArtifactInStorage message,
// for kinds whose message describes the build (HelmChart), and returns the artifact still
// recorded (nil when there is none).
func checkStoredArtifact(ctx context.Context, storage *artifact.Storage, obj artifactHolder, kind string) *meta.Artifact {
	ref := artifact.ObjectRef{Kind: kind, Namespace: obj.GetNamespace(), Name: obj.GetName()}
	a := obj.GetArtifact()
	if a == nil {
		reconcile.DeleteCondition(obj, sourcev1.ArtifactInStorageCondition)
		return nil
	}
	if err := storage.Verify(a); err != nil {
		ctrl.LoggerFrom(ctx).Info("stored artifact is missing or corrupt, rebuilding it", "path", a.Path, "reason", err.Error())
		obj.SetArtifact(nil)
		reconcile.DeleteCondition(obj, sourcev1.ArtifactInStorageCondition)
		return nil
	}
	storage.SetArtifactURL(a)
	if deleted, err := storage.GarbageCollect(ref, a); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "garbage collection of old artifacts failed")
	} else if len(deleted) > 0 {
		ctrl.LoggerFrom(ctx).V(1).Info("garbage collected old artifacts", "files", deleted)
	}
	return a
}
