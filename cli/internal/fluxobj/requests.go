package fluxobj

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ResetRequestAnnotation asks helm-controller to reset a HelmRelease's failure counters
// (`flux reconcile hr --reset`).
const ResetRequestAnnotation = "reconcile.fluxcd.io/resetAt"

// RequestReconcile sets reconcile.fluxcd.io/requestedAt to now with a merge patch and
// returns the token. The token is unique per call (nanoseconds), so a wait cannot mistake an
// older request for it. The annotations in also (reconcile.fluxcd.io/forceAt, resetAt) get
// the same token.
func RequestReconcile(ctx context.Context, c client.Client, obj *unstructured.Unstructured, also ...string) (string, error) {
	token := time.Now().Format(time.RFC3339Nano)
	annotations := map[string]string{meta.ReconcileRequestAnnotation: token}
	for _, a := range also {
		annotations[a] = token
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": annotations}})
	if err != nil {
		return "", err
	}
	if err := c.Patch(ctx, obj, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return "", err
	}
	return token, nil
}

// SetSuspend patches spec.suspend with a merge patch; resuming removes the field, as
// upstream does.
func SetSuspend(ctx context.Context, c client.Client, u *unstructured.Unstructured, suspend bool) error {
	patch := []byte(`{"spec":{"suspend":true}}`)
	if !suspend {
		patch = []byte(`{"spec":{"suspend":null}}`)
	}
	return c.Patch(ctx, u, client.RawPatch(types.MergePatchType, patch))
}

// Ref names an object of a Flux kind.
type Ref struct {
	Kind            Kind
	Namespace, Name string
}

// ErrStaticSource is a source the controller never reconciles: an OCI HelmRepository, a data
// container HelmCharts read directly (reconciling it --with-source is skipped).
var ErrStaticSource = errors.New("reconciliation is not supported: it is a data container the source-controller does not reconcile, the HelmCharts that use it read it directly")

// IsStaticSource reports whether obj of kind k is an OCI HelmRepository.
func IsStaticSource(k Kind, obj *unstructured.Unstructured) bool {
	typ, _, _ := unstructured.NestedString(obj.Object, "spec", "type")
	return k.Kind == "HelmRepository" && typ == "oci"
}

// SourcesOf are the sources `--with-source` reconciles before obj, in order: a
// Kustomization's or HelmChart's sourceRef; a HelmRelease's chartRef, or the sourceRef of
// its chart template then the HelmChart made from it (status.helmChart).
func SourcesOf(obj *unstructured.Unstructured) ([]Ref, error) {
	if obj.GetKind() != "HelmRelease" {
		sk, sns, sname, err := SourceOf(obj)
		return []Ref{{sk, sns, sname}}, err
	}
	ref := func(path ...string) (Ref, bool, error) {
		m, ok, _ := unstructured.NestedStringMap(obj.Object, path...)
		if !ok || m["kind"] == "" {
			return Ref{}, false, nil
		}
		k, err := LookupKind("", m["kind"])
		if err != nil || !k.IsSource {
			return Ref{}, false, fmt.Errorf("HelmRelease %s/%s: %s.kind %q is not a source kind", obj.GetNamespace(), obj.GetName(), strings.Join(path, "."), m["kind"])
		}
		ns := m["namespace"]
		if ns == "" {
			ns = obj.GetNamespace()
		}
		return Ref{k, ns, m["name"]}, true, nil
	}
	if r, ok, err := ref("spec", "chartRef"); ok || err != nil {
		return []Ref{r}, err
	}
	r, ok, err := ref("spec", "chart", "spec", "sourceRef")
	if err != nil || !ok {
		return nil, fmt.Errorf("HelmRelease %s/%s has neither spec.chartRef nor spec.chart: %v", obj.GetNamespace(), obj.GetName(), err)
	}
	out := []Ref{r}
	if hc, _, _ := unstructured.NestedString(obj.Object, "status", "helmChart"); hc != "" {
		if hns, hname, ok := strings.Cut(hc, "/"); ok {
			k, _ := LookupKind("", "HelmChart")
			out = append(out, Ref{k, hns, hname})
		}
	}
	return out, nil
}

// SourceOf is the kind, namespace and name of a Kustomization's or HelmChart's
// spec.sourceRef (the namespace defaults to the object's own).
func SourceOf(u *unstructured.Unstructured) (Kind, string, string, error) {
	kind, _, _ := unstructured.NestedString(u.Object, "spec", "sourceRef", "kind")
	name, _, _ := unstructured.NestedString(u.Object, "spec", "sourceRef", "name")
	ns, _, _ := unstructured.NestedString(u.Object, "spec", "sourceRef", "namespace")
	if ns == "" {
		ns = u.GetNamespace()
	}
	sk, err := LookupKind("", kind)
	if err != nil || !sk.IsSource {
		return Kind{}, "", "", fmt.Errorf("%s %s/%s: spec.sourceRef.kind %q is not a source kind", u.GetKind(), u.GetNamespace(), u.GetName(), kind)
	}
	return sk, ns, name, nil
}
