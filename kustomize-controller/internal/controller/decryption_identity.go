package controller

import (
	"errors"

	"github.com/fluxcd/pkg/apis/meta"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	"gotk.dev/pkg/reconcile"
)

// errDecryptionObjectLevelDisabled is upstream's answer to spec.decryption.serviceAccountName
// while the ObjectLevelWorkloadIdentity gate is off.
var errDecryptionObjectLevelDisabled = errors.New("to use spec.decryption.serviceAccountName for decryption authentication please enable the ObjectLevelWorkloadIdentity feature gate in the controller")

// checkDecryptionIdentity refuses spec.decryption.serviceAccountName rather than decrypt with
// the controller's own identity, which would give a tenant the controller's KMS keys: without
// the gate as upstream does, with it because per-object KMS identity is not implemented yet.
func (r *KustomizationReconciler) checkDecryptionIdentity(d *kustomizev1.Decryption) error {
	if d == nil || d.ServiceAccountName == "" {
		return nil
	}
	if !r.opts.ObjectLevelWorkloadIdentity {
		return reconcile.Stall(meta.FeatureGateDisabledReason, errDecryptionObjectLevelDisabled)
	}
	return reconcile.Stall(decryptionFailedReason, errors.New("spec.decryption.serviceAccountName (object-level workload identity for cloud KMS) is not supported yet: remove it to decrypt with spec.decryption.secretRef or the controller's identity"))
}
