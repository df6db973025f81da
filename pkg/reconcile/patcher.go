package reconcile

import (
	"context"

	"github.com/fluxcd/pkg/apis/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Patcher sends status changes of one object as JSON merge patches against the status as it
// was read, and sends nothing when nothing changed: a no-op reconcile costs no write.
type Patcher struct {
	client client.Client
	obj    client.Object
	base   client.Object
}

// PatchStatus patches the status subresource with everything changed since the last patch.
func (p *Patcher) PatchStatus(ctx context.Context) error {
	patch := client.MergeFrom(p.base)
	data, err := patch.Data(p.obj)
	if err != nil {
		return err
	}
	if string(data) == "{}" {
		return nil
	}
	if err := p.client.Status().Patch(ctx, p.obj, patch); err != nil {
		return err
	}
	p.base = p.obj.DeepCopyObject().(client.Object)
	return nil
}

// Progressing marks the object Reconciling=True (and Ready=Unknown) and patches at once, so
// users see long work (a new revision, a first apply) while it happens. Steps call it at most
// once, and only for work that takes a while.
func (p *Patcher) Progressing(ctx context.Context, message string) error {
	obj, ok := p.obj.(conditionHolder)
	if !ok {
		return nil
	}
	MarkTrue(obj, meta.ReconcilingCondition, meta.ProgressingReason, message)
	SetCondition(obj, meta.ReadyCondition, "Unknown", meta.ProgressingReason, "Reconciliation in progress")
	return p.PatchStatus(ctx)
}
