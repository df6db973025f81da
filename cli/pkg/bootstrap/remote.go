package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/memory"

	"gotk.dev/pkg/git"
)

// Remote is how this machine reaches the repository: gotk.dev/pkg/git with credentials
// (HTTP(S) basic or bearer auth, an SSH key), or go-git with the SSH agent ($SSH_AUTH_SOCK)
// when an SSH URL comes without a key, as the git CLI would.
type Remote struct {
	// url is the repository URL without credentials (printed, and kept in .git/config).
	url    string
	auth   *git.AuthOptions
	agent  transport.AuthMethod
	client *git.Client
}

// NewRemote reaches url with auth (HTTP(S) or SSH with a key).
func NewRemote(url string, auth *git.AuthOptions) *Remote {
	return &Remote{url: url, auth: auth, client: git.NewClient(git.ClientOptions{})}
}

// NewAgentRemote reaches an SSH url with the keys of the SSH agent ($SSH_AUTH_SOCK) as
// user, trusting only the host keys in knownHosts.
func NewAgentRemote(url, user string, knownHosts []byte) (*Remote, error) {
	agent, err := newAgentAuth(user, knownHosts)
	if err != nil {
		return nil, err
	}
	return &Remote{url: url, agent: agent}, nil
}

// URL is the repository URL, without credentials.
func (r *Remote) URL() string { return r.url }

// refs lists the remote's references; an empty repository has none.
func (r *Remote) refs(ctx context.Context) (map[string]string, error) {
	var out map[string]string
	var err error
	if r.agent == nil {
		out, err = r.client.ListRefs(ctx, r.url, r.auth)
	} else {
		out, err = r.agentList(ctx)
	}
	if errors.Is(err, transport.ErrEmptyRemoteRepository) {
		return map[string]string{}, nil
	}
	return out, err
}

func (r *Remote) agentList(ctx context.Context) (map[string]string, error) {
	rem := gogit.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: "origin", URLs: []string{r.url}})
	refs, err := rem.ListContext(ctx, &gogit.ListOptions{Auth: r.agent})
	if err != nil {
		return nil, r.agentError(err, "unable to list references of '%s'", r.url)
	}
	out := map[string]string{}
	for _, ref := range refs {
		if !ref.Hash().IsZero() {
			out[ref.Name().String()] = ref.Hash().String()
		}
	}
	return out, nil
}

// agentError wraps a go-git error of the agent path. It holds no secret: the agent keeps
// the keys, and an ssh:// URL carries at most a user name.
func (r *Remote) agentError(err error, format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, err)...)
}

// clone checks out branch into dir (absent or empty). When the repository is empty or has
// no such branch it prepares an empty repository whose first commit starts the branch (as
// upstream does), and reports false.
func (r *Remote) clone(ctx context.Context, dir, branch string) (bool, error) {
	refs, err := r.refs(ctx)
	if err != nil {
		return false, err
	}
	if _, ok := refs[plumbing.NewBranchReferenceName(branch).String()]; !ok {
		return false, r.initBranch(dir, branch)
	}
	if r.agent == nil {
		_, err = r.client.Clone(ctx, r.url, dir, r.auth, git.CheckoutRef{Branch: branch}, git.CloneOptions{})
		return true, err
	}
	_, err = gogit.PlainCloneContext(ctx, dir, false, &gogit.CloneOptions{
		URL: r.url, Auth: r.agent, ReferenceName: plumbing.NewBranchReferenceName(branch),
		SingleBranch: true, Tags: gogit.NoTags,
	})
	if err != nil {
		return false, r.agentError(err, "unable to clone '%s'", r.url)
	}
	return true, nil
}

// initBranch makes dir a repository with origin set and HEAD on the unborn branch.
func (r *Remote) initBranch(dir, branch string) error {
	repo, err := gogit.PlainInit(dir, false)
	if err != nil {
		return fmt.Errorf("init repository in %s: %w", dir, err)
	}
	if _, err := repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{r.url}}); err != nil {
		return err
	}
	head := plumbing.NewSymbolicReference(plumbing.HEAD, plumbing.NewBranchReferenceName(branch))
	return repo.Storer.SetReference(head)
}

// push sends branch to origin.
func (r *Remote) push(ctx context.Context, dir, branch string) error {
	spec := plumbing.NewBranchReferenceName(branch).String()
	spec += ":" + spec
	if r.agent == nil {
		return r.client.Push(ctx, dir, r.auth, git.PushOptions{RefSpecs: []string{spec}})
	}
	repo, err := gogit.PlainOpen(dir)
	if err != nil {
		return err
	}
	err = repo.PushContext(ctx, &gogit.PushOptions{RemoteName: "origin", Auth: r.agent, RefSpecs: []config.RefSpec{config.RefSpec(spec)}})
	if err != nil && !errors.Is(err, gogit.NoErrAlreadyUpToDate) {
		return r.agentError(err, "unable to push to '%s'", r.url)
	}
	return nil
}

// writeFile writes data to the slash-separated path rel inside the clone at dir.
func writeFile(dir, rel string, data []byte) error {
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, data, 0o644)
}

// readFile reads rel from the clone; a missing file is nil, nil.
func readFile(dir, rel string) ([]byte, error) {
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return data, err
}

// Author is who bootstrap commits as (--author-name, --author-email).
type Author struct{ Name, Email string }

// commitFiles stages files (slash paths relative to dir) and commits them when they differ
// from HEAD, signed by signer when it is not nil. It returns the new commit's hash, or ""
// when there was nothing to commit.
func commitFiles(dir string, files []string, message string, author Author, signer gogit.Signer) (string, error) {
	repo, err := gogit.PlainOpen(dir)
	if err != nil {
		return "", fmt.Errorf("open the clone: %w", err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		return "", err
	}
	for _, f := range files {
		if _, err := wt.Add(f); err != nil {
			return "", fmt.Errorf("stage %s: %w", f, err)
		}
	}
	status, err := wt.Status()
	if err != nil {
		return "", err
	}
	changed := false
	for _, f := range files {
		if s, ok := status[f]; ok && s.Staging != gogit.Unmodified && s.Staging != gogit.Untracked {
			changed = true
		}
	}
	if !changed {
		return "", nil
	}
	sig := &object.Signature{Name: author.Name, Email: author.Email, When: time.Now()}
	hash, err := wt.Commit(message, &gogit.CommitOptions{Author: sig, Committer: sig, Signer: signer})
	if err != nil {
		return "", fmt.Errorf("commit %v: %w", files, err)
	}
	return hash.String(), nil
}

// headHash is the hash HEAD points at ("" before the first commit).
func headHash(dir string) (string, error) {
	repo, err := gogit.PlainOpen(dir)
	if err != nil {
		return "", err
	}
	head, err := repo.Head()
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return head.Hash().String(), nil
}
