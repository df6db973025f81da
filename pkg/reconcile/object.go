package reconcile

import (
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Object is what the engine needs of a Flux object; every reconciled kind's API type has
// these methods.
type Object interface {
	client.Object
	GetConditions() []metav1Condition
	SetConditions([]metav1Condition)
	GetObservedGeneration() int64
	SetObservedGeneration(int64)
	GetLastHandledReconcileRequest() string
	SetLastHandledReconcileRequest(string)
	GetRequeueAfter() time.Duration
	IsSuspended() bool
}
