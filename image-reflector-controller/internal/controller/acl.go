package controller

import (
	"context"
	"fmt"

	aclapi "github.com/fluxcd/pkg/apis/acl"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "gotk.dev/image-reflector-controller/api/v1"
	"gotk.dev/pkg/reconcile"
)

// checkAccess says whether an object in namespace from may use repo. Same-namespace references
// always may; others need the repository's accessFrom to select from's namespace by its
// labels, and are refused outright with --no-cross-namespace-refs (a stall: only a spec
// change helps). A label mismatch is retried, since namespace labels are not watched.
func checkAccess(ctx context.Context, c client.Reader, noCrossNamespace bool, from string, repo *imagev1.ImageRepository) error {
	if repo.Namespace == from {
		return nil
	}
	ref := fmt.Sprintf("ImageRepository '%s/%s'", repo.Namespace, repo.Name)
	if noCrossNamespace {
		return reconcile.Stall(aclapi.AccessDeniedReason, fmt.Errorf("can't access %s, cross-namespace references have been blocked", ref))
	}
	if repo.Spec.AccessFrom == nil {
		return reconcile.Fail(aclapi.AccessDeniedReason, fmt.Errorf("%s can't be accessed from namespace '%s': it has no spec.accessFrom", ref, from))
	}
	var ns corev1.Namespace
	if err := c.Get(ctx, types.NamespacedName{Name: from}, &ns); err != nil {
		return reconcile.Fail(aclapi.AccessDeniedReason, fmt.Errorf("failed to read namespace '%s' for the accessFrom check of %s: %w", from, ref, err))
	}
	for _, sel := range repo.Spec.AccessFrom.NamespaceSelectors {
		if labels.SelectorFromSet(sel.MatchLabels).Matches(labels.Set(ns.Labels)) {
			return nil
		}
	}
	return reconcile.Fail(aclapi.AccessDeniedReason, fmt.Errorf("%s can't be accessed from namespace '%s': no spec.accessFrom namespace selector matches its labels", ref, from))
}
