package controller

import (
	"context"
	"os"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/pkg/artifact"
	"gotk.dev/pkg/auth/cloud"
	"gotk.dev/pkg/manager"
	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"

	"gotk.dev/source-controller/internal/bucket"
)

// BucketConfig is what a BucketReconciler is built from.
type BucketConfig struct {
	Storage *artifact.Storage
	// MaxArtifactSize caps the bytes of the selected objects together (0: the bucket
	// package's default cap).
	MaxArtifactSize int64
	// TmpDir is where objects are downloaded (defaults to os.TempDir()).
	TmpDir string
	// Client overrides the manager's client (tests count its requests).
	Client client.Client
	// CloudLogins gives the cloud identities of service accounts (spec.serviceAccountName,
	// --default-service-account) when its ObjectLevel (the ObjectLevelWorkloadIdentity
	// gate) is on; nil, or the gate off, stalls spec.serviceAccountName with upstream's
	// FeatureGateDisabled.
	CloudLogins *cloud.Logins
}

// BucketReconciler produces artifacts from object storage buckets (S3-compatible, AWS, GCS,
// Azure Blob).
type BucketReconciler struct {
	client.Client
	BucketConfig
	events reconcile.EventRecorder
	engine *reconcile.Controller[*sourcev1.Bucket, *bucketScope]
}

// NewBucketReconciler builds the reconciler and its reconcile engine for rt's manager.
func NewBucketReconciler(rt *manager.Runtime, c BucketConfig) (*BucketReconciler, error) {
	r := &BucketReconciler{Client: c.Client, BucketConfig: c, events: rt.Events}
	if r.Client == nil {
		r.Client = rt.Manager.GetClient()
	}
	var err error
	r.engine, err = reconcile.New(reconcile.Options[*sourcev1.Bucket, *bucketScope]{
		Shared:    rt.Shared(),
		Client:    r.Client,
		Kind:      sourcev1.BucketKind,
		NewObject: func() *sourcev1.Bucket { return &sourcev1.Bucket{} },
		NewScope:  func(obj *sourcev1.Bucket) *bucketScope { return &bucketScope{obj: obj} },
		Steps: []reconcile.Step[*bucketScope]{
			{Name: "storage", Run: r.reconcileStorage},
			{Name: "source", Run: r.reconcileSource, Owns: []string{sourcev1.FetchFailedCondition}},
			{Name: "artifact", Run: r.reconcileArtifact, Owns: []string{sourcev1.ArtifactOutdatedCondition,
				sourcev1.StorageOperationFailedCondition}},
		},
		Timeout:       func(obj *sourcev1.Bucket) time.Duration { return obj.GetTimeout() },
		Finalize:      r.finalize,
		SuccessReason: meta.SucceededReason,
	})
	return r, err
}

// bucketScope carries one reconcile's state from step to step.
type bucketScope struct {
	obj *sourcev1.Bucket
	// index is the selected objects; its digest is the revision.
	index *bucket.Index
	// upToDate is set when the stored artifact was built from the same index.
	upToDate bool
	// workDir holds the downloaded objects.
	workDir string
}

// Reconcile runs one reconcile of a Bucket.
func (r *BucketReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return r.engine.Reconcile(ctx, req)
}

// SetupWithManager registers the reconciler.
func (r *BucketReconciler) SetupWithManager(rt *manager.Runtime) error {
	return ctrl.NewControllerManagedBy(rt.Manager).
		For(&sourcev1.Bucket{}, builder.WithPredicates(reconcile.SpecOrRequestChanged())).
		WithOptions(rt.ControllerOptions()).
		Complete(r)
}

// reconcileStorage checks the stored artifact (see reconcileStorage).
func (r *BucketReconciler) reconcileStorage(ctx context.Context, s *bucketScope) (reconcile.Result, error) {
	reconcileStorage(ctx, r.Storage, s.obj, sourcev1.BucketKind)
	setBucketURL(s.obj)
	return reconcile.Result{}, nil
}

// finalize removes the object's artifacts from storage.
func (r *BucketReconciler) finalize(ctx context.Context, obj *sourcev1.Bucket) error {
	return r.Storage.RemoveAll(artifact.ObjectRef{Kind: sourcev1.BucketKind, Namespace: obj.Namespace, Name: obj.Name})
}

// Close removes the working directory.
func (s *bucketScope) Close() {
	if s.workDir != "" {
		_ = os.RemoveAll(s.workDir)
	}
}

// setBucketURL sets status.url to the stored artifact's address.
func setBucketURL(obj *sourcev1.Bucket) {
	if a := obj.Status.Artifact; a != nil {
		obj.Status.URL = a.URL
	} else {
		obj.Status.URL = ""
	}
}
