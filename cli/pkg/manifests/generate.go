package manifests

import (
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Generate returns the objects `flux install` applies for o: the selected controllers with
// their CRDs, the shared RBAC and (unless disabled) network policies, and the namespace, with
// every option applied, sorted in apply order.
func Generate(o Options) ([]*unstructured.Unstructured, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	objs, err := Load()
	if err != nil {
		return nil, err
	}
	var out []*unstructured.Unstructured
	for _, u := range objs {
		if c := u.GetLabels()[ComponentLabel]; c != "" && !slices.Contains(o.Components, c) {
			continue
		}
		if u.GetKind() == "NetworkPolicy" && !o.NetworkPolicy {
			continue
		}
		keep, err := apply(u, o)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ID(u), err)
		}
		if keep {
			out = append(out, u)
		}
	}
	if out, err = addShards(out, o); err != nil {
		return nil, err
	}
	Sort(out)
	return out, nil
}

// apply edits u for o and reports whether u is still wanted (a binding left without
// subjects is not).
func apply(u *unstructured.Unstructured, o Options) (bool, error) {
	setNamespace(u, o.Namespace)
	labels := u.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[PartOfLabel] = PartOfValue
	labels[InstanceLabel] = o.Namespace
	labels[VersionLabel] = o.Version
	u.SetLabels(labels)

	switch u.GetKind() {
	case "ClusterRoleBinding", "RoleBinding":
		return keepSelectedSubjects(u, o.Components)
	case "Deployment":
		return true, editDeployment(u, o)
	}
	return true, nil
}
