package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"gotk.dev/e2e/framework"
	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	"gotk.dev/pkg/cluster"
	"gotk.dev/pkg/inventory"
	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// The writes below are the API requests an upstream-compatible Flux must make per app beyond
// applying its objects, shaped as our controllers send them (pkg/reconcile's engine, the
// source- and kustomize-controller's steps and client-go's event recorder); the statuses and
// events are what a run of both controllers left on an app of this workload.

// addFinalizer is the engine's first write on an object: finalizers.fluxcd.io added by a JSON
// merge patch that carries the resourceVersion (optimistic lock, so a finalizer added by
// someone else meanwhile is not dropped).
func addFinalizer(ctx context.Context, c client.Client, obj client.Object) error {
	base := obj.DeepCopyObject().(client.Object)
	controllerutil.AddFinalizer(obj, reconcile.DefaultFinalizer)
	if err := c.Patch(ctx, obj, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("add finalizer to %s %s/%s: %w", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetNamespace(), obj.GetName(), err)
	}
	return nil
}

// patchStatus is the engine's status write: the status changes since base as a JSON merge
// patch on the status subresource.
func patchStatus(ctx context.Context, c client.Client, base, obj client.Object) error {
	if err := c.Status().Patch(ctx, obj, client.MergeFrom(base)); err != nil {
		return fmt.Errorf("patch status of %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
	}
	return nil
}

// setCondition sets a condition as the engine does (lastTransitionTime kept while the status
// stays the same).
func setCondition(conds *[]metav1.Condition, gen int64, typ, reason, message string) {
	apimeta.SetStatusCondition(conds, metav1.Condition{Type: typ, Status: metav1.ConditionTrue, ObservedGeneration: gen,
		Reason: reason, Message: message})
}

// fluxRevision is the OCIRepository's artifact revision: tag@manifest digest.
func fluxRevision(manifestDigest string) string { return "latest@" + manifestDigest }

// sha256Hex is a stand-in digest of the right size for content the floor does not build.
func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// setSourceReady is source-controller's status after storing the artifact: the artifact,
// status.url, ArtifactInStorage and Ready.
func setSourceReady(obj *sourcev1.OCIRepository, revision string, manifest []byte) {
	blob := sha256Hex(string(manifest) + obj.Name)
	path := fmt.Sprintf("ocirepository/%s/%s/%s.tar.gz", obj.Namespace, obj.Name, blob)
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	a := &meta.Artifact{
		Path: path, URL: "http://127.0.0.1:40000/" + path, Revision: revision, Digest: "sha256:" + blob,
		LastUpdateTime: now, Size: new(int64(len(manifest))),
		Metadata: map[string]string{"org.opencontainers.image.created": now.UTC().Format(time.RFC3339),
			"org.opencontainers.image.source": "gotk-e2e-bench"},
	}
	obj.Status.Artifact, obj.Status.URL, obj.Status.ObservedGeneration = a, a.URL, obj.Generation
	msg := fmt.Sprintf("stored artifact for revision '%s'", revision)
	setCondition(&obj.Status.Conditions, obj.Generation, sourcev1.ArtifactInStorageCondition, meta.SucceededReason, msg)
	setCondition(&obj.Status.Conditions, obj.Generation, meta.ReadyCondition, meta.SucceededReason, msg)
}

// setKustomizationReady is kustomize-controller's status after the health check passed: the
// inventory, the revisions, Healthy and Ready, and a new history entry (the applied objects
// changed).
func setKustomizationReady(obj *kustomizev1.Kustomization, revision string, objs []*unstructured.Unstructured, took time.Duration) {
	inv := &kustomizev1.ResourceInventory{}
	var ids []string
	for _, u := range objs {
		id := inventory.FromObject(u).ID()
		inv.Entries = append(inv.Entries, kustomizev1.ResourceRef{ID: id, Version: u.GroupVersionKind().Version})
		ids = append(ids, id+"@"+u.GetResourceVersion())
	}
	gen := obj.Generation
	obj.Status.ObservedGeneration, obj.Status.Inventory = gen, inv
	obj.Status.LastAppliedRevision, obj.Status.LastAttemptedRevision = revision, revision
	setCondition(&obj.Status.Conditions, gen, kustomizev1.HealthyCondition, meta.SucceededReason,
		fmt.Sprintf("Health check passed in %s", took.Round(time.Millisecond)))
	setCondition(&obj.Status.Conditions, gen, meta.ReadyCondition, meta.ReconciliationSucceededReason, "Applied revision: "+revision)
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	entry := meta.Snapshot{Digest: "sha256:" + sha256Hex(strings.Join(ids, ",")), FirstReconciled: now, LastReconciled: now,
		LastReconciledDuration: metav1.Duration{Duration: took}, LastReconciledStatus: meta.ReconciliationSucceededReason,
		TotalReconciliations: 1, Metadata: map[string]string{"revision": revision}}
	obj.Status.History = append(meta.History{entry}, obj.Status.History...)
}

// changeSetMessage is kustomize-controller's Progressing event message: one line per changed
// object ("created" on install; the upgrade changes only the Deployment).
func changeSetMessage(objs []*unstructured.Unstructured, install bool) string {
	var lines []string
	for _, u := range objs {
		switch {
		case install:
			lines = append(lines, fmt.Sprintf("%s/%s/%s created", u.GetKind(), u.GetNamespace(), u.GetName()))
		case u.GetKind() == "Deployment":
			lines = append(lines, fmt.Sprintf("%s/%s/%s configured", u.GetKind(), u.GetNamespace(), u.GetName()))
		}
	}
	return strings.Join(lines, "\n")
}

// postEvent is one Kubernetes Event as client-go's recorder writes it for our controllers
// (POST /api/v1/namespaces/<ns>/events, the annotations being the event metadata).
func postEvent(ctx context.Context, c client.Client, obj client.Object, gvk schema.GroupVersionKind, component, reason, message string, annotations map[string]string) error {
	t := metav1.Now()
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s.%x", obj.GetName(), t.UnixNano()), Namespace: obj.GetNamespace(), Annotations: annotations},
		InvolvedObject: corev1.ObjectReference{Kind: gvk.Kind, APIVersion: gvk.GroupVersion().String(), Namespace: obj.GetNamespace(),
			Name: obj.GetName(), UID: obj.GetUID(), ResourceVersion: obj.GetResourceVersion()},
		Reason: reason, Message: message, Source: corev1.EventSource{Component: component},
		FirstTimestamp: t, LastTimestamp: t, Count: 1, Type: corev1.EventTypeNormal, ReportingController: component,
	}
	if err := c.Create(ctx, ev); err != nil {
		return fmt.Errorf("post %s event for %s/%s: %w", reason, obj.GetNamespace(), obj.GetName(), err)
	}
	return nil
}

// Event metadata and reasons as the controllers send them.
var (
	ociGVK = sourcev1.GroupVersion.WithKind(sourcev1.OCIRepositoryKind)
	ksGVK  = kustomizev1.GroupVersion.WithKind(kustomizev1.KustomizationKind)
)

func newArtifactEvent(ctx context.Context, c client.Client, obj *sourcev1.OCIRepository) error {
	a := obj.Status.Artifact
	msg := fmt.Sprintf("stored artifact with revision '%s' from '%s'", a.Revision, obj.Spec.URL)
	return postEvent(ctx, c, obj, ociGVK, "source-controller", sourcev1.NewArtifactReason, msg, map[string]string{
		sourcev1.GroupVersion.Group + "/revision": a.Revision, sourcev1.GroupVersion.Group + "/digest": a.Digest})
}

func changeSetEvent(ctx context.Context, c client.Client, obj *kustomizev1.Kustomization, revision, message string) error {
	return postEvent(ctx, c, obj, ksGVK, "kustomize-controller", meta.ProgressingReason, message, map[string]string{
		kustomizev1.GroupVersion.Group + "/revision": revision})
}

func finishedEvent(ctx context.Context, c client.Client, obj *kustomizev1.Kustomization, took time.Duration) error {
	g := kustomizev1.GroupVersion.Group
	msg := fmt.Sprintf("Reconciliation finished in %s, next run in %s", took.Round(time.Millisecond), obj.Spec.Interval.Duration)
	return postEvent(ctx, c, obj, ksGVK, "kustomize-controller", meta.ReconciliationSucceededReason, msg, map[string]string{
		g + "/commit_status": "update", g + "/revision": obj.Status.LastAppliedRevision})
}

// impersonating is a client acting as the Kustomizations' ServiceAccount, as
// kustomize-controller applies with spec.serviceAccountName set (the API server authorizes
// the impersonation and then every apply as that user).
func impersonating(env *framework.Env, namespace string) (client.Client, error) {
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: cluster.ServiceAccountUser(namespace, serviceAccount)}
	return client.New(cfg, client.Options{Scheme: env.Scheme})
}

// fluxApply server-side applies app i's objects as kustomize-controller does: field manager
// kustomize-controller, forced, with the kustomize.toolkit.fluxcd.io/name and /namespace
// labels it adds to every object.
func fluxApply(ctx context.Context, c client.Client, objs []*unstructured.Unstructured, ks *kustomizev1.Kustomization) error {
	g := kustomizev1.GroupVersion.Group
	for _, u := range objs {
		labels := u.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		labels[g+"/name"], labels[g+"/namespace"] = ks.Name, ks.Namespace
		u.SetLabels(labels)
		if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("kustomize-controller"), client.ForceOwnership); err != nil {
			return fmt.Errorf("apply %s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
		}
	}
	return nil
}
