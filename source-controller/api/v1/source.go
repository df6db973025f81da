package v1

import (
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Source is implemented by every kind of this group that produces an
// Artifact. Consumers (kustomize-controller, helm-controller, ...) use it to
// read the latest Artifact of whatever source kind they reference.
// +k8s:deepcopy-gen=false
type Source interface {
	runtime.Object
	// GetRequeueAfter returns how long to wait before the source is checked
	// for updates again.
	GetRequeueAfter() time.Duration
	// GetArtifact returns the last Artifact produced by the source, or nil
	// when none has been produced yet.
	GetArtifact() *meta.Artifact
}

// DefaultTimeout is the timeout applied to the remote operations of a source
// (clone, pull, index download, bucket listing) when spec.timeout is unset.
const DefaultTimeout = 60 * time.Second

// timeoutOrDefault returns d when it is set, DefaultTimeout otherwise.
func timeoutOrDefault(d *metav1.Duration) time.Duration {
	if d == nil {
		return DefaultTimeout
	}
	return d.Duration
}

// Every source kind of this group implements Source.
var (
	_ Source = &GitRepository{}
	_ Source = &OCIRepository{}
	_ Source = &HelmRepository{}
	_ Source = &HelmChart{}
	_ Source = &Bucket{}
)

// SetArtifact records the artifact produced by the last successful reconcile.
func (in *GitRepository) SetArtifact(a *meta.Artifact) { in.Status.Artifact = a }

// SetArtifact records the artifact produced by the last successful reconcile.
func (in *OCIRepository) SetArtifact(a *meta.Artifact) { in.Status.Artifact = a }

// SetArtifact records the artifact produced by the last successful reconcile.
func (in *HelmRepository) SetArtifact(a *meta.Artifact) { in.Status.Artifact = a }

// SetArtifact records the artifact produced by the last successful reconcile.
func (in *HelmChart) SetArtifact(a *meta.Artifact) { in.Status.Artifact = a }

// SetArtifact records the artifact produced by the last successful reconcile.
func (in *Bucket) SetArtifact(a *meta.Artifact) { in.Status.Artifact = a }
