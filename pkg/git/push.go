package git

import (
	"context"
	"errors"
	"fmt"
	"strings"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"

	"gotk.dev/pkg/redact"
)

// ErrPushRejected marks a push the remote (or go-git, from the remote's advertised refs)
// refused because a branch moved since it was fetched: a non-fast-forward update, or a
// RequireRemoteRefs condition that no longer holds. Callers fetch again and retry; errors.Is
// finds it in Push's errors.
var ErrPushRejected = errors.New("the remote reference moved since it was fetched")

// PushOptions tune Push.
type PushOptions struct {
	// RefSpecs to push, e.g. "refs/heads/main:refs/heads/auto" ("+" forces that one
	// update). Empty: the current branch to the branch of the same name.
	RefSpecs []string
	// Force allows non-fast-forward updates of every refspec.
	Force bool
	// Options are push options (git push -o key=value), sent to servers that advertise
	// push-options; a server that does not fails the push.
	Options map[string]string
	// RequireRemoteRefs make the push a compare-and-swap: each entry "<hash>:<ref>" (e.g.
	// "4f2a...:refs/heads/auto") requires the remote ref to still point at hash, so a forced
	// update never overwrites a commit the caller has not seen. When one no longer holds,
	// nothing is pushed and the error wraps ErrPushRejected.
	RequireRemoteRefs []string
}

// Push pushes from the repository in dir (made by Clone) to its origin.
func (c *Client) Push(ctx context.Context, dir string, auth *AuthOptions, opts PushOptions) error {
	repo, err := gogit.PlainOpen(dir)
	if err != nil {
		return fmt.Errorf("open repository %s: %w", dir, err)
	}
	origin, err := repo.Remote("origin")
	if err != nil {
		return fmt.Errorf("repository %s: %w", dir, err)
	}
	r, err := c.newRemote(ctx, origin.Config().URLs[0], auth)
	if err != nil {
		return redact.Error(err, auth.secrets()...)
	}
	specs, err := refSpecs(opts.RefSpecs, "refspec")
	if err != nil {
		return err
	}
	if len(specs) == 0 {
		head, err := repo.Head()
		if err != nil {
			return fmt.Errorf("repository %s: %w", dir, err)
		}
		if !head.Name().IsBranch() {
			return fmt.Errorf("repository %s: HEAD is detached; name the refspecs to push", dir)
		}
		specs = append(specs, config.RefSpec(head.Name()+":"+head.Name()))
	}
	require, err := requiredRefs(opts.RequireRemoteRefs)
	if err != nil {
		return err
	}
	err = repo.PushContext(ctx, &gogit.PushOptions{
		RemoteName:        "origin",
		RefSpecs:          specs,
		Force:             opts.Force,
		Options:           opts.Options,
		RequireRemoteRefs: require,
		Auth:              r.auth,
		CABundle:          r.caBundle,
		ClientCert:        r.clientCert,
		ClientKey:         r.clientKey,
		ProxyOptions:      r.proxy,
	})
	switch {
	case err == nil, errors.Is(err, gogit.NoErrAlreadyUpToDate):
		return nil
	case pushRejected(err):
		return r.errorf(fmt.Errorf("%w: %w", ErrPushRejected, err), "unable to push to '%s'", r.url)
	}
	return r.errorf(err, "unable to push to '%s'", r.url)
}

// pushRejected recognises a ref update refused because the remote branch moved: go-git's own
// checks against the advertised refs (non-fast-forward; a remote hash missing from a shallow
// clone; a required ref that changed) and the server's report-status after a race lost
// between advertisement and update.
func pushRejected(err error) bool {
	if errors.Is(err, gogit.ErrNonFastForwardUpdate) || errors.Is(err, plumbing.ErrObjectNotFound) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"non-fast-forward", "fetch first", "required to be", "stale info", "failed to update ref", "failed to lock"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// refSpecs validates refspecs; what names them in errors ("refspec").
func refSpecs(in []string, what string) ([]config.RefSpec, error) {
	out := make([]config.RefSpec, 0, len(in))
	for _, s := range in {
		rs := config.RefSpec(s)
		if err := rs.Validate(); err != nil {
			return nil, fmt.Errorf("invalid %s %q: %w", what, s, err)
		}
		out = append(out, rs)
	}
	return out, nil
}

// requiredRefs parses "<hash>:<ref>" conditions.
func requiredRefs(in []string) ([]config.RefSpec, error) {
	out := make([]config.RefSpec, 0, len(in))
	for _, s := range in {
		hash, ref, ok := strings.Cut(s, ":")
		if !ok || !isHex(hash) || len(hash) != 40 || !strings.HasPrefix(ref, "refs/") {
			return nil, fmt.Errorf("invalid required remote ref %q: want <40-hex hash>:refs/...", s)
		}
		out = append(out, config.RefSpec(s))
	}
	return out, nil
}

// FetchOptions tune Fetch.
type FetchOptions struct {
	// RefSpecs to fetch, e.g. "+refs/heads/auto:refs/remotes/origin/auto".
	RefSpecs []string
	// Depth limits the history fetched (0: all of it).
	Depth int
}

// Fetch fetches into the repository in dir (made by Clone) from its origin, e.g. a branch
// other than the one cloned. Fetching what is already there is not an error.
func (c *Client) Fetch(ctx context.Context, dir string, auth *AuthOptions, opts FetchOptions) error {
	repo, err := gogit.PlainOpen(dir)
	if err != nil {
		return fmt.Errorf("open repository %s: %w", dir, err)
	}
	origin, err := repo.Remote("origin")
	if err != nil {
		return fmt.Errorf("repository %s: %w", dir, err)
	}
	r, err := c.newRemote(ctx, origin.Config().URLs[0], auth)
	if err != nil {
		return redact.Error(err, auth.secrets()...)
	}
	specs, err := refSpecs(opts.RefSpecs, "refspec")
	if err != nil {
		return err
	}
	if len(specs) == 0 {
		return fmt.Errorf("fetch from '%s': no refspecs", r.url)
	}
	if err := r.fetch(ctx, repo, specs, opts.Depth); err != nil {
		return r.errorf(err, "unable to fetch %s from '%s'", strings.Join(opts.RefSpecs, ", "), r.url)
	}
	return nil
}
