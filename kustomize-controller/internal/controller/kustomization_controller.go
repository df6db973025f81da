// Package controller reconciles Kustomizations: fetch the source artifact, build it with
// kustomize, decrypt and substitute, server-side apply, prune, and check health.
package controller

import (
	"context"
	"fmt"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	"gotk.dev/pkg/artifact"
	"gotk.dev/pkg/auth/cloud"
	"gotk.dev/pkg/cluster"
	"gotk.dev/pkg/dependency"
	"gotk.dev/pkg/events"
	"gotk.dev/pkg/health"
	"gotk.dev/pkg/inventory"
	"gotk.dev/pkg/kustomize"
	"gotk.dev/pkg/manager"
	"gotk.dev/pkg/reconcile"
	"gotk.dev/pkg/ssa"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// Config is what a KustomizationReconciler is built from.
type Config struct {
	Options   Options
	Artifacts *artifact.Cache
	Builder   *kustomize.Builder
	// Client overrides the manager's client (tests count its requests).
	Client client.Client
	// CloudLogins exchanges service account tokens for cloud KMS credentials
	// (spec.decryption.serviceAccountName); nil builds them from Options.
	CloudLogins *cloud.Logins
}

// KustomizationReconciler reconciles Kustomization objects.
type KustomizationReconciler struct {
	client.Client
	opts      Options
	artifacts *artifact.Cache
	builder   *kustomize.Builder
	clusters  *cluster.Factory
	// health tracks the Kustomizations waiting on health checks.
	health         *health.Tracker[*pendingCheck]
	healthCompiler *health.Compiler
	deps           *dependency.Checker
	events         reconcile.EventRecorder
	engine         *reconcile.Controller[*kustomizev1.Kustomization, *scope]
	// cleanupManagers are the field managers whose changes the apply reverts: kubectl's
	// and --override-manager's.
	cleanupManagers []string
	// customStageKinds are --custom-apply-stage-kinds.
	customStageKinds []schema.GroupKind
	// logins get the cloud KMS credentials of decryption service accounts.
	logins *cloud.Logins
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
	// target is where the Kustomization applies (this cluster as some identity, or a remote one).
	target *cluster.Target
	// changeSet records what apply and prune did.
	changeSet *ssa.ChangeSet
	// inventory is the new inventory (applied objects, plus stale ones prune could not delete).
	inventory *inventory.Inventory
	// digest identifies the applied content, for history.
	digest  string
	started time.Time
}

// Close returns the extracted artifact to the cache.
func (s *scope) Close() {
	if s.release != nil {
		s.release()
	}
}

// NewKustomizationReconciler builds the reconciler and its reconcile engine for rt's manager.
func NewKustomizationReconciler(rt *manager.Runtime, c Config) (*KustomizationReconciler, error) {
	mgr := rt.Manager
	r := &KustomizationReconciler{
		Client:    c.Client,
		opts:      c.Options,
		artifacts: c.Artifacts,
		builder:   c.Builder,
		health:    health.NewTracker[*pendingCheck](mgr.GetCache(), health.OwnerLabels{Name: ownerLabelName, Namespace: ownerLabelNamespace}),
		events:    rt.Events,
	}
	if r.Client == nil {
		r.Client = mgr.GetClient()
	}
	if r.logins = c.CloudLogins; r.logins == nil {
		r.logins = newDecryptionLogins(c.Options, r.Client)
	}
	var err error
	if err = c.Options.Validate(); err != nil {
		return nil, err
	}
	r.customStageKinds, _ = c.Options.customStageKinds()
	r.cleanupManagers = append(ssa.DefaultCleanupManagers(), c.Options.OverrideManagers...)
	if r.clusters, err = cluster.NewFactory(cluster.FactoryOptions(c.Options.Cluster, mgr, ssa.Owner{Field: controllerName, Group: kustomizev1.GroupVersion.Group})); err != nil {
		return nil, err
	}
	if r.healthCompiler, err = health.NewCompiler(); err != nil {
		return nil, err
	}
	if r.deps, err = dependency.NewChecker(c.Options.AdditiveDependencyCheck); err != nil {
		return nil, err
	}
	r.engine, err = reconcile.New(reconcile.Options[*kustomizev1.Kustomization, *scope]{
		Shared:    rt.Shared(),
		Client:    r.Client,
		Kind:      kustomizev1.KustomizationKind,
		NewObject: func() *kustomizev1.Kustomization { return &kustomizev1.Kustomization{} },
		NewScope:  func(obj *kustomizev1.Kustomization) *scope { return &scope{obj: obj, started: time.Now()} },
		Steps:     r.steps(),
		// spec.timeout bounds a reconcile (fetch, build, apply), as upstream: a slow or
		// hostile source cannot hold a worker longer.
		Timeout:       func(obj *kustomizev1.Kustomization) time.Duration { return obj.GetTimeout() },
		Finalize:      r.finalize,
		SuccessReason: meta.ReconciliationSucceededReason,
		EventMetadata: failureEventMetadata,
		Succeeded:     r.recordSuccess,
	})
	return r, err
}

// recordSuccess records upstream's event at the end of every successful reconcile, changes or
// not. Its commit_status annotation asks notification-controller's Git providers to mark the
// applied commit as successful.
func (r *KustomizationReconciler) recordSuccess(obj *kustomizev1.Kustomization, took time.Duration) {
	group := kustomizev1.GroupVersion.Group
	md := map[string]string{group + "/commit_status": "update"}
	if rev := obj.Status.LastAppliedRevision; rev != "" {
		md[group+"/revision"] = rev
	}
	if rev := obj.Status.LastAppliedOriginRevision; rev != "" {
		md[group+"/originRevision"] = rev
	}
	msg := fmt.Sprintf("Reconciliation finished in %s, next run in %s", took.Round(time.Millisecond), obj.Spec.Interval.Duration)
	r.events.Event(obj, events.SeverityInfo, meta.ReconciliationSucceededReason, msg, md)
}

// controllerName is the field manager of applied objects and the process name.
const controllerName = "kustomize-controller"

// steps is the ordered step list of a Kustomization reconcile.
func (r *KustomizationReconciler) steps() []reconcile.Step[*scope] {
	return []reconcile.Step[*scope]{
		{Name: "dependencies", Run: r.checkDependencies},
		{Name: "source", Run: r.getSource},
		// A watch woke us while health checks of an applied revision were pending: check
		// health from the watch cache without building or applying again.
		{Name: "pending-health", Run: r.recheckHealth},
		{Name: "fetch", Run: r.fetchArtifact},
		{Name: "build", Run: r.build},
		{Name: "apply", Run: r.apply},
		{Name: "prune", Run: r.prune},
		{Name: "health", Run: r.checkHealth},
	}
}

// Reconcile runs one reconcile of a Kustomization.
func (r *KustomizationReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return r.engine.Reconcile(ctx, req)
}

// SetupWithManager registers the reconciler and its watches: own spec changes and reconcile
// requests, new artifacts of referenced sources, dependencies turning Ready, and the objects
// pending health checks wait on.
func (r *KustomizationReconciler) SetupWithManager(rt *manager.Runtime) error {
	ctx := context.Background()
	idx := rt.Manager.GetFieldIndexer()
	if err := idx.IndexField(ctx, &kustomizev1.Kustomization{}, sourceIndexKey, indexBySource); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &kustomizev1.Kustomization{}, dependsOnIndexKey, indexByDependency); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &kustomizev1.Kustomization{}, configIndexKey, indexByConfig); err != nil {
		return err
	}
	b := ctrl.NewControllerManagedBy(rt.Manager)
	if r.opts.WatchConfigsSelector != "" {
		// ConfigMaps and Secrets labelled for it (reconcile.fluxcd.io/watch: Enabled) wake
		// the Kustomizations using them; the manager caches only their metadata.
		for _, kind := range []string{"ConfigMap", "Secret"} {
			b = b.Watches(manager.ConfigMetadata(kind), handler.EnqueueRequestsFromMapFunc(r.usersOfConfig(kind)),
				builder.OnlyMetadata, builder.WithPredicates(predicate.ResourceVersionChangedPredicate{}))
		}
	}
	return b.
		For(&kustomizev1.Kustomization{}, builder.WithPredicates(reconcile.SpecOrRequestChanged())).
		Watches(&sourcev1.GitRepository{}, handler.EnqueueRequestsFromMapFunc(r.bySource(sourcev1.GitRepositoryKind)),
			builder.WithPredicates(reconcile.ArtifactChanged())).
		Watches(&sourcev1.OCIRepository{}, handler.EnqueueRequestsFromMapFunc(r.bySource(sourcev1.OCIRepositoryKind)),
			builder.WithPredicates(reconcile.ArtifactChanged())).
		Watches(&sourcev1.Bucket{}, handler.EnqueueRequestsFromMapFunc(r.bySource(sourcev1.BucketKind)),
			builder.WithPredicates(reconcile.ArtifactChanged())).
		Watches(&kustomizev1.Kustomization{}, handler.EnqueueRequestsFromMapFunc(r.dependants),
			builder.WithPredicates(reconcile.BecameReady())).
		WatchesRawSource(r.health.Source()).
		WithOptions(rt.ControllerOptions()).
		Complete(r)
}

// failureEventMetadata names the revision a failed reconcile attempted on its event, as on
// every other event of a Kustomization.
func failureEventMetadata(obj *kustomizev1.Kustomization) map[string]string {
	if obj.Status.LastAttemptedRevision == "" {
		return nil
	}
	return map[string]string{kustomizev1.GroupVersion.Group + "/revision": obj.Status.LastAttemptedRevision}
}

// retryAfter is the requeue delay of failures: spec.retryInterval, else the interval.
func retryAfter(obj *kustomizev1.Kustomization) time.Duration { return obj.GetRetryInterval() }

// objRef formats a Kustomization for messages.
func objRef(obj client.Object) string { return fmt.Sprintf("%s/%s", obj.GetNamespace(), obj.GetName()) }

// clusterRequest is what a Kustomization asks of the cluster factory.
func clusterRequest(obj *kustomizev1.Kustomization) cluster.Request {
	return cluster.Request{Namespace: obj.Namespace, ServiceAccountName: obj.Spec.ServiceAccountName, KubeConfig: obj.Spec.KubeConfig}
}
