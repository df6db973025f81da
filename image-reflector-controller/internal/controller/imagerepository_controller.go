package controller

import (
	"context"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "gotk.dev/image-reflector-controller/api/v1"
	"gotk.dev/image-reflector-controller/internal/registry"
	"gotk.dev/pkg/manager"
	"gotk.dev/pkg/reconcile"
)

// ImageRepositoryReconciler scans image repositories for tags on their interval.
type ImageRepositoryReconciler struct {
	client.Client
	cfg    Config
	events reconcile.EventRecorder
	jitter uint8
	engine *reconcile.Controller[*imagev1.ImageRepository, *repoScope]
}

// repoScope carries one reconcile's state from step to step.
type repoScope struct {
	obj *imagev1.ImageRepository
	// image is the parsed spec.image.
	image registry.Image
	// client reaches the registry with the repository's credentials.
	client *registry.Client
	// wasReady and the revision before the reconcile decide whether a scan is news.
	wasReady    bool
	oldRevision string
	started     time.Time
}

// NewImageRepositoryReconciler builds the reconciler and its reconcile engine for rt's manager.
func NewImageRepositoryReconciler(rt *manager.Runtime, c Config) (*ImageRepositoryReconciler, error) {
	r := &ImageRepositoryReconciler{Client: c.Client, cfg: c, events: rt.Events, jitter: rt.Shared().JitterPercent}
	if r.Client == nil {
		r.Client = rt.Manager.GetClient()
	}
	var err error
	r.engine, err = reconcile.New(reconcile.Options[*imagev1.ImageRepository, *repoScope]{
		Shared:    rt.Shared(),
		Client:    r.Client,
		Kind:      imagev1.ImageRepositoryKind,
		NewObject: func() *imagev1.ImageRepository { return &imagev1.ImageRepository{} },
		NewScope:  newRepoScope,
		Steps: []reconcile.Step[*repoScope]{
			{Name: "image", Run: r.parseImage},
			// A repository scanned less than an interval ago, with an unchanged spec, ends here.
			{Name: "due", Run: r.scanDue},
			{Name: "credentials", Run: r.credentials},
			{Name: "scan", Run: r.scan},
		},
		Timeout:       func(obj *imagev1.ImageRepository) time.Duration { return obj.GetTimeout() },
		Finalize:      r.finalize,
		Finalizer:     imagev1.ImageFinalizer,
		SuccessReason: meta.SucceededReason,
		EventMetadata: func(obj *imagev1.ImageRepository) map[string]string { return revisionMetadata(obj) },
	})
	return r, err
}

func newRepoScope(obj *imagev1.ImageRepository) *repoScope {
	s := &repoScope{obj: obj, wasReady: reconcile.IsTrue(obj, meta.ReadyCondition), started: time.Now()}
	if res := obj.Status.LastScanResult; res != nil {
		s.oldRevision = res.Revision
	}
	return s
}

// Reconcile runs one reconcile of an ImageRepository.
func (r *ImageRepositoryReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return r.engine.Reconcile(ctx, req)
}

// SetupWithManager registers the reconciler: ImageRepositories are reconciled on spec changes,
// reconcile requests and their interval.
func (r *ImageRepositoryReconciler) SetupWithManager(rt *manager.Runtime) error {
	return ctrl.NewControllerManagedBy(rt.Manager).
		For(&imagev1.ImageRepository{}, builder.WithPredicates(reconcile.SpecOrRequestChanged())).
		WithOptions(rt.ControllerOptions()).
		Complete(r)
}

// parseImage validates spec.image and spec.provider: both can only be fixed by the user.
func (r *ImageRepositoryReconciler) parseImage(_ context.Context, s *repoScope) (reconcile.Result, error) {
	img, err := registry.ParseImage(s.obj.Spec.Image, s.obj.Spec.Insecure)
	if err != nil {
		return reconcile.Result{}, reconcile.Stall(imagev1.ImageURLInvalidReason, err)
	}
	if _, err := registry.CompileExclusionList(s.obj.GetExclusionList()); err != nil {
		return reconcile.Result{}, reconcile.Stall(imagev1.ReadOperationFailedReason, err)
	}
	s.image = img
	return reconcile.Result{}, checkProvider(s.obj, img)
}

// credentials builds the registry client from the repository's Secrets.
func (r *ImageRepositoryReconciler) credentials(ctx context.Context, s *repoScope) (reconcile.Result, error) {
	c, err := r.cfg.newRegistryClient(ctx, r.Client, s.obj)
	s.client = c
	return reconcile.Result{}, err
}

// finalize drops the repository's tags from the database.
func (r *ImageRepositoryReconciler) finalize(_ context.Context, obj *imagev1.ImageRepository) error {
	return r.cfg.Store.Delete(storeKey(obj.Namespace, obj.Name))
}

// revisionMetadata names the scan revision on events, for notification-controller.
func revisionMetadata(obj *imagev1.ImageRepository) map[string]string {
	if res := obj.Status.LastScanResult; res != nil && res.Revision != "" {
		return map[string]string{imagev1.GroupVersion.Group + "/revision": res.Revision}
	}
	return nil
}
