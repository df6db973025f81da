package update

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5/config"

	"gotk.dev/pkg/git"
)

// pushSpec is one push: refspecs ("+" marks a forced update), push options, and the remote
// values the updates require ("<hash>:refs/heads/x"), so a commit pushed by someone else
// since the clone is never overwritten.
type pushSpec struct {
	refSpecs []config.RefSpec
	options  map[string]string
	require  []config.RefSpec
}

// errRejected marks a push the remote refused because the branch moved (non-fast-forward or a
// broken compare-and-swap): the caller clones again and retries.
var errRejected = errors.New("the remote branch moved since it was fetched")

// push sends spec from the clone in dir to its origin.
func (r *runner) push(ctx context.Context, dir string, spec pushSpec) error {
	opts := git.PushOptions{Options: spec.options}
	for _, rs := range spec.refSpecs {
		opts.RefSpecs = append(opts.RefSpecs, rs.String())
	}
	for _, rs := range spec.require {
		opts.RequireRemoteRefs = append(opts.RequireRemoteRefs, rs.String())
	}
	err := r.client.Push(ctx, dir, r.opts.Auth, opts)
	if errors.Is(err, git.ErrPushRejected) {
		return fmt.Errorf("%w (%v)", errRejected, err)
	}
	return err
}

// fetchBranch fetches branch into refs/remotes/origin/<branch> of the clone in dir.
func (r *runner) fetchBranch(ctx context.Context, dir, branch string, depth int) error {
	spec := "+refs/heads/" + branch + ":refs/remotes/origin/" + branch
	if err := r.client.Fetch(ctx, dir, r.opts.Auth, git.FetchOptions{RefSpecs: []string{spec}, Depth: depth}); err != nil {
		return fmt.Errorf("failed to fetch branch '%s': %w", branch, err)
	}
	return nil
}
