package controller

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/fluxcd/pkg/apis/meta"

	"gotk.dev/pkg/artifact"
	"gotk.dev/pkg/events"
	"gotk.dev/pkg/git"
	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// reconcileArtifact packs the work dir into a content-addressed artifact and records it, or
// keeps the stored one when the fast path found nothing changed.
func (r *GitRepositoryReconciler) reconcileArtifact(ctx context.Context, s *gitScope) (reconcile.Result, error) {
	if err := r.storeArtifact(ctx, s); err != nil {
		return reconcile.Result{}, err
	}
	return reconcile.Done(readyMessage(s.obj.Status.Artifact.Revision, s.skipped)), nil
}

func (r *GitRepositoryReconciler) storeArtifact(ctx context.Context, s *gitScope) error {
	obj := s.obj
	if s.upToDate {
		return nil
	}
	if err := r.copyIncludes(s); err != nil {
		reconcile.MarkTrue(obj, sourcev1.StorageOperationFailedCondition, sourcev1.ArchiveOperationFailedReason, err.Error())
		return reconcile.Fail(sourcev1.ArchiveOperationFailedReason, err)
	}
	ref := artifact.ObjectRef{Kind: sourcev1.GitRepositoryKind, Namespace: obj.Namespace, Name: obj.Name}
	unlock := r.Storage.Lock(ref)
	defer unlock()

	filter, report, err := newArtifactFilter(s.workDir, obj.Spec.Ignore)
	if err != nil {
		reconcile.MarkTrue(obj, sourcev1.BuildFailedCondition, "IgnoreRulesInvalid", err.Error())
		return reconcile.Stall("IgnoreRulesInvalid", err)
	}
	if err := checkSize(s.workDir, filter, r.MaxArtifactSize); err != nil {
		var tooBig *sizeLimitError
		if errors.As(err, &tooBig) {
			err = fmt.Errorf("revision '%s': %w", s.revision, err)
			reconcile.MarkTrue(obj, sourcev1.BuildFailedCondition, "ArtifactTooLarge", err.Error())
			return reconcile.Fail("ArtifactTooLarge", err)
		}
		return reconcile.Fail(sourcev1.StatOperationFailedReason, err)
	}
	report.skipped = nil // the size check ran the filter once already
	a, err := r.Storage.ArchiveDir(ctx, ref, s.workDir, filter)
	if err != nil {
		reconcile.MarkTrue(obj, sourcev1.StorageOperationFailedCondition, sourcev1.ArchiveOperationFailedReason, err.Error())
		return reconcile.Fail(sourcev1.ArchiveOperationFailedReason, fmt.Errorf("failed to archive revision '%s': %w", s.revision, err))
	}
	s.skipped = report.skipped
	a.Revision = s.revision
	previous := obj.Status.Artifact
	obj.Status.Artifact = a
	obj.Status.IncludedArtifacts = nil
	for _, inc := range s.includes {
		obj.Status.IncludedArtifacts = append(obj.Status.IncludedArtifacts, inc.artifact)
	}
	obj.Status.ObservedIgnore = obj.Spec.Ignore
	obj.Status.ObservedRecurseSubmodules = obj.Spec.RecurseSubmodules
	obj.Status.ObservedSparseCheckout = obj.Spec.SparseCheckout
	obj.Status.ObservedInclude = obj.Spec.Include
	reconcile.MarkTrue(obj, sourcev1.ArtifactInStorageCondition, meta.SucceededReason,
		fmt.Sprintf("stored artifact for revision '%s'", a.Revision))

	if previous == nil || previous.Revision != a.Revision || previous.Digest != a.Digest {
		r.events.Event(obj, events.SeverityInfo, sourcev1.NewArtifactReason,
			fmt.Sprintf("stored artifact for commit '%s'", commitSubject(s.commit)),
			map[string]string{
				sourcev1.GroupVersion.Group + "/revision": a.Revision,
				sourcev1.GroupVersion.Group + "/digest":   a.Digest,
			})
	}
	return nil
}

// readyMessage is the Ready=True message, noting anything left out of the artifact.
func readyMessage(revision string, skipped []string) string {
	msg := fmt.Sprintf("stored artifact for revision '%s'", revision)
	if len(skipped) > 0 {
		msg += "; left out symlinks pointing outside the source: " + strings.Join(skipped, ", ")
	}
	return msg
}

// commitSubject is the first line of the commit message, shortened for events.
func commitSubject(c *git.Commit) string {
	if c == nil {
		return ""
	}
	subject, _, _ := strings.Cut(strings.TrimSpace(c.Message), "\n")
	if len(subject) > 80 {
		subject = subject[:77] + "..."
	}
	return subject
}
