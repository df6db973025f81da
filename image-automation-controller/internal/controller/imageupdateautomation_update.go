package controller

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	imagev1 "gotk.dev/image-automation-controller/api/v1"
	"gotk.dev/image-automation-controller/internal/setters"
	"gotk.dev/image-automation-controller/internal/update"
	"gotk.dev/pkg/events"
	"gotk.dev/pkg/git"
	"gotk.dev/pkg/reconcile"
)

// Ready messages, as upstream words them.
const (
	upToDateMessage  = "repository up-to-date"
	unchangedMessage = "no change since last reconciliation"
)

// skipUnchanged ends the run when nothing it depends on changed since the last successful
// one: the same spec, the same images, no reconcile request, and the checkout ref still at
// the revision seen then (one ref listing, no clone).
func (r *ImageUpdateAutomationReconciler) skipUnchanged(ctx context.Context, s *scope) (reconcile.Result, error) {
	obj := s.obj
	st := obj.Status
	token, requested := meta.ReconcileAnnotationValue(obj.GetAnnotations())
	if st.ObservedSourceRevision == "" || obj.Generation != st.ObservedGeneration ||
		(requested && token != st.LastHandledReconcileAt) ||
		!reconcile.IsTrue(obj, meta.ReadyCondition) || !samePolicies(s.observed, st.ObservedPolicies) {
		return reconcile.Result{}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.source.GetTimeout())
	defer cancel()
	resolved, err := r.gitClient(s).ResolveRef(ctx, s.source.Spec.URL, s.auth, s.checkout)
	if err != nil {
		return reconcile.Result{}, reconcile.Fail(imagev1.GitOperationFailedReason, asIdentity(s, fmt.Errorf("failed to resolve the checkout ref: %w", err)))
	}
	if resolved.String() != st.ObservedSourceRevision {
		return reconcile.Result{}, nil
	}
	now := metav1.NewTime(r.cfg.Now())
	obj.Status.LastAutomationRunTime = &now
	return reconcile.Done(unchangedMessage), nil
}

// update clones, applies the setters, and commits and pushes when something changed.
func (r *ImageUpdateAutomationReconciler) update(ctx context.Context, s *scope) (reconcile.Result, error) {
	obj := s.obj
	spec := obj.Spec.GitSpec
	opts := update.Options{
		URL:                    s.source.Spec.URL,
		Auth:                   s.auth,
		Checkout:               s.checkout,
		Path:                   obj.GetUpdateStrategy().Path,
		Policies:               s.policies,
		AuthorName:             spec.Commit.Author.Name,
		AuthorEmail:            spec.Commit.Author.Email,
		Signer:                 s.signer,
		MessageTemplate:        spec.Commit.MessageTemplate,
		MessageTemplateValues:  spec.Commit.MessageTemplateValues,
		Automation:             update.AutomationObject{Namespace: obj.Namespace, Name: obj.Name},
		DisableForcePushBranch: !r.cfg.ForcePushBranch,
		ShallowClone:           r.cfg.ShallowClone,
		WorkDir:                r.cfg.WorkDir,
		Now:                    r.cfg.Now,
	}
	if p := spec.Push; p != nil {
		opts.PushBranch, opts.PushRefspec, opts.PushOptions = p.Branch, p.Refspec, p.Options
	}
	// Each attempt is a clone, maybe a fetch, and a push, each bounded by the GitRepository's
	// spec.timeout as upstream bounds its Git operations.
	ctx, cancel := context.WithTimeout(ctx, s.source.GetTimeout()*3*update.DefaultMaxAttempts)
	defer cancel()
	res, err := update.Run(ctx, r.gitClient(s), opts)
	if err != nil {
		return reconcile.Result{}, updateError(s, err)
	}
	for _, sk := range res.Skipped {
		ctrl.LoggerFrom(ctx).Info("skipped a file the setters cannot read", "file", sk.Path, "reason", sk.Reason)
	}
	now := metav1.NewTime(r.cfg.Now())
	obj.Status.LastAutomationRunTime = &now
	obj.Status.ObservedPolicies = s.observed
	obj.Status.ObservedSourceRevision = res.ObservedRevision
	if res.Changed {
		pushed := res.PushBranch + "@sha1:" + res.Commit
		if res.PushBranch == s.checkout.Branch && s.checkout.Commit == "" && s.checkout.Name == "" && s.checkout.Tag == "" && s.checkout.SemVer == "" {
			// The branch now holds the pushed commit: the next run finds it unchanged.
			obj.Status.ObservedSourceRevision = pushed
		}
		obj.Status.LastPushCommit = res.Commit
		obj.Status.LastPushTime = &now
		r.events.Event(obj, events.SeverityInfo, meta.SucceededReason, res.EventMessage(), revisionMetadata(pushed))
	}
	return reconcile.Done(upToDateMessage + skippedNote(res.Skipped)), nil
}

// updateError maps the update package's errors: a spec, template or key the user must fix
// stalls; anything else is a Git failure to retry.
func updateError(s *scope, err error) error {
	var (
		cfgErr  *update.ConfigError
		tmplErr *update.TemplateError
		signErr *update.SigningError
	)
	switch {
	case errors.As(err, &cfgErr):
		return reconcile.Stall(imagev1.InvalidSourceConfigReason, err)
	case errors.As(err, &tmplErr):
		if strings.Contains(err.Error(), ".Updated") {
			return reconcile.Stall(imagev1.RemovedTemplateFieldReason, err)
		}
		return reconcile.Stall(imagev1.UpdateFailedReason, err)
	case errors.As(err, &signErr):
		return reconcile.Stall(imagev1.SourceManagerFailedReason, err)
	case errors.Is(err, context.DeadlineExceeded):
		return reconcile.Fail(imagev1.GitOperationFailedReason, asIdentity(s, fmt.Errorf("timed out: %w", err)))
	}
	return reconcile.Fail(imagev1.GitOperationFailedReason, asIdentity(s, err))
}

// asIdentity adds who the Git server was asked as, when the GitRepository's spec.provider
// named an identity: a refusal then says whose permissions to fix.
func asIdentity(s *scope, err error) error {
	if s.identity == "" {
		return err
	}
	return fmt.Errorf("%w (as %s)", err, s.identity)
}

// skippedNote names the files the setters could not read, for the Ready message.
func skippedNote(skipped []setters.SkippedFile) string {
	if len(skipped) == 0 {
		return ""
	}
	var names []string
	for i, sk := range skipped {
		if i == 3 {
			names = append(names, fmt.Sprintf("and %d more", len(skipped)-3))
			break
		}
		names = append(names, sk.String())
	}
	return "; skipped files that are not valid YAML: " + strings.Join(names, ", ")
}

// gitClient is the shared client, or one dialing through the GitRepository's proxy.
func (r *ImageUpdateAutomationReconciler) gitClient(s *scope) *git.Client {
	if s.proxy == nil {
		return r.cfg.Git
	}
	return git.NewClient(git.ClientOptions{Proxy: s.proxy})
}
