package controller

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/fluxcd/pkg/apis/meta"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/notification-controller/internal/receiver"
)

// kindGroups are the API groups of the kinds a Receiver may list without an apiVersion (the
// CRD's enum); the served version is then the API server's preferred one.
var kindGroups = map[string]string{
	"Bucket":                "source.toolkit.fluxcd.io",
	"GitRepository":         "source.toolkit.fluxcd.io",
	"HelmChart":             "source.toolkit.fluxcd.io",
	"HelmRepository":        "source.toolkit.fluxcd.io",
	"OCIRepository":         "source.toolkit.fluxcd.io",
	"ExternalArtifact":      "source.toolkit.fluxcd.io",
	"ArtifactGenerator":     "source.extensions.fluxcd.io",
	"Kustomization":         "kustomize.toolkit.fluxcd.io",
	"HelmRelease":           "helm.toolkit.fluxcd.io",
	"ImageRepository":       "image.toolkit.fluxcd.io",
	"ImagePolicy":           "image.toolkit.fluxcd.io",
	"ImageUpdateAutomation": "image.toolkit.fluxcd.io",
}

// targetResolver reads a Receiver's resources live from the API server (the webhook asks for
// the current objects, and caching every Flux kind for it would cost memory for nothing)
// and annotates them.
type targetResolver struct {
	reader client.Reader
	writer client.Client
	mapper apimeta.RESTMapper
}

// gvk resolves a resource's apiVersion and kind.
func (t *targetResolver) gvk(apiVersion, kind string) (schema.GroupVersionKind, error) {
	if apiVersion != "" {
		gv, err := schema.ParseGroupVersion(apiVersion)
		if err != nil {
			return schema.GroupVersionKind{}, fmt.Errorf("apiVersion %q: %w", apiVersion, err)
		}
		return gv.WithKind(kind), nil
	}
	group, ok := kindGroups[kind]
	if !ok {
		return schema.GroupVersionKind{}, fmt.Errorf("kind %q is not a Flux kind: set its apiVersion", kind)
	}
	m, err := t.mapper.RESTMapping(schema.GroupKind{Group: group, Kind: kind})
	if err != nil {
		return schema.GroupVersionKind{}, fmt.Errorf("kind %s: %w", kind, err)
	}
	return m.GroupVersionKind, nil
}

// list answers a receiver.Query: the named object, or the objects with the labels.
func (t *targetResolver) list(ctx context.Context, q receiver.Query) ([]map[string]any, error) {
	gvk, err := t.gvk(q.APIVersion, q.Kind)
	if err != nil {
		return nil, err
	}
	if q.Name != "" {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(gvk)
		if err := t.reader.Get(ctx, types.NamespacedName{Namespace: q.Namespace, Name: q.Name}, u); err != nil {
			return nil, err
		}
		return []map[string]any{u.Object}, nil
	}
	l := &unstructured.UnstructuredList{}
	l.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	opts := []client.ListOption{client.InNamespace(q.Namespace)}
	if len(q.MatchLabels) > 0 {
		opts = append(opts, client.MatchingLabels(q.MatchLabels))
	}
	if err := t.reader.List(ctx, l, opts...); err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(l.Items))
	for i := range l.Items {
		out[i] = l.Items[i].Object
	}
	return out, nil
}

// requestReconcile sets the target's reconcile.fluxcd.io/requestedAt annotation with a merge
// patch of that annotation alone: nothing else of the object is read back or written.
func (t *targetResolver) requestReconcile(ctx context.Context, target receiver.Target, at string) error {
	gvk, err := t.gvk(target.APIVersion, target.Kind)
	if err != nil {
		return err
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{meta.ReconcileRequestAnnotation: at}}})
	if err != nil {
		return err
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	u.SetNamespace(target.Namespace)
	u.SetName(target.Name)
	if err := t.writer.Patch(ctx, u, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return fmt.Errorf("annotating %s %s/%s: %w", target.Kind, target.Namespace, target.Name, err)
	}
	return nil
}
