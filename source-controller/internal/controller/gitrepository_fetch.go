package controller

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	ctrl "sigs.k8s.io/controller-runtime"

	"gotk.dev/pkg/git"
	"gotk.dev/pkg/reconcile"
	"gotk.dev/pkg/redact"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// reconcileSource resolves spec.ref on the remote. When the stored artifact already holds that
// revision and no observed input changed, it stops there: one remote listing, no clone.
// Otherwise it clones the revision into the scope's work dir and verifies its signature.
func (r *GitRepositoryReconciler) reconcileSource(ctx context.Context, s *gitScope) (reconcile.Result, error) {
	return reconcile.Result{}, r.fetch(ctx, s)
}

func (r *GitRepositoryReconciler) fetch(ctx context.Context, s *gitScope) error {
	obj := s.obj
	u, err := url.Parse(obj.Spec.URL)
	if err != nil || u.Host == "" {
		return failFetch(obj, reconcile.Stall(sourcev1.URLInvalidReason,
			fmt.Errorf("invalid Git URL %q: %v", redact.URL(obj.Spec.URL), errOrMissingHost(err))))
	}
	if err := r.loadCredentials(ctx, s, u); err != nil {
		return err
	}
	ref := checkoutRef(obj.Spec.Reference)

	if a := obj.Status.Artifact; a != nil && !s.inputsChanged() && !r.AlwaysClone {
		resolved, err := r.gitClient(s).ResolveRef(ctx, obj.Spec.URL, s.auth, ref)
		if err != nil {
			return failFetch(obj, reconcile.Fail(sourcev1.GitOperationFailedReason,
				s.asIdentity(fmt.Errorf("failed to resolve %s of %s: %w", describeRef(ref), redact.URL(obj.Spec.URL), err))))
		}
		if sameRevision(resolved, a.Revision) && s.verificationCurrent() {
			s.upToDate, s.revision = true, a.Revision
			return nil
		}
		reconcile.MarkTrue(obj, sourcev1.ArtifactOutdatedCondition, sourcev1.NewRevisionReason,
			fmt.Sprintf("new upstream revision '%s'", resolved.String()))
	}

	dir, err := os.MkdirTemp(r.TmpDir, fmt.Sprintf("gitrepository-%s-%s-", obj.Namespace, obj.Name))
	if err != nil {
		return reconcile.Fail(sourcev1.DirCreationFailedReason, fmt.Errorf("failed to create temporary working directory: %w", err))
	}
	s.workDir = dir
	commit, err := r.gitClient(s).Clone(ctx, obj.Spec.URL, dir, s.auth, ref, git.CloneOptions{
		ShallowIfPossible: true,
		RecurseSubmodules: obj.Spec.RecurseSubmodules,
		SparseCheckout:    obj.Spec.SparseCheckout,
		// Refused before the clone indexes it: a hostile repository must not cost its
		// largest file in memory.
		MaxObjectSize: r.MaxFileSize,
	})
	var tooLarge *git.ObjectTooLargeError
	if errors.As(err, &tooLarge) {
		err = fmt.Errorf("%s: %w (--git-max-file-size)", describeRef(ref), tooLarge)
		reconcile.MarkTrue(obj, sourcev1.BuildFailedCondition, "ArtifactTooLarge", err.Error())
		return failFetch(obj, reconcile.Fail("ArtifactTooLarge", err))
	}
	if err != nil {
		return failFetch(obj, reconcile.Fail(sourcev1.GitOperationFailedReason,
			s.asIdentity(fmt.Errorf("failed to checkout and determine revision: %w", err))))
	}
	s.commit, s.revision = commit, commit.String()
	reconcile.DeleteCondition(obj, sourcev1.FetchFailedCondition)
	ctrl.LoggerFrom(ctx).V(1).Info("cloned repository", "revision", s.revision)
	return r.verifySignature(ctx, s)
}

// loadCredentials reads spec.proxySecretRef, then the credentials spec.provider names: the
// spec.secretRef Secret's (generic), or a token the provider gets (gitrepository_provider.go),
// through the same proxy.
func (r *GitRepositoryReconciler) loadCredentials(ctx context.Context, s *gitScope, u *url.URL) error {
	obj := s.obj
	if ref := obj.Spec.ProxySecretRef; ref != nil {
		data, err := secretData(ctx, r.Client, obj.Namespace, ref.Name)
		if err != nil {
			return failFetch(obj, reconcile.Fail(sourcev1.AuthenticationFailedReason,
				fmt.Errorf("failed to get proxy secret '%s/%s': %w", obj.Namespace, ref.Name, err)))
		}
		proxy, err := git.NewProxyOptions(data)
		if err != nil {
			return failFetch(obj, reconcile.Stall(sourcev1.AuthenticationFailedReason,
				fmt.Errorf("invalid proxy secret '%s/%s': %w", obj.Namespace, ref.Name, err)))
		}
		s.proxy = proxy
	}
	if obj.GetProvider() != sourcev1.GitProviderGeneric {
		return r.providerCredentials(ctx, s, u)
	}
	if ref := obj.Spec.SecretRef; ref != nil {
		data, err := secretData(ctx, r.Client, obj.Namespace, ref.Name)
		if err != nil {
			return failFetch(obj, reconcile.Fail(sourcev1.AuthenticationFailedReason,
				fmt.Errorf("failed to get secret '%s/%s': %w", obj.Namespace, ref.Name, err)))
		}
		auth, err := git.NewAuthOptions(u, data)
		if err != nil {
			return failFetch(obj, reconcile.Stall(sourcev1.AuthenticationFailedReason,
				fmt.Errorf("invalid credentials in secret '%s/%s': %w", obj.Namespace, ref.Name, err)))
		}
		s.auth = auth
	}
	return nil
}

// asIdentity adds who the Git server was asked as, when spec.provider named an identity: a
// refusal then says whose permissions to fix.
func (s *gitScope) asIdentity(err error) error {
	if s.identity == "" {
		return err
	}
	return fmt.Errorf("%w (as %s)", err, s.identity)
}

// inputsChanged reports whether anything besides the remote revision that shapes the artifact
// changed since it was built.
func (s *gitScope) inputsChanged() bool {
	st, spec := &s.obj.Status, &s.obj.Spec
	return !equalStringPtr(st.ObservedIgnore, spec.Ignore) ||
		st.ObservedRecurseSubmodules != spec.RecurseSubmodules ||
		!equalStrings(st.ObservedSparseCheckout, spec.SparseCheckout) ||
		!equalIncludes(st.ObservedInclude, spec.Include) ||
		s.includesChanged()
}

// verificationCurrent reports whether the signature state recorded for revision still holds
// for the current verification settings.
func (s *gitScope) verificationCurrent() bool {
	v := s.obj.Spec.Verification
	if v == nil {
		return s.obj.Status.SourceVerificationMode == nil
	}
	mode := v.GetMode()
	return s.obj.Status.SourceVerificationMode != nil && *s.obj.Status.SourceVerificationMode == mode &&
		reconcile.IsTrue(s.obj, sourcev1.SourceVerifiedCondition)
}

// sameRevision reports whether the remote's resolved revision is the stored one. A commit
// pinned by a short or upper-case hash resolves, without any listing, to that hash as written,
// while the stored revision carries the full hash the clone found.
func sameRevision(resolved *git.Resolved, stored string) bool {
	if resolved.String() == stored {
		return true
	}
	name, hash, ok := git.SplitRevision(stored)
	short := strings.ToLower(resolved.Hash)
	return ok && name == resolved.Name && len(short) >= 4 && len(short) < len(hash) && strings.HasPrefix(hash, short)
}

func checkoutRef(ref *sourcev1.GitRepositoryRef) git.CheckoutRef {
	if ref == nil {
		return git.CheckoutRef{Branch: sourcev1.GitDefaultBranch}
	}
	out := git.CheckoutRef{Branch: ref.Branch, Tag: ref.Tag, SemVer: ref.SemVer, Name: ref.Name, Commit: ref.Commit}
	if out == (git.CheckoutRef{}) {
		out.Branch = sourcev1.GitDefaultBranch
	}
	return out
}

func describeRef(ref git.CheckoutRef) string {
	switch {
	case ref.Commit != "" && ref.Branch != "":
		return fmt.Sprintf("commit '%s' on branch '%s'", ref.Commit, ref.Branch)
	case ref.Commit != "":
		return fmt.Sprintf("commit '%s'", ref.Commit)
	case ref.Name != "":
		return fmt.Sprintf("ref '%s'", ref.Name)
	case ref.SemVer != "":
		return fmt.Sprintf("semver range '%s'", ref.SemVer)
	case ref.Tag != "":
		return fmt.Sprintf("tag '%s'", ref.Tag)
	default:
		return fmt.Sprintf("branch '%s'", ref.Branch)
	}
}

// failFetch marks FetchFailed=True with the error's reason and returns the error unchanged.
func failFetch(obj *sourcev1.GitRepository, err error) error {
	reconcile.MarkTrue(obj, sourcev1.FetchFailedCondition, reasonOf(err), err.Error())
	return err
}

func errOrMissingHost(err error) error {
	if err != nil {
		return err
	}
	return errors.New("missing host")
}

// gitClient is the shared client, or one dialing through spec.proxySecretRef's proxy.
func (r *GitRepositoryReconciler) gitClient(s *gitScope) *git.Client {
	if s.proxy == nil {
		return r.Git
	}
	return git.NewClient(git.ClientOptions{Proxy: s.proxy})
}
