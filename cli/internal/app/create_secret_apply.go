package app

import (
	"context"
	"encoding/base64"
	"fmt"
	"maps"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// newSecret is a Secret the way flux create exports it: its values in stringData, so the
// YAML is readable, and a type only when it is not Opaque.
func newSecret(name, namespace string, labels map[string]string, typ string, data map[string]string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Secret"}}
	u.SetName(name)
	u.SetNamespace(namespace)
	if len(labels) > 0 {
		u.SetLabels(labels)
	}
	sd := map[string]any{}
	for k, v := range data {
		sd[k] = v
	}
	u.Object["stringData"] = sd
	if typ != "" {
		u.Object["type"] = typ
	}
	return u
}

// secretForApply moves stringData into data. stringData is write-only: applied as such, a
// key dropped later would stay in data forever, while keys applied in data are owned by
// flux's field manager and removed when a later apply leaves them out.
func secretForApply(u *unstructured.Unstructured) *unstructured.Unstructured {
	out := u.DeepCopy()
	sd, _, _ := unstructured.NestedStringMap(out.Object, "stringData")
	delete(out.Object, "stringData")
	data := map[string]any{}
	for _, k := range slices.Sorted(maps.Keys(sd)) {
		data[k] = base64.StdEncoding.EncodeToString([]byte(sd[k]))
	}
	out.Object["data"] = data
	return out
}

// appliedSecret is a Secret flux create applied, so that a failure later in the same command
// can take back a Secret it created instead of leaving it behind half-configured.
type appliedSecret struct {
	obj     *unstructured.Unstructured
	created bool
}

// applySecret applies the Secret server-side. Its errors name the Secret only: the API
// server's answers do not echo data, and nothing here prints it.
func applySecret(ctx context.Context, kube *Kube, u *unstructured.Unstructured) (*appliedSecret, error) {
	created, err := applyObject(ctx, kube, secretForApply(u))
	if err != nil {
		return nil, err
	}
	return &appliedSecret{obj: u, created: created}, nil
}

// rollback deletes the Secret if this command created it, and says so; what is the object
// that failed to apply.
func (s *appliedSecret) rollback(ctx context.Context, kube *Kube, log *Logger, what string) {
	if s == nil || !s.created {
		return
	}
	err := kube.Client.Delete(context.WithoutCancel(ctx), s.obj)
	switch {
	case err == nil || apierrors.IsNotFound(err):
		log.Warningf("deleted Secret %s/%s again: the %s it was made for was not applied", s.obj.GetNamespace(), s.obj.GetName(), what)
	default:
		log.Failuref("%s", fmt.Errorf("Secret %s/%s, made for the %s that was not applied, is left behind: %w", s.obj.GetNamespace(), s.obj.GetName(), what, err))
	}
}
