package framework

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"gotk.dev/internal/testing/gitserver"
)

// GitRepo is a bare repository served by the Env's Git servers, over HTTP and SSH.
type GitRepo struct {
	// Name is the repository path on the servers, e.g. "org/app".
	Name string
	// Branch is the default branch ("main").
	Branch string
	// HTTPURL is the smart-HTTP clone URL (anonymous, plain HTTP).
	HTTPURL string
	// SSHURL is the ssh:// clone URL; authenticate with SSHSecretData.
	SSHURL string

	repos *gitserver.Repos
}

// CreateGitRepo creates an empty repository.
func (e *Env) CreateGitRepo(name string) (*GitRepo, error) {
	if err := e.Git.Init(name); err != nil {
		return nil, err
	}
	return &GitRepo{
		Name:    name,
		Branch:  gitserver.DefaultBranch,
		HTTPURL: e.Git.RepoURL(name),
		SSHURL:  e.GitSSH.RepoURL(name),
		repos:   e.Git.Repos,
	}, nil
}

// Commit writes files (slash-separated path -> content, added or replaced; other files stay)
// as one commit on the default branch and returns its hash.
func (r *GitRepo) Commit(files map[string]string, message string) (string, error) {
	hash, err := r.repos.Commit(r.Name).Files(files).Message(message).Do()
	if err != nil {
		return "", fmt.Errorf("commit to %s: %w", r.Name, err)
	}
	return hash, nil
}

// CommitDir commits every regular file under the local directory dir, placed under prefix
// in the repository ("" for the root), as one commit; files under prefix that dir does not
// have are deleted, so the repository mirrors dir there.
func (r *GitRepo) CommitDir(dir, prefix, message string) (string, error) {
	files, err := ReadTree(dir)
	if err != nil {
		return "", err
	}
	prefix = strings.Trim(prefix, "/")
	want := map[string]string{}
	for p, content := range files {
		want[path.Join(prefix, p)] = content
	}
	existing, err := r.Files()
	if err != nil {
		return "", err
	}
	b := r.repos.Commit(r.Name).Message(message).Files(want)
	for _, p := range existing {
		if _, keep := want[p]; !keep && (prefix == "" || strings.HasPrefix(p, prefix+"/")) {
			b = b.Delete(p)
		}
	}
	hash, err := b.Do()
	if err != nil {
		return "", fmt.Errorf("commit %s to %s: %w", dir, r.Name, err)
	}
	return hash, nil
}

// Files lists the files on the default branch (none before the first commit).
func (r *GitRepo) Files() ([]string, error) {
	repo, err := gogit.PlainOpen(r.repos.Path(r.Name))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", r.Name, err)
	}
	ref, err := repo.Reference(plumbing.NewBranchReferenceName(r.Branch), true)
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("%s branch %s: %w", r.Name, r.Branch, err)
	}
	commit, err := repo.CommitObject(ref.Hash())
	if err != nil {
		return nil, err
	}
	tree, err := commit.Tree()
	if err != nil {
		return nil, err
	}
	var out []string
	err = tree.Files().ForEach(func(f *object.File) error {
		out = append(out, f.Name)
		return nil
	})
	return out, err
}

// Delete removes files or directories in one commit.
func (r *GitRepo) Delete(message string, paths ...string) (string, error) {
	hash, err := r.repos.Commit(r.Name).Delete(paths...).Message(message).Do()
	if err != nil {
		return "", fmt.Errorf("delete %v from %s: %w", paths, r.Name, err)
	}
	return hash, nil
}

// Revision is the Flux artifact revision of a commit on the default branch
// ("main@sha1:<hash>").
func (r *GitRepo) Revision(hash string) string {
	return r.Branch + "@sha1:" + hash
}

// SSHSecretData is the data of a Flux Git SSH Secret (identity, identity.pub, known_hosts)
// that the Env's SSH server accepts.
func (e *Env) SSHSecretData() map[string][]byte {
	return map[string][]byte{
		"identity":     e.GitSSH.ClientKey(),
		"identity.pub": e.GitSSH.ClientPublicKey(),
		"known_hosts":  e.GitSSH.KnownHosts(),
	}
}

// ReadTree reads every regular file under dir into slash-separated relative path ->
// content. Symbolic links and other special files are refused, so fixtures stay portable.
func ReadTree(dir string) (map[string]string, error) {
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s is not a regular file", p)
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dir, err)
	}
	return files, nil
}
