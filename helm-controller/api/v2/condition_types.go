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

// HelmReleaseFinalizer is the finalizer the helm-controller puts on every
// HelmRelease, so that the Helm release (and the HelmChart created for it) can
// be cleaned up before the object disappears.
const HelmReleaseFinalizer = "finalizers.fluxcd.io"

// Condition types a HelmRelease reports in addition to the generic Ready,
// Reconciling and Stalled conditions of github.com/fluxcd/pkg/apis/meta.
const (
	// ReleasedCondition tells whether the last Helm install or upgrade of the
	// desired state succeeded (True) or failed (False).
	ReleasedCondition string = "Released"

	// TestSuccessCondition tells whether the Helm tests that ran after the
	// last install or upgrade passed (True) or failed (False).
	TestSuccessCondition string = "TestSuccess"

	// RemediatedCondition is True when a failed release has been remediated
	// by a rollback or an uninstall.
	RemediatedCondition string = "Remediated"
)

// Condition reasons a HelmRelease reports.
const (
	// InstallSucceededReason means a Helm install completed successfully.
	InstallSucceededReason string = "InstallSucceeded"

	// InstallFailedReason means a Helm install returned an error.
	InstallFailedReason string = "InstallFailed"

	// UpgradeSucceededReason means a Helm upgrade completed successfully.
	UpgradeSucceededReason string = "UpgradeSucceeded"

	// UpgradeFailedReason means a Helm upgrade returned an error.
	UpgradeFailedReason string = "UpgradeFailed"

	// TestSucceededReason means all Helm tests of the release passed.
	TestSucceededReason string = "TestSucceeded"

	// TestFailedReason means at least one Helm test of the release failed.
	TestFailedReason string = "TestFailed"

	// RollbackSucceededReason means a Helm rollback completed successfully.
	RollbackSucceededReason string = "RollbackSucceeded"

	// RollbackFailedReason means a Helm rollback returned an error.
	RollbackFailedReason string = "RollbackFailed"

	// UninstallSucceededReason means a Helm uninstall completed successfully.
	UninstallSucceededReason string = "UninstallSucceeded"

	// UninstallFailedReason means a Helm uninstall returned an error.
	UninstallFailedReason string = "UninstallFailed"

	// ArtifactFailedReason means the chart artifact of the referenced source
	// could not be obtained or loaded.
	ArtifactFailedReason string = "ArtifactFailed"

	// InitFailedReason means the Helm client or its configuration (for example
	// the values or the kubeconfig) could not be set up.
	InitFailedReason string = "InitFailed"

	// GetLastReleaseFailedReason means the latest release could not be read
	// from the Helm storage.
	GetLastReleaseFailedReason string = "GetLastReleaseFailed"

	// DependencyNotReadyReason means one of the HelmReleases listed in
	// spec.dependsOn is not ready yet. It has the same value as
	// meta.DependencyNotReadyReason.
	DependencyNotReadyReason string = "DependencyNotReady"

	// RetriesExceededReason is set on the Stalled condition when no install
	// or upgrade retries are left for the current desired state.
	RetriesExceededReason string = "RetriesExceeded"
)

// Annotation and label keys that are part of the HelmRelease wire contract.
const (
	// ResetRequestAnnotation, set together with the
	// reconcile.fluxcd.io/requestedAt annotation to the same token, asks the
	// controller to reset the install and upgrade failure counters.
	ResetRequestAnnotation string = "reconcile.fluxcd.io/resetAt"

	// DriftDetectionMetadataKey is the label or annotation key that excludes
	// a single resource of a release from drift detection when it is set to
	// DriftDetectionDisabledValue.
	DriftDetectionMetadataKey string = GroupName + "/driftDetection"

	// DriftDetectionDisabledValue is the value of DriftDetectionMetadataKey
	// that disables drift detection for a resource.
	DriftDetectionDisabledValue string = "disabled"

	// NameLabel is set on every resource of a release to the name of the
	// HelmRelease that manages it.
	NameLabel string = GroupName + "/name"

	// NamespaceLabel is set on every resource of a release to the namespace
	// of the HelmRelease that manages it.
	NamespaceLabel string = GroupName + "/namespace"
)

// GroupName is the API group of the HelmRelease kind.
const GroupName = "helm.toolkit.fluxcd.io"
