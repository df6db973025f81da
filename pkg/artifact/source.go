package artifact

import (
	"context"
	"fmt"

	"github.com/fluxcd/pkg/apis/meta"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// SourceRef names a source object: any kind whose status records an artifact the Flux way
// (status.artifact), Flux's own sources or a third party's.
type SourceRef struct {
	APIVersion, Kind, Namespace, Name string
}

func (r SourceRef) String() string { return fmt.Sprintf("%s/%s/%s", r.Kind, r.Namespace, r.Name) }

// ErrSourceNotFound is returned (wrapped) when the source object does not exist.
var ErrSourceNotFound = fmt.Errorf("source not found")

// GetSourceArtifact reads the artifact a source records in status.artifact, without needing
// the source's Go types; nil when it has none yet.
func GetSourceArtifact(ctx context.Context, c client.Reader, ref SourceRef) (*meta.Artifact, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(schema.FromAPIVersionAndKind(ref.APIVersion, ref.Kind))
	if err := c.Get(ctx, types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}, u); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("%s: %w", ref, ErrSourceNotFound)
		}
		return nil, err
	}
	raw, ok, err := unstructured.NestedMap(u.Object, "status", "artifact")
	if err != nil || !ok {
		return nil, err
	}
	var a meta.Artifact
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &a); err != nil {
		return nil, fmt.Errorf("%s: status.artifact: %w", ref, err)
	}
	return &a, nil
}
