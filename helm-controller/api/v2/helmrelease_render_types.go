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
	"github.com/fluxcd/pkg/apis/kustomize"
)

// DriftDetectionMode decides what the controller does when the resources in
// the cluster differ from the manifest of the release in the Helm storage.
type DriftDetectionMode string

const (
	// DriftDetectionEnabled detects drift and corrects it.
	DriftDetectionEnabled DriftDetectionMode = "enabled"
	// DriftDetectionWarn detects drift and only reports it in an event.
	DriftDetectionWarn DriftDetectionMode = "warn"
	// DriftDetectionDisabled does not look for drift. It is the default.
	DriftDetectionDisabled DriftDetectionMode = "disabled"
)

// PostRenderStrategy decides how Helm hooks are passed to the post-renderers.
type PostRenderStrategy string

const (
	// PostRenderStrategyNoHooks does not pass hooks to the post-renderers
	// (the Helm 3 behaviour).
	PostRenderStrategyNoHooks PostRenderStrategy = "nohooks"
	// PostRenderStrategyCombined passes hooks and templates together in one
	// stream (the Helm 4 default).
	PostRenderStrategyCombined PostRenderStrategy = "combined"
	// PostRenderStrategySeparate passes hooks and templates in separate
	// streams.
	PostRenderStrategySeparate PostRenderStrategy = "separate"
)

// WaitStrategyName is the way Helm waits for resources to become ready.
type WaitStrategyName string

const (
	// WaitStrategyPoller polls the resources with kstatus.
	WaitStrategyPoller WaitStrategyName = "poller"
	// WaitStrategyLegacy uses the waiting logic of Helm 3.
	WaitStrategyLegacy WaitStrategyName = "legacy"
)

// DriftDetection configures the comparison of the release manifest in the
// Helm storage with the resources in the cluster.
type DriftDetection struct {
	// Mode is 'enabled' (detect and correct drift), 'warn' (detect and
	// report only) or 'disabled'. Defaults to 'disabled'.
	// +kubebuilder:validation:Enum=enabled;warn;disabled
	// +optional
	Mode DriftDetectionMode `json:"mode,omitempty"`

	// Ignore lists rules for fields whose differences are not drift.
	// +optional
	Ignore []IgnoreRule `json:"ignore,omitempty"`
}

// GetMode returns the drift detection mode, DriftDetectionDisabled when it is
// not set.
func (in DriftDetection) GetMode() DriftDetectionMode {
	if in.Mode == "" {
		return DriftDetectionDisabled
	}
	return in.Mode
}

// MustDetectChanges tells whether drift must be looked for at all.
func (in DriftDetection) MustDetectChanges() bool {
	return in.GetMode() != DriftDetectionDisabled
}

// IgnoreRule excludes some fields of some objects from drift detection.
type IgnoreRule struct {
	// Paths are JSON Pointers (RFC 6901) to the fields to ignore.
	// +required
	Paths []string `json:"paths"`

	// Target selects the objects the rule applies to. When omitted, the
	// paths are ignored in every object of the release.
	// +optional
	Target *kustomize.Selector `json:"target,omitempty"`
}

// PostRenderer is one post-rendering step applied to the manifests rendered
// by Helm.
type PostRenderer struct {
	// Kustomize post-renders the manifests with kustomize patches and image
	// overrides.
	// +optional
	Kustomize *Kustomize `json:"kustomize,omitempty"`
}

// Kustomize holds the kustomize customisations a post-renderer applies.
type Kustomize struct {
	// Patches are strategic merge or JSON 6902 patches, written inline, each
	// applied to the objects its target selects.
	// +optional
	Patches []kustomize.Patch `json:"patches,omitempty"`

	// Images replaces image names, tags or digests in the manifests; a
	// simpler alternative to a patch.
	// +optional
	Images []kustomize.Image `json:"images,omitempty"`
}

// CommonMetadata holds labels and annotations set on every resource of the
// release, overriding existing entries with the same key.
type CommonMetadata struct {
	// Annotations to set on every resource.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`

	// Labels to set on every resource.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
}

// WaitStrategy selects how Helm waits for applied resources to become ready.
type WaitStrategy struct {
	// Name is 'poller' (kstatus polling) or 'legacy' (Helm 3 waiting).
	// Defaults to 'poller' ('legacy' when the UseHelm3Defaults feature gate
	// is on).
	// +kubebuilder:validation:Enum=poller;legacy
	// +required
	Name WaitStrategyName `json:"name"`
}
