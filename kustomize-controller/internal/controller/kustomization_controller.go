// Package controller reconciles Kustomizations: fetch the source artifact, build it with
// kustomize, decrypt and substitute, server-side apply, prune, and check health.
package controller

import (
	"context"
	"fmt"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	"gotk.dev/pkg/artifact"
	"gotk.dev/pkg/dependency"
	"gotk.dev/pkg/health"
	"gotk.dev/pkg/kustomize"
	"gotk.dev/pkg/manager"
	"gotk.dev/pkg/reconcile"
	"gotk.dev/pkg/ssa"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// Options are kustomize-controller's own flags.
type Options struct {
	NoCrossNamespaceRefs   bool
	NoRemoteBases          bool
	DefaultServiceAccount  string
	InsecureKubeconfigExec bool
}

// KustomizationReconciler reconciles Kustomization objects.
type KustomizationReconciler struct {
	client.Client
	Options   Options
	Artifacts *artifact.Cache
	Builder   *kustomize.Builder
	Clients   *ClientFactory
	Health    *HealthTracker

	pending        *pendingHealth
	events         eventSink
	healthCompiler *health.Compiler
	deps           *dependency.Checker
}

// eventSink is the part of the event recorder the reconciler uses.
type eventSink interface {
	Event(obj client.Object, severity, reason, message string, annotations map[string]string)
}

// scope carries one reconcile's state from step to step.
type scope struct {
	obj *kustomizev1.Kustomization
	// source is the referenced source and its artifact.
	source         client.Object
	artifact       *meta.Artifact
	revision       string
	originRevision string
	// dir is the extracted artifact (shared, read-only); release returns it to the cache.
	dir     string
	release func()
	// objects are the built, decrypted and substituted manifests; after apply they hold the
	// API server's responses.
	objects []*unstructured.Unstructured
	// applier applies as the Kustomization's identity (service account or remote cluster).
	applier *ssa.Manager
	target  *targetCluster
	// changeSet records what apply and prune did.
	changeSet *ssa.ChangeSet
	// inventory is the new inventory (applied objects, plus stale ones prune could not delete).
	inventory *kustomizev1.ResourceInventory
	// digest identifies the applied content, for history.
	digest  string
	started time.Time
}

// SetupWithManager registers the reconciler and its watches: own spec changes and reconcile
// requests, new artifacts of referenced sources, and dependencies turning Ready.
func (r *KustomizationReconciler) SetupWithManager(rt *manager.Runtime) error {
	ctx := context.Background()
	idx := rt.Manager.GetFieldIndexer()
	if err := idx.IndexField(ctx, &kustomizev1.Kustomization{}, sourceIndexKey, indexBySource); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &kustomizev1.Kustomization{}, dependsOnIndexKey, indexByDependency); err != nil {
		return err
	}
	engine, err := r.engine(rt)
	if err != nil {
		return err
	}
	b := ctrl.NewControllerManagedBy(rt.Manager).
		For(&kustomizev1.Kustomization{}, builder.WithPredicates(reconcile.SpecOrRequestChanged())).
		Watches(&sourcev1.GitRepository{}, handler.EnqueueRequestsFromMapFunc(r.bySource(sourcev1.GitRepositoryKind)),
			builder.WithPredicates(reconcile.ArtifactChanged())).
		Watches(&sourcev1.OCIRepository{}, handler.EnqueueRequestsFromMapFunc(r.bySource(sourcev1.OCIRepositoryKind)),
			builder.WithPredicates(reconcile.ArtifactChanged())).
		Watches(&sourcev1.Bucket{}, handler.EnqueueRequestsFromMapFunc(r.bySource(sourcev1.BucketKind)),
			builder.WithPredicates(reconcile.ArtifactChanged())).
		Watches(&kustomizev1.Kustomization{}, handler.EnqueueRequestsFromMapFunc(r.dependants),
			builder.WithPredicates(reconcile.BecameReady())).
		WithOptions(rt.ControllerOptions())
	c, err := b.Build(engine)
	if err != nil {
		return err
	}
	r.Health.bind(c.(controller.Controller), rt.Manager.GetCache())
	return nil
}

// engine prepares the reconciler's internals and returns the reconcile skeleton that runs
// its steps.
func (r *KustomizationReconciler) engine(rt *manager.Runtime) (*reconcile.Controller[*kustomizev1.Kustomization], error) {
	var err error
	if r.healthCompiler, err = health.NewCompiler(); err != nil {
		return nil, err
	}
	if r.deps, err = dependency.NewChecker(false); err != nil {
		return nil, err
	}
	r.pending = newPendingHealth()
	r.events = rt.Events
	r.Health.pending = r.pending
	return &reconcile.Controller[*kustomizev1.Kustomization]{
		Client:            r.Client,
		Kind:              kustomizev1.KustomizationKind,
		Events:            rt.Events,
		Metrics:           rt.Metrics,
		NewObject:         func() *kustomizev1.Kustomization { return &kustomizev1.Kustomization{} },
		Steps:             r.steps,
		Finalize:          r.finalize,
		SuccessReason:     meta.ReconciliationSucceededReason,
		RequeueDependency: rt.RequeueDependency(),
		JitterPercent:     rt.JitterPercent(),
		EventMetadata:     failureEventMetadata,
	}, nil
}

// failureEventMetadata names the revision a failed reconcile attempted on its event, as on
// every other event of a Kustomization.
func failureEventMetadata(obj *kustomizev1.Kustomization) map[string]string {
	if obj.Status.LastAttemptedRevision == "" {
		return nil
	}
	return map[string]string{kustomizev1.GroupVersion.Group + "/revision": obj.Status.LastAttemptedRevision}
}

// steps is the ordered step list of a Kustomization reconcile.
func (r *KustomizationReconciler) steps(ctx context.Context, obj *kustomizev1.Kustomization, p *reconcile.Patcher) (reconcile.Result, error) {
	s := &scope{obj: obj, started: time.Now()}
	defer s.cleanup()

	if err := r.checkDependencies(ctx, s); err != nil {
		return reconcile.Result{}, err
	}
	if err := r.getSource(ctx, s); err != nil {
		return reconcile.Result{}, err
	}
	// A watch woke us while health checks of an applied revision were pending: check health
	// from the watch cache without building or applying again.
	if r.pending.matches(obj, s.artifact) {
		if obj.Spec.KubeConfig != nil {
			target, err := r.Clients.For(ctx, r.Client, obj)
			if err != nil {
				return reconcile.Result{}, err
			}
			s.target = target
		}
		return r.checkHealth(ctx, s)
	}
	// A new generation, revision or reconcile request supersedes health checks still
	// pending for an earlier apply: what is applied now is judged on its own.
	r.pending.clear(obj)
	if err := r.fetchArtifact(ctx, s); err != nil {
		return reconcile.Result{}, err
	}
	if err := r.build(ctx, s); err != nil {
		return reconcile.Result{}, err
	}
	if err := r.apply(ctx, s); err != nil {
		return reconcile.Result{}, err
	}
	if err := r.prune(ctx, s); err != nil {
		return reconcile.Result{}, err
	}
	r.recordApplied(s)
	return r.checkHealth(ctx, s)
}

func (s *scope) cleanup() {
	if s.release != nil {
		s.release()
	}
}

// retryAfter is the requeue delay of failures: spec.retryInterval, else the interval.
func retryAfter(obj *kustomizev1.Kustomization) time.Duration { return obj.GetRetryInterval() }

// objRef formats a Kustomization for messages.
func objRef(obj client.Object) string { return fmt.Sprintf("%s/%s", obj.GetNamespace(), obj.GetName()) }
