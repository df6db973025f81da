package controller

import (
	"context"
	"fmt"

	"github.com/fluxcd/pkg/apis/meta"

	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"

	"gotk.dev/source-controller/internal/ociverify"
)

// reconcileVerify checks the resolved digest's signature against spec.verify (cosign keys,
// cosign keyless or notation) and records SourceVerified. Without spec.verify the condition is
// removed.
func (r *OCIRepositoryReconciler) reconcileVerify(ctx context.Context, s *ociScope) (reconcile.Result, error) {
	obj := s.obj
	if obj.Spec.Verify == nil {
		reconcile.DeleteCondition(obj, sourcev1.SourceVerifiedCondition)
		return reconcile.Result{}, nil
	}
	repo, err := s.client.Repository(s.repoURL)
	if err != nil {
		return reconcile.Result{}, reconcile.Stall(sourcev1.URLInvalidReason, err)
	}
	t := ociverify.Target{Repo: repo, Digest: s.resolved.Digest, Remote: s.client.RemoteOptions()}
	msg, err := r.Verification.verifyOCI(ctx, r.Client, obj.Namespace, &obj.Spec.Verify.OCIVerification, obj.Spec.Verify.TrustedRootSecretRef, t)
	if err != nil {
		reconcile.MarkFalse(obj, sourcev1.SourceVerifiedCondition, sourcev1.VerificationError,
			fmt.Sprintf("failed to verify the signature of revision %s: %v", s.revision, err))
		return reconcile.Result{}, err
	}
	reconcile.MarkTrue(obj, sourcev1.SourceVerifiedCondition, meta.SucceededReason,
		fmt.Sprintf("verified signature of revision %s: %s", s.revision, msg))
	return reconcile.Result{}, nil
}
