// Package bootstrap is `flux bootstrap` without the command line: it commits the Flux
// components and sync manifests to a Git repository, installs the components when the
// cluster does not apply them from Git yet, creates the cluster's Git credentials, applies
// the sync objects and waits until the cluster has reconciled the pushed revision. The
// Git host providers (GitHub, GitLab, Gitea, Bitbucket Server) create the repository and
// its deploy key first (ConfigureProvider). The flux CLI and other front ends (a Terraform
// provider) fill a Bootstrapper and call Run.
package bootstrap

import (
	"context"
	"fmt"
	"os"
	"path"
	"strings"
	"time"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/cli/pkg/kube"
	"gotk.dev/cli/pkg/log"
	"gotk.dev/cli/pkg/manifests"
	"gotk.dev/pkg/git"
)

// Options are what a bootstrap commits where and how the cluster follows the repository.
type Options struct {
	// Install selects and configures the components (gotk-components.yaml).
	Install manifests.Options
	// Branch is the branch bootstrap commits to and the cluster follows.
	Branch string
	// Path is the cluster's directory in the repository ("" for the root), as CleanPath
	// returns it.
	Path string
	// Interval is the GitRepository's sync interval.
	Interval time.Duration
	// SecretName is the Secret holding the cluster's Git credentials.
	SecretName        string
	RecurseSubmodules bool
	Author            Author
	// CommitMessageAppendix is added to every commit message (e.g. "[ci skip]").
	CommitMessageAppendix string
	// Signer signs the commits (LoadGPGSigner); nil commits unsigned.
	Signer gogit.Signer
	// Timeout bounds the whole run.
	Timeout time.Duration
	// KustomizationOverride, when set, is written as <path>/<namespace>/kustomization.yaml
	// before the components are built (the generated files are added to its resources when
	// it does not list them), so its patches apply from the first install on.
	KustomizationOverride []byte
	// AlwaysInstall applies the components even when the cluster applies them from Git
	// already, so components deleted from the cluster come back without waiting for a
	// controller that may be gone itself (a Terraform create after drift).
	AlwaysInstall bool
}

// Validate checks the options before anything is cloned, created or applied.
func (o Options) Validate() error {
	if err := o.Install.Validate(); err != nil {
		return err
	}
	if o.Branch == "" || plumbing.NewBranchReferenceName(o.Branch).Validate() != nil {
		return fmt.Errorf("invalid --branch %q: not a valid Git branch name", o.Branch)
	}
	if errs := validation.IsDNS1123Subdomain(o.SecretName); len(errs) > 0 {
		return fmt.Errorf("invalid --secret-name %q: %s", o.SecretName, strings.Join(errs, "; "))
	}
	if o.Interval <= 0 {
		return fmt.Errorf("invalid --interval %s: must be positive", o.Interval)
	}
	if p, err := CleanPath(o.Path); err != nil {
		return err
	} else if p != o.Path {
		return fmt.Errorf("invalid --path %q: give it as CleanPath returns it (%q)", o.Path, p)
	}
	return nil
}

// PublicKeyHook runs when a Secret with a new SSH key is about to be applied: bootstrap git
// asks the user to give the key access, the providers register it as a deploy key. The undo
// function it returns (may be nil) runs when the Secret could not be applied, so no key is
// left registered that nothing holds.
type PublicKeyHook func(ctx context.Context, publicKey []byte) (undo func(context.Context) error, err error)

// CredentialsHook runs when the cluster's Git credentials Secret is about to be created and
// may fill creds (a GitLab deploy token); its undo runs when the Secret could not be applied.
type CredentialsHook func(ctx context.Context, creds *Credentials) (undo func(context.Context) error, err error)

// Bootstrapper is one bootstrap: the options, how this machine reaches the repository, and
// what the cluster's sync objects and Git credentials are.
type Bootstrapper struct {
	Options
	Kube *kube.Client
	Log  log.Logger
	// Remote is how this machine clones and pushes.
	Remote *Remote
	// SyncURL is the repository URL the cluster's GitRepository uses (no credentials).
	SyncURL     string
	Credentials Credentials
	OnPublicKey PublicKeyHook
	// BeforeSecret, when set, runs before the Secret's data is generated.
	BeforeSecret CredentialsHook
	// created lists what a provider created in this run, reported when the run fails.
	created []string
}

// Created records something made outside the cluster in this run (a repository), so that
// a failure says what was left in place.
func (b *Bootstrapper) Created(what string) { b.created = append(b.created, what) }

// Sync is the sync objects' description.
func (b *Bootstrapper) Sync() Sync {
	return Sync{Namespace: b.Install.Namespace, URL: b.SyncURL, Branch: b.Branch, Secret: b.SecretName,
		Interval: b.Interval, RecurseSubmodules: b.RecurseSubmodules, Path: b.Path}
}

// fluxDir is the repository directory holding the Flux manifests: <path>/<namespace>.
func (b *Bootstrapper) fluxDir() string { return path.Join(b.Path, b.Install.Namespace) }

func (b *Bootstrapper) file(name string) string { return path.Join(b.fluxDir(), name) }

// message adds the commit message appendix.
func (b *Bootstrapper) message(m string) string {
	if b.CommitMessageAppendix == "" {
		return m
	}
	return m + "\n\n" + b.CommitMessageAppendix
}

// syncKey is the namespace/name of the sync objects (and the flux-system Kustomization).
func (b *Bootstrapper) syncKey() client.ObjectKey {
	return client.ObjectKey{Namespace: b.Install.Namespace, Name: b.Install.Namespace}
}

// Run commits the components, installs them when the cluster does not manage them from Git
// yet, creates the Git credentials Secret, commits and applies the sync objects, and waits
// until the cluster has reconciled the pushed revision and the controllers are healthy. The
// cluster is checked first, so an unreachable cluster fails before anything is pushed. When
// it fails after a provider created something, it says what was left in place.
func (b *Bootstrapper) Run(ctx context.Context) error {
	err := b.run(ctx)
	if err != nil && len(b.created) > 0 {
		b.Log.Warningf("left in place by this run: %s (run bootstrap again to finish, or delete them)", strings.Join(b.created, ", "))
	}
	return err
}

func (b *Bootstrapper) run(ctx context.Context) error {
	if b.Remote == nil || b.Kube == nil || b.Log == nil {
		return fmt.Errorf("bootstrap: Remote, Kube and Log are required")
	}
	if err := b.Validate(); err != nil {
		return err
	}
	deadline := time.Now().Add(b.Timeout)
	if _, err := b.Kube.ServerVersion(ctx, min(kube.ConnectTimeout, b.Timeout)); err != nil {
		return err
	}
	if err := b.checkSyncPath(ctx); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "flux-bootstrap-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	b.Log.Actionf("cloning branch %q from Git repository %q", b.Branch, b.Remote.url)
	exists, err := b.Remote.clone(ctx, dir, b.Branch)
	if err != nil {
		return err
	}
	if !exists {
		b.Log.Actionf("branch %q does not exist yet: the first commit creates it", b.Branch)
	}
	b.Log.Successf("cloned repository")
	if b.KustomizationOverride != nil {
		if err := writeFile(dir, b.file(KustomizationFile), b.KustomizationOverride); err != nil {
			return err
		}
	}

	if err := b.reconcileComponents(ctx, dir, deadline); err != nil {
		return err
	}
	if err := b.reconcileSecret(ctx, deadline); err != nil {
		return err
	}
	if err := b.reconcileSync(ctx, dir); err != nil {
		return err
	}
	h, err := headHash(dir)
	if err != nil {
		return err
	}
	revision := git.Revision(b.Branch, h)
	for _, obj := range []syncObject{gitRepositoryObject, kustomizationObject} {
		if err := b.waitReconciled(ctx, obj, revision, deadline); err != nil {
			return err
		}
	}
	b.Log.Actionf("confirming components are healthy")
	if err := b.Kube.WaitDeployments(ctx, b.Log, b.Install.Namespace, b.Install.Components, time.Until(deadline), func(d *appsv1.Deployment) {
		b.Log.Successf("%s: deployment ready", d.Name)
	}); err != nil {
		return err
	}
	b.Log.Successf("all components are healthy")
	return nil
}

// commitAndPush commits files and pushes them, or says they are up to date.
func (b *Bootstrapper) commitAndPush(ctx context.Context, dir, what, message string, files ...string) error {
	hash, err := commitFiles(dir, files, b.message(message), b.Author, b.Signer)
	if err != nil {
		return err
	}
	if hash == "" {
		b.Log.Successf("%s are up to date", what)
		return nil
	}
	b.Log.Successf("committed %s to %q (%q)", what, b.Branch, hash)
	b.Log.Actionf("pushing %s to %q", what, b.Remote.url)
	return b.Remote.push(ctx, dir, b.Branch)
}
