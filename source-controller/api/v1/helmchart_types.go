package v1

import (
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// HelmChartKind is the kind name of HelmChart objects.
const HelmChartKind = "HelmChart"

// Values of HelmChart spec.reconcileStrategy.
const (
	// ReconcileStrategyChartVersion produces a new Artifact only when the
	// version in the chart metadata changes. This is the default.
	ReconcileStrategyChartVersion string = "ChartVersion"
	// ReconcileStrategyRevision also produces a new Artifact when the
	// revision of the source Artifact changes, even if the chart version
	// stays the same.
	ReconcileStrategyRevision string = "Revision"
)

// HelmChartSpec describes the Helm chart to fetch or package and where it
// comes from.
// +kubebuilder:validation:XValidation:rule="!has(self.verify) || self.sourceRef.kind == 'HelmRepository'",message="spec.verify requires spec.sourceRef.kind to be 'HelmRepository'"
type HelmChartSpec struct {
	// Chart is the chart name (for a HelmRepository source) or the path of
	// the chart directory or packaged chart inside the source Artifact.
	// +required
	Chart string `json:"chart"`

	// Version is a semantic version range selecting the chart version. Only
	// used with HelmRepository sources. Defaults to '*', the latest version.
	// +kubebuilder:default:="*"
	// +optional
	Version string `json:"version,omitempty"`

	// SourceRef points at the source, in the same namespace, the chart is
	// taken from.
	// +required
	SourceRef LocalHelmChartSourceReference `json:"sourceRef"`

	// Interval is how often the source is checked for a new chart. The
	// controller may add a little jitter to spread the load.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +required
	Interval metav1.Duration `json:"interval"`

	// ReconcileStrategy decides when a new Artifact is produced:
	// 'ChartVersion' (the chart version changed, the default) or 'Revision'
	// (the source revision changed).
	// +kubebuilder:validation:Enum=ChartVersion;Revision
	// +kubebuilder:default:=ChartVersion
	// +optional
	ReconcileStrategy string `json:"reconcileStrategy,omitempty"`

	// ValuesFiles lists values files, relative to the source Artifact, that
	// are merged in order (later files win) and replace the chart's default
	// values.yaml (which is only used if listed). The chart values are left
	// alone when empty.
	// +optional
	ValuesFiles []string `json:"valuesFiles,omitempty"`

	// IgnoreMissingValuesFiles skips entries of ValuesFiles that do not
	// exist instead of failing.
	// +optional
	IgnoreMissingValuesFiles bool `json:"ignoreMissingValuesFiles,omitempty"`

	// Suspend stops the reconciliation of this HelmChart while true.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// Verify enables signature verification of the chart. Only supported
	// for HelmRepository sources of type 'oci'; dependencies not bundled in
	// the chart are not verified.
	// +optional
	Verify *OCIVerification `json:"verify,omitempty"`
}

// LocalHelmChartSourceReference points at the source object, in the
// HelmChart's namespace, that provides the chart.
type LocalHelmChartSourceReference struct {
	// APIVersion of the source object.
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`

	// Kind of the source object: 'HelmRepository', 'GitRepository' or
	// 'Bucket'.
	// +kubebuilder:validation:Enum=HelmRepository;GitRepository;Bucket
	// +required
	Kind string `json:"kind"`

	// Name of the source object.
	// +required
	Name string `json:"name"`
}

// HelmChartStatus is the observed state of a HelmChart.
type HelmChartStatus struct {
	// ObservedGeneration is the metadata.generation of the HelmChart the
	// controller last acted on.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// ObservedSourceArtifactRevision is the revision of the source Artifact
	// the current chart Artifact was built from.
	// +optional
	ObservedSourceArtifactRevision string `json:"observedSourceArtifactRevision,omitempty"`

	// ObservedChartName is the chart name resolved from spec.chart at the
	// last reconciliation.
	// +optional
	ObservedChartName string `json:"observedChartName,omitempty"`

	// ObservedValuesFiles are the values files merged into the chart of the
	// current Artifact.
	// +optional
	ObservedValuesFiles []string `json:"observedValuesFiles,omitempty"`

	// Conditions describe the current state of the HelmChart.
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// URL is a stable address at which the latest chart Artifact can be
	// downloaded. Prefer the exact data in Artifact where possible.
	// +optional
	URL string `json:"url,omitempty"`

	// Artifact is the output of the last successful reconciliation.
	// +optional
	Artifact *meta.Artifact `json:"artifact,omitempty"`

	meta.ReconcileRequestStatus `json:",inline"`
}

// HelmChart fetches or packages a Helm chart from a source and publishes it
// as an Artifact.
// +kubebuilder:object:root=true
// +kubebuilder:storageversion
// +kubebuilder:resource:shortName=hc,categories={all,fluxcd,fluxcd-sources}
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Chart",type=string,JSONPath=`.spec.chart`
// +kubebuilder:printcolumn:name="Version",type=string,JSONPath=`.spec.version`
// +kubebuilder:printcolumn:name="Source Kind",type=string,JSONPath=`.spec.sourceRef.kind`
// +kubebuilder:printcolumn:name="Source Name",type=string,JSONPath=`.spec.sourceRef.name`
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status"
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].message"
type HelmChart struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired state of the HelmChart.
	Spec HelmChartSpec `json:"spec,omitempty"`

	// Status is the observed state of the HelmChart.
	// +kubebuilder:default={"observedGeneration":-1}
	Status HelmChartStatus `json:"status,omitempty"`
}

// GetConditions returns the status conditions of the object.
func (in *HelmChart) GetConditions() []metav1.Condition {
	return in.Status.Conditions
}

// SetConditions replaces the status conditions of the object.
func (in *HelmChart) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetObservedGeneration returns status.observedGeneration.
func (in *HelmChart) GetObservedGeneration() int64 {
	return in.Status.ObservedGeneration
}

// SetObservedGeneration sets status.observedGeneration.
func (in *HelmChart) SetObservedGeneration(generation int64) {
	in.Status.ObservedGeneration = generation
}

// GetLastHandledReconcileRequest returns status.lastHandledReconcileAt.
func (in *HelmChart) GetLastHandledReconcileRequest() string {
	return in.Status.GetLastHandledReconcileRequest()
}

// SetLastHandledReconcileRequest sets status.lastHandledReconcileAt.
func (in *HelmChart) SetLastHandledReconcileRequest(token string) {
	in.Status.SetLastHandledReconcileRequest(token)
}

// GetRequeueAfter returns spec.interval.
func (in *HelmChart) GetRequeueAfter() time.Duration {
	return in.Spec.Interval.Duration
}

// IsSuspended returns spec.suspend.
func (in *HelmChart) IsSuspended() bool {
	return in.Spec.Suspend
}

// GetArtifact returns status.artifact, nil when no Artifact exists yet.
func (in *HelmChart) GetArtifact() *meta.Artifact {
	return in.Status.Artifact
}

// GetValuesFiles returns spec.valuesFiles.
func (in *HelmChart) GetValuesFiles() []string {
	return in.Spec.ValuesFiles
}

// GetVersion returns spec.version, defaulting to "*" (latest).
func (in *HelmChart) GetVersion() string {
	if in.Spec.Version == "" {
		return "*"
	}
	return in.Spec.Version
}

// GetReconcileStrategy returns spec.reconcileStrategy, defaulting to
// ReconcileStrategyChartVersion.
func (in *HelmChart) GetReconcileStrategy() string {
	if in.Spec.ReconcileStrategy == "" {
		return ReconcileStrategyChartVersion
	}
	return in.Spec.ReconcileStrategy
}

// HelmChartList is a list of HelmChart objects.
// +kubebuilder:object:root=true
type HelmChartList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	// Items are the HelmChart objects of the list.
	Items []HelmChart `json:"items"`
}
