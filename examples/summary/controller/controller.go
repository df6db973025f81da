// Package controller reconciles ArtifactSummaries with gotk's controller SDK. It is the
// smallest complete Flux-style controller: it declares its steps and its own status, and gets
// from the SDK the reconcile skeleton (finalizer, suspend, conditions, one status patch,
// requeue and backoff), Kubernetes and notification events, Prometheus metrics, and the
// download of a source's artifact.
package controller

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/fluxcd/pkg/apis/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	ctrlreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"

	"gotk.dev/examples/summary/api/v1alpha1"
	"gotk.dev/pkg/artifact"
	"gotk.dev/pkg/events"
	"gotk.dev/pkg/manager"
	"gotk.dev/pkg/reconcile"
)

// sourceIndexKey indexes summaries by "<apiVersion>/<kind>/<namespace>/<name>" of their source.
const sourceIndexKey = ".spec.sourceRef"

// Reconciler reconciles ArtifactSummary objects.
type Reconciler struct {
	client    client.Client
	artifacts *artifact.Cache
	events    reconcile.EventRecorder
	engine    *reconcile.Controller[*v1alpha1.ArtifactSummary, *scope]
	// watched are the source kinds whose artifacts wake their summaries.
	watched []schema.GroupVersionKind
}

// scope is what the steps of one reconcile hand on to each other.
type scope struct {
	obj      *v1alpha1.ArtifactSummary
	artifact *meta.Artifact
	dir      string
	release  func()
}

// Close returns the extracted artifact to the cache.
func (s *scope) Close() {
	if s.release != nil {
		s.release()
	}
}

// New builds the reconciler on rt, downloading artifacts through artifacts, waking summaries
// when a source of one of the watched kinds gets a new artifact.
func New(rt *manager.Runtime, artifacts *artifact.Cache, watched ...schema.GroupVersionKind) (*Reconciler, error) {
	r := &Reconciler{client: rt.Manager.GetClient(), artifacts: artifacts, events: rt.Events, watched: watched}
	var err error
	r.engine, err = reconcile.New(reconcile.Options[*v1alpha1.ArtifactSummary, *scope]{
		Shared:    rt.Shared(),
		Client:    r.client,
		Kind:      v1alpha1.Kind,
		NewObject: func() *v1alpha1.ArtifactSummary { return &v1alpha1.ArtifactSummary{} },
		NewScope:  func(obj *v1alpha1.ArtifactSummary) *scope { return &scope{obj: obj} },
		Steps: []reconcile.Step[*scope]{
			{Name: "source", Run: r.getArtifact},
			{Name: "fetch", Run: r.fetch, FailureCondition: "FetchFailed"},
			{Name: "summarize", Run: r.summarize},
		},
		Finalizer: "examples.gotk.dev/finalizer",
	})
	return r, err
}

// Reconcile runs one reconcile.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return r.engine.Reconcile(ctx, req)
}

// SetupWithManager watches summaries and the artifacts of their sources.
func (r *Reconciler) SetupWithManager(rt *manager.Runtime) error {
	if err := rt.Manager.GetFieldIndexer().IndexField(context.Background(), &v1alpha1.ArtifactSummary{}, sourceIndexKey,
		func(o client.Object) []string { return []string{sourceKey(o.(*v1alpha1.ArtifactSummary))} }); err != nil {
		return err
	}
	b := ctrl.NewControllerManagedBy(rt.Manager).
		For(&v1alpha1.ArtifactSummary{}, builder.WithPredicates(reconcile.SpecOrRequestChanged()))
	for _, gvk := range r.watched {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(gvk)
		b = b.Watches(u, handler.EnqueueRequestsFromMapFunc(r.summariesOf), builder.WithPredicates(reconcile.ArtifactChanged()))
	}
	return b.WithOptions(rt.ControllerOptions()).Complete(r)
}

func sourceKey(s *v1alpha1.ArtifactSummary) string {
	ref := s.Spec.SourceRef
	return ref.APIVersion + "/" + ref.Kind + "/" + s.Namespace + "/" + ref.Name
}

// summariesOf maps a source to the summaries of its artifact.
func (r *Reconciler) summariesOf(ctx context.Context, o client.Object) []ctrlreconcile.Request {
	gvk := o.GetObjectKind().GroupVersionKind()
	var list v1alpha1.ArtifactSummaryList
	key := gvk.GroupVersion().String() + "/" + gvk.Kind + "/" + o.GetNamespace() + "/" + o.GetName()
	if err := r.client.List(ctx, &list, client.MatchingFields{sourceIndexKey: key}); err != nil {
		return nil
	}
	reqs := make([]ctrlreconcile.Request, 0, len(list.Items))
	for _, s := range list.Items {
		reqs = append(reqs, ctrlreconcile.Request{NamespacedName: types.NamespacedName{Namespace: s.Namespace, Name: s.Name}})
	}
	return reqs
}

// getArtifact reads the source's artifact; a source without one is waited for.
func (r *Reconciler) getArtifact(ctx context.Context, s *scope) (reconcile.Result, error) {
	ref := s.obj.Spec.SourceRef
	src := artifact.SourceRef{APIVersion: ref.APIVersion, Kind: ref.Kind, Namespace: s.obj.Namespace, Name: ref.Name}
	a, err := artifact.GetSourceArtifact(ctx, r.client, src)
	switch {
	case errors.Is(err, artifact.ErrSourceNotFound):
		return reconcile.Result{}, reconcile.Wait("SourceNotFound", err, 0)
	case err != nil:
		return reconcile.Result{}, reconcile.Fail("SourceUnreadable", err)
	case a == nil:
		return reconcile.Result{}, reconcile.Wait("ArtifactNotReady", fmt.Errorf("%s has no artifact yet", src), 0)
	}
	s.artifact = a
	return reconcile.Result{}, nil
}

// fetch downloads and extracts the artifact, checking its digest.
func (r *Reconciler) fetch(ctx context.Context, s *scope) (reconcile.Result, error) {
	dir, release, err := r.artifacts.Get(ctx, s.artifact.URL, s.artifact.Digest)
	if err != nil {
		return reconcile.Result{}, reconcile.Fail("ArtifactFetchFailed", fmt.Errorf("revision '%s': %w", s.artifact.Revision, err))
	}
	s.dir, s.release = dir, release
	return reconcile.Result{}, nil
}

// summarize counts the artifact's files and records a change as an event.
func (r *Reconciler) summarize(_ context.Context, s *scope) (reconcile.Result, error) {
	files, size := 0, int64(0)
	err := filepath.WalkDir(s.dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		files, size = files+1, size+info.Size()
		return nil
	})
	if err != nil {
		return reconcile.Result{}, reconcile.Fail("SummarizeFailed", err)
	}
	st := &s.obj.Status
	changed := st.Revision != s.artifact.Revision
	st.Revision, st.Files, st.Bytes = s.artifact.Revision, files, size
	msg := fmt.Sprintf("%d files, %d bytes in revision '%s'", files, size, s.artifact.Revision)
	if changed {
		r.events.Event(s.obj, events.SeverityInfo, "Summarized", msg,
			map[string]string{v1alpha1.GroupVersion.Group + "/revision": s.artifact.Revision})
	}
	return reconcile.Done(msg), nil
}
