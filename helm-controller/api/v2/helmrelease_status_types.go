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
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fluxcd/pkg/apis/meta"
)

// ReleaseAction is a Helm action that produces a new release.
type ReleaseAction string

const (
	// ReleaseActionInstall is a Helm install.
	ReleaseActionInstall ReleaseAction = "install"
	// ReleaseActionUpgrade is a Helm upgrade.
	ReleaseActionUpgrade ReleaseAction = "upgrade"
)

// HelmReleaseStatus is the observed state of a HelmRelease.
type HelmReleaseStatus struct {
	// ObservedGeneration is the metadata.generation the controller last
	// finished reconciling (ready or stalled).
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// ObservedPostRenderersDigest is the digest of spec.postRenderers at the
	// last successful reconciliation.
	// +optional
	ObservedPostRenderersDigest string `json:"observedPostRenderersDigest,omitempty"`

	// ObservedCommonMetadataDigest is the digest of spec.commonMetadata at
	// the last successful reconciliation.
	// +optional
	ObservedCommonMetadataDigest string `json:"observedCommonMetadataDigest,omitempty"`

	// LastAttemptedGeneration is the metadata.generation the controller last
	// tried to reconcile.
	// +optional
	LastAttemptedGeneration int64 `json:"lastAttemptedGeneration,omitempty"`

	// Conditions are the current conditions of the HelmRelease (Ready,
	// Reconciling, Stalled, Released, TestSuccess, Remediated).
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// HelmChart is the '<namespace>/<name>' of the HelmChart the controller
	// created for spec.chart.
	// +optional
	HelmChart string `json:"helmChart,omitempty"`

	// StorageNamespace is the namespace of the Helm storage that holds the
	// current release.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +optional
	StorageNamespace string `json:"storageNamespace,omitempty"`

	// History lists the releases made for this HelmRelease, newest first, up
	// to and including the last successful one.
	// +optional
	History Snapshots `json:"history,omitempty"`

	// LastAttemptedReleaseAction is the release action ('install' or
	// 'upgrade') last attempted; it selects which retry and remediation
	// settings apply.
	// +kubebuilder:validation:Enum=install;upgrade
	// +optional
	LastAttemptedReleaseAction ReleaseAction `json:"lastAttemptedReleaseAction,omitempty"`

	// LastAttemptedReleaseActionDuration is how long the last release action
	// took.
	// +optional
	LastAttemptedReleaseActionDuration *metav1.Duration `json:"lastAttemptedReleaseActionDuration,omitempty"`

	// Failures counts the failed reconciliations of the current desired
	// state. It is reset after a successful reconciliation.
	// +optional
	Failures int64 `json:"failures,omitempty"`

	// InstallFailures counts the failed installs of the current desired
	// state. It is reset after a successful reconciliation.
	// +optional
	InstallFailures int64 `json:"installFailures,omitempty"`

	// UpgradeFailures counts the failed upgrades of the current desired
	// state. It is reset after a successful reconciliation.
	// +optional
	UpgradeFailures int64 `json:"upgradeFailures,omitempty"`

	// LastAttemptedRevision is the chart revision of the last attempt. For
	// OCIRepository sources the first 12 characters of the digest are
	// appended as build metadata, e.g. '1.2.3+1234567890ab'.
	// +optional
	LastAttemptedRevision string `json:"lastAttemptedRevision,omitempty"`

	// LastAttemptedRevisionDigest is the artifact digest of the last attempt.
	// Only set for OCIRepository sources.
	// +optional
	LastAttemptedRevisionDigest string `json:"lastAttemptedRevisionDigest,omitempty"`

	// LastAttemptedValuesChecksum is the SHA1 checksum of the values of the
	// last attempt.
	//
	// Deprecated: use LastAttemptedConfigDigest.
	// +optional
	LastAttemptedValuesChecksum string `json:"lastAttemptedValuesChecksum,omitempty"`

	// LastReleaseRevision is the version of the last successful release.
	//
	// Deprecated: use History.
	// +optional
	LastReleaseRevision int `json:"lastReleaseRevision,omitempty"`

	// LastAttemptedConfigDigest is the digest ('<algo>:<hex>') of the values
	// of the last attempt.
	// +optional
	LastAttemptedConfigDigest string `json:"lastAttemptedConfigDigest,omitempty"`

	// LastHandledForceAt and LastHandledReconcileAt record the last handled
	// force and reconcile request annotation values.
	meta.ReconcileRequestStatus `json:",inline"`
	meta.ForceRequestStatus     `json:",inline"`

	// LastHandledResetAt is the last reconcile.fluxcd.io/resetAt annotation
	// value the controller acted on.
	// +optional
	LastHandledResetAt string `json:"lastHandledResetAt,omitempty"`

	// Inventory lists the Kubernetes objects applied for the release.
	// +optional
	Inventory *ResourceInventory `json:"inventory,omitempty"`
}

// GetHelmChart splits HelmChart into its namespace and name. Both are empty
// when HelmChart is not set or not of the form '<namespace>/<name>'.
func (in HelmReleaseStatus) GetHelmChart() (string, string) {
	namespace, name, ok := strings.Cut(in.HelmChart, "/")
	if !ok {
		return "", ""
	}
	return namespace, name
}

// GetLastHandledResetRequest returns the last handled reset request token.
func (in HelmReleaseStatus) GetLastHandledResetRequest() string {
	return in.LastHandledResetAt
}

// SetLastHandledResetRequest records token as the last handled reset request.
func (in *HelmReleaseStatus) SetLastHandledResetRequest(token string) {
	in.LastHandledResetAt = token
}

// Snapshots is the release history of a HelmRelease, newest first.
type Snapshots []*Snapshot

// Latest returns the newest snapshot, or nil when the history is empty.
func (in Snapshots) Latest() *Snapshot {
	if len(in) == 0 {
		return nil
	}
	return in[0]
}

// Snapshot records the state of one Helm release as seen by the controller.
type Snapshot struct {
	// APIVersion is the version of the snapshot format; it tells apart
	// digests computed by different methods.
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`

	// Digest is the checksum ('<algo>:<hex>') of the release object in the
	// Helm storage.
	// +required
	Digest string `json:"digest"`

	// Name is the release name.
	// +required
	Name string `json:"name"`

	// Namespace is the namespace the release is deployed to.
	// +required
	Namespace string `json:"namespace"`

	// Version is the release version (revision) in the Helm storage.
	// +required
	Version int `json:"version"`

	// Status is the Helm status of the release (e.g. deployed, failed,
	// superseded).
	// +required
	Status string `json:"status"`

	// ChartName is the name of the chart of the release.
	// +required
	ChartName string `json:"chartName"`

	// ChartVersion is the version of the chart of the release.
	// +required
	ChartVersion string `json:"chartVersion"`

	// AppVersion is the app version of the chart of the release.
	// +optional
	AppVersion string `json:"appVersion,omitempty"`

	// ConfigDigest is the checksum ('<algo>:<hex>') of the values of the
	// release.
	// +required
	ConfigDigest string `json:"configDigest"`

	// FirstDeployed is when the release was first deployed.
	// +required
	FirstDeployed metav1.Time `json:"firstDeployed"`

	// LastDeployed is when the release was last deployed.
	// +required
	LastDeployed metav1.Time `json:"lastDeployed"`

	// Deleted is when the release was uninstalled.
	// +optional
	Deleted *metav1.Time `json:"deleted,omitempty"`

	// TestHooks maps the name of each test hook of the release to its
	// observed state. It is nil when the release was never tested.
	// +optional
	TestHooks *map[string]*TestHookStatus `json:"testHooks,omitempty"`

	// OCIDigest is the digest of the OCI artifact the chart came from.
	// +optional
	OCIDigest string `json:"ociDigest,omitempty"`

	// Action is the Helm action that produced this snapshot.
	// +optional
	Action string `json:"action,omitempty"`
}

// FullReleaseName returns '<namespace>/<name>.v<version>'.
func (in *Snapshot) FullReleaseName() string {
	if in == nil {
		return ""
	}
	return fmt.Sprintf("%s/%s.v%d", in.Namespace, in.Name, in.Version)
}

// VersionedChartName returns '<chartName>@<chartVersion>'.
func (in *Snapshot) VersionedChartName() string {
	if in == nil {
		return ""
	}
	return in.ChartName + "@" + in.ChartVersion
}

// HasBeenTested tells whether tests ran (or were recorded as run) for the
// release.
func (in *Snapshot) HasBeenTested() bool {
	return in != nil && in.TestHooks != nil
}

// GetTestHooks returns the recorded test hooks, or nil.
func (in *Snapshot) GetTestHooks() map[string]*TestHookStatus {
	if in == nil || in.TestHooks == nil {
		return nil
	}
	return *in.TestHooks
}

// SetTestHooks records the given test hooks, marking the release as tested.
func (in *Snapshot) SetTestHooks(hooks map[string]*TestHookStatus) {
	if hooks == nil {
		hooks = map[string]*TestHookStatus{}
	}
	in.TestHooks = &hooks
}

// TestHookStatus is the observed state of one test hook.
type TestHookStatus struct {
	// LastStarted is when the test hook last started.
	// +optional
	LastStarted *metav1.Time `json:"lastStarted,omitempty"`

	// LastCompleted is when the test hook last completed.
	// +optional
	LastCompleted *metav1.Time `json:"lastCompleted,omitempty"`

	// Phase is the last observed phase of the test hook (e.g. Succeeded,
	// Failed).
	// +optional
	Phase string `json:"phase,omitempty"`
}

// ResourceInventory lists the Kubernetes objects applied for a release.
type ResourceInventory struct {
	// Entries are the references to the applied objects.
	// +required
	Entries []ResourceRef `json:"entries"`
}

// ResourceRef identifies one Kubernetes object in the cluster.
type ResourceRef struct {
	// ID is '<namespace>_<name>_<group>_<kind>' of the object.
	// +required
	ID string `json:"id"`

	// Version is the API version of the object's kind.
	// +required
	Version string `json:"v"`
}
