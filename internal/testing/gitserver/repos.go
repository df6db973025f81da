package gitserver

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// DefaultBranch is the branch a new repository's HEAD points at unless
// Options.DefaultBranch says otherwise.
const DefaultBranch = "main"

// Repos is a directory of bare repositories plus the helpers that write
// commits, branches and tags into them. Both the HTTP and the SSH server
// embed one, so a test can serve the same repositories both ways by giving
// both servers the same root.
//
// Writes go straight into the bare repositories (no working copy, no push),
// which keeps fixtures fast and independent of the transports under test.
type Repos struct {
	dir           string
	defaultBranch string
	mu            sync.Mutex // serialises writes: refs and objects of one root
}

// NewRepos returns a Repos rooted at dir (created if missing). An empty
// defaultBranch means DefaultBranch.
func NewRepos(dir, defaultBranch string) (*Repos, error) {
	if defaultBranch == "" {
		defaultBranch = DefaultBranch
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("repository root %q: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("create repository root %q: %w", abs, err)
	}
	return &Repos{dir: abs, defaultBranch: defaultBranch}, nil
}

// Dir is the absolute directory holding the bare repositories.
func (r *Repos) Dir() string { return r.dir }

// Path is the absolute path of the bare repository called name ("org/app"
// lives in <root>/org/app.git). A trailing ".git" in name is accepted.
func (r *Repos) Path(name string) string {
	return filepath.Join(r.dir, repoFile(name))
}

// repoFile is the repository's path relative to the root, ending in ".git".
func repoFile(name string) string {
	return strings.TrimSuffix(strings.Trim(name, "/"), ".git") + ".git"
}

func validName(name string) error {
	n := strings.Trim(name, "/")
	if n == "" || filepath.IsAbs(name) || strings.Contains(n, "..") {
		return fmt.Errorf("invalid repository name %q: want a relative path such as \"org/app\"", name)
	}
	return nil
}

// Init creates an empty bare repository with the real git CLI (so the layout
// is exactly what git http-backend and git-upload-pack expect). Its HEAD
// points at the default branch, which does not exist until the first commit.
func (r *Repos) Init(name string) error {
	if err := validName(name); err != nil {
		return err
	}
	path := r.Path(name)
	out, err := exec.Command("git", "init", "--quiet", "--bare",
		"--initial-branch="+r.defaultBranch, path).CombinedOutput()
	if err != nil {
		return fmt.Errorf("git init --bare %s: %w: %s", path, err, out)
	}
	return nil
}

func (r *Repos) open(name string) (*gogit.Repository, error) {
	repo, err := gogit.PlainOpen(r.Path(name))
	if err != nil {
		return nil, fmt.Errorf("open repository %q (%s): %w", name, r.Path(name), err)
	}
	return repo, nil
}

// Resolve returns the commit hash that rev names in repository name: a full
// ref, a branch, a tag (annotated tags are peeled) or a (short) hash.
func (r *Repos) Resolve(name, rev string) (string, error) {
	repo, err := r.open(name)
	if err != nil {
		return "", err
	}
	h, err := resolveCommit(repo, rev)
	if err != nil {
		return "", err
	}
	return h.String(), nil
}

func resolveCommit(repo *gogit.Repository, rev string) (plumbing.Hash, error) {
	candidates := []string{rev}
	if !strings.HasPrefix(rev, "refs/") {
		candidates = append(candidates, "refs/heads/"+rev, "refs/tags/"+rev)
	}
	for _, c := range candidates {
		if ref, err := repo.Reference(plumbing.ReferenceName(c), true); err == nil {
			return peel(repo, ref.Hash())
		}
	}
	h, err := repo.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("resolve %q: %w", rev, err)
	}
	return peel(repo, *h)
}

// peel follows annotated tags down to the commit they point at.
func peel(repo *gogit.Repository, h plumbing.Hash) (plumbing.Hash, error) {
	for range 10 {
		tag, err := repo.TagObject(h)
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			return h, nil
		}
		if err != nil {
			return plumbing.ZeroHash, err
		}
		h = tag.Target
	}
	return plumbing.ZeroHash, fmt.Errorf("tag chain at %s is too deep", h)
}

// SetRef points ref (a full name such as "refs/pull/1/head") at the commit
// rev resolves to, creating or moving it.
func (r *Repos) SetRef(name, ref, rev string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	repo, err := r.open(name)
	if err != nil {
		return err
	}
	h, err := resolveCommit(repo, rev)
	if err != nil {
		return fmt.Errorf("set %s in %q: %w", ref, name, err)
	}
	return setRef(repo, ref, h)
}

func setRef(repo *gogit.Repository, ref string, h plumbing.Hash) error {
	rn := plumbing.ReferenceName(ref)
	if err := rn.Validate(); err != nil || !strings.HasPrefix(ref, "refs/") {
		return fmt.Errorf("invalid reference name %q: want a full name such as refs/heads/main", ref)
	}
	if err := repo.Storer.SetReference(plumbing.NewHashReference(rn, h)); err != nil {
		return fmt.Errorf("set %s to %s: %w", ref, h, err)
	}
	return nil
}

// DeleteRef removes ref (a full name) from repository name.
func (r *Repos) DeleteRef(name, ref string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	repo, err := r.open(name)
	if err != nil {
		return err
	}
	if err := repo.Storer.RemoveReference(plumbing.ReferenceName(ref)); err != nil {
		return fmt.Errorf("delete %s in %q: %w", ref, name, err)
	}
	return nil
}

// CreateBranch creates (or moves) branch at the commit from resolves to.
func (r *Repos) CreateBranch(name, branch, from string) error {
	return r.SetRef(name, "refs/heads/"+branch, from)
}

// SetHEAD makes the repository's HEAD (its default branch, as seen by
// clients) point at branch.
func (r *Repos) SetHEAD(name, branch string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	repo, err := r.open(name)
	if err != nil {
		return err
	}
	ref := plumbing.NewSymbolicReference(plumbing.HEAD, plumbing.NewBranchReferenceName(branch))
	return repo.Storer.SetReference(ref)
}

// LightweightTag creates refs/tags/<tag> pointing directly at the commit
// target resolves to.
func (r *Repos) LightweightTag(name, tag, target string) error {
	return r.SetRef(name, "refs/tags/"+tag, target)
}

// TagOptions describe an annotated tag. Zero values get defaults: the
// message "tag <name>", the default test identity and the current time.
type TagOptions struct {
	Message string
	Tagger  object.Signature
	// Signer, when set, signs the tag (OpenPGP or SSH, as git does).
	Signer Signer
}

// AnnotatedTag writes a tag object for the commit target resolves to, points
// refs/tags/<tag> at it and returns the tag object's hash.
func (r *Repos) AnnotatedTag(name, tag, target string, opts TagOptions) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	repo, err := r.open(name)
	if err != nil {
		return "", err
	}
	commit, err := resolveCommit(repo, target)
	if err != nil {
		return "", fmt.Errorf("tag %s in %q: %w", tag, name, err)
	}
	t := &object.Tag{
		Name:       tag,
		Tagger:     withDefaults(opts.Tagger),
		Message:    messageOrDefault(opts.Message, "tag "+tag),
		TargetType: plumbing.CommitObject,
		Target:     commit,
	}
	if opts.Signer != nil {
		payload, err := encodeUnsigned(t)
		if err != nil {
			return "", err
		}
		sig, err := opts.Signer.Sign(payload)
		if err != nil {
			return "", fmt.Errorf("sign tag %s: %w", tag, err)
		}
		t.PGPSignature = sig
	}
	h, err := storeObject(repo, t)
	if err != nil {
		return "", fmt.Errorf("write tag %s in %q: %w", tag, name, err)
	}
	if err := setRef(repo, "refs/tags/"+tag, h); err != nil {
		return "", err
	}
	return h.String(), nil
}

// The identity of commits and tags that do not name one.
const (
	DefaultAuthorName  = "Gitserver Test"
	DefaultAuthorEmail = "test@gitserver.invalid"
)

func withDefaults(s object.Signature) object.Signature {
	if s.Name == "" {
		s.Name = DefaultAuthorName
	}
	if s.Email == "" {
		s.Email = DefaultAuthorEmail
	}
	if s.When.IsZero() {
		s.When = time.Now().Truncate(time.Second)
	}
	return s
}

// messageOrDefault returns a message ending in exactly one newline, as git
// writes them (a tag message without one corrupts the signature block).
func messageOrDefault(msg, def string) string {
	if strings.TrimSpace(msg) == "" {
		msg = def
	}
	return strings.TrimRight(msg, "\n") + "\n"
}
