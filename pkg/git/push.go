package git

import (
	"context"
	"errors"
	"fmt"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"

	"gotk.dev/pkg/redact"
)

// PushOptions tune Push.
type PushOptions struct {
	// RefSpecs to push, e.g. "refs/heads/main:refs/heads/auto". Empty: the
	// current branch to the branch of the same name.
	RefSpecs []string
	// Force allows non-fast-forward updates.
	Force bool
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
	specs := make([]config.RefSpec, 0, len(opts.RefSpecs))
	for _, s := range opts.RefSpecs {
		specs = append(specs, config.RefSpec(s))
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
	err = repo.PushContext(ctx, &gogit.PushOptions{
		RemoteName:   "origin",
		RefSpecs:     specs,
		Force:        opts.Force,
		Auth:         r.auth,
		CABundle:     r.caBundle,
		ClientCert:   r.clientCert,
		ClientKey:    r.clientKey,
		ProxyOptions: r.proxy,
	})
	if err != nil && !errors.Is(err, gogit.NoErrAlreadyUpToDate) {
		return r.errorf(err, "unable to push to '%s'", r.url)
	}
	return nil
}
