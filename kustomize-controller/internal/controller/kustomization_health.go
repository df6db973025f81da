package controller

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	"gotk.dev/pkg/health"
	"gotk.dev/pkg/reconcile"
)

const (
	healthCheckFailedReason = "HealthCheckFailed"
	// healthRecheck bounds how long a pending health check waits for a watch event before it
	// looks again (missed events, objects outside the watch, the timeout).
	healthRecheck = 30 * time.Second
)

// checkHealth evaluates spec.wait / spec.healthChecks / spec.healthCheckExprs from objects
// already at hand: the apply responses right after an apply, the watch cache afterwards. It
// never waits: while something is in progress the Kustomization is requeued and its objects'
// watches wake it.
func (r *KustomizationReconciler) checkHealth(ctx context.Context, s *scope) (reconcile.Result, error) {
	obj := s.obj
	done := func() (reconcile.Result, error) {
		r.pending.clear(obj)
		obj.Status.LastAppliedRevision = s.revision
		obj.Status.LastAppliedOriginRevision = s.originRevision
		r.upsertHistory(s, meta.ReconciliationSucceededReason)
		return reconcile.Result{Message: fmt.Sprintf("Applied revision: %s", s.revision)}, nil
	}
	if !obj.Spec.Wait && len(obj.Spec.HealthChecks) == 0 {
		reconcile.DeleteCondition(obj, kustomizev1.HealthyCondition)
		return done()
	}
	eval, err := r.healthCompiler.NewEvaluator(obj.Spec.HealthCheckExprs)
	if err != nil {
		return reconcile.Result{}, reconcile.Stall(invalidExprReason, err)
	}
	p := r.pending.get(obj)
	if p == nil {
		token, _ := meta.ReconcileAnnotationValue(obj.GetAnnotations())
		p = &pendingEntry{
			uid:        obj.UID,
			generation: obj.Generation,
			digest:     s.artifact.Digest,
			token:      token,
			deadline:   time.Now().Add(obj.GetTimeout()),
			refs:       r.healthRefs(s),
			fresh:      s.objects,
			revision:   s.revision,
			origin:     s.originRevision,
			digestSet:  s.digest,
			started:    s.started,
		}
	} else {
		// Woken by a watch: restore what the apply recorded.
		s.revision, s.originRevision, s.digest, s.started = p.revision, p.origin, p.digestSet, p.started
	}
	summary, err := r.evaluateHealth(ctx, s, p, eval)
	if err != nil {
		return reconcile.Result{}, err
	}
	if p.fresh != nil && !summary.Healthy() && summary.Status != health.Failed {
		// Only what is still in progress is checked again (and watched): objects Current in
		// their apply response (ConfigMaps, Services, ...) cost no watch and no cache.
		p.refs = stillWaiting(p.refs, summary.Waiting)
		// Right after an apply: record the wait and watch first, then look again in the
		// cache. An update that landed before the wait was recorded is in the cache by now;
		// any later one finds the wait and wakes us.
		r.pending.set(obj, p)
		if err := r.watchPending(ctx, s, p); err != nil {
			r.pending.clear(obj)
			return reconcile.Result{}, err
		}
		p.fresh = nil
		if summary, err = r.evaluateHealth(ctx, s, p, eval); err != nil {
			return reconcile.Result{}, err
		}
	}
	p.fresh = nil
	switch {
	case summary.Status == health.Failed:
		r.pending.clear(obj)
		reconcile.MarkFalse(obj, kustomizev1.HealthyCondition, healthCheckFailedReason, summary.Message)
		r.upsertHistory(s, healthCheckFailedReason)
		return reconcile.Result{}, reconcile.FailAfter(healthCheckFailedReason,
			fmt.Errorf("health check failed after %s: %s", time.Since(p.started).Round(time.Second), summary.Message), retryAfter(obj))
	case summary.Healthy():
		reconcile.MarkTrue(obj, kustomizev1.HealthyCondition, meta.SucceededReason, "Health check passed in "+time.Since(p.started).Round(time.Millisecond).String())
		return done()
	case time.Now().After(p.deadline):
		r.pending.clear(obj)
		msg := "timeout waiting for: " + strings.TrimPrefix(summary.Message, "waiting for: ")
		reconcile.MarkFalse(obj, kustomizev1.HealthyCondition, healthCheckFailedReason, msg)
		r.upsertHistory(s, healthCheckFailedReason)
		return reconcile.Result{}, reconcile.FailAfter(healthCheckFailedReason,
			fmt.Errorf("health check failed after %s, %s", obj.GetTimeout(), msg), retryAfter(obj))
	}
	p.refs = stillWaiting(p.refs, summary.Waiting)
	r.pending.set(obj, p)
	reconcile.SetCondition(obj, kustomizev1.HealthyCondition, "Unknown", progressingReason, "Running health checks")
	wait := time.Until(p.deadline)
	if wait > healthRecheck {
		wait = healthRecheck
	}
	return reconcile.Result{}, reconcile.InProgress(progressingReason,
		fmt.Sprintf("Running health checks for revision '%s' with a timeout of %s: %s", s.revision, obj.GetTimeout(), summary.Message), wait)
}

// stillWaiting keeps the refs whose objects are still in progress (or not found).
func stillWaiting(refs []objectRef, waiting []health.ObjectResult) []objectRef {
	keep := make(map[health.ObjMeta]bool, len(waiting))
	for _, w := range waiting {
		keep[w.Object] = true
	}
	out := make([]objectRef, 0, len(waiting))
	for _, r := range refs {
		if keep[r.meta()] {
			out = append(out, r)
		}
	}
	return out
}

// healthRefs lists what to check: every applied object with spec.wait, else spec.healthChecks.
func (r *KustomizationReconciler) healthRefs(s *scope) []objectRef {
	obj := s.obj
	var refs []objectRef
	if obj.Spec.Wait {
		for _, o := range s.objects {
			refs = append(refs, refOf(o))
		}
		return refs
	}
	for _, hc := range obj.Spec.HealthChecks {
		ns := hc.Namespace
		if ns == "" {
			ns = obj.Namespace
		}
		refs = append(refs, objectRef{APIVersion: hc.APIVersion, Kind: hc.Kind, Namespace: ns, Name: hc.Name})
	}
	return refs
}

// healthObjects returns the current state of the checked objects: apply responses when
// fresh, else the watch cache (or the API for remote clusters).
func (r *KustomizationReconciler) healthObjects(ctx context.Context, s *scope, p *pendingEntry) ([]*unstructured.Unstructured, []health.ObjMeta, error) {
	byRef := map[objectRef]*unstructured.Unstructured{}
	for _, o := range p.fresh {
		byRef[refOf(o)] = o
	}
	if p.appliedGen == nil {
		p.appliedGen = make(map[objectRef]int64, len(p.fresh))
		for _, o := range p.fresh {
			p.appliedGen[refOf(o)] = o.GetGeneration()
		}
	}
	var objs []*unstructured.Unstructured
	var missing []health.ObjMeta
	for _, ref := range p.refs {
		if o, ok := byRef[ref]; ok {
			objs = append(objs, o)
			continue
		}
		o, err := r.readHealthObject(ctx, s, ref)
		if err != nil {
			return nil, nil, err
		}
		if gen, ok := p.appliedGen[ref]; ok && (o == nil || o.GetGeneration() < gen) {
			// The watch cache has not seen our apply yet: the object is at generation gen,
			// which nobody has observed.
			o = notYetObserved(ref, gen)
		}
		if o == nil {
			missing = append(missing, ref.meta())
			continue
		}
		objs = append(objs, o)
	}
	return objs, missing, nil
}

// evaluateHealth summarizes the checked objects' health.
func (r *KustomizationReconciler) evaluateHealth(ctx context.Context, s *scope, p *pendingEntry, eval *health.Evaluator) (health.Summary, error) {
	objs, missing, err := r.healthObjects(ctx, s, p)
	if err != nil {
		return health.Summary{}, err
	}
	return eval.Summarize(objs, missing), nil
}

// watchPending makes sure the kinds still in progress are watched, so their updates wake the
// Kustomization.
func (r *KustomizationReconciler) watchPending(ctx context.Context, s *scope, p *pendingEntry) error {
	if s.target != nil && s.target.remote {
		return nil // remote clusters are polled
	}
	seen := map[string]bool{}
	for _, ref := range p.refs {
		key := ref.APIVersion + "/" + ref.Kind
		if seen[key] {
			continue
		}
		seen[key] = true
		if err := r.Health.Watch(ctx, ref.gvk()); err != nil {
			return err
		}
	}
	return nil
}

// upsertHistory records this attempt in status.history (5 newest, deduplicated by digest).
func (r *KustomizationReconciler) upsertHistory(s *scope, status string) {
	if s.digest == "" {
		return
	}
	md := map[string]string{"revision": s.revision}
	if s.originRevision != "" {
		md["originRevision"] = s.originRevision
	}
	s.obj.Status.History.Upsert(s.digest, time.Now(), time.Since(s.started), status, md)
}

// objectRef identifies an object to health-check.
type objectRef struct {
	APIVersion, Kind, Namespace, Name string
}

func refOf(o *unstructured.Unstructured) objectRef {
	return objectRef{APIVersion: o.GetAPIVersion(), Kind: o.GetKind(), Namespace: o.GetNamespace(), Name: o.GetName()}
}

func (r objectRef) meta() health.ObjMeta {
	group := ""
	if i := strings.Index(r.APIVersion, "/"); i > 0 {
		group = r.APIVersion[:i]
	}
	return health.ObjMeta{Namespace: r.Namespace, Name: r.Name, Group: group, Kind: r.Kind}
}

func (r objectRef) gvk() schema.GroupVersionKind {
	return schema.FromAPIVersionAndKind(r.APIVersion, r.Kind)
}

// readHealthObject reads one checked object: from the watch cache in this cluster, from the
// API for a remote cluster. nil means it does not exist.
func (r *KustomizationReconciler) readHealthObject(ctx context.Context, s *scope, ref objectRef) (*unstructured.Unstructured, error) {
	key := types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}
	if s.target != nil && s.target.remote {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(ref.gvk())
		if err := s.target.client.Get(ctx, key, u); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, nil
			}
			return nil, err
		}
		return u, nil
	}
	return r.Health.Get(ctx, ref.gvk(), key)
}

// notYetObserved stands in for an object the watch cache has not caught up with: its
// observedGeneration lags, which every status rule reads as in progress.
func notYetObserved(ref objectRef, generation int64) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"status": map[string]any{"observedGeneration": generation - 1},
	}}
	u.SetAPIVersion(ref.APIVersion)
	u.SetKind(ref.Kind)
	u.SetNamespace(ref.Namespace)
	u.SetName(ref.Name)
	u.SetGeneration(generation)
	return u
}
