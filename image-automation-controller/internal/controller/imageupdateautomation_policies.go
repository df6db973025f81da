package controller

import (
	"context"
	"fmt"
	"maps"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "gotk.dev/image-automation-controller/api/v1"
	"gotk.dev/image-automation-controller/internal/setters"
	reflectorv1 "gotk.dev/image-reflector-controller/api/v1"
	"gotk.dev/pkg/reconcile"
)

// getPolicies collects the latest images of the ImagePolicies of the automation's namespace
// that spec.policySelector selects (all of them without one). Policies that have not chosen
// an image yet are left out: their markers keep their values.
func (r *ImageUpdateAutomationReconciler) getPolicies(ctx context.Context, s *scope) (reconcile.Result, error) {
	sel := labels.Everything()
	if ps := s.obj.Spec.PolicySelector; ps != nil {
		var err error
		if sel, err = metav1.LabelSelectorAsSelector(ps); err != nil {
			return reconcile.Result{}, reconcile.Stall(imagev1.InvalidPolicySelectorReason, fmt.Errorf("invalid .spec.policySelector: %w", err))
		}
	}
	var list reflectorv1.ImagePolicyList
	if err := r.List(ctx, &list, client.InNamespace(s.obj.Namespace), client.MatchingLabelsSelector{Selector: sel}); err != nil {
		return reconcile.Result{}, reconcile.Fail(imagev1.UpdateFailedReason, fmt.Errorf("failed to list ImagePolicies: %w", err))
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
	s.observed = imagev1.ObservedPolicies{}
	for _, p := range list.Items {
		ref := p.Status.LatestRef
		if ref == nil {
			continue
		}
		s.policies = append(s.policies, setters.Policy{Namespace: p.Namespace, Name: p.Name, Image: ref.Name, Tag: ref.Tag, Digest: ref.Digest})
		s.observed[p.Name] = imagev1.ImageRef{Name: ref.Name, Tag: ref.Tag, Digest: ref.Digest}
	}
	return reconcile.Result{}, nil
}

// samePolicies reports whether the observed policies are those recorded by the last run.
func samePolicies(a, b imagev1.ObservedPolicies) bool {
	return maps.Equal(a, b)
}
