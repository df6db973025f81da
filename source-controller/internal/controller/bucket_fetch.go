package controller

import (
	"context"
	"fmt"
	"os"

	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"

	"gotk.dev/source-controller/internal/bucket"
)

// reconcileSource lists the bucket and computes the revision from the selected keys and
// their ETags. When the stored artifact has that revision and the ignore rules did not
// change, nothing is downloaded; otherwise the objects go into a fresh working directory.
func (r *BucketReconciler) reconcileSource(ctx context.Context, s *bucketScope) (reconcile.Result, error) {
	obj := s.obj
	cfg, err := bucket.ConfigFor(ctx, obj, func(ctx context.Context, name string) (map[string][]byte, error) {
		return secretData(ctx, r.Client, obj.Namespace, name)
	}, r.CloudLogins)
	if err != nil {
		return reconcile.Result{}, failBucketFetch(obj, err)
	}
	c, err := bucket.Open(ctx, cfg)
	if err != nil {
		return reconcile.Result{}, failBucketFetch(obj, err)
	}
	defer c.Close()
	idx, err := c.Index(ctx)
	if err != nil {
		return reconcile.Result{}, failBucketFetch(obj, err)
	}
	s.index = idx
	if a := obj.Status.Artifact; a != nil {
		if idx.UpToDate(a) && equalStringPtr(obj.Status.ObservedIgnore, obj.Spec.Ignore) {
			s.upToDate = true
			return reconcile.Result{}, nil
		}
		reconcile.MarkTrue(obj, sourcev1.ArtifactOutdatedCondition, sourcev1.NewRevisionReason,
			fmt.Sprintf("new upstream revision '%s'", idx.Revision()))
	}
	dir, err := os.MkdirTemp(r.TmpDir, fmt.Sprintf("bucket-%s-%s-", obj.Namespace, obj.Name))
	if err != nil {
		return reconcile.Result{}, reconcile.Fail(sourcev1.DirCreationFailedReason, fmt.Errorf("failed to create temporary working directory: %w", err))
	}
	s.workDir = dir
	opts := bucket.DownloadOptions{}
	if r.MaxArtifactSize > 0 {
		opts.MaxTotalSize, opts.MaxObjectSize = r.MaxArtifactSize, r.MaxArtifactSize
	}
	if err := c.Download(ctx, idx, dir, opts); err != nil {
		return reconcile.Result{}, failBucketFetch(obj, err)
	}
	return reconcile.Result{}, nil
}

// failBucketFetch marks FetchFailed=True with the error's reason; errors only a spec change
// can fix stall, the others (the service, credentials in a Secret) are retried.
func failBucketFetch(obj *sourcev1.Bucket, err error) error {
	reason := bucket.ReasonOf(err)
	if bucket.IsStalled(err) {
		err = reconcile.Stall(reason, err)
	} else {
		err = reconcile.Fail(reason, err)
	}
	reconcile.MarkTrue(obj, sourcev1.FetchFailedCondition, reason, err.Error())
	return err
}
