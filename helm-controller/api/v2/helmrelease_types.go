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
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fluxcd/pkg/apis/kustomize"
	"github.com/fluxcd/pkg/apis/meta"
)

// HelmReleaseKind is the kind name of HelmRelease objects.
const HelmReleaseKind = "HelmRelease"

// HelmReleaseSpec is the desired state of a Helm release.
// +kubebuilder:validation:XValidation:rule="(has(self.chart) && !has(self.chartRef)) || (!has(self.chart) && has(self.chartRef))",message="either chart or chartRef must be set"
type HelmReleaseSpec struct {
	// Chart is the template of the HelmChart the controller creates to obtain
	// the chart. Exactly one of chart and chartRef must be set.
	// +optional
	Chart *HelmChartTemplate `json:"chart,omitempty"`

	// ChartRef points at an existing source object (OCIRepository, HelmChart
	// or ExternalArtifact) whose artifact is the chart. Exactly one of chart
	// and chartRef must be set.
	// +optional
	ChartRef *CrossNamespaceSourceReference `json:"chartRef,omitempty"`

	// Interval is how often the release is reconciled.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +required
	Interval metav1.Duration `json:"interval"`

	// KubeConfig makes the controller manage the release on a remote cluster.
	// Combined with ServiceAccountName (or the --default-service-account
	// flag), the controller impersonates that account on the remote cluster.
	// +optional
	KubeConfig *meta.KubeConfigReference `json:"kubeConfig,omitempty"`

	// Suspend stops the controller from starting new reconciliations of this
	// HelmRelease; a running one is not interrupted. Defaults to false.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// ReleaseName is the name of the Helm release. Defaults to
	// '[<targetNamespace>-]<name>', shortened with a hash suffix when longer
	// than 53 characters.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=53
	// +optional
	ReleaseName string `json:"releaseName,omitempty"`

	// TargetNamespace is the namespace the release is installed into.
	// Defaults to the namespace of the HelmRelease.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +optional
	TargetNamespace string `json:"targetNamespace,omitempty"`

	// StorageNamespace is the namespace where Helm stores the release
	// records. Defaults to the namespace of the HelmRelease.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +optional
	StorageNamespace string `json:"storageNamespace,omitempty"`

	// DependsOn lists HelmReleases that must be ready before this one is
	// reconciled.
	// +optional
	DependsOn []meta.DependencyReference `json:"dependsOn,omitempty"`

	// Timeout bounds each individual Kubernetes operation (for example a hook
	// Job) of a Helm action. The action sections can override it. Defaults
	// to 5m0s.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// MaxHistory is how many release versions Helm keeps; 0 keeps all of
	// them. Defaults to 5.
	// +optional
	MaxHistory *int `json:"maxHistory,omitempty"`

	// ServiceAccountName is the service account, in the namespace of the
	// HelmRelease, that the controller impersonates to manage the release.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// PersistentClient reuses one Kubernetes client for a whole
	// reconciliation instead of one per Helm action. This is faster but can
	// confuse charts that create CRDs outside Helm's CRD handling and use
	// them in hooks. Defaults to true.
	// +optional
	PersistentClient *bool `json:"persistentClient,omitempty"`

	// DriftDetection configures how differences between the release manifest
	// and the cluster are detected and handled. Disabled when omitted.
	// +optional
	DriftDetection *DriftDetection `json:"driftDetection,omitempty"`

	// Install configures the Helm install action.
	// +optional
	Install *Install `json:"install,omitempty"`

	// Upgrade configures the Helm upgrade action.
	// +optional
	Upgrade *Upgrade `json:"upgrade,omitempty"`

	// Test configures the Helm test action.
	// +optional
	Test *Test `json:"test,omitempty"`

	// Rollback configures the Helm rollback action.
	// +optional
	Rollback *Rollback `json:"rollback,omitempty"`

	// Uninstall configures the Helm uninstall action.
	// +optional
	Uninstall *Uninstall `json:"uninstall,omitempty"`

	// ValuesFrom lists Secrets and ConfigMaps holding values, merged in order
	// before the inline Values.
	// +optional
	ValuesFrom []meta.ValuesReference `json:"valuesFrom,omitempty"`

	// Values are inline chart values, merged last so they win over
	// ValuesFrom.
	// +optional
	Values *apiextensionsv1.JSON `json:"values,omitempty"`

	// PostRenderers are applied in order to the manifests rendered by Helm.
	// +optional
	PostRenderers []PostRenderer `json:"postRenderers,omitempty"`

	// PostRenderStrategy decides how hooks reach the post-renderers:
	// 'nohooks' (not at all, the Helm 3 behaviour), 'combined' (with the
	// templates) or 'separate' (in their own stream). Defaults to 'combined'
	// ('nohooks' when the UseHelm3Defaults feature gate is on).
	// +kubebuilder:validation:Enum=nohooks;combined;separate
	// +optional
	PostRenderStrategy PostRenderStrategy `json:"postRenderStrategy,omitempty"`

	// HealthCheckExprs are CEL expressions that assess the health of custom
	// resources. They are used only when the action waits for readiness with
	// the 'poller' wait strategy.
	// +optional
	HealthCheckExprs []kustomize.CustomHealthCheck `json:"healthCheckExprs,omitempty"`

	// CommonMetadata holds labels and annotations set on every resource of
	// the release, overriding existing entries with the same key.
	// +optional
	CommonMetadata *CommonMetadata `json:"commonMetadata,omitempty"`

	// WaitStrategy selects how Helm waits for applied resources to become
	// ready.
	// +optional
	WaitStrategy *WaitStrategy `json:"waitStrategy,omitempty"`
}

// HelmRelease declares a Helm release that the helm-controller installs,
// upgrades, tests, remediates and uninstalls.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:storageversion
// +kubebuilder:resource:shortName=hr,categories=all;fluxcd;fluxcd-appliers
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status"
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].message"
type HelmRelease struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired state of the Helm release.
	// +optional
	Spec HelmReleaseSpec `json:"spec,omitempty"`

	// Status is the observed state of the Helm release.
	// +kubebuilder:default={"observedGeneration":-1}
	// +optional
	Status HelmReleaseStatus `json:"status,omitempty"`
}

// HelmReleaseList is a list of HelmRelease objects.
// +kubebuilder:object:root=true
type HelmReleaseList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items are the HelmReleases of the list.
	Items []HelmRelease `json:"items"`
}

// Defaults the getters below fall back to.
const (
	// DefaultTimeout is the timeout of Helm actions when spec.timeout is not
	// set.
	DefaultTimeout = 5 * time.Minute

	// DefaultMaxHistory is the number of release versions Helm keeps when
	// spec.maxHistory is not set.
	DefaultMaxHistory = 5

	// maxReleaseNameLength is the longest release name Helm accepts.
	maxReleaseNameLength = 53

	// releaseNameHashLength is the number of hex characters of the SHA-256
	// hash appended to a shortened release name.
	releaseNameHashLength = 12
)

// GetConditions returns the status conditions of the HelmRelease.
func (in *HelmRelease) GetConditions() []metav1.Condition {
	return in.Status.Conditions
}

// SetConditions replaces the status conditions of the HelmRelease.
func (in *HelmRelease) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetObservedGeneration returns status.observedGeneration.
func (in *HelmRelease) GetObservedGeneration() int64 {
	return in.Status.ObservedGeneration
}

// SetObservedGeneration sets status.observedGeneration.
func (in *HelmRelease) SetObservedGeneration(generation int64) {
	in.Status.ObservedGeneration = generation
}

// GetLastHandledReconcileRequest returns status.lastHandledReconcileAt.
func (in *HelmRelease) GetLastHandledReconcileRequest() string {
	return in.Status.GetLastHandledReconcileRequest()
}

// SetLastHandledReconcileRequest sets status.lastHandledReconcileAt.
func (in *HelmRelease) SetLastHandledReconcileRequest(token string) {
	in.Status.SetLastHandledReconcileRequest(token)
}

// GetLastHandledForceRequestStatus returns a pointer to
// status.lastHandledForceAt, for use with meta.HandleAnnotationRequest.
func (in *HelmRelease) GetLastHandledForceRequestStatus() *string {
	return &in.Status.LastHandledForceAt
}

// GetLastHandledResetRequestStatus returns a pointer to
// status.lastHandledResetAt, for use with meta.HandleAnnotationRequest.
func (in *HelmRelease) GetLastHandledResetRequestStatus() *string {
	return &in.Status.LastHandledResetAt
}

// GetRequeueAfter returns spec.interval, the time until the next
// reconciliation.
func (in *HelmRelease) GetRequeueAfter() time.Duration {
	return in.Spec.Interval.Duration
}

// GetTimeout returns spec.timeout, or DefaultTimeout (5m) when it is not set.
func (in *HelmRelease) GetTimeout() time.Duration {
	return durationOr(in.Spec.Timeout, DefaultTimeout)
}

// IsSuspended returns spec.suspend.
func (in *HelmRelease) IsSuspended() bool {
	return in.Spec.Suspend
}

// GetDependsOn returns spec.dependsOn.
func (in *HelmRelease) GetDependsOn() []meta.DependencyReference {
	return in.Spec.DependsOn
}

// GetReleaseName returns spec.releaseName, or '[<targetNamespace>-]<name>'
// when it is not set. A composed name longer than 53 characters is shortened
// to its first 40 characters, a dash and the first 12 hex characters of the
// SHA-256 hash of the full composed name.
func (in *HelmRelease) GetReleaseName() string {
	if in.Spec.ReleaseName != "" {
		return in.Spec.ReleaseName
	}
	name := in.Name
	if in.Spec.TargetNamespace != "" {
		name = in.Spec.TargetNamespace + "-" + name
	}
	return shortenReleaseName(name)
}

// shortenReleaseName fits name into the length limit of Helm release names.
func shortenReleaseName(name string) string {
	if len(name) <= maxReleaseNameLength {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	prefix := name[:maxReleaseNameLength-releaseNameHashLength-1]
	return prefix + "-" + hex.EncodeToString(sum[:])[:releaseNameHashLength]
}

// GetReleaseNamespace returns spec.targetNamespace, or the namespace of the
// HelmRelease when it is not set.
func (in *HelmRelease) GetReleaseNamespace() string {
	if in.Spec.TargetNamespace != "" {
		return in.Spec.TargetNamespace
	}
	return in.Namespace
}

// GetStorageNamespace returns spec.storageNamespace, or the namespace of the
// HelmRelease when it is not set.
func (in *HelmRelease) GetStorageNamespace() string {
	if in.Spec.StorageNamespace != "" {
		return in.Spec.StorageNamespace
	}
	return in.Namespace
}

// GetHelmChartName returns the name of the HelmChart created for
// spec.chart: '<namespace>-<name>' of the HelmRelease.
func (in *HelmRelease) GetHelmChartName() string {
	return in.Namespace + "-" + in.Name
}

// HasChartTemplate tells whether the chart comes from spec.chart.
func (in *HelmRelease) HasChartTemplate() bool {
	return in.Spec.Chart != nil
}

// HasChartRef tells whether the chart comes from spec.chartRef.
func (in *HelmRelease) HasChartRef() bool {
	return in.Spec.ChartRef != nil
}

// GetMaxHistory returns spec.maxHistory, or DefaultMaxHistory (5) when it is
// not set.
func (in *HelmRelease) GetMaxHistory() int {
	if in.Spec.MaxHistory == nil {
		return DefaultMaxHistory
	}
	return *in.Spec.MaxHistory
}

// UsePersistentClient returns spec.persistentClient, true when it is not set.
func (in *HelmRelease) UsePersistentClient() bool {
	return in.Spec.PersistentClient == nil || *in.Spec.PersistentClient
}

// GetInstall returns spec.install, or empty settings when it is not set.
func (in *HelmRelease) GetInstall() *Install {
	if in.Spec.Install == nil {
		return &Install{}
	}
	return in.Spec.Install
}

// GetUpgrade returns spec.upgrade, or empty settings when it is not set.
func (in *HelmRelease) GetUpgrade() *Upgrade {
	if in.Spec.Upgrade == nil {
		return &Upgrade{}
	}
	return in.Spec.Upgrade
}

// GetTest returns spec.test, or empty settings (tests disabled) when it is
// not set.
func (in *HelmRelease) GetTest() *Test {
	if in.Spec.Test == nil {
		return &Test{}
	}
	return in.Spec.Test
}

// GetRollback returns spec.rollback, or empty settings when it is not set.
func (in *HelmRelease) GetRollback() *Rollback {
	if in.Spec.Rollback == nil {
		return &Rollback{}
	}
	return in.Spec.Rollback
}

// GetUninstall returns spec.uninstall, or empty settings when it is not set.
func (in *HelmRelease) GetUninstall() *Uninstall {
	if in.Spec.Uninstall == nil {
		return &Uninstall{}
	}
	return in.Spec.Uninstall
}

// GetDriftDetection returns spec.driftDetection, or empty settings (drift
// detection disabled) when it is not set.
func (in *HelmRelease) GetDriftDetection() *DriftDetection {
	if in.Spec.DriftDetection == nil {
		return &DriftDetection{}
	}
	return in.Spec.DriftDetection
}

// GetActiveRemediation returns the remediation settings of the release
// action last attempted (status.lastAttemptedReleaseAction), or nil when no
// install or upgrade has been attempted.
func (in *HelmRelease) GetActiveRemediation() Remediation {
	switch in.Status.LastAttemptedReleaseAction {
	case ReleaseActionInstall:
		return in.GetInstall().GetRemediation()
	case ReleaseActionUpgrade:
		return in.GetUpgrade().GetRemediation()
	default:
		return nil
	}
}

// GetValues returns spec.values decoded into a map, or an empty map when
// spec.values is not set, empty or not a JSON object.
func (in *HelmRelease) GetValues() map[string]interface{} {
	values := map[string]interface{}{}
	if in.Spec.Values == nil || len(in.Spec.Values.Raw) == 0 {
		return values
	}
	if err := json.Unmarshal(in.Spec.Values.Raw, &values); err != nil || values == nil {
		return map[string]interface{}{}
	}
	return values
}
