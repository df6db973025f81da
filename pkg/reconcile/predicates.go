package reconcile

import (
	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
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

// artifactChanged passes updates of a source whose artifact digest changed (or first appeared):
// consumers watch their sources through it.
type artifactChanged struct{ predicate.Funcs }

// artifactSource is any Flux source kind.
type artifactSource interface {
	GetArtifact() *meta.Artifact
}

func (artifactChanged) Create(event.CreateEvent) bool   { return false }
func (artifactChanged) Delete(event.DeleteEvent) bool   { return false }
func (artifactChanged) Generic(event.GenericEvent) bool { return false }
func (artifactChanged) Update(e event.UpdateEvent) bool {
	oldA, newA := artifactOf(e.ObjectOld), artifactOf(e.ObjectNew)
	if newA == nil {
		return false
	}
	if oldA == nil {
		return true
	}
	return oldA.Digest != newA.Digest || oldA.Revision != newA.Revision
}

// artifactOf returns a source's artifact: through GetArtifact for typed sources, from
// status.artifact for unstructured ones (a consumer watching kinds it has no Go types for).
func artifactOf(obj any) *meta.Artifact {
	switch o := obj.(type) {
	case artifactSource:
		return o.GetArtifact()
	case *unstructured.Unstructured:
		rev, _, _ := unstructured.NestedString(o.Object, "status", "artifact", "revision")
		dig, _, _ := unstructured.NestedString(o.Object, "status", "artifact", "digest")
		if rev == "" && dig == "" {
			return nil
		}
		return &meta.Artifact{Revision: rev, Digest: dig}
	}
	return nil
}

// ArtifactChanged is the predicate of a consumer's watch on its sources.
func ArtifactChanged() predicate.Predicate { return artifactChanged{} }

// becameReady passes updates where an object turned Ready=True for its current generation:
// dependants waiting on it (dependsOn) are requeued at once instead of polling.
type becameReady struct{ predicate.Funcs }

type readyObject interface {
	GetConditions() []metav1.Condition
	GetGeneration() int64
	GetObservedGeneration() int64
}

func (becameReady) Create(event.CreateEvent) bool   { return false }
func (becameReady) Delete(event.DeleteEvent) bool   { return false }
func (becameReady) Generic(event.GenericEvent) bool { return false }
func (becameReady) Update(e event.UpdateEvent) bool {
	oldObj, ok1 := e.ObjectOld.(readyObject)
	newObj, ok2 := e.ObjectNew.(readyObject)
	if !ok1 || !ok2 {
		return false
	}
	if !IsReady(newObj) {
		return false
	}
	oldReady := GetCondition(oldObj, meta.ReadyCondition)
	newReady := GetCondition(newObj, meta.ReadyCondition)
	return !IsReady(oldObj) || oldReady.Message != newReady.Message
}

// BecameReady is the predicate of a watch that wakes dependants of an object.
func BecameReady() predicate.Predicate { return becameReady{} }
