package reconcile

import (
	"github.com/fluxcd/pkg/apis/meta"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
)

// requestedAtChanged passes updates whose reconcile.fluxcd.io/requestedAt annotation changed:
// `flux reconcile` and webhook Receivers set it to ask for an immediate reconcile.
type requestedAtChanged struct{ predicate.Funcs }

func (requestedAtChanged) Update(e event.UpdateEvent) bool {
	if e.ObjectOld == nil || e.ObjectNew == nil {
		return false
	}
	newVal, ok := meta.ReconcileAnnotationValue(e.ObjectNew.GetAnnotations())
	if !ok {
		return false
	}
	oldVal, _ := meta.ReconcileAnnotationValue(e.ObjectOld.GetAnnotations())
	return newVal != oldVal
}

// SpecOrRequestChanged is the predicate of a Flux kind's own watch: a new generation (spec
// change), a reconcile request, create and delete. Status-only updates, including our own
// status patches, do not trigger another reconcile.
func SpecOrRequestChanged() predicate.Predicate {
	return predicate.Or(predicate.GenerationChangedPredicate{}, requestedAtChanged{})
}
