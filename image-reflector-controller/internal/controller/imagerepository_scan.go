package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	ctrl "sigs.k8s.io/controller-runtime"

	imagev1 "gotk.dev/image-reflector-controller/api/v1"
	"gotk.dev/image-reflector-controller/internal/registry"
	"gotk.dev/image-reflector-controller/internal/tagstore"
	"gotk.dev/pkg/events"
	"gotk.dev/pkg/reconcile"
)

// scanDue decides whether the repository is scanned now. It is when it never was, its spec or
// image changed, a reconcile was requested, the last reconcile failed, the database lost its
// tags (a new pod without the volume), or an interval has passed since the last scan.
// Otherwise the reconcile ends Ready, requeued for when the next scan is due: a controller
// restart does not rescan every repository at once.
func (r *ImageRepositoryReconciler) scanDue(ctx context.Context, s *repoScope) (reconcile.Result, error) {
	reason, wait, err := r.scanReason(s)
	if err != nil {
		return reconcile.Result{}, err
	}
	if reason == "" {
		res := s.obj.Status.LastScanResult
		return reconcile.Result{Message: scanMessage(res.TagCount), RequeueAfter: wait}, nil
	}
	ctrl.LoggerFrom(ctx).V(1).Info("scanning", "reason", reason)
	return reconcile.Result{}, nil
}

// scanReason says why to scan now ("" when not), and otherwise how long until the next scan.
func (r *ImageRepositoryReconciler) scanReason(s *repoScope) (string, time.Duration, error) {
	obj := s.obj
	last := obj.Status.LastScanResult
	if last == nil {
		return "first scan", 0, nil
	}
	if obj.Generation != obj.Status.ObservedGeneration {
		return "new generation", 0, nil
	}
	if token, ok := meta.ReconcileAnnotationValue(obj.GetAnnotations()); ok && token != obj.Status.LastHandledReconcileAt {
		return "reconcile requested", 0, nil
	}
	if !s.wasReady {
		return "retrying after a failure", 0, nil
	}
	if s.image.Canonical != obj.Status.CanonicalImageName {
		return "new image name", 0, nil
	}
	if !slices.Equal(obj.GetExclusionList(), obj.Status.ObservedExclusionList) {
		return "updated exclusion list", 0, nil
	}
	if _, err := r.cfg.Store.Count(storeKey(obj.Namespace, obj.Name)); errors.Is(err, tagstore.ErrNotFound) {
		return "no tags in database", 0, nil
	} else if err != nil {
		return "", 0, reconcile.Fail(imagev1.ReadOperationFailedReason, fmt.Errorf("failed to read the tag database: %w", err))
	}
	interval := obj.Spec.Interval.Duration
	wait := interval - s.started.Sub(last.ScanTime.Time)
	// The requeue after a scan is jittered: a reconcile a little early still scans, rather
	// than requeue for the few seconds left.
	slack := time.Second + interval*time.Duration(r.jitter)/100
	if wait <= slack {
		return "interval elapsed", 0, nil
	}
	return "", wait, nil
}

// scan lists the repository's tags, stores them and records the result. A failed scan leaves
// the previous result (status and database) in place.
func (r *ImageRepositoryReconciler) scan(ctx context.Context, s *repoScope) (reconcile.Result, error) {
	obj := s.obj
	res, err := s.client.Scan(ctx, s.image, registry.ScanOptions{ExclusionList: obj.GetExclusionList()})
	if err != nil {
		reason := imagev1.ReadOperationFailedReason
		if registry.IsAuthError(err) {
			reason = imagev1.AuthenticationFailedReason
		}
		return reconcile.Result{}, reconcile.Fail(reason, fmt.Errorf("scan failed: %w", err))
	}
	if err := r.cfg.Store.SetTags(storeKey(obj.Namespace, obj.Name), res.Tags, res.Revision); err != nil {
		return reconcile.Result{}, reconcile.Fail(imagev1.ReadOperationFailedReason, err)
	}
	obj.Status.CanonicalImageName = s.image.Canonical
	obj.Status.LastScanResult = res.Status(time.Now())
	obj.Status.ObservedExclusionList = obj.GetExclusionList()
	msg := scanMessage(len(res.Tags))
	// An event when the tags changed or the repository recovered, not on every scan.
	if !s.wasReady || res.Revision != s.oldRevision {
		r.events.Event(obj, events.SeverityInfo, meta.SucceededReason, msg, revisionMetadata(obj))
	}
	return reconcile.Done(msg), nil
}

// scanMessage is the Ready message of a scanned repository, as upstream words it.
func scanMessage(tags int) string { return fmt.Sprintf("successful scan, found %d tags", tags) }
