// Package controller reconciles HelmReleases: the HelmChart of spec.chart, dependencies,
// the chart artifact, values, the cluster and identity to act as, then the release itself
// (internal/release: install, upgrade, test, rollback, uninstall, unlock, drift), the
// health of the released objects (watch-driven, no worker held) and uninstall on deletion.
package controller

import (
	"context"
	"fmt"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"k8s.io/apimachinery/pkg/labels"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	v2 "gotk.dev/helm-controller/api/v2"
	"gotk.dev/helm-controller/internal/kube"
	"gotk.dev/pkg/artifact"
	"gotk.dev/pkg/cluster"
	"gotk.dev/pkg/dependency"
	"gotk.dev/pkg/health"
	"gotk.dev/pkg/manager"
	"gotk.dev/pkg/reconcile"
	"gotk.dev/pkg/ssa"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// controllerName is the process name and the field manager of what it writes.
const controllerName = "helm-controller"

// Config is what a HelmReleaseReconciler is built from.
type Config struct {
	Options   Options
	Artifacts *artifact.Cache
	// Client overrides the manager's client (tests count its requests).
	Client client.Client
}

// HelmReleaseReconciler reconciles HelmRelease objects.
type HelmReleaseReconciler struct {
	client.Client
	// apiReader reads what is never cached (ServiceAccounts) straight from the API.
	apiReader client.Reader
	opts      Options
	artifacts *artifact.Cache
	clusters  *cluster.Factory
	helm      *factories
	// health tracks the HelmReleases waiting for their objects to become ready.
	health         *health.Tracker[*pendingHealth]
	healthCompiler *health.Compiler
	deps           *dependency.Checker
	events         reconcile.EventRecorder
	written        writtenStatus
	engine         *reconcile.Controller[*v2.HelmRelease, *scope]
}

// scope carries one reconcile's state from step to step.
type scope struct {
	obj *v2.HelmRelease
	// templateChart is the HelmChart of spec.chart as applied by this reconcile.
	templateChart *sourcev1.HelmChart
	// source is the HelmChart or OCIRepository holding the chart, and its artifact.
	source   sourcev1.Source
	artifact *meta.Artifact
	// chart is the loaded chart; its version carries the OCI digest where upstream's does.
	chart     *chart.Chart
	ociDigest string
	values    chartutil.Values
	// target is the cluster and identity the release is made in.
	target *cluster.Target
	// dir is the extracted artifact (shared, read-only); release returns it to the cache.
	dir     string
	release func()
	started time.Time
}

// Close returns the extracted artifact to the cache.
func (s *scope) Close() {
	if s.release != nil {
		s.release()
	}
}

// NewHelmReleaseReconciler builds the reconciler and its reconcile engine for rt's manager.
func NewHelmReleaseReconciler(rt *manager.Runtime, c Config) (*HelmReleaseReconciler, error) {
	mgr := rt.Manager
	r := &HelmReleaseReconciler{
		Client:    c.Client,
		apiReader: mgr.GetAPIReader(),
		opts:      c.Options,
		artifacts: c.Artifacts,
		helm:      newFactories(),
		health:    health.NewTracker[*pendingHealth](mgr.GetCache(), health.OwnerLabels{Name: v2.NameLabel, Namespace: v2.NamespaceLabel}),
		events:    rt.Events,
	}
	if r.Client == nil {
		r.Client = mgr.GetClient()
	}
	var err error
	if r.clusters, err = cluster.NewFactory(cluster.FactoryOptions(c.Options.Cluster, mgr, ssa.Owner{Field: kube.FieldManager(), Group: v2.GroupName})); err != nil {
		return nil, err
	}
	if r.healthCompiler, err = health.NewCompiler(); err != nil {
		return nil, err
	}
	if r.deps, err = dependency.NewChecker(c.Options.enabled(AdditiveCELDependencyCheck)); err != nil {
		return nil, err
	}
	r.engine, err = reconcile.New(reconcile.Options[*v2.HelmRelease, *scope]{
		Shared:        rt.Shared(),
		Client:        r.Client,
		Kind:          v2.HelmReleaseKind,
		NewObject:     func() *v2.HelmRelease { return &v2.HelmRelease{} },
		NewScope:      func(obj *v2.HelmRelease) *scope { return &scope{obj: obj, started: time.Now()} },
		Steps:         r.steps(),
		Finalize:      r.finalize,
		Finalizer:     v2.HelmReleaseFinalizer,
		SuccessReason: v2.InstallSucceededReason,
		EventMetadata: failureEventMetadata,
		Refresh:       r.written.stale,
		APIReader:     r.apiReader,
	})
	return r, err
}

// steps is the ordered step list of a HelmRelease reconcile.
func (r *HelmReleaseReconciler) steps() []reconcile.Step[*scope] {
	return []reconcile.Step[*scope]{
		{Name: "chart-template", Run: r.reconcileChartTemplate},
		{Name: "dependencies", Run: r.checkDependencies},
		{Name: "source", Run: r.getSource},
		{Name: "values", Run: r.composeValues},
		{Name: "chart", Run: r.loadChart},
		{Name: "target", Run: r.getTarget},
		{Name: "release", Run: r.reconcileRelease},
	}
}

// Reconcile runs one reconcile of a HelmRelease.
func (r *HelmReleaseReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return r.engine.Reconcile(ctx, req)
}

// SetupWithManager registers the reconciler and its watches: own spec changes and reconcile
// requests, new artifacts of HelmCharts and OCIRepositories, dependencies turning Ready,
// labelled ConfigMaps and Secrets the values or kubeconfig come from, and the objects a
// pending health check waits for.
func (r *HelmReleaseReconciler) SetupWithManager(rt *manager.Runtime) error {
	ctx := context.Background()
	idx := rt.Manager.GetFieldIndexer()
	for key, fn := range map[string]client.IndexerFunc{sourceIndexKey: indexBySource, dependsOnIndexKey: indexByDependency, configIndexKey: indexByConfig} {
		if err := idx.IndexField(ctx, &v2.HelmRelease{}, key, fn); err != nil {
			return err
		}
	}
	b := ctrl.NewControllerManagedBy(rt.Manager).
		For(&v2.HelmRelease{}, builder.WithPredicates(reconcile.SpecOrRequestChanged())).
		Watches(&sourcev1.HelmChart{}, handler.EnqueueRequestsFromMapFunc(r.bySource(sourcev1.HelmChartKind)),
			builder.WithPredicates(reconcile.ArtifactChanged())).
		Watches(&sourcev1.OCIRepository{}, handler.EnqueueRequestsFromMapFunc(r.bySource(sourcev1.OCIRepositoryKind)),
			builder.WithPredicates(reconcile.ArtifactChanged())).
		Watches(&v2.HelmRelease{}, handler.EnqueueRequestsFromMapFunc(r.dependants),
			builder.WithPredicates(reconcile.BecameReady())).
		WatchesRawSource(r.health.Source())
	if !r.opts.enabled(DisableConfigWatchers) {
		// Only the metadata of the labelled ConfigMaps and Secrets is cached (Setup.WatchConfigs
		// from ConfigSelector); values are read from the API.
		for _, kind := range []string{"ConfigMap", "Secret"} {
			b = b.Watches(manager.ConfigMetadata(kind), handler.EnqueueRequestsFromMapFunc(r.byConfig(kind)),
				builder.OnlyMetadata, builder.WithPredicates(predicate.ResourceVersionChangedPredicate{}))
		}
	}
	return b.WithOptions(rt.ControllerOptions()).Complete(r)
}

// ConfigSelector selects the ConfigMaps and Secrets whose changes wake the HelmReleases using
// them (--watch-configs-label-selector; nil with DisableConfigWatchers): the manager watches
// only their metadata (manager.Setup.WatchConfigs).
func ConfigSelector(o Options) (labels.Selector, error) {
	if o.enabled(DisableConfigWatchers) {
		return nil, nil
	}
	sel, err := labels.Parse(o.WatchConfigsLabelSelector)
	if err != nil {
		return nil, fmt.Errorf("--watch-configs-label-selector: %w", err)
	}
	return sel, nil
}

// failureEventMetadata annotates the engine's failure events with the chart version and
// values digest last attempted, as on every other event of a HelmRelease.
func failureEventMetadata(obj *v2.HelmRelease) map[string]string {
	return eventMetadataOf(obj.Status.LastAttemptedRevision, obj.Status.LastAttemptedConfigDigest, "", obj.Status.LastAttemptedRevisionDigest)
}

// objRef formats an object for messages.
func objRef(kind, namespace, name string) string {
	return fmt.Sprintf("%s/%s/%s", kind, namespace, name)
}

// clusterRequest is what a HelmRelease asks of the cluster factory.
func clusterRequest(obj *v2.HelmRelease) cluster.Request {
	return cluster.Request{Namespace: obj.Namespace, ServiceAccountName: obj.Spec.ServiceAccountName, KubeConfig: obj.Spec.KubeConfig}
}
