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

import "time"

// Names of the strategies for a failed install or upgrade.
const (
	// ActionStrategyRemediateOnFailure remediates a failed install
	// (uninstall) or upgrade (rollback or uninstall) and then retries as long
	// as the remediation retries allow. It is the default.
	ActionStrategyRemediateOnFailure string = "RemediateOnFailure"

	// ActionStrategyRetryOnFailure retries a failed install or upgrade after
	// the retry interval without remediating it first.
	ActionStrategyRetryOnFailure string = "RetryOnFailure"
)

// DefaultRetryInterval is the wait before a retry when the RetryOnFailure
// strategy has no retryInterval.
const DefaultRetryInterval = 5 * time.Minute

// RemediationStrategy is the action used to remediate a failed upgrade.
type RemediationStrategy string

const (
	// RollbackRemediationStrategy rolls back to the previous release.
	RollbackRemediationStrategy RemediationStrategy = "rollback"
	// UninstallRemediationStrategy uninstalls the release.
	UninstallRemediationStrategy RemediationStrategy = "uninstall"
)

// Remediation is the common view on install and upgrade remediation
// settings.
// +kubebuilder:object:generate=false
type Remediation interface {
	// GetRetries returns the number of retries; a negative number means
	// unlimited retries.
	GetRetries() int
	// MustIgnoreTestFailures tells whether failing tests after the action
	// are ignored, falling back to def (spec.test.ignoreFailures).
	MustIgnoreTestFailures(def bool) bool
	// MustRemediateLastFailure tells whether the last failure is remediated
	// once no retries are left.
	MustRemediateLastFailure() bool
	// GetStrategy returns the action used to remediate a failure.
	GetStrategy() RemediationStrategy
	// RetriesExhausted tells whether failures has used up every retry.
	RetriesExhausted(failures int64) bool
}

// InstallRemediation configures what happens after a failed install.
type InstallRemediation struct {
	// Retries is how many times a failed install is retried, with an
	// uninstall in between attempts. A negative number retries forever.
	// Defaults to 0 (no retries).
	// +optional
	Retries int `json:"retries,omitempty"`

	// IgnoreTestFailures keeps failing tests after an install from
	// triggering remediation. Defaults to spec.test.ignoreFailures.
	// +optional
	IgnoreTestFailures *bool `json:"ignoreTestFailures,omitempty"`

	// RemediateLastFailure uninstalls the release after the last failed
	// attempt, once no retries are left. Defaults to false.
	// +optional
	RemediateLastFailure *bool `json:"remediateLastFailure,omitempty"`
}

// UpgradeRemediation configures what happens after a failed upgrade.
type UpgradeRemediation struct {
	// Retries is how many times a failed upgrade is retried, remediating
	// with Strategy in between attempts. A negative number retries forever.
	// Defaults to 0 (no retries).
	// +optional
	Retries int `json:"retries,omitempty"`

	// IgnoreTestFailures keeps failing tests after an upgrade from
	// triggering remediation. Defaults to spec.test.ignoreFailures.
	// +optional
	IgnoreTestFailures *bool `json:"ignoreTestFailures,omitempty"`

	// RemediateLastFailure remediates the last failed attempt once no
	// retries are left. Defaults to false, or to true when Retries is
	// greater than 0.
	// +optional
	RemediateLastFailure *bool `json:"remediateLastFailure,omitempty"`

	// Strategy is the remediation action: 'rollback' (the default) or
	// 'uninstall'.
	// +kubebuilder:validation:Enum=rollback;uninstall
	// +optional
	Strategy *RemediationStrategy `json:"strategy,omitempty"`
}

// GetRetries returns the number of install retries.
func (in InstallRemediation) GetRetries() int {
	return in.Retries
}

// MustIgnoreTestFailures returns IgnoreTestFailures, or def when it is not
// set.
func (in InstallRemediation) MustIgnoreTestFailures(def bool) bool {
	if in.IgnoreTestFailures == nil {
		return def
	}
	return *in.IgnoreTestFailures
}

// MustRemediateLastFailure returns RemediateLastFailure, false when it is not
// set.
func (in InstallRemediation) MustRemediateLastFailure() bool {
	return in.RemediateLastFailure != nil && *in.RemediateLastFailure
}

// GetStrategy returns UninstallRemediationStrategy, the only way to
// remediate a failed install.
func (in InstallRemediation) GetStrategy() RemediationStrategy {
	return UninstallRemediationStrategy
}

// RetriesExhausted tells whether failures install failures have used up all
// retries. It is never true for unlimited (negative) retries.
func (in InstallRemediation) RetriesExhausted(failures int64) bool {
	return retriesExhausted(in.Retries, failures)
}

// GetRetries returns the number of upgrade retries.
func (in UpgradeRemediation) GetRetries() int {
	return in.Retries
}

// MustIgnoreTestFailures returns IgnoreTestFailures, or def when it is not
// set.
func (in UpgradeRemediation) MustIgnoreTestFailures(def bool) bool {
	if in.IgnoreTestFailures == nil {
		return def
	}
	return *in.IgnoreTestFailures
}

// MustRemediateLastFailure returns RemediateLastFailure when it is set, and
// otherwise whether Retries is greater than 0.
func (in UpgradeRemediation) MustRemediateLastFailure() bool {
	if in.RemediateLastFailure == nil {
		return in.Retries > 0
	}
	return *in.RemediateLastFailure
}

// GetStrategy returns the remediation strategy, RollbackRemediationStrategy
// when it is not set.
func (in UpgradeRemediation) GetStrategy() RemediationStrategy {
	if in.Strategy == nil || *in.Strategy == "" {
		return RollbackRemediationStrategy
	}
	return *in.Strategy
}

// RetriesExhausted tells whether failures upgrade failures have used up all
// retries. It is never true for unlimited (negative) retries.
func (in UpgradeRemediation) RetriesExhausted(failures int64) bool {
	return retriesExhausted(in.Retries, failures)
}

// retriesExhausted tells whether failures exceed retries; negative retries
// mean unlimited.
func retriesExhausted(retries int, failures int64) bool {
	return retries >= 0 && failures > int64(retries)
}
