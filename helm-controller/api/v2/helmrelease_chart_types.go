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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fluxcd/pkg/apis/meta"
)

// Reconcile strategies of a HelmChart template: what makes the source
// controller produce a new chart artifact.
const (
	// ReconcileStrategyChartVersion produces a new artifact only when the
	// version in the chart's Chart.yaml changes.
	ReconcileStrategyChartVersion string = "ChartVersion"

	// ReconcileStrategyRevision produces a new artifact whenever the revision
	// of the source changes.
	ReconcileStrategyRevision string = "Revision"
)

// Providers that can verify the signature of an OCI Helm chart.
const (
	// VerificationProviderCosign verifies signatures made with Sigstore cosign.
	VerificationProviderCosign string = "cosign"

	// VerificationProviderNotation verifies signatures made with Notary notation.
	VerificationProviderNotation string = "notation"
)

// HelmChartTemplate describes the HelmChart object the controller creates
// (in the namespace of the chart source) to produce the chart artifact for
// this HelmRelease.
type HelmChartTemplate struct {
	// ObjectMeta holds labels and annotations copied onto the generated
	// HelmChart. Nothing is added when omitted.
	// +optional
	ObjectMeta *HelmChartTemplateObjectMeta `json:"metadata,omitempty"`

	// Spec holds the HelmChart specification (chart name, version and
	// source) for the generated HelmChart.
	// +required
	Spec HelmChartTemplateSpec `json:"spec"`
}

// HelmChartTemplateObjectMeta holds the subset of object metadata that can be
// set on the generated HelmChart.
type HelmChartTemplateObjectMeta struct {
	// Labels are added to the metadata.labels of the generated HelmChart.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`

	// Annotations are added to the metadata.annotations of the generated
	// HelmChart.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
}

// HelmChartTemplateSpec is the specification of the generated HelmChart.
type HelmChartTemplateSpec struct {
	// Chart is the name of the chart in a Helm repository, or the path to the
	// chart directory inside a Git repository or Bucket.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	// +required
	Chart string `json:"chart"`

	// Version is a semver version or range selecting the chart version. It is
	// only used for charts from a HelmRepository; for GitRepository and Bucket
	// sources the version in Chart.yaml is used. Defaults to '*' (latest).
	// +kubebuilder:default:="*"
	// +optional
	Version string `json:"version,omitempty"`

	// SourceRef points at the source (HelmRepository, GitRepository or
	// Bucket) that holds the chart.
	// +required
	SourceRef CrossNamespaceObjectReference `json:"sourceRef"`

	// Interval is how often the generated HelmChart checks its source for a
	// new chart. Defaults to the interval of the HelmRelease.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +optional
	Interval *metav1.Duration `json:"interval,omitempty"`

	// ReconcileStrategy decides what produces a new chart artifact: a new
	// chart version ('ChartVersion') or any new source revision
	// ('Revision'). Defaults to 'ChartVersion'.
	// +kubebuilder:validation:Enum=ChartVersion;Revision
	// +kubebuilder:default:=ChartVersion
	// +optional
	ReconcileStrategy string `json:"reconcileStrategy,omitempty"`

	// ValuesFiles lists values files, relative to the chart source, that are
	// merged in order (later files win) to form the chart's default values
	// instead of its values.yaml. When omitted, the chart's own values.yaml
	// is used.
	// +optional
	ValuesFiles []string `json:"valuesFiles,omitempty"`

	// IgnoreMissingValuesFiles skips entries of ValuesFiles that do not exist
	// instead of failing. Defaults to false.
	// +optional
	IgnoreMissingValuesFiles bool `json:"ignoreMissingValuesFiles,omitempty"`

	// Verify configures signature verification of the chart. Only OCI
	// sources support it, and dependencies that are not packaged inside the
	// chart are not verified. No verification is done when omitted.
	// +optional
	Verify *HelmChartTemplateVerification `json:"verify,omitempty"`
}

// HelmChartTemplateVerification configures how the signature of an OCI Helm
// chart is verified.
type HelmChartTemplateVerification struct {
	// Provider is the signing technology: 'cosign' or 'notation'. Defaults to
	// 'cosign'.
	// +kubebuilder:validation:Enum=cosign;notation
	// +kubebuilder:default:=cosign
	// +required
	Provider string `json:"provider"`

	// SecretRef names a Secret in the HelmRelease namespace that holds the
	// trusted public keys or certificates. When omitted, keyless
	// verification is attempted where the provider supports it.
	// +optional
	SecretRef *meta.LocalObjectReference `json:"secretRef,omitempty"`
}

// CrossNamespaceObjectReference locates the source of a chart template,
// optionally in another namespace.
type CrossNamespaceObjectReference struct {
	// APIVersion of the source object. The served version is used when
	// omitted.
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`

	// Kind of the source object.
	// +kubebuilder:validation:Enum=HelmRepository;GitRepository;Bucket
	// +required
	Kind string `json:"kind"`

	// Name of the source object.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`

	// Namespace of the source object. Defaults to the namespace of the
	// HelmRelease.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// CrossNamespaceSourceReference points directly at a source object that
// already provides a chart artifact, optionally in another namespace.
type CrossNamespaceSourceReference struct {
	// APIVersion of the source object. The served version is used when
	// omitted.
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`

	// Kind of the source object.
	// +kubebuilder:validation:Enum=OCIRepository;HelmChart;ExternalArtifact
	// +required
	Kind string `json:"kind"`

	// Name of the source object.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`

	// Namespace of the source object. Defaults to the namespace of the
	// HelmRelease.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Namespace string `json:"namespace,omitempty"`
}
