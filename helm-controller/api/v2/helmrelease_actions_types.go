/*
Copyright 2026 The gotk Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package v2

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// CRDsPolicy decides what a Helm install or upgrade does with the CRDs in the
// crds/ directory of a chart.
type CRDsPolicy string

const (
	// Skip neither creates nor replaces any CRD.
	Skip CRDsPolicy = "Skip"
	// Create creates missing CRDs and leaves existing ones untouched.
	Create CRDsPolicy = "Create"
	// CreateReplace creates missing CRDs and replaces existing ones; CRDs are
	// never deleted.
	CreateReplace CRDsPolicy = "CreateReplace"
)

// ServerSideApplyMode selects whether server-side apply is used by a Helm
// upgrade or rollback.
type ServerSideApplyMode string

const (
	// ServerSideApplyEnabled always uses server-side apply.
	ServerSideApplyEnabled ServerSideApplyMode = "enabled"
	// ServerSideApplyDisabled always uses client-side (three-way merge) apply.
	ServerSideApplyDisabled ServerSideApplyMode = "disabled"
	// ServerSideApplyAuto uses whatever the previous release used.
	ServerSideApplyAuto ServerSideApplyMode = "auto"
)

// ChartNameChangeStrategy decides what an upgrade does when the name of the
// chart differs from the chart of the installed release.
type ChartNameChangeStrategy string

const (
	// ChartNameChangeStrategyReinstall uninstalls the existing release and
	// installs the new chart.
	ChartNameChangeStrategyReinstall ChartNameChangeStrategy = "Reinstall"
	// ChartNameChangeStrategyInPlaceUpdate upgrades the existing release to
	// the new chart.
	ChartNameChangeStrategyInPlaceUpdate ChartNameChangeStrategy = "InPlaceUpdate"
)

// DeletionPropagation values accepted by an uninstall.
const (
	// DeletionPropagationBackground deletes dependents in the background.
	DeletionPropagationBackground string = "background"
	// DeletionPropagationForeground deletes dependents before their owners.
	DeletionPropagationForeground string = "foreground"
	// DeletionPropagationOrphan leaves dependents in place.
	DeletionPropagationOrphan string = "orphan"
)

// Install configures the Helm install action.
type Install struct {
	// Timeout bounds each individual Kubernetes operation (for example a hook
	// Job) of the install. Defaults to spec.timeout.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// Remediation configures retries and the cleanup of a failed install.
	// Nothing is done on failure when omitted.
	// +optional
	Remediation *InstallRemediation `json:"remediation,omitempty"`

	// Strategy selects how a failed install is handled: remediate
	// ('RemediateOnFailure', the default) or retry ('RetryOnFailure').
	// +optional
	Strategy *InstallStrategy `json:"strategy,omitempty"`

	// DisableWait skips waiting for the installed resources to become ready.
	// +optional
	DisableWait bool `json:"disableWait,omitempty"`

	// DisableWaitForJobs skips waiting for the installed Jobs to complete.
	// +optional
	DisableWaitForJobs bool `json:"disableWaitForJobs,omitempty"`

	// DisableHooks prevents the chart hooks from running during the install.
	// +optional
	DisableHooks bool `json:"disableHooks,omitempty"`

	// DisableOpenAPIValidation skips validating the rendered manifests
	// against the OpenAPI schema of the cluster.
	// +optional
	DisableOpenAPIValidation bool `json:"disableOpenAPIValidation,omitempty"`

	// DisableSchemaValidation skips validating the values against the
	// chart's values.schema.json.
	// +optional
	DisableSchemaValidation bool `json:"disableSchemaValidation,omitempty"`

	// Replace reuses the release name when it belongs to a deleted release
	// that is still kept in the history.
	// +optional
	Replace bool `json:"replace,omitempty"`

	// SkipCRDs stops the install from creating the chart's CRDs.
	//
	// Deprecated: set CRDs to 'Skip' instead.
	// +optional
	SkipCRDs bool `json:"skipCRDs,omitempty"`

	// CRDs is the policy for the CRDs in the chart's crds/ directory: 'Skip',
	// 'Create' or 'CreateReplace'. Defaults to 'Create': missing CRDs are
	// created, existing ones are left alone.
	// +kubebuilder:validation:Enum=Skip;Create;CreateReplace
	// +optional
	CRDs CRDsPolicy `json:"crds,omitempty"`

	// CreateNamespace creates the target namespace when it does not exist.
	// The namespace is not removed on uninstall.
	// +optional
	CreateNamespace bool `json:"createNamespace,omitempty"`

	// DisableTakeOwnership stops the install from adopting resources that
	// already exist in the cluster. Defaults to false.
	// +optional
	DisableTakeOwnership bool `json:"disableTakeOwnership,omitempty"`

	// ServerSideApply makes the install use server-side apply. Defaults to
	// true (false when the UseHelm3Defaults feature gate is on).
	// +optional
	ServerSideApply *bool `json:"serverSideApply,omitempty"`
}

// InstallStrategy selects what happens after a failed install.
// +kubebuilder:validation:XValidation:rule="!has(self.retryInterval) || self.name != 'RemediateOnFailure'",message=".retryInterval cannot be set when .name is 'RemediateOnFailure'"
type InstallStrategy struct {
	// Name of the strategy: 'RemediateOnFailure' or 'RetryOnFailure'.
	// +kubebuilder:validation:Enum=RemediateOnFailure;RetryOnFailure
	// +required
	Name string `json:"name"`

	// RetryInterval is the wait before a failed install is retried. Only
	// allowed with 'RetryOnFailure'. Defaults to 5m.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +optional
	RetryInterval *metav1.Duration `json:"retryInterval,omitempty"`
}

// Upgrade configures the Helm upgrade action.
type Upgrade struct {
	// Timeout bounds each individual Kubernetes operation (for example a hook
	// Job) of the upgrade. Defaults to spec.timeout.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// Remediation configures retries and the rollback or uninstall of a
	// failed upgrade. Nothing is done on failure when omitted.
	// +optional
	Remediation *UpgradeRemediation `json:"remediation,omitempty"`

	// Strategy selects how a failed upgrade is handled: remediate
	// ('RemediateOnFailure', the default) or retry ('RetryOnFailure').
	// +optional
	Strategy *UpgradeStrategy `json:"strategy,omitempty"`

	// DisableWait skips waiting for the upgraded resources to become ready.
	// +optional
	DisableWait bool `json:"disableWait,omitempty"`

	// DisableWaitForJobs skips waiting for the upgraded Jobs to complete.
	// +optional
	DisableWaitForJobs bool `json:"disableWaitForJobs,omitempty"`

	// DisableHooks prevents the chart hooks from running during the upgrade.
	// +optional
	DisableHooks bool `json:"disableHooks,omitempty"`

	// DisableOpenAPIValidation skips validating the rendered manifests
	// against the OpenAPI schema of the cluster.
	// +optional
	DisableOpenAPIValidation bool `json:"disableOpenAPIValidation,omitempty"`

	// DisableSchemaValidation skips validating the values against the
	// chart's values.schema.json.
	// +optional
	DisableSchemaValidation bool `json:"disableSchemaValidation,omitempty"`

	// Force replaces resources instead of patching them, to get past
	// three-way merge conflicts of client-side apply. It has no effect with
	// server-side apply, which always takes over conflicting fields.
	// +optional
	Force bool `json:"force,omitempty"`

	// PreserveValues reuses the values of the previous release and merges
	// spec.values on top. This makes the HelmRelease depend on cluster state
	// rather than only on its spec.
	// +optional
	PreserveValues bool `json:"preserveValues,omitempty"`

	// CleanupOnFail deletes resources created by a failed upgrade.
	// +optional
	CleanupOnFail bool `json:"cleanupOnFail,omitempty"`

	// CRDs is the policy for the CRDs in the chart's crds/ directory: 'Skip',
	// 'Create' or 'CreateReplace'. Defaults to 'Skip': CRDs are neither
	// created nor updated on upgrade.
	// +kubebuilder:validation:Enum=Skip;Create;CreateReplace
	// +optional
	CRDs CRDsPolicy `json:"crds,omitempty"`

	// DisableTakeOwnership stops the upgrade from adopting resources that
	// already exist in the cluster. Defaults to false.
	// +optional
	DisableTakeOwnership bool `json:"disableTakeOwnership,omitempty"`

	// ServerSideApply selects server-side apply for the upgrade: 'enabled',
	// 'disabled' or 'auto' (follow the previous release). Defaults to 'auto'.
	// +kubebuilder:validation:Enum=enabled;disabled;auto
	// +optional
	ServerSideApply ServerSideApplyMode `json:"serverSideApply,omitempty"`

	// ChartNameChangeStrategy decides what happens when the chart name
	// changes: 'Reinstall' (uninstall, then install; the default) or
	// 'InPlaceUpdate' (upgrade the existing release).
	// +kubebuilder:validation:Enum=InPlaceUpdate;Reinstall
	// +optional
	ChartNameChangeStrategy ChartNameChangeStrategy `json:"chartNameChangeStrategy,omitempty"`
}

// UpgradeStrategy selects what happens after a failed upgrade.
// +kubebuilder:validation:XValidation:rule="!has(self.retryInterval) || self.name == 'RetryOnFailure'",message=".retryInterval can only be set when .name is 'RetryOnFailure'"
type UpgradeStrategy struct {
	// Name of the strategy: 'RemediateOnFailure' or 'RetryOnFailure'.
	// +kubebuilder:validation:Enum=RemediateOnFailure;RetryOnFailure
	// +required
	Name string `json:"name"`

	// RetryInterval is the wait before a failed upgrade is retried. Only
	// allowed with 'RetryOnFailure'. Defaults to 5m.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +optional
	RetryInterval *metav1.Duration `json:"retryInterval,omitempty"`
}

// Test configures the Helm test action run after an install or upgrade.
type Test struct {
	// Enable runs the chart's tests after every successful install or
	// upgrade. Defaults to false.
	// +optional
	Enable bool `json:"enable,omitempty"`

	// Timeout bounds each individual Kubernetes operation of the tests.
	// Defaults to spec.timeout.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// IgnoreFailures keeps failing tests from triggering remediation. The
	// install and upgrade remediation settings can override it.
	// +optional
	IgnoreFailures bool `json:"ignoreFailures,omitempty"`

	// Filters selects tests to run or to skip by name. All tests run when
	// omitted.
	// +optional
	Filters *[]Filter `json:"filters,omitempty"`
}

// Filter includes or excludes one Helm test by name.
type Filter struct {
	// Name of the test.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`

	// Exclude skips the named test instead of selecting it.
	// +optional
	Exclude bool `json:"exclude,omitempty"`
}

// Rollback configures the Helm rollback action used to remediate a failed
// upgrade.
type Rollback struct {
	// Timeout bounds each individual Kubernetes operation (for example a hook
	// Job) of the rollback. Defaults to spec.timeout.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// DisableWait skips waiting for the rolled back resources to become ready.
	// +optional
	DisableWait bool `json:"disableWait,omitempty"`

	// DisableWaitForJobs skips waiting for Jobs to complete after the rollback.
	// +optional
	DisableWaitForJobs bool `json:"disableWaitForJobs,omitempty"`

	// DisableHooks prevents the chart hooks from running during the rollback.
	// +optional
	DisableHooks bool `json:"disableHooks,omitempty"`

	// Recreate restarted the pods of managed workloads.
	//
	// Deprecated: Helm dropped this behaviour; setting it only produces a
	// warning, and the field will be removed.
	// +optional
	Recreate bool `json:"recreate,omitempty"`

	// Force replaces resources instead of patching them, to get past
	// three-way merge conflicts of client-side apply. It has no effect with
	// server-side apply.
	// +optional
	Force bool `json:"force,omitempty"`

	// CleanupOnFail deletes resources created by a failed rollback.
	// +optional
	CleanupOnFail bool `json:"cleanupOnFail,omitempty"`

	// ServerSideApply selects server-side apply for the rollback: 'enabled',
	// 'disabled' or 'auto' (follow the previous release). Defaults to 'auto'.
	// +kubebuilder:validation:Enum=enabled;disabled;auto
	// +optional
	ServerSideApply ServerSideApplyMode `json:"serverSideApply,omitempty"`
}

// Uninstall configures the Helm uninstall action, used on deletion of the
// HelmRelease and to remediate failures.
type Uninstall struct {
	// Timeout bounds each individual Kubernetes operation (for example a hook
	// Job) of the uninstall. Defaults to spec.timeout.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// DisableHooks prevents the chart hooks from running during the uninstall.
	// +optional
	DisableHooks bool `json:"disableHooks,omitempty"`

	// KeepHistory deletes the release's resources but keeps its history,
	// marking the release as uninstalled.
	// +optional
	KeepHistory bool `json:"keepHistory,omitempty"`

	// DisableWait skips waiting for the resources to be gone.
	// +optional
	DisableWait bool `json:"disableWait,omitempty"`

	// DeletionPropagation is the propagation policy of the deletes:
	// 'background', 'foreground' or 'orphan'. Defaults to 'background'.
	// +kubebuilder:validation:Enum=background;foreground;orphan
	// +kubebuilder:default=background
	// +optional
	DeletionPropagation *string `json:"deletionPropagation,omitempty"`
}

// GetTimeout returns the install timeout, or def when it is not set.
func (in Install) GetTimeout(def time.Duration) time.Duration {
	return durationOr(in.Timeout, def)
}

// GetRemediation returns the install remediation settings, or empty
// settings (no retries) when they are not set.
func (in Install) GetRemediation() Remediation {
	if in.Remediation == nil {
		return InstallRemediation{}
	}
	return *in.Remediation
}

// GetStrategyName returns the name of the install strategy, or
// ActionStrategyRemediateOnFailure when it is not set.
func (in Install) GetStrategyName() string {
	if in.Strategy == nil || in.Strategy.Name == "" {
		return ActionStrategyRemediateOnFailure
	}
	return in.Strategy.Name
}

// GetRetryInterval returns the retry interval of the install strategy, or
// DefaultRetryInterval when it is not set.
func (in Install) GetRetryInterval() time.Duration {
	if in.Strategy == nil {
		return DefaultRetryInterval
	}
	return durationOr(in.Strategy.RetryInterval, DefaultRetryInterval)
}

// GetCRDs returns the CRD policy of the install. It is Skip when the
// deprecated SkipCRDs is set and no policy is given, and Create otherwise.
func (in Install) GetCRDs() CRDsPolicy {
	if in.CRDs != "" {
		return in.CRDs
	}
	if in.SkipCRDs {
		return Skip
	}
	return Create
}

// GetTimeout returns the upgrade timeout, or def when it is not set.
func (in Upgrade) GetTimeout(def time.Duration) time.Duration {
	return durationOr(in.Timeout, def)
}

// GetRemediation returns the upgrade remediation settings, or empty
// settings (no retries) when they are not set.
func (in Upgrade) GetRemediation() Remediation {
	if in.Remediation == nil {
		return UpgradeRemediation{}
	}
	return *in.Remediation
}

// GetStrategyName returns the name of the upgrade strategy, or
// ActionStrategyRemediateOnFailure when it is not set.
func (in Upgrade) GetStrategyName() string {
	if in.Strategy == nil || in.Strategy.Name == "" {
		return ActionStrategyRemediateOnFailure
	}
	return in.Strategy.Name
}

// GetRetryInterval returns the retry interval of the upgrade strategy, or
// DefaultRetryInterval when it is not set.
func (in Upgrade) GetRetryInterval() time.Duration {
	if in.Strategy == nil {
		return DefaultRetryInterval
	}
	return durationOr(in.Strategy.RetryInterval, DefaultRetryInterval)
}

// GetCRDs returns the CRD policy of the upgrade, Skip when it is not set.
func (in Upgrade) GetCRDs() CRDsPolicy {
	if in.CRDs == "" {
		return Skip
	}
	return in.CRDs
}

// GetServerSideApply returns the server-side apply mode of the upgrade,
// ServerSideApplyAuto when it is not set.
func (in Upgrade) GetServerSideApply() ServerSideApplyMode {
	if in.ServerSideApply == "" {
		return ServerSideApplyAuto
	}
	return in.ServerSideApply
}

// GetChartNameChangeStrategy returns the chart name change strategy,
// ChartNameChangeStrategyReinstall when it is not set.
func (in Upgrade) GetChartNameChangeStrategy() ChartNameChangeStrategy {
	if in.ChartNameChangeStrategy == "" {
		return ChartNameChangeStrategyReinstall
	}
	return in.ChartNameChangeStrategy
}

// GetTimeout returns the test timeout, or def when it is not set.
func (in Test) GetTimeout(def time.Duration) time.Duration {
	return durationOr(in.Timeout, def)
}

// GetFilters returns the test filters, or nil when none are set.
func (in Test) GetFilters() []Filter {
	if in.Filters == nil {
		return nil
	}
	return *in.Filters
}

// GetTimeout returns the rollback timeout, or def when it is not set.
func (in Rollback) GetTimeout(def time.Duration) time.Duration {
	return durationOr(in.Timeout, def)
}

// GetServerSideApply returns the server-side apply mode of the rollback,
// ServerSideApplyAuto when it is not set.
func (in Rollback) GetServerSideApply() ServerSideApplyMode {
	if in.ServerSideApply == "" {
		return ServerSideApplyAuto
	}
	return in.ServerSideApply
}

// GetTimeout returns the uninstall timeout, or def when it is not set.
func (in Uninstall) GetTimeout(def time.Duration) time.Duration {
	return durationOr(in.Timeout, def)
}

// GetDeletionPropagation returns the deletion propagation policy,
// DeletionPropagationBackground when it is not set.
func (in Uninstall) GetDeletionPropagation() string {
	if in.DeletionPropagation == nil || *in.DeletionPropagation == "" {
		return DeletionPropagationBackground
	}
	return *in.DeletionPropagation
}

// durationOr returns d as a time.Duration, or def when d is nil.
func durationOr(d *metav1.Duration, def time.Duration) time.Duration {
	if d == nil {
		return def
	}
	return d.Duration
}
