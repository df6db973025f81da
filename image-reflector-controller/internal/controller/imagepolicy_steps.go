package controller

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/fluxcd/pkg/apis/meta"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	imagev1 "gotk.dev/image-reflector-controller/api/v1"
	"gotk.dev/image-reflector-controller/internal/policy"
	"gotk.dev/image-reflector-controller/internal/registry"
	"gotk.dev/image-reflector-controller/internal/tagstore"
	"gotk.dev/pkg/events"
	"gotk.dev/pkg/reconcile"
)

// InvalidPolicyReason means spec.policy or spec.filterTags cannot be used as written.
const InvalidPolicyReason = "InvalidPolicy"

// compile checks the spec: the policy and filter compile, and digest reflection has what it
// needs. Both can only be fixed by the user.
func (r *ImagePolicyReconciler) compile(_ context.Context, s *policyScope) (reconcile.Result, error) {
	obj := s.obj
	if obj.GetDigestReflectionPolicy() == imagev1.ReflectAlways && obj.Spec.Interval == nil {
		return reconcile.Result{}, reconcile.Stall(imagev1.IntervalNotConfiguredReason,
			errors.New("spec.interval must be set when spec.digestReflectionPolicy is set to 'Always'"))
	}
	p, err := policy.New(obj.Spec)
	if err != nil {
		return reconcile.Result{}, reconcile.Stall(InvalidPolicyReason, err)
	}
	s.policy = p
	return reconcile.Result{}, nil
}

// getRepository reads the referenced ImageRepository, checks the policy may use it, and
// waits until it has a scan result.
func (r *ImagePolicyReconciler) getRepository(ctx context.Context, s *policyScope) (reconcile.Result, error) {
	obj := s.obj
	key := types.NamespacedName{Namespace: repositoryNamespace(obj), Name: obj.Spec.ImageRepositoryRef.Name}
	var repo imagev1.ImageRepository
	if err := r.Get(ctx, key, &repo); err != nil {
		if apierrors.IsNotFound(err) {
			return reconcile.Result{}, reconcile.Wait(imagev1.DependencyNotReadyReason,
				fmt.Errorf("referenced ImageRepository '%s' not found", key), 0)
		}
		return reconcile.Result{}, reconcile.Fail(metav1.StatusFailure, fmt.Errorf("failed to get the referenced ImageRepository '%s': %w", key, err))
	}
	if err := checkAccess(ctx, r.Client, r.cfg.NoCrossNamespaceRefs, obj.Namespace, &repo); err != nil {
		return reconcile.Result{}, err
	}
	if _, err := registry.ParseImage(repo.Spec.Image, repo.Spec.Insecure); err != nil {
		return reconcile.Result{}, reconcile.Stall(imagev1.ImageURLInvalidReason, fmt.Errorf("referenced ImageRepository '%s': %w", key, err))
	}
	if repo.Status.LastScanResult == nil {
		return reconcile.Result{}, reconcile.Wait(imagev1.DependencyNotReadyReason,
			fmt.Errorf("referenced ImageRepository '%s' has not been scanned yet", key), 0)
	}
	s.repo = &repo
	return reconcile.Result{}, nil
}

// selectTag runs the policy over the stored tags, streaming them from the database.
func (r *ImagePolicyReconciler) selectTag(_ context.Context, s *policyScope) (reconcile.Result, error) {
	key := storeKey(s.repo.Namespace, s.repo.Name)
	err := r.cfg.Store.View(key, func(tags iter.Seq[string]) error {
		var err error
		s.tag, err = s.policy.Latest(tags)
		return err
	})
	var noMatch *policy.NoMatchError
	switch {
	case err == nil:
		return reconcile.Result{}, nil
	case errors.Is(err, tagstore.ErrNotFound), errors.Is(err, policy.ErrNoTags):
		// The database lost the tags (a new pod); the repository rescans and its new scan
		// wakes this policy.
		return reconcile.Result{}, reconcile.Wait(imagev1.DependencyNotReadyReason,
			fmt.Errorf("no tags in database for ImageRepository '%s'", key), 0)
	case errors.As(err, &noMatch):
		return reconcile.Result{}, reconcile.Fail(metav1.StatusFailure, fmt.Errorf("ImageRepository '%s': %w", key, err))
	}
	return reconcile.Result{}, reconcile.Fail(metav1.StatusFailure, fmt.Errorf("failed to evaluate the tags of ImageRepository '%s': %w", key, err))
}

// resolve records the chosen image in status.latestRef, with its digest as
// spec.digestReflectionPolicy asks, and the previous one in status.observedPreviousRef when it
// changed. A change is an event.
func (r *ImagePolicyReconciler) resolve(ctx context.Context, s *policyScope) (reconcile.Result, error) {
	obj, repo := s.obj, s.repo
	lookup := func(ctx context.Context, tag string) (string, error) {
		img, err := registry.ParseImage(repo.Spec.Image, repo.Spec.Insecure)
		if err != nil {
			return "", reconcile.Stall(imagev1.ImageURLInvalidReason, err)
		}
		if err := checkProvider(repo, img); err != nil {
			return "", err
		}
		c, err := r.cfg.newRegistryClient(ctx, r.Client, repo)
		if err != nil {
			return "", err
		}
		ctx, cancel := context.WithTimeout(ctx, repo.GetTimeout())
		defer cancel()
		d, err := c.Digest(ctx, img, tag)
		if err != nil {
			reason := metav1.StatusFailure
			if registry.IsAuthError(err) {
				reason = imagev1.AuthenticationFailedReason
			}
			return "", reconcile.Fail(reason, err)
		}
		return d, nil
	}
	res, err := policy.Resolve(ctx, obj.GetDigestReflectionPolicy(), repo.Spec.Image, s.tag, obj.Status.LatestRef, lookup)
	if err != nil {
		var spec *policy.SpecError
		if errors.As(err, &spec) {
			return reconcile.Result{}, reconcile.Stall(InvalidPolicyReason, err)
		}
		return reconcile.Result{}, err
	}
	if res.Changed {
		latest := res.Latest
		obj.Status.ObservedPreviousRef = res.Previous
		obj.Status.LatestRef = &latest
	}
	msg := readyMessage(obj.Status)
	if res.Changed || !s.wasReady {
		r.events.Event(obj, events.SeverityInfo, meta.SucceededReason, msg, nil)
	}
	return reconcile.Done(msg), nil
}

// readyMessage describes the chosen image, and the one before it when there was one.
func readyMessage(st imagev1.ImagePolicyStatus) string {
	l := st.LatestRef
	msg := fmt.Sprintf("Latest image tag for '%s' resolved to %s", l.Name, l.Tag)
	if l.Digest != "" {
		msg += " with digest " + l.Digest
	}
	if p := st.ObservedPreviousRef; p != nil && *p != *l {
		msg += fmt.Sprintf(" (previously %s)", p.String())
	}
	return msg
}
