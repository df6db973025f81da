package gitserver

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"strings"
	"testing"
	"time"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// CommitBuilder collects the changes of one commit; Do writes it. Start one
// with Repos.Commit. Methods return the builder so calls chain:
//
//	hash, err := srv.Commit("app").Branch("main").
//		Files(map[string]string{"deploy/app.yaml": manifest}).
//		Message("add app").Do()
type CommitBuilder struct {
	repos      *Repos
	repo       string
	ref        string
	parent     string
	orphan     bool
	files      map[string]string
	zeros      map[string]int64
	deletes    []string
	submodules []submodule
	message    string
	author     object.Signature
	signer     Signer
}

type submodule struct{ path, url, commit string }

// Commit starts a commit on the default branch of repository name.
func (r *Repos) Commit(name string) *CommitBuilder {
	return &CommitBuilder{
		repos: r,
		repo:  name,
		ref:   "refs/heads/" + r.defaultBranch,
		files: map[string]string{},
		zeros: map[string]int64{},
	}
}

// Branch makes the commit land on branch (created if missing).
func (b *CommitBuilder) Branch(branch string) *CommitBuilder {
	b.ref = "refs/heads/" + branch
	return b
}

// ToRef makes the commit land on any full ref, e.g. "refs/pull/1/head".
func (b *CommitBuilder) ToRef(ref string) *CommitBuilder {
	b.ref = ref
	return b
}

// Parent bases the commit on rev (a ref, branch, tag or hash) instead of the
// target ref's current commit.
//
// Without Parent the commit is based on the target ref when it exists, else
// on the default branch when that exists (like branching off HEAD), else it is
// a root commit.
func (b *CommitBuilder) Parent(rev string) *CommitBuilder {
	b.parent = rev
	b.orphan = false
	return b
}

// Orphan makes a root commit (no parent, empty starting tree).
func (b *CommitBuilder) Orphan() *CommitBuilder {
	b.orphan = true
	b.parent = ""
	return b
}

// File writes content at path (slash-separated, directories are implied).
func (b *CommitBuilder) File(path, content string) *CommitBuilder {
	b.files[path] = content
	return b
}

// ZeroFile writes size zero bytes at path, streamed into a loose object so that a gigabyte
// costs no memory here (the repository stays small: zeros compress well). For tests of what
// large files cost a client.
func (b *CommitBuilder) ZeroFile(path string, size int64) *CommitBuilder {
	b.zeros[path] = size
	return b
}

// Files writes every path -> content of files.
func (b *CommitBuilder) Files(files map[string]string) *CommitBuilder {
	maps.Copy(b.files, files)
	return b
}

// Delete removes files or whole directories.
func (b *CommitBuilder) Delete(paths ...string) *CommitBuilder {
	b.deletes = append(b.deletes, paths...)
	return b
}

// Submodule records a submodule at path cloned from url and pinned at commit
// (a full hash in the submodule's repository), and adds it to .gitmodules.
func (b *CommitBuilder) Submodule(path, url, commit string) *CommitBuilder {
	b.submodules = append(b.submodules, submodule{path: path, url: url, commit: commit})
	return b
}

// Message sets the commit message (default "commit").
func (b *CommitBuilder) Message(msg string) *CommitBuilder {
	b.message = msg
	return b
}

// Author sets the author and committer identity.
func (b *CommitBuilder) Author(name, email string) *CommitBuilder {
	b.author.Name, b.author.Email = name, email
	return b
}

// Time sets the author and committer time (default: now).
func (b *CommitBuilder) Time(t time.Time) *CommitBuilder {
	b.author.When = t
	return b
}

// Sign signs the commit with s (an *OpenPGPKey or *SSHSigningKey).
func (b *CommitBuilder) Sign(s Signer) *CommitBuilder {
	b.signer = s
	return b
}

// MustDo is Do for tests: it fails t on error.
func (b *CommitBuilder) MustDo(t testing.TB) string {
	t.Helper()
	h, err := b.Do()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// Do writes the blobs, trees and commit, moves the target ref and returns the
// commit hash.
func (b *CommitBuilder) Do() (string, error) {
	b.repos.mu.Lock()
	defer b.repos.mu.Unlock()
	repo, err := b.repos.open(b.repo)
	if err != nil {
		return "", err
	}
	h, err := b.write(repo)
	if err != nil {
		return "", fmt.Errorf("commit to %s in %q: %w", b.ref, b.repo, err)
	}
	return h.String(), nil
}

func (b *CommitBuilder) write(repo *gogit.Repository) (plumbing.Hash, error) {
	parents, err := b.parents(repo)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	root := &treeNode{}
	if len(parents) > 0 {
		c, err := repo.CommitObject(parents[0])
		if err != nil {
			return plumbing.ZeroHash, err
		}
		root.hash = c.TreeHash
	}
	if err := b.apply(repo, root); err != nil {
		return plumbing.ZeroHash, err
	}
	treeHash, err := root.write(repo)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	who := withDefaults(b.author)
	c := &object.Commit{
		Author:       who,
		Committer:    who,
		Message:      messageOrDefault(b.message, "commit"),
		TreeHash:     treeHash,
		ParentHashes: parents,
	}
	if b.signer != nil {
		payload, err := encodeUnsigned(c)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if c.PGPSignature, err = b.signer.Sign(payload); err != nil {
			return plumbing.ZeroHash, fmt.Errorf("sign: %w", err)
		}
	}
	h, err := storeObject(repo, c)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return h, setRef(repo, b.ref, h)
}

func (b *CommitBuilder) parents(repo *gogit.Repository) ([]plumbing.Hash, error) {
	if b.orphan {
		return nil, nil
	}
	if b.parent != "" {
		h, err := resolveCommit(repo, b.parent)
		if err != nil {
			return nil, err
		}
		return []plumbing.Hash{h}, nil
	}
	for _, ref := range []string{b.ref, "refs/heads/" + b.repos.defaultBranch} {
		r, err := repo.Reference(plumbing.ReferenceName(ref), true)
		if errors.Is(err, plumbing.ErrReferenceNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		h, err := peel(repo, r.Hash())
		if err != nil {
			return nil, err
		}
		return []plumbing.Hash{h}, nil
	}
	return nil, nil
}

// apply edits the tree: deletions first, then files, then submodules.
func (b *CommitBuilder) apply(repo *gogit.Repository, root *treeNode) error {
	for _, p := range b.deletes {
		if err := root.remove(repo, splitPath(p)); err != nil {
			return fmt.Errorf("delete %q: %w", p, err)
		}
	}
	for p, content := range b.files {
		h, err := storeBlob(repo, []byte(content))
		if err != nil {
			return err
		}
		if err := root.put(repo, splitPath(p), leaf{mode: modeRegular, hash: h}); err != nil {
			return fmt.Errorf("write %q: %w", p, err)
		}
	}
	for p, size := range b.zeros {
		h, err := storeZeroBlob(b.repos.Path(b.repo), size)
		if err != nil {
			return err
		}
		if err := root.put(repo, splitPath(p), leaf{mode: modeRegular, hash: h}); err != nil {
			return fmt.Errorf("write %q: %w", p, err)
		}
	}
	if len(b.submodules) == 0 {
		return nil
	}
	modules := config.NewModules()
	if existing, err := root.read(repo, []string{".gitmodules"}); err == nil {
		if err := modules.Unmarshal(existing); err != nil {
			return fmt.Errorf("parse .gitmodules: %w", err)
		}
	}
	for _, s := range b.submodules {
		p := strings.Trim(s.path, "/")
		modules.Submodules[p] = &config.Submodule{Name: p, Path: p, URL: s.url}
		if err := root.put(repo, splitPath(p), leaf{mode: modeSubmodule, hash: plumbing.NewHash(s.commit)}); err != nil {
			return fmt.Errorf("submodule %q: %w", p, err)
		}
	}
	data, err := modules.Marshal()
	if err != nil {
		return err
	}
	h, err := storeBlob(repo, data)
	if err != nil {
		return err
	}
	return root.put(repo, []string{".gitmodules"}, leaf{mode: modeRegular, hash: h})
}

// signable is what git signs: the object encoded without its signature.
type signable interface {
	EncodeWithoutSignature(plumbing.EncodedObject) error
}

func encodeUnsigned(o signable) ([]byte, error) {
	mem := &plumbing.MemoryObject{}
	if err := o.EncodeWithoutSignature(mem); err != nil {
		return nil, err
	}
	r, err := mem.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

type encodable interface {
	Encode(plumbing.EncodedObject) error
}

func storeObject(repo *gogit.Repository, o encodable) (plumbing.Hash, error) {
	enc := repo.Storer.NewEncodedObject()
	if err := o.Encode(enc); err != nil {
		return plumbing.ZeroHash, err
	}
	return repo.Storer.SetEncodedObject(enc)
}

func storeBlob(repo *gogit.Repository, data []byte) (plumbing.Hash, error) {
	enc := repo.Storer.NewEncodedObject()
	enc.SetType(plumbing.BlobObject)
	w, err := enc.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := w.Write(data); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return repo.Storer.SetEncodedObject(enc)
}
