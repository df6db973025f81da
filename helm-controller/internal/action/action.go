// Package action runs the Helm actions of a HelmRelease (install, upgrade, test, rollback,
// uninstall, unlock) with the Helm v3 SDK, the options of each taken from the HelmRelease
// spec the way upstream's helm-controller maps them.
//
// Waiting: the controller checks the health of released objects itself, watch-driven, so
// by default no action blocks in Helm's own wait. Options.HelmWait turns Helm's wait on
// for the actions whose spec does not disable it (disableWait / disableWaitForJobs).
//
// Fields of the API that only Helm 4 implements have no effect with the Helm 3 SDK:
// install.serverSideApply, upgrade/rollback.serverSideApply (objects are applied with
// Helm 3's three-way merge), waitStrategy (Helm's wait is the legacy one),
// postRenderStrategy (post-renderers never see hooks: nohooks) and healthCheckExprs;
// rollback.recreate is deprecated upstream and ignored.
package action

import (
	"context"
	"fmt"

	helmaction "helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/release"

	v2 "gotk.dev/helm-controller/api/v2"
	"gotk.dev/helmrender/postrender"
)

// Options are the choices the controller makes beyond the HelmRelease spec.
type Options struct {
	// HelmWait lets Helm block until the released objects are ready (and Jobs complete),
	// unless the spec disables it. Off, the actions return as soon as Helm applied the
	// objects and the controller does its own health checks.
	HelmWait bool
	// EnableDNS lets templates look up host names (getHostByName); off, lookups return
	// nothing, as Helm's default is (AllowDNSLookups feature gate).
	EnableDNS bool
}

func (o Options) wait(disableWait bool) bool { return o.HelmWait && !disableWait }

// ValidateReleaseName checks the release name (spec.releaseName or the composed default)
// as Helm would, naming the field in the error.
func ValidateReleaseName(obj *v2.HelmRelease) error {
	name := obj.GetReleaseName()
	if err := chartutil.ValidateReleaseName(name); err != nil {
		return fmt.Errorf("spec.releaseName %q: %w", name, err)
	}
	return nil
}

// Install installs chrt with vals as obj's release, after applying the chart's CRDs as
// spec.install.crds says (Create lets Helm create missing CRDs; CreateReplace applies them
// here first, creating or replacing; Skip leaves them alone). A release record of the same
// name that was uninstalled with kept history is replaced.
func Install(ctx context.Context, cfg *helmaction.Configuration, obj *v2.HelmRelease, chrt *chart.Chart, vals chartutil.Values, opts Options) (*release.Release, error) {
	if err := ValidateReleaseName(obj); err != nil {
		return nil, err
	}
	spec := obj.GetInstall()
	install := helmaction.NewInstall(cfg)
	install.ReleaseName = obj.GetReleaseName()
	install.Namespace = obj.GetReleaseNamespace()
	install.Timeout = spec.GetTimeout(obj.GetTimeout())
	install.Wait = opts.wait(spec.DisableWait)
	install.WaitForJobs = install.Wait && !spec.DisableWaitForJobs
	install.DisableHooks = spec.DisableHooks
	install.DisableOpenAPIValidation = spec.DisableOpenAPIValidation
	install.SkipSchemaValidation = spec.DisableSchemaValidation
	install.CreateNamespace = spec.CreateNamespace
	install.EnableDNS = opts.EnableDNS
	install.TakeOwnership = !spec.DisableTakeOwnership
	install.Replace = spec.Replace || latestUninstalled(cfg, install.ReleaseName)

	switch spec.GetCRDs() {
	case v2.Skip:
		install.SkipCRDs = true
	case v2.CreateReplace:
		if err := ApplyCRDs(cfg, v2.CreateReplace, chrt); err != nil {
			return nil, err
		}
		install.SkipCRDs = true
	}
	pr, err := postrender.PostRenderer(obj)
	if err != nil {
		return nil, err
	}
	install.PostRenderer = pr
	return install.RunWithContext(ctx, chrt, vals)
}

// latestUninstalled tells whether the newest record of name is an uninstalled release
// kept in the history, which an install may only replace with Replace set.
func latestUninstalled(cfg *helmaction.Configuration, name string) bool {
	rls, err := cfg.Releases.Last(name)
	return err == nil && rls.Info != nil && rls.Info.Status == release.StatusUninstalled
}

// Upgrade upgrades obj's release to chrt with vals, after applying the chart's CRDs as
// spec.upgrade.crds says (Helm's upgrade ignores crds/: Create creates missing CRDs,
// CreateReplace also replaces existing ones; CRDs are never deleted).
func Upgrade(ctx context.Context, cfg *helmaction.Configuration, obj *v2.HelmRelease, chrt *chart.Chart, vals chartutil.Values, opts Options) (*release.Release, error) {
	if err := ValidateReleaseName(obj); err != nil {
		return nil, err
	}
	spec := obj.GetUpgrade()
	upgrade := helmaction.NewUpgrade(cfg)
	upgrade.Namespace = obj.GetReleaseNamespace()
	upgrade.Timeout = spec.GetTimeout(obj.GetTimeout())
	upgrade.Wait = opts.wait(spec.DisableWait)
	upgrade.WaitForJobs = upgrade.Wait && !spec.DisableWaitForJobs
	upgrade.DisableHooks = spec.DisableHooks
	upgrade.DisableOpenAPIValidation = spec.DisableOpenAPIValidation
	upgrade.SkipSchemaValidation = spec.DisableSchemaValidation
	upgrade.Force = spec.Force
	upgrade.EnableDNS = opts.EnableDNS
	upgrade.CleanupOnFail = spec.CleanupOnFail
	upgrade.MaxHistory = obj.GetMaxHistory()
	upgrade.ReuseValues = spec.PreserveValues
	upgrade.ResetValues = !spec.PreserveValues
	upgrade.TakeOwnership = !spec.DisableTakeOwnership
	upgrade.SkipCRDs = true

	if policy := spec.GetCRDs(); policy != v2.Skip {
		if err := ApplyCRDs(cfg, policy, chrt); err != nil {
			return nil, err
		}
	}
	pr, err := postrender.PostRenderer(obj)
	if err != nil {
		return nil, err
	}
	upgrade.PostRenderer = pr
	return upgrade.RunWithContext(ctx, obj.GetReleaseName(), chrt, vals)
}

// Test runs the tests of obj's release (spec.test.filters select or exclude them by name)
// and returns the release with the test hooks' results. Helm records the results in the
// storage whether the tests pass or not.
func Test(_ context.Context, cfg *helmaction.Configuration, obj *v2.HelmRelease) (*release.Release, error) {
	spec := obj.GetTest()
	test := helmaction.NewReleaseTesting(cfg)
	test.Namespace = obj.GetReleaseNamespace()
	test.Timeout = spec.GetTimeout(obj.GetTimeout())
	filters := map[string][]string{}
	for _, f := range spec.GetFilters() {
		key := "name"
		if f.Exclude {
			key = "!name"
		}
		filters[key] = append(filters[key], f.Name)
	}
	test.Filters = filters
	return test.Run(obj.GetReleaseName())
}

// Rollback rolls obj's release back to version.
func Rollback(_ context.Context, cfg *helmaction.Configuration, obj *v2.HelmRelease, version int, opts Options) error {
	spec := obj.GetRollback()
	rollback := helmaction.NewRollback(cfg)
	rollback.Version = version
	rollback.Timeout = spec.GetTimeout(obj.GetTimeout())
	rollback.Wait = opts.wait(spec.DisableWait)
	rollback.WaitForJobs = rollback.Wait && !spec.DisableWaitForJobs
	rollback.DisableHooks = spec.DisableHooks
	rollback.Force = spec.Force
	rollback.CleanupOnFail = spec.CleanupOnFail
	rollback.MaxHistory = obj.GetMaxHistory()
	return rollback.Run(obj.GetReleaseName())
}

// Uninstall uninstalls the release name (obj's release, or an earlier one of obj when its
// name, namespace or storage changed) with spec.uninstall's settings. A release that is
// already gone is not an error.
func Uninstall(_ context.Context, cfg *helmaction.Configuration, obj *v2.HelmRelease, name string, opts Options) (*release.UninstallReleaseResponse, error) {
	spec := obj.GetUninstall()
	uninstall := helmaction.NewUninstall(cfg)
	uninstall.DisableHooks = spec.DisableHooks
	uninstall.KeepHistory = spec.KeepHistory
	uninstall.Timeout = spec.GetTimeout(obj.GetTimeout())
	uninstall.Wait = opts.wait(spec.DisableWait)
	uninstall.DeletionPropagation = spec.GetDeletionPropagation()
	uninstall.IgnoreNotFound = true
	return uninstall.Run(name)
}

// Unlock marks the newest record of name as failed when it is stuck in a pending state or
// in uninstalling: the action that wrote it was interrupted (a killed controller or `helm`)
// and Helm refuses any other action ("another operation is in progress") until then. It
// returns the updated record, or nil when nothing was locked.
func Unlock(_ context.Context, cfg *helmaction.Configuration, name string) (*release.Release, error) {
	rls, err := cfg.Releases.Last(name)
	if err != nil {
		return nil, err
	}
	if rls.Info == nil || !(rls.Info.Status.IsPending() || rls.Info.Status == release.StatusUninstalling) {
		return nil, nil
	}
	was := rls.Info.Status
	rls.SetStatus(release.StatusFailed, fmt.Sprintf("Release unlocked from stale '%s' state", was))
	if err := cfg.Releases.Update(rls); err != nil {
		return nil, fmt.Errorf("unlock release %s/%s.v%d from '%s': %w", rls.Namespace, rls.Name, rls.Version, was, err)
	}
	return rls, nil
}
