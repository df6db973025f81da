package controller

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	helmrelease "helm.sh/helm/v3/pkg/release"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	v2 "gotk.dev/helm-controller/api/v2"
	"gotk.dev/helm-controller/internal/drift"
	"gotk.dev/helm-controller/internal/kube"
	"gotk.dev/helm-controller/internal/release"
	"gotk.dev/pkg/cluster"
	"gotk.dev/pkg/health"
	"gotk.dev/pkg/reconcile"
)

// The annotations Helm writes on every object of a release.
const (
	helmReleaseNameAnnotation      = "meta.helm.sh/release-name"
	helmReleaseNamespaceAnnotation = "meta.helm.sh/release-namespace"
)

const (
	// healthRecheck bounds how long a pending health check waits for a watch event before
	// it looks again (missed events, objects outside the watch, the timeout).
	healthRecheck = 30 * time.Second
	// healthCheckFailedReason is the Ready reason when the health of a pending release
	// cannot be determined.
	healthCheckFailedReason = "HealthCheckFailed"
)

// pendingHealth is what the health tracker keeps of a HelmRelease whose released objects
// are not ready yet (with the objects still waited for).
type pendingHealth struct {
	name     string
	version  int
	deadline time.Time
	// appliedGen holds the generation each object had when read from the API right after
	// the action, to tell a watch cache that has not caught up from the truth.
	appliedGen map[health.Ref]int64
	// installedAs is the release an install made: a cached object without its release
	// annotations is one the cache has not seen the install write yet.
	installedAs *v2.Snapshot
}

// verify checks the health of the objects of a release made without Helm's own wait
// (release.PendingVerification): read from the API right after the action (or after a
// restart), from the watch cache when the tracker wakes the HelmRelease. It returns
// settled=false with an InProgress result while objects are in progress, and settled=true
// once the release is verified (Released=True) or failed (marked failed in the storage, to
// be remediated by the release loop that follows). current is the release record when
// the caller has it.
func (r *HelmReleaseReconciler) verify(ctx context.Context, s *scope, factory *kube.Factory, p *release.Pending, current *helmrelease.Release) (reconcile.Result, error, bool) {
	obj := s.obj
	eval, err := r.healthCompiler.NewEvaluator(obj.Spec.HealthCheckExprs)
	if err != nil {
		return reconcile.Result{}, reconcile.Stall(invalidExprReason, fmt.Errorf("spec.healthCheckExprs: %w", err)), false
	}
	remote := remoteCluster(s.target)
	var ph *pendingHealth
	var refs []health.Ref
	w, ok := r.health.Pending(obj)
	fresh := !ok || w.Payload.name != p.Snapshot.Name || w.Payload.version != p.Snapshot.Version
	if fresh {
		manifest, err := releaseManifest(factory, p, current)
		if err != nil {
			return reconcile.Result{}, reconcile.Fail(healthCheckFailedReason, err), false
		}
		if refs, err = r.healthRefs(s, manifest, p); err != nil {
			return reconcile.Result{}, reconcile.Fail(healthCheckFailedReason, err), false
		}
		ph = &pendingHealth{name: p.Snapshot.Name, version: p.Snapshot.Version, deadline: p.Deadline, appliedGen: map[health.Ref]int64{}}
	} else {
		ph, refs = w.Payload, w.Refs
	}
	if fresh && p.Action == release.Install && remote == nil {
		// Objects an install just created are either in the watch cache as created (with
		// the release's annotations) or not there yet: no version of them can pass for
		// healthy by mistake, so they are read from the cache (no request), after the
		// wait is recorded so that their arrival wakes the HelmRelease.
		if err := r.health.Wait(obj, nil, refs, ph); err != nil {
			r.health.Done(obj)
			return reconcile.Result{}, err, false
		}
		ph.installedAs = p.Snapshot
		fresh = false
	}
	sum, err := r.evaluateHealth(ctx, s, ph, refs, eval, fresh)
	if err != nil {
		return reconcile.Result{}, reconcile.Fail(healthCheckFailedReason, err), false
	}
	if fresh && !sum.Healthy() && sum.Status != health.Failed {
		// Record the wait and watch first, then look again in the cache: an update that
		// landed before the wait was recorded is in the cache by now, any later one
		// finds the wait and wakes the HelmRelease.
		refs = health.StillWaiting(refs, sum.Waiting)
		if err := r.health.Wait(obj, remote, refs, ph); err != nil {
			r.health.Done(obj)
			return reconcile.Result{}, err, false
		}
		if sum, err = r.evaluateHealth(ctx, s, ph, refs, eval, false); err != nil {
			return reconcile.Result{}, reconcile.Fail(healthCheckFailedReason, err), false
		}
	}
	switch {
	case sum.Healthy():
		r.health.Done(obj)
		r.record(obj, []release.Event{release.Verified(obj, p, time.Since(p.Snapshot.LastDeployed.Time))})
		return reconcile.Result{}, nil, true
	case sum.Status == health.Failed || time.Now().After(p.Deadline):
		r.health.Done(obj)
		why := sum.Message
		if sum.Status != health.Failed {
			why = fmt.Sprintf("timeout waiting for: %s", strings.TrimPrefix(sum.Message, "waiting for: "))
		}
		ev, err := release.VerificationFailed(factory, obj, p, why)
		if err != nil {
			return reconcile.Result{}, reconcile.Fail(healthCheckFailedReason, err), false
		}
		r.record(obj, []release.Event{ev})
		return reconcile.Result{}, nil, true
	}
	if err := r.health.Wait(obj, remote, health.StillWaiting(refs, sum.Waiting), ph); err != nil {
		r.health.Done(obj)
		return reconcile.Result{}, err, false
	}
	wait := min(time.Until(p.Deadline), healthRecheck)
	return reconcile.InProgress(meta.ProgressingReason, fmt.Sprintf("Running health checks for release %s with a timeout of %s: %s",
		p.Snapshot.FullReleaseName(), p.Deadline.Sub(p.Snapshot.LastDeployed.Time).Round(time.Second), sum.Message), wait), nil, false
}

// releaseManifest returns the manifest of the pending release: from the record the caller
// has, else from the storage (after a restart).
func releaseManifest(factory *kube.Factory, p *release.Pending, current *helmrelease.Release) (string, error) {
	if current != nil && current.Name == p.Snapshot.Name && current.Version == p.Snapshot.Version {
		return current.Manifest, nil
	}
	cfg, err := factory.Build(nil)
	if err != nil {
		return "", err
	}
	rls, err := cfg.Releases.Get(p.Snapshot.Name, p.Snapshot.Version)
	if err != nil {
		return "", fmt.Errorf("read release %s to check its health: %w", p.Snapshot.FullReleaseName(), err)
	}
	return rls.Manifest, nil
}

// healthRefs lists the objects of a release manifest whose health is checked: every one
// but ConfigMaps and Secrets, and Jobs when the action's spec disables waiting for Jobs.
func (r *HelmReleaseReconciler) healthRefs(s *scope, manifest string, p *release.Pending) ([]health.Ref, error) {
	objs, err := r.manifestObjects(s, manifest)
	if err != nil {
		return nil, err
	}
	skipJobs := s.obj.GetInstall().DisableWaitForJobs
	if p.Action == release.Upgrade {
		skipJobs = s.obj.GetUpgrade().DisableWaitForJobs
	}
	refs := make([]health.Ref, 0, len(objs))
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		if skipJobs && gvk.Kind == "Job" && gvk.Group == "batch" {
			continue
		}
		// ConfigMaps and Secrets have no status: they are ready once created, which Helm
		// did. (The manager's informers of them see only the labelled ones, which values
		// and kubeconfig references are watched through.)
		if gvk.Group == "" && (gvk.Kind == "ConfigMap" || gvk.Kind == "Secret") {
			continue
		}
		refs = append(refs, health.RefOf(o))
	}
	return refs, nil
}

// manifestObjects decodes a release manifest, placing namespaced objects without a
// namespace in the release namespace and cluster-scoped ones in none.
func (r *HelmReleaseReconciler) manifestObjects(s *scope, manifest string) ([]*unstructured.Unstructured, error) {
	objs, err := drift.Objects(manifest, s.obj.GetReleaseNamespace())
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		if m, err := s.target.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version); err == nil && m.Scope.Name() == apimeta.RESTScopeNameRoot {
			o.SetNamespace("")
		}
	}
	return objs, nil
}

// evaluateHealth summarizes the objects' health: read from the API when fresh (recording
// their generations), else from the watch cache of their cluster.
func (r *HelmReleaseReconciler) evaluateHealth(ctx context.Context, s *scope, ph *pendingHealth, refs []health.Ref, eval *health.Evaluator, fresh bool) (health.Summary, error) {
	var objs []*unstructured.Unstructured
	var missing []health.ObjMeta
	for _, ref := range refs {
		var o *unstructured.Unstructured
		var err error
		if fresh {
			o, err = readObject(ctx, s, ref)
			if fresh && o != nil {
				ph.appliedGen[ref] = o.GetGeneration()
			}
		} else {
			o, err = r.health.Get(ctx, remoteCluster(s.target), ref)
			if gen, ok := ph.appliedGen[ref]; ok && (o == nil || o.GetGeneration() < gen) {
				o = health.NotYetObserved(ref, gen)
			}
			if rel := ph.installedAs; o != nil && rel != nil &&
				(o.GetAnnotations()[helmReleaseNameAnnotation] != rel.Name || o.GetAnnotations()[helmReleaseNamespaceAnnotation] != rel.Namespace) {
				o = health.NotYetObserved(ref, o.GetGeneration()+1)
			}
		}
		if err != nil {
			return health.Summary{}, err
		}
		if o == nil {
			missing = append(missing, ref.Meta())
			continue
		}
		objs = append(objs, o)
	}
	return eval.Summarize(objs, missing), nil
}

// readObject reads one object from the API of the target; nil when it does not exist.
func readObject(ctx context.Context, s *scope, ref health.Ref) (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(ref.GVK())
	if err := s.target.Client.Get(ctx, types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}, u); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	return u, nil
}

// remoteCluster is the target as the health tracker watches it: nil for this cluster.
func remoteCluster(t *cluster.Target) health.RemoteCluster {
	if t == nil || !t.Remote {
		return nil
	}
	return t
}
