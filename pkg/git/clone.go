package git

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/go-git/go-billy/v5/osfs"
	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"gotk.dev/pkg/redact"
)

// CloneOptions tune Clone.
type CloneOptions struct {
	// RecurseSubmodules checks out submodules (recursively, using the same
	// credentials only for submodules on the same host).
	RecurseSubmodules bool
	// SparseCheckout limits the worktree to these directories (relative
	// to the repository root, e.g. "deploy/prod"). Empty: everything.
	SparseCheckout []string
	// ShallowIfPossible fetches only the checked-out commit (depth 1) unless
	// the checkout needs history (a commit, alone or on a branch).
	ShallowIfPossible bool
	// MaxObjectSize refuses a repository holding a file over this many bytes before it is
	// indexed (an *ObjectTooLargeError); 0 means no limit, and a clone then needs as much
	// memory as its largest file.
	MaxObjectSize int64
}

// fetchPlan is how one CheckoutRef maps onto a fetch and a checkout.
type fetchPlan struct {
	refspecs  []config.RefSpec
	localRef  string // ref holding the fetched tip; empty for commit checkouts
	reference string // Commit.Reference
	revName   string // Commit.RevisionName (Name checkouts only)
	branch    string // attach HEAD to this local branch
	commit    string // check out this commit instead of localRef's
	history   bool   // needs full history
}

// largeObjectThreshold is the size above which Git objects are not read into memory.
const largeObjectThreshold = 1 << 20

func planFor(ref CheckoutRef, semverTag string) (fetchPlan, error) {
	spec := func(src, dst string) config.RefSpec { return config.RefSpec("+" + src + ":" + dst) }
	switch {
	case ref.Commit != "":
		if !isHex(strings.ToLower(ref.Commit)) {
			return fetchPlan{}, fmt.Errorf("invalid commit %q: want a hex SHA-1", ref.Commit)
		}
		p := fetchPlan{commit: strings.ToLower(ref.Commit), history: true}
		if ref.Branch != "" {
			src := "refs/heads/" + ref.Branch
			p.refspecs = []config.RefSpec{spec(src, "refs/remotes/origin/"+ref.Branch)}
			p.reference = src
			return p, nil
		}
		p.refspecs = []config.RefSpec{
			spec("refs/heads/*", "refs/remotes/origin/*"),
			spec("refs/tags/*", "refs/tags/*"),
		}
		return p, nil
	case ref.Name != "":
		if !strings.HasPrefix(ref.Name, "refs/") || plumbing.ReferenceName(ref.Name).Validate() != nil {
			return fetchPlan{}, fmt.Errorf("invalid ref name %q: want a full reference such as refs/heads/main", ref.Name)
		}
		return fetchPlan{refspecs: []config.RefSpec{spec(ref.Name, ref.Name)}, localRef: ref.Name,
			reference: ref.Name, revName: ref.Name}, nil
	case ref.SemVer != "" || ref.Tag != "":
		tag := ref.Tag
		if ref.SemVer != "" {
			tag = semverTag
		}
		full := "refs/tags/" + tag
		return fetchPlan{refspecs: []config.RefSpec{spec(full, full)}, localRef: full, reference: full}, nil
	}
	branch := ref.Branch
	if branch == "" {
		branch = DefaultBranch
	}
	full := "refs/heads/" + branch
	return fetchPlan{refspecs: []config.RefSpec{spec(full, "refs/remotes/origin/"+branch)},
		localRef: "refs/remotes/origin/" + branch, reference: full, branch: branch}, nil
}

// Clone fetches ref from repoURL into dir (which must be empty or absent)
// and checks it out. It returns the checked-out commit; its String is the
// Flux revision.
func (c *Client) Clone(ctx context.Context, repoURL, dir string, auth *AuthOptions, ref CheckoutRef, opts CloneOptions) (*Commit, error) {
	r, err := c.newRemote(ctx, repoURL, auth)
	if err != nil {
		return nil, redact.Error(err, auth.secrets()...)
	}
	commit, err := c.clone(ctx, r, dir, ref, opts)
	if err != nil {
		return nil, r.errorf(err, "unable to clone '%s'", r.url)
	}
	return commit, nil
}

func (c *Client) clone(ctx context.Context, r *remote, dir string, ref CheckoutRef, opts CloneOptions) (*Commit, error) {
	var semverTag string
	if ref.Commit == "" && ref.Name == "" && ref.SemVer != "" {
		refs, err := r.list(ctx)
		if err != nil {
			return nil, err
		}
		if semverTag, err = latestSemverTag(refs, ref.SemVer); err != nil {
			return nil, err
		}
	}
	plan, err := planFor(ref, semverTag)
	if err != nil {
		return nil, err
	}
	sparse, err := sparseDirs(opts.SparseCheckout)
	if err != nil {
		return nil, err
	}
	repo, err := initRepo(dir, opts.MaxObjectSize)
	if err != nil {
		return nil, err
	}
	if _, err := repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{r.url}}); err != nil {
		return nil, err
	}
	depth := 0
	if opts.ShallowIfPossible && !plan.history {
		depth = 1
	}
	if err := r.fetch(ctx, repo, plan.refspecs, depth); err != nil {
		return nil, err
	}

	var tip plumbing.Hash
	var tag *Tag
	if plan.commit != "" {
		if tip, err = findCommit(repo, plan.commit); err != nil {
			if plan.reference != "" {
				return nil, fmt.Errorf("commit %s is not on branch %s: %w", plan.commit, shortRefName(plan.reference), err)
			}
			return nil, err
		}
	} else {
		localRef, err := repo.Reference(plumbing.ReferenceName(plan.localRef), true)
		if err != nil {
			return nil, fmt.Errorf("fetched %s but cannot read it: %w", plan.reference, err)
		}
		if tip, tag, err = peelTag(repo, localRef.Hash(), plan.reference); err != nil {
			return nil, err
		}
	}
	if err := checkout(repo, plan, tip, sparse); err != nil {
		return nil, err
	}
	if opts.RecurseSubmodules {
		if err := r.updateSubmodules(ctx, repo, maxSubmoduleDepth); err != nil {
			return nil, err
		}
	}
	obj, err := repo.CommitObject(tip)
	if err != nil {
		return nil, err
	}
	return newCommit(obj, plan.reference, plan.revName, tag)
}

// initRepo creates a repository in dir with storage tuned for a process
// that owns it exclusively.
func initRepo(dir string, maxObjectSize int64) (*gogit.Repository, error) {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("target directory %s is not empty", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	dot := osfs.New(filepath.Join(dir, gogit.GitDirName))
	// Objects over largeObjectThreshold are streamed from the packfile instead of held in
	// memory: a repository with a 1 GiB file must not cost 1 GiB (or more) of RAM to check out.
	st := filesystem.NewStorageWithOptions(dot, cache.NewObjectLRUDefault(), filesystem.Options{ExclusiveAccess: true, LargeObjectThreshold: largeObjectThreshold})
	if maxObjectSize > 0 {
		return gogit.Init(&limitedStorage{Storage: st, maxObjectSize: maxObjectSize, tmpDir: filepath.Join(dir, gogit.GitDirName)}, osfs.New(dir))
	}
	return gogit.Init(st, osfs.New(dir))
}

func (r *remote) fetch(ctx context.Context, repo *gogit.Repository, specs []config.RefSpec, depth int) error {
	err := repo.FetchContext(ctx, &gogit.FetchOptions{
		RemoteName:   "origin",
		RefSpecs:     specs,
		Depth:        depth,
		Auth:         r.auth,
		CABundle:     r.caBundle,
		ClientCert:   r.clientCert,
		ClientKey:    r.clientKey,
		ProxyOptions: r.proxy,
		Tags:         gogit.NoTags,
	})
	if errors.Is(err, gogit.NoErrAlreadyUpToDate) {
		return nil
	}
	return err
}

// findCommit resolves a full or short hash to a commit present locally.
func findCommit(repo *gogit.Repository, commit string) (plumbing.Hash, error) {
	if len(commit) == 40 {
		h := plumbing.NewHash(commit)
		if _, err := repo.CommitObject(h); err != nil {
			return plumbing.ZeroHash, fmt.Errorf("commit %s not found: %w", commit, err)
		}
		return h, nil
	}
	h, err := repo.ResolveRevision(plumbing.Revision(commit))
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("commit %s not found: %w", commit, err)
	}
	return *h, nil
}

// peelTag follows an annotated tag to its commit, returning the tag too.
func peelTag(repo *gogit.Repository, h plumbing.Hash, reference string) (plumbing.Hash, *Tag, error) {
	t, err := repo.TagObject(h)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return h, nil, nil
	}
	if err != nil {
		return plumbing.ZeroHash, nil, err
	}
	if t.TargetType != plumbing.CommitObject {
		return plumbing.ZeroHash, nil, fmt.Errorf("%s points at a %s, not a commit", reference, t.TargetType)
	}
	tag, err := newTag(t)
	if err != nil {
		return plumbing.ZeroHash, nil, err
	}
	return t.Target, tag, nil
}

func checkout(repo *gogit.Repository, plan fetchPlan, tip plumbing.Hash, sparse []string) error {
	wt, err := repo.Worktree()
	if err != nil {
		return err
	}
	co := &gogit.CheckoutOptions{Hash: tip, Force: true, SparseCheckoutDirectories: sparse}
	if plan.branch != "" {
		// Attach HEAD to a local branch tracking origin, as git clone does,
		// so later commits and pushes (image automation) work naturally.
		branch := plumbing.NewBranchReferenceName(plan.branch)
		if err := repo.Storer.SetReference(plumbing.NewHashReference(branch, tip)); err != nil {
			return err
		}
		if err := repo.CreateBranch(&config.Branch{Name: plan.branch, Remote: "origin", Merge: branch}); err != nil {
			return err
		}
		co = &gogit.CheckoutOptions{Branch: branch, Force: true, SparseCheckoutDirectories: sparse}
	}
	if err := wt.Checkout(co); err != nil {
		return fmt.Errorf("checkout %s: %w", tip, err)
	}
	return nil
}

// sparseDirs normalises sparse checkout directories to "dir/" prefixes,
// so "deploy" does not also select "deploy-old".
func sparseDirs(dirs []string) ([]string, error) {
	var out []string
	for _, d := range dirs {
		clean := path.Clean("/" + strings.TrimSpace(d))
		if clean == "/" {
			return nil, nil // the whole tree
		}
		if strings.Contains(d, "..") {
			return nil, fmt.Errorf("invalid sparse checkout directory %q", d)
		}
		out = append(out, strings.TrimPrefix(clean, "/")+"/")
	}
	return out, nil
}
