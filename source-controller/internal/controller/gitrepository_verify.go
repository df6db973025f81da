package controller

import (
	"context"
	"fmt"

	"gotk.dev/pkg/git"
	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// verificationErrorReason is upstream's reason for a failed signature check.
const verificationErrorReason = "VerificationError"

// verifySignature checks the checked-out commit (and/or the tag pointing at it) against the
// keys in spec.verify.secretRef: armored OpenPGP public keys and SSH public keys in
// authorized_keys form, under any key names. An unsigned or wrongly signed revision produces
// no artifact.
func (r *GitRepositoryReconciler) verifySignature(ctx context.Context, s *gitScope) error {
	obj := s.obj
	v := obj.Spec.Verification
	if v == nil {
		obj.Status.SourceVerificationMode = nil
		reconcile.DeleteCondition(obj, sourcev1.SourceVerifiedCondition)
		return nil
	}
	data, err := secretData(ctx, r.Client, obj.Namespace, v.SecretRef.Name)
	if err != nil {
		return verifyFailed(s, fmt.Errorf("failed to get verification keys from secret '%s/%s': %w", obj.Namespace, v.SecretRef.Name, err))
	}
	keys, err := git.KeysFromSecret(data)
	if err != nil {
		return verifyFailed(s, fmt.Errorf("invalid verification keys in secret '%s/%s': %w", obj.Namespace, v.SecretRef.Name, err))
	}
	mode := v.GetMode()
	res, err := git.VerifyCommit(s.commit, git.VerificationMode(mode), keys)
	if err != nil {
		return verifyFailed(s, fmt.Errorf("signature verification of revision '%s' failed: %w", s.revision, err))
	}
	msg := "verified signature of"
	if res.TagKey != "" {
		msg += fmt.Sprintf(" tag '%s' with key '%s'", s.commit.ReferencingTag.Name, res.TagKey)
	}
	if res.CommitKey != "" {
		if res.TagKey != "" {
			msg += " and"
		}
		msg += fmt.Sprintf(" commit '%s' with key '%s'", s.commit.Hash, res.CommitKey)
	}
	obj.Status.SourceVerificationMode = &mode
	reconcile.MarkTrue(obj, sourcev1.SourceVerifiedCondition, "Succeeded", msg)
	return nil
}

func verifyFailed(s *gitScope, err error) error {
	reconcile.MarkFalse(s.obj, sourcev1.SourceVerifiedCondition, verificationErrorReason, err.Error())
	s.obj.Status.SourceVerificationMode = nil
	return reconcile.Fail(verificationErrorReason, err)
}
