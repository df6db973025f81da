package framework

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// FieldManager is the server-side apply field manager of everything the tests write.
const FieldManager = "e2e"

// ReconcileRequestAnnotation asks a Flux controller to reconcile now (Flux's
// reconcile.fluxcd.io/requestedAt).
const ReconcileRequestAnnotation = "reconcile.fluxcd.io/requestedAt"

// Apply server-side applies every document of manifests (multi-document YAML or JSON) as
// field manager "e2e", taking ownership of conflicting fields, in order. It returns the
// objects as the API server stored them.
func (e *Env) Apply(ctx context.Context, manifests string) ([]*unstructured.Unstructured, error) {
	objs, err := DecodeObjects([]byte(manifests))
	if err != nil {
		return nil, err
	}
	for _, u := range objs {
		if err := e.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u),
			client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
			return nil, fmt.Errorf("apply %s: %w", describe(u), err)
		}
	}
	return objs, nil
}

// ApplyObject server-side applies a typed object (its GVK is looked up in the Env's scheme;
// status and managedFields are not sent) and updates obj with the stored state.
func (e *Env) ApplyObject(ctx context.Context, obj client.Object) error {
	u, err := e.toUnstructured(obj)
	if err != nil {
		return err
	}
	unstructured.RemoveNestedField(u.Object, "status")
	unstructured.RemoveNestedField(u.Object, "metadata", "managedFields")
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u.Object, "metadata", "resourceVersion")
	if err := e.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u),
		client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("apply %s: %w", describe(u), err)
	}
	return e.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj)
}

// DecodeObjects splits multi-document YAML (or JSON) into objects, skipping empty documents.
func DecodeObjects(data []byte) ([]*unstructured.Unstructured, error) {
	r := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for i := 1; ; i++ {
		var m map[string]any
		if err := r.Decode(&m); errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if len(m) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if u.GetKind() == "" || u.GetAPIVersion() == "" {
			return nil, fmt.Errorf("document %d (%s): apiVersion and kind are required", i, u.GetName())
		}
		out = append(out, u)
	}
}

func (e *Env) toUnstructured(obj client.Object) (*unstructured.Unstructured, error) {
	gvk, err := apiutil.GVKForObject(obj, e.Scheme)
	if err != nil {
		return nil, err
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetGroupVersionKind(gvk)
	return u, nil
}

func describe(u *unstructured.Unstructured) string {
	if ns := u.GetNamespace(); ns != "" {
		return fmt.Sprintf("%s %s/%s", u.GetKind(), ns, u.GetName())
	}
	return fmt.Sprintf("%s %s", u.GetKind(), u.GetName())
}

// Readiness reports whether a Flux object is Ready=True at its current generation
// (status.observedGeneration equals metadata.generation), and if not, why: the Ready
// condition's reason and message, or that the controller has not seen this generation.
func Readiness(obj client.Object) (bool, string) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return false, err.Error()
	}
	observed, _, _ := unstructured.NestedInt64(m, "status", "observedGeneration")
	conds := conditions(m)
	if observed != obj.GetGeneration() {
		return false, fmt.Sprintf("observedGeneration %d, generation %d", observed, obj.GetGeneration())
	}
	for _, c := range conds {
		if c.Type == "Ready" {
			if c.Status == metav1.ConditionTrue {
				return true, ""
			}
			return false, fmt.Sprintf("Ready=%s %s: %s", c.Status, c.Reason, c.Message)
		}
	}
	return false, "no Ready condition"
}

func conditions(m map[string]any) []metav1.Condition {
	raw, _, _ := unstructured.NestedSlice(m, "status", "conditions")
	var out []metav1.Condition
	for _, r := range raw {
		cm, ok := r.(map[string]any)
		if !ok {
			continue
		}
		var c metav1.Condition
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(cm, &c); err == nil {
			out = append(out, c)
		}
	}
	return out
}

// WaitReady waits until the Flux object obj names (kind from its Go type, name and
// namespace from its metadata) is Ready at its current generation, and leaves its final
// state in obj. On timeout the error shows the object's conditions and the tail of the
// responsible controller's log.
func (e *Env) WaitReady(ctx context.Context, obj client.Object, timeout time.Duration) error {
	key := client.ObjectKeyFromObject(obj)
	gvk, err := apiutil.GVKForObject(obj, e.Scheme)
	if err != nil {
		return err
	}
	what := fmt.Sprintf("%s %s to be Ready", gvk.Kind, key)
	err = Poll(ctx, timeout, what, func(ctx context.Context) (bool, error, error) {
		if err := e.Client.Get(ctx, key, obj); apierrors.IsNotFound(err) {
			return false, errors.New("not found"), nil
		} else if err != nil {
			return false, err, nil // transient: keep trying until the timeout
		}
		ready, why := Readiness(obj)
		if ready {
			return true, nil, nil
		}
		return false, errors.New(why), nil
	})
	if err != nil {
		return fmt.Errorf("%w\n%s", err, e.diagnose(gvk.Kind, obj))
	}
	return nil
}

// diagnose renders an object's conditions and the tail of its controller's log.
func (e *Env) diagnose(kind string, obj client.Object) string {
	var b strings.Builder
	if m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj); err == nil {
		observed, _, _ := unstructured.NestedInt64(m, "status", "observedGeneration")
		fmt.Fprintf(&b, "generation %d, observedGeneration %d, conditions:\n", obj.GetGeneration(), observed)
		for _, c := range conditions(m) {
			fmt.Fprintf(&b, "  %s=%s %s: %s (observedGeneration %d)\n", c.Type, c.Status, c.Reason, c.Message, c.ObservedGeneration)
		}
	}
	name := ControllerFor(kind)
	if p, ok := e.Controllers[name]; ok {
		fmt.Fprintf(&b, "last lines of %s:\n%s", p.Logs, p.LogTail(25))
	} else if name != "" {
		fmt.Fprintf(&b, "%s does not run in this Env (%s)", name, EnvControllers)
	}
	return b.String()
}

// WaitDeploymentAvailable waits until the Deployment has rolled out its current generation:
// observed, every replica updated and available, and Available=True.
func (e *Env) WaitDeploymentAvailable(ctx context.Context, namespace, name string, timeout time.Duration) error {
	return Poll(ctx, timeout, fmt.Sprintf("Deployment %s/%s to be Available", namespace, name), func(ctx context.Context) (bool, error, error) {
		var d appsv1.Deployment
		if err := e.Client.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &d); err != nil {
			return false, err, nil
		}
		want := int32(1)
		if d.Spec.Replicas != nil {
			want = *d.Spec.Replicas
		}
		if d.Status.ObservedGeneration != d.Generation {
			return false, fmt.Errorf("observedGeneration %d, generation %d", d.Status.ObservedGeneration, d.Generation), nil
		}
		if d.Status.UpdatedReplicas != want || d.Status.AvailableReplicas != want {
			return false, fmt.Errorf("%d/%d updated, %d available", d.Status.UpdatedReplicas, want, d.Status.AvailableReplicas), nil
		}
		for _, c := range d.Status.Conditions {
			if c.Type == appsv1.DeploymentAvailable {
				if c.Status == corev1.ConditionTrue {
					return true, nil, nil
				}
				return false, fmt.Errorf("Available=%s: %s", c.Status, c.Message), nil
			}
		}
		return false, errors.New("no Available condition"), nil
	})
}

// RequestReconcile sets reconcile.fluxcd.io/requestedAt on obj (a merge patch), the way
// `flux reconcile` asks a controller to reconcile now. It returns the token it set.
func (e *Env) RequestReconcile(ctx context.Context, obj client.Object) (string, error) {
	token := time.Now().Format(time.RFC3339Nano)
	patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}}}`, ReconcileRequestAnnotation, token)
	if err := e.Client.Patch(ctx, obj, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return "", fmt.Errorf("request reconcile of %s %s: %w", obj.GetObjectKind().GroupVersionKind().Kind, client.ObjectKeyFromObject(obj), err)
	}
	return token, nil
}
