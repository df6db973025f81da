package controller

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	"gotk.dev/pkg/cluster"
	"gotk.dev/pkg/health"
	"gotk.dev/pkg/reconcile"
)

const (
	healthCheckFailedReason = "HealthCheckFailed"
	// healthRecheck bounds how long a pending health check waits for a watch event before it
	// looks again (missed events, objects outside the watch, the timeout).
	healthRecheck = 30 * time.Second
	// observationWait bounds how long a Kustomization waits, right after an apply and with
	// its status unwritten, for the applied objects' controllers to observe it and bring them
	// to their desired state (see deferUntilSettled). Past it, the Kustomization writes
	// Progressing and waits on: one status patch more, holding a worker for it. On a loaded
	// 2-core machine kube-controller-manager took 3-9s (p50) to observe an upgraded
	// Deployment, so at 5s 6% (N=1000) to 43% (N=300, busier) of the benchmark's upgrades paid that
	// patch. Meanwhile observedGeneration stays behind generation, which kstatus reads as
	// InProgress.
	observationWait = 10 * time.Second
)

// pendingCheck is what a Kustomization waiting on health checks remembers of the apply
// that started the wait (the health tracker keeps it, with the objects still waited for).
type pendingCheck struct {
	generation int64
	digest     string
	token      string
	deadline   time.Time
	// fresh are the apply responses, used once right after the apply.
	fresh []*unstructured.Unstructured
	// appliedGen holds the generation each apply response had, to tell a watch cache that
	// has not seen our apply yet from the truth (the responses themselves are not kept:
	// 1000 Kustomizations waiting at once would hold 4000 whole objects).
	appliedGen map[health.Ref]int64
	revision   string
	origin     string
	digestSet  string
	started    time.Time
}

// recheckHealth ends the reconcile with a health check when the Kustomization waits on
// health checks of exactly this generation, source artifact and reconcile request: nothing
// needs building or applying. Otherwise a pending check of an earlier apply is dropped: what
// is applied now is judged on its own.
func (r *KustomizationReconciler) recheckHealth(ctx context.Context, s *scope) (reconcile.Result, error) {
	obj := s.obj
	w, ok := r.health.Pending(obj)
	if !ok {
		return reconcile.Result{}, nil
	}
	token, _ := meta.ReconcileAnnotationValue(obj.GetAnnotations())
	p := w.Payload
	if p.generation != obj.Generation || p.digest != s.artifact.Digest || p.token != token {
		r.health.Done(obj)
		return reconcile.Result{}, nil
	}
	if obj.Spec.KubeConfig != nil {
		target, err := r.clusters.For(ctx, r.Client, clusterRequest(obj))
		if err != nil {
			return reconcile.Result{}, err
		}
		s.target = target
	}
	return r.checkHealth(ctx, s)
}

// checkHealth evaluates spec.wait / spec.healthChecks / spec.healthCheckExprs from objects
// already at hand: the apply responses right after an apply, the watch cache afterwards. It
// never waits: while something is in progress the Kustomization ends InProgress and its
// objects' watches wake it.
func (r *KustomizationReconciler) checkHealth(ctx context.Context, s *scope) (reconcile.Result, error) {
	obj := s.obj
	done := func() (reconcile.Result, error) {
		r.health.Done(obj)
		obj.Status.LastAppliedRevision = s.revision
		obj.Status.LastAppliedOriginRevision = s.originRevision
		r.upsertHistory(s, meta.ReconciliationSucceededReason)
		return reconcile.Done(fmt.Sprintf("Applied revision: %s", s.revision)), nil
	}
	if !obj.Spec.Wait && len(obj.Spec.HealthChecks) == 0 {
		reconcile.DeleteCondition(obj, kustomizev1.HealthyCondition)
		return done()
	}
	eval, err := r.healthCompiler.NewEvaluator(obj.Spec.HealthCheckExprs)
	if err != nil {
		return reconcile.Result{}, reconcile.Stall(invalidExprReason, err)
	}
	var p *pendingCheck
	var refs []health.Ref
	if w, ok := r.health.Pending(obj); ok {
		// Woken by a watch: restore what the apply recorded.
		p, refs = w.Payload, w.Refs
		s.revision, s.originRevision, s.digest, s.started = p.revision, p.origin, p.digestSet, p.started
	} else {
		token, _ := meta.ReconcileAnnotationValue(obj.GetAnnotations())
		p = &pendingCheck{
			generation: obj.Generation,
			digest:     s.artifact.Digest,
			token:      token,
			deadline:   time.Now().Add(obj.GetTimeout()),
			fresh:      s.objects,
			revision:   s.revision,
			origin:     s.originRevision,
			digestSet:  s.digest,
			started:    s.started,
		}
		refs = r.healthRefs(s)
		if err := healthChecksAllowed(ctx, s); err != nil {
			return reconcile.Result{}, err
		}
	}
	remote := remoteCluster(s.target)
	summary, objs, err := r.evaluateHealth(ctx, s, p, refs, eval)
	if err != nil {
		return reconcile.Result{}, err
	}
	if p.fresh != nil && !summary.Healthy() && summary.Status != health.Failed {
		// Only what is still in progress is checked again (and watched): objects Current in
		// their apply response (ConfigMaps, Services, ...) cost no watch and no cache.
		refs = health.StillWaiting(refs, append(summary.Waiting, summary.Failed...))
		var changed <-chan struct{}
		held := false
		if remote == nil {
			// From here on, changes of what we wait on signal changed, not the queue.
			changed, held = r.health.Hold(obj), true
			defer func() {
				if held {
					r.health.Release(obj)
				}
			}()
		}
		// Right after an apply: record the wait and watch first, then look again in the
		// cache. An update that landed before the wait was recorded is in the cache by now;
		// any later one finds the wait and wakes us.
		if err := r.health.Wait(obj, remote, refs, p); err != nil {
			r.health.Done(obj)
			return reconcile.Result{}, err
		}
		p.fresh = nil
		if summary, objs, err = r.evaluateHealth(ctx, s, p, refs, eval); err != nil {
			return reconcile.Result{}, err
		}
		if wait := min(observationWait, time.Until(p.deadline)); held && wait > 0 && awaitingObservation(summary, objs) {
			held = false // deferUntilSettled releases
			appliedGen := p.appliedGen
			r.deferUntilSettled(obj, changed, wait, func() bool { return r.settled(refs, appliedGen, eval) })
			reconcile.SetCondition(obj, kustomizev1.HealthyCondition, "Unknown", progressingReason, "Running health checks")
			return reconcile.Defer(progressingReason,
				fmt.Sprintf("Running health checks for revision '%s' with a timeout of %s: %s", s.revision, obj.GetTimeout(), summary.Message), healthRecheck), nil
		}
		if held {
			held = false
			r.health.Release(obj)
			select {
			case <-changed:
				// A change came after the last look and enqueued nobody: look again.
				if summary, _, err = r.evaluateHealth(ctx, s, p, refs, eval); err != nil {
					return reconcile.Result{}, err
				}
			default:
			}
		}
	}
	p.fresh = nil
	switch {
	case summary.Status == health.Failed && !r.opts.DisableFailFast:
		r.health.Done(obj)
		reconcile.MarkFalse(obj, kustomizev1.HealthyCondition, healthCheckFailedReason, summary.Message)
		r.upsertHistory(s, healthCheckFailedReason)
		return reconcile.Result{}, reconcile.FailAfter(healthCheckFailedReason,
			fmt.Errorf("health check failed after %s: %s", time.Since(p.started).Round(time.Second), summary.Message), retryAfter(obj))
	case summary.Healthy():
		msg := "Health check passed in " + time.Since(p.started).Round(time.Millisecond).String()
		if assumed := summary.AssumedMessage(); assumed != "" {
			// Custom resources that report no status were counted healthy, as kstatus
			// does: say so, so nobody mistakes it for a verified result.
			msg += "; " + assumed
		}
		reconcile.MarkTrue(obj, kustomizev1.HealthyCondition, meta.SucceededReason, msg)
		return done()
	case time.Now().After(p.deadline):
		r.health.Done(obj)
		msg := "timeout waiting for: " + strings.TrimPrefix(summary.Message, "waiting for: ")
		reconcile.MarkFalse(obj, kustomizev1.HealthyCondition, healthCheckFailedReason, msg)
		r.upsertHistory(s, healthCheckFailedReason)
		return reconcile.Result{}, reconcile.FailAfter(healthCheckFailedReason,
			fmt.Errorf("health check failed after %s, %s", obj.GetTimeout(), msg), retryAfter(obj))
	}
	// Without fail-fast, failed objects are waited on too: they may still recover.
	if err := r.health.Wait(obj, remote, health.StillWaiting(refs, append(summary.Waiting, summary.Failed...)), p); err != nil {
		r.health.Done(obj)
		return reconcile.Result{}, err
	}
	reconcile.SetCondition(obj, kustomizev1.HealthyCondition, "Unknown", progressingReason, "Running health checks")
	wait := time.Until(p.deadline)
	if wait > healthRecheck {
		wait = healthRecheck
	}
	return reconcile.InProgress(progressingReason,
		fmt.Sprintf("Running health checks for revision '%s' with a timeout of %s: %s", s.revision, obj.GetTimeout(), summary.Message), wait), nil
}

// healthRefs lists what to check: every applied object with spec.wait, else spec.healthChecks.
func (r *KustomizationReconciler) healthRefs(s *scope) []health.Ref {
	obj := s.obj
	var refs []health.Ref
	if obj.Spec.Wait {
		for _, o := range s.objects {
			refs = append(refs, health.RefOf(o))
		}
		return refs
	}
	for _, hc := range obj.Spec.HealthChecks {
		ns := hc.Namespace
		if ns == "" {
			ns = obj.Namespace
		}
		refs = append(refs, health.Ref{APIVersion: hc.APIVersion, Kind: hc.Kind, Namespace: ns, Name: hc.Name})
	}
	return refs
}

// healthObjects returns the current state of the checked objects: apply responses when
// fresh, else the watch cache of their cluster.
func (r *KustomizationReconciler) healthObjects(ctx context.Context, s *scope, p *pendingCheck, refs []health.Ref) ([]*unstructured.Unstructured, []health.ObjMeta, error) {
	byRef := map[health.Ref]*unstructured.Unstructured{}
	for _, o := range p.fresh {
		byRef[health.RefOf(o)] = o
	}
	if p.appliedGen == nil {
		p.appliedGen = make(map[health.Ref]int64, len(p.fresh))
		for _, o := range p.fresh {
			p.appliedGen[health.RefOf(o)] = o.GetGeneration()
		}
	}
	var objs []*unstructured.Unstructured
	var missing []health.ObjMeta
	for _, ref := range refs {
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
			o = health.NotYetObserved(ref, gen)
		}
		if o == nil {
			missing = append(missing, ref.Meta())
			continue
		}
		objs = append(objs, o)
	}
	return objs, missing, nil
}

// evaluateHealth summarizes the checked objects' health; it returns the objects too.
func (r *KustomizationReconciler) evaluateHealth(ctx context.Context, s *scope, p *pendingCheck, refs []health.Ref, eval *health.Evaluator) (health.Summary, []*unstructured.Unstructured, error) {
	objs, missing, err := r.healthObjects(ctx, s, p, refs)
	if err != nil {
		return health.Summary{}, nil, err
	}
	return eval.Summarize(objs, missing), objs, nil
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

// readHealthObject reads one checked object from the watch cache of its cluster (a remote
// cluster's API while nothing waits on it). nil means it does not exist.
func (r *KustomizationReconciler) readHealthObject(ctx context.Context, s *scope, ref health.Ref) (*unstructured.Unstructured, error) {
	return r.health.Get(ctx, remoteCluster(s.target), ref)
}

// remoteCluster is the target as the health tracker watches it: nil for this cluster.
func remoteCluster(t *cluster.Target) health.RemoteCluster {
	if t == nil || !t.Remote {
		return nil
	}
	return t
}

// deferUntilSettled ends the wait right after an apply while every object still waited on
// waits only for its controller to observe the apply (status.observedGeneration behind
// metadata.generation, or no status yet): kube-controller-manager and its like take moments
// for that. The reconcile ends Deferred, freeing its worker without a status patch, and the
// Kustomization is requeued ahead of others (health.WakePriority) once settled reports the
// health check decided (the watch event that makes the objects Current, or one Failed), or
// after wait: the next reconcile finds the pending check and writes Ready once, instead of
// Progressing now and Ready moments later, and no worker sits idle meanwhile. Waking on the
// first observation instead would cost a Progressing reconcile in between whenever the
// controller writes its status twice (a Deployment: observed with its new ReplicaSet
// progressing, then NewReplicaSetAvailable). changed is the tracker's Hold signal; the hold
// ends here. A rollout under way (replicas starting) is not deferred for.
func (r *KustomizationReconciler) deferUntilSettled(obj *kustomizev1.Kustomization, changed <-chan struct{}, wait time.Duration, settled func() bool) {
	owner := &kustomizev1.Kustomization{}
	owner.Namespace, owner.Name = obj.Namespace, obj.Name
	go func() {
		// A reconcile of the same Kustomization that started meanwhile (its spec changed)
		// may hold the tracker too: releasing its hold only turns its next signal into a
		// request, one extra reconcile.
		defer r.health.Wake(owner)
		defer r.health.Release(owner)
		timer := time.NewTimer(wait)
		defer timer.Stop()
		for {
			select {
			case <-changed:
			case <-timer.C:
				return
			}
			changed = r.health.Hold(owner) // before reading the cache, so no change falls between
			if settled() {
				return
			}
		}
	}()
}

// settled reports whether the health check of refs is decided by what the watch cache holds
// now: every object Current, or one Failed with fail-fast (or an object that cannot be read:
// the recheck will tell). appliedGen is the apply's record of each object's generation (see
// pendingCheck.appliedGen); it is only read.
func (r *KustomizationReconciler) settled(refs []health.Ref, appliedGen map[health.Ref]int64, eval *health.Evaluator) bool {
	summary, _, err := r.evaluateHealth(context.Background(), &scope{}, &pendingCheck{appliedGen: appliedGen}, refs, eval)
	if err != nil {
		return true
	}
	return summary.Healthy() || (summary.Status == health.Failed && !r.opts.DisableFailFast)
}

// observedByController reports whether o's controller has written a status for o's
// current generation (or a status without observedGeneration).
func observedByController(o *unstructured.Unstructured) bool {
	st, hasStatus := o.Object["status"].(map[string]any)
	if !hasStatus || len(st) == 0 {
		return false
	}
	observed, found, err := unstructured.NestedInt64(st, "observedGeneration")
	return !found || err != nil || observed >= o.GetGeneration()
}

// awaitingObservation reports whether summary is in progress only because the objects waited
// on have not been observed at their current generation by their controllers yet.
func awaitingObservation(summary health.Summary, objs []*unstructured.Unstructured) bool {
	if summary.Healthy() || summary.Status == health.Failed || len(summary.Waiting) == 0 {
		return false
	}
	byMeta := make(map[health.ObjMeta]*unstructured.Unstructured, len(objs))
	for _, o := range objs {
		byMeta[health.ObjMetaOf(o)] = o
	}
	for _, w := range summary.Waiting {
		o := byMeta[w.Object]
		if o == nil {
			return false // missing: nothing to observe
		}
		if observedByController(o) {
			return false // waiting for the rollout itself
		}
	}
	return true
}

// healthChecksAllowed refuses spec.healthChecks the Kustomization's identity may not read.
// Health is read from the controller's own watch cache, with the controller's rights: a
// tenant acting as an impersonated service account must not learn, through its status,
// whether objects exist or are ready in namespaces it cannot see (upstream reads them as the
// tenant, and the API server refuses). One read as the tenant per check and apply; objects
// of spec.wait are the ones it just applied, so they need none.
func healthChecksAllowed(ctx context.Context, s *scope) error {
	obj := s.obj
	if obj.Spec.Wait || s.target == nil || s.target.Remote || s.target.Config.Impersonate.UserName == "" {
		return nil
	}
	for i, hc := range obj.Spec.HealthChecks {
		ns := hc.Namespace
		if ns == "" {
			ns = obj.Namespace
		}
		u := &unstructured.Unstructured{}
		u.SetAPIVersion(hc.APIVersion)
		u.SetKind(hc.Kind)
		err := s.target.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: hc.Name}, u)
		if apierrors.IsForbidden(err) {
			return reconcile.FailAfter(healthCheckFailedReason,
				fmt.Errorf("spec.healthChecks[%d] %s %s/%s: %s may not read it: %w", i, hc.Kind, ns, hc.Name, s.target.Config.Impersonate.UserName, err),
				retryAfter(obj))
		}
		if err != nil && !apierrors.IsNotFound(err) && !apimeta.IsNoMatchError(err) {
			return err
		}
	}
	return nil
}
