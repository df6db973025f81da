package app

import (
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// objectRef names an object by kind, namespace and name.
type objectRef struct {
	Kind, Namespace, Name string
}

// referencedObjects lists the Flux objects obj uses, whose events explain its own: the
// source of a Kustomization, HelmChart or ImageUpdateAutomation, the chart (and the chart's
// source) of a HelmRelease, the provider of an Alert, the image repository of an
// ImagePolicy. References without a namespace are in obj's namespace.
func referencedObjects(obj *unstructured.Unstructured) []objectRef {
	ns := obj.GetNamespace()
	ref := func(path ...string) (objectRef, bool) {
		m, ok, _ := unstructured.NestedMap(obj.Object, path...)
		if !ok {
			return objectRef{}, false
		}
		r := objectRef{Namespace: ns}
		r.Kind, _ = m["kind"].(string)
		r.Name, _ = m["name"].(string)
		if n, _ := m["namespace"].(string); n != "" {
			r.Namespace = n
		}
		return r, r.Name != ""
	}
	var out []objectRef
	add := func(kind string, path ...string) {
		if r, ok := ref(path...); ok {
			if r.Kind == "" {
				r.Kind = kind
			}
			out = append(out, r)
		}
	}
	switch obj.GetKind() {
	case "Kustomization", "HelmChart", "ImageUpdateAutomation":
		add("", "spec", "sourceRef")
	case "HelmRelease":
		add("", "spec", "chartRef")
		add("", "spec", "chart", "spec", "sourceRef")
		// The HelmChart the controller made for spec.chart: status.helmChart is "ns/name".
		if hc, _, _ := unstructured.NestedString(obj.Object, "status", "helmChart"); hc != "" {
			if hcNS, hcName, ok := strings.Cut(hc, "/"); ok {
				out = append(out, objectRef{Kind: "HelmChart", Namespace: hcNS, Name: hcName})
			}
		}
	case "Alert":
		add("Provider", "spec", "providerRef")
	case "ImagePolicy":
		add("ImageRepository", "spec", "imageRepositoryRef")
	}
	return out
}
