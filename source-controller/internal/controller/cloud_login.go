package controller

import (
	"errors"

	"github.com/fluxcd/pkg/apis/meta"

	"gotk.dev/pkg/auth/cloud"
	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// cloudLoginError types a cloud registry login failure: a disabled feature gate or a
// registry host the provider cannot serve need a spec (or flag) change; a refused or
// unreachable identity endpoint is retried.
func cloudLoginError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, cloud.ErrObjectLevelDisabled):
		return reconcile.Stall(meta.FeatureGateDisabledReason, err)
	case cloud.IsHostError(err):
		return reconcile.Stall(sourcev1.InvalidProviderConfigurationReason, err)
	}
	return reconcile.Fail(sourcev1.AuthenticationFailedReason, err)
}
