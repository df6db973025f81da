package controller

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	v2 "gotk.dev/helm-controller/api/v2"
	"gotk.dev/pkg/dependency"
	"gotk.dev/pkg/reconcile"
)

const invalidExprReason = "InvalidCELExpression"

// checkDependencies waits until every spec.dependsOn HelmRelease is ready (or its
// readyExpr holds). Dependants are also woken when a dependency turns Ready, so the requeue
// (--requeue-dependency) is a fallback.
func (r *HelmReleaseReconciler) checkDependencies(ctx context.Context, s *scope) (reconcile.Result, error) {
	obj := s.obj
	if len(obj.Spec.DependsOn) == 0 {
		return reconcile.Result{}, nil
	}
	deps := make([]dependency.Dep, 0, len(obj.Spec.DependsOn))
	for _, ref := range obj.Spec.DependsOn {
		ns := ref.Namespace
		if ns == "" {
			ns = obj.Namespace
		}
		if r.opts.NoCrossNamespaceRefs && ns != obj.Namespace {
			return reconcile.Result{}, reconcile.Stall(accessDeniedReason, fmt.Errorf("dependency '%s/%s': cross-namespace references are not allowed (--no-cross-namespace-refs)", ns, ref.Name))
		}
		d := dependency.Dep{Ref: ref}
		var dep v2.HelmRelease
		if err := r.Get(ctx, types.NamespacedName{Namespace: ns, Name: ref.Name}, &dep); err == nil {
			u, err := toUnstructured(&dep)
			if err != nil {
				return reconcile.Result{}, err
			}
			d.Obj = u
		} else if !apierrors.IsNotFound(err) {
			return reconcile.Result{}, err
		}
		deps = append(deps, d)
	}
	self, err := toUnstructured(obj)
	if err != nil {
		return reconcile.Result{}, err
	}
	if err := r.deps.Check(self, deps); err != nil {
		var invalid *dependency.InvalidExprError
		if errors.As(err, &invalid) {
			return reconcile.Result{}, reconcile.Stall(invalidExprReason, err)
		}
		// Depending on itself can never be satisfied: waiting would requeue forever.
		var cycle *dependency.CycleError
		if errors.As(err, &cycle) {
			return reconcile.Result{}, reconcile.Stall(v2.DependencyNotReadyReason, err)
		}
		return reconcile.Result{}, reconcile.Wait(v2.DependencyNotReadyReason, err, 0)
	}
	return reconcile.Result{}, nil
}

// toUnstructured converts a HelmRelease for the CEL-based checks.
func toUnstructured(obj *v2.HelmRelease) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetAPIVersion(v2.GroupVersion.String())
	u.SetKind(v2.HelmReleaseKind)
	return u, nil
}
