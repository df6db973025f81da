package controller

import (
	"context"
	"fmt"

	"github.com/fluxcd/pkg/apis/meta"

	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"

	"gotk.dev/source-controller/internal/helm/chart"
	"gotk.dev/source-controller/internal/helm/ocirepo"
	"gotk.dev/source-controller/internal/ociverify"
)

// verifyChart checks the signature of the resolved OCI chart manifest against spec.verify
// before anything is pulled, and records SourceVerified.
func (r *HelmChartReconciler) verifyChart(ctx context.Context, s *helmChartScope, rem chartRemote, res *chart.Resolved) error {
	obj := s.obj
	oc, ok := rem.(*ocirepo.Client)
	if !ok || res.ChartVersion == nil {
		return reconcile.Stall(sourcev1.VerificationError, fmt.Errorf("spec.verify is only supported for charts of an OCI HelmRepository"))
	}
	repo, digest, remote, err := oc.SignatureTarget(res.ChartVersion)
	if err != nil {
		return reconcile.Fail(sourcev1.VerificationError, err)
	}
	t := ociverify.Target{Repo: repo, Digest: digest, Remote: remote}
	msg, err := r.Verification.verifyOCI(ctx, r.Client, obj.Namespace, obj.Spec.Verify, nil, t)
	if err != nil {
		reconcile.MarkFalse(obj, sourcev1.SourceVerifiedCondition, sourcev1.VerificationError,
			fmt.Sprintf("failed to verify the signature of chart %s version %s: %v", res.Name, res.ChartVersion.Version, err))
		return err
	}
	reconcile.MarkTrue(obj, sourcev1.SourceVerifiedCondition, meta.SucceededReason,
		fmt.Sprintf("verified signature of chart %s version %s (%s): %s", res.Name, res.ChartVersion.Version, digest, msg))
	return nil
}

// describeChartSource names the kind of a chart's source for messages.
func describeChartSource(s *helmChartScope) string {
	if s.repo != nil {
		return "HelmRepository of type '" + s.repo.Spec.Type + "'"
	}
	return s.obj.Spec.SourceRef.Kind
}
