package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	"gotk.dev/pkg/dependency"
	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

const (
	sourceIndexKey    = ".spec.sourceRef"
	dependsOnIndexKey = ".spec.dependsOn"

	artifactFailedReason     = "ArtifactFailed"
	dependencyNotReadyReason = "DependencyNotReady"
	accessDeniedReason       = "AccessDenied"
	invalidExprReason        = "InvalidCELExpression"
)

// checkDependencies waits until every spec.dependsOn Kustomization is ready (or its readyExpr
// holds). Dependants are also woken when a dependency turns Ready, so the requeue is a fallback.
func (r *KustomizationReconciler) checkDependencies(ctx context.Context, s *scope) (reconcile.Result, error) {
	return reconcile.Result{}, r.dependenciesReady(ctx, s)
}

func (r *KustomizationReconciler) dependenciesReady(ctx context.Context, s *scope) error {
	obj := s.obj
	if len(obj.Spec.DependsOn) == 0 {
		return nil
	}
	deps := make([]dependency.Dep, 0, len(obj.Spec.DependsOn))
	for _, ref := range obj.Spec.DependsOn {
		ns := ref.Namespace
		if ns == "" {
			ns = obj.Namespace
		}
		if r.opts.NoCrossNamespaceRefs && ns != obj.Namespace {
			return reconcile.Stall(accessDeniedReason, fmt.Errorf("dependency '%s/%s': cross-namespace references are not allowed (--no-cross-namespace-refs)", ns, ref.Name))
		}
		var dep kustomizev1.Kustomization
		d := dependency.Dep{Ref: ref}
		if err := r.Get(ctx, types.NamespacedName{Namespace: ns, Name: ref.Name}, &dep); err == nil {
			u, err := toUnstructured(&dep, kustomizev1.GroupVersion.String(), kustomizev1.KustomizationKind)
			if err != nil {
				return err
			}
			d.Obj = u
		} else if !apierrors.IsNotFound(err) {
			return err
		}
		deps = append(deps, d)
	}
	self, err := toUnstructured(obj, kustomizev1.GroupVersion.String(), kustomizev1.KustomizationKind)
	if err != nil {
		return err
	}
	if err := r.deps.Check(self, deps); err != nil {
		var invalid *dependency.InvalidExprError
		if errors.As(err, &invalid) {
			return reconcile.Stall(invalidExprReason, err)
		}
		// Depending on itself can never be satisfied: waiting would requeue forever.
		var cycle *dependency.CycleError
		if errors.As(err, &cycle) {
			return reconcile.Stall(dependencyNotReadyReason, err)
		}
		return reconcile.Wait(dependencyNotReadyReason, err, 0)
	}
	return nil
}

// sourceGrace is how long a new Kustomization whose source has no artifact yet waits for it
// with its status unwritten before it reports ArtifactFailed. A Kustomization and its source
// are usually created together (flux bootstrap, one commit adding both, the benchmark), so
// its first reconcile often runs before the source's: the source's watch wakes it when the
// artifact appears, and writing "not ready" meanwhile costs a status patch that the outcome
// of the next reconcile, moments later, overwrites (32-139 of 1000 new Kustomizations in the
// benchmark's install). Past the grace, or once the Kustomization has a Ready condition, a
// missing artifact is reported as before.
const sourceGrace = 10 * time.Second

// getSource reads the referenced source (from the cache) and its artifact.
func (r *KustomizationReconciler) getSource(ctx context.Context, s *scope) (reconcile.Result, error) {
	err := r.sourceArtifact(ctx, s)
	var missing *missingArtifactError
	if errors.As(err, &missing) {
		if wait := sourceGrace - time.Since(s.obj.CreationTimestamp.Time); wait > 0 &&
			apimeta.FindStatusCondition(s.obj.Status.Conditions, meta.ReadyCondition) == nil {
			return reconcile.Defer(artifactFailedReason, missing.Error(), wait), nil
		}
	}
	return reconcile.Result{}, err
}

// missingArtifactError is a source that does not exist or has no artifact yet: the source's
// watch wakes the Kustomization when its artifact appears.
type missingArtifactError struct{ msg string }

func (e *missingArtifactError) Error() string { return e.msg }

func (r *KustomizationReconciler) sourceArtifact(ctx context.Context, s *scope) error {
	obj := s.obj
	ref := obj.Spec.SourceRef
	ns := ref.Namespace
	if ns == "" {
		ns = obj.Namespace
	}
	if r.opts.NoCrossNamespaceRefs && ns != obj.Namespace {
		return reconcile.Stall(accessDeniedReason, fmt.Errorf("can't access '%s/%s/%s', cross-namespace references have been blocked (--no-cross-namespace-refs)", ref.Kind, ns, ref.Name))
	}
	var src interface {
		client.Object
		GetArtifact() *meta.Artifact
	}
	switch ref.Kind {
	case sourcev1.GitRepositoryKind:
		src = &sourcev1.GitRepository{}
	case sourcev1.OCIRepositoryKind:
		src = &sourcev1.OCIRepository{}
	case sourcev1.BucketKind:
		src = &sourcev1.Bucket{}
	default:
		return reconcile.Stall(artifactFailedReason, fmt.Errorf("source kind '%s' is not supported", ref.Kind))
	}
	if err := r.Get(ctx, types.NamespacedName{Namespace: ns, Name: ref.Name}, src); err != nil {
		if apierrors.IsNotFound(err) {
			return reconcile.Wait(artifactFailedReason, &missingArtifactError{fmt.Sprintf("source '%s/%s/%s' not found", ref.Kind, ns, ref.Name)}, retryAfter(obj))
		}
		return err
	}
	a := src.GetArtifact()
	if a == nil {
		return reconcile.Wait(artifactFailedReason, &missingArtifactError{fmt.Sprintf("source '%s/%s/%s' is not ready, artifact not found", ref.Kind, ns, ref.Name)}, retryAfter(obj))
	}
	s.source, s.artifact, s.revision = src, a, a.Revision
	if a.Metadata != nil {
		s.originRevision = a.Metadata[sourcev1.OCIRevisionAnnotation]
	}
	return nil
}

// fetchArtifact gets the extracted artifact from the shared cache (one download per digest).
func (r *KustomizationReconciler) fetchArtifact(ctx context.Context, s *scope) (reconcile.Result, error) {
	dir, release, err := r.artifacts.Get(ctx, s.artifact.URL, s.artifact.Digest)
	if err != nil {
		s.obj.Status.LastAttemptedRevision = s.revision
		return reconcile.Result{}, reconcile.FailAfter(artifactFailedReason, fmt.Errorf("failed to fetch artifact of revision '%s': %w", s.revision, err), retryAfter(s.obj))
	}
	s.dir, s.release = dir, release
	return reconcile.Result{}, nil
}

// indexBySource indexes Kustomizations by "<kind>/<namespace>/<name>" of their source.
func indexBySource(o client.Object) []string {
	k := o.(*kustomizev1.Kustomization)
	ns := k.Spec.SourceRef.Namespace
	if ns == "" {
		ns = k.Namespace
	}
	return []string{k.Spec.SourceRef.Kind + "/" + ns + "/" + k.Spec.SourceRef.Name}
}

// indexByDependency indexes Kustomizations by "<namespace>/<name>" of each dependency.
func indexByDependency(o client.Object) []string {
	k := o.(*kustomizev1.Kustomization)
	out := make([]string, 0, len(k.Spec.DependsOn))
	for _, d := range k.Spec.DependsOn {
		ns := d.Namespace
		if ns == "" {
			ns = k.Namespace
		}
		out = append(out, ns+"/"+d.Name)
	}
	return out
}

// bySource maps a source of kind to the Kustomizations using it.
func (r *KustomizationReconciler) bySource(kind string) func(context.Context, client.Object) []ctrlreconcile.Request {
	return func(ctx context.Context, o client.Object) []ctrlreconcile.Request {
		return r.listRequests(ctx, sourceIndexKey, kind+"/"+o.GetNamespace()+"/"+o.GetName())
	}
}

// dependants maps a Kustomization to those depending on it.
func (r *KustomizationReconciler) dependants(ctx context.Context, o client.Object) []ctrlreconcile.Request {
	return r.listRequests(ctx, dependsOnIndexKey, o.GetNamespace()+"/"+o.GetName())
}

func (r *KustomizationReconciler) listRequests(ctx context.Context, key, value string) []ctrlreconcile.Request {
	var list kustomizev1.KustomizationList
	if err := r.List(ctx, &list, client.MatchingFields{key: value}); err != nil {
		return nil
	}
	reqs := make([]ctrlreconcile.Request, 0, len(list.Items))
	for _, k := range list.Items {
		reqs = append(reqs, ctrlreconcile.Request{NamespacedName: types.NamespacedName{Namespace: k.Namespace, Name: k.Name}})
	}
	return reqs
}

// toUnstructured converts a typed object for the CEL-based checks.
func toUnstructured(obj runtime.Object, apiVersion, kind string) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	return u, nil
}
