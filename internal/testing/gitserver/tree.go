package gitserver

import (
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

const (
	modeRegular   = filemode.Regular
	modeSubmodule = filemode.Submodule
)

// leaf is a non-directory tree entry: a blob or a submodule's gitlink.
type leaf struct {
	mode filemode.FileMode
	hash plumbing.Hash
}

// treeNode is a directory being edited. It starts from a stored tree (hash)
// and loads its entries only when an edit reaches into it, so a commit that
// touches one file in a large repository rewrites only the trees on that path.
type treeNode struct {
	hash    plumbing.Hash
	loaded  bool
	entries map[string]*treeEntry
}

type treeEntry struct {
	leaf
	dir *treeNode // set for directories
}

func splitPath(p string) []string {
	return strings.Split(strings.Trim(path.Clean("/"+p), "/"), "/")
}

func (n *treeNode) load(repo *gogit.Repository) error {
	if n.loaded {
		return nil
	}
	n.loaded = true
	n.entries = map[string]*treeEntry{}
	if n.hash.IsZero() {
		return nil
	}
	t, err := repo.TreeObject(n.hash)
	if err != nil {
		return fmt.Errorf("read tree %s: %w", n.hash, err)
	}
	for _, e := range t.Entries {
		if e.Mode == filemode.Dir {
			n.entries[e.Name] = &treeEntry{dir: &treeNode{hash: e.Hash}}
			continue
		}
		n.entries[e.Name] = &treeEntry{leaf: leaf{mode: e.Mode, hash: e.Hash}}
	}
	return nil
}

func (n *treeNode) put(repo *gogit.Repository, parts []string, l leaf) error {
	if parts[0] == "" || parts[0] == "." || parts[0] == ".git" {
		return fmt.Errorf("invalid path component %q", parts[0])
	}
	if err := n.load(repo); err != nil {
		return err
	}
	if len(parts) == 1 {
		n.entries[parts[0]] = &treeEntry{leaf: l}
		return nil
	}
	e := n.entries[parts[0]]
	if e == nil || e.dir == nil {
		e = &treeEntry{dir: &treeNode{loaded: true, entries: map[string]*treeEntry{}}}
		n.entries[parts[0]] = e
	}
	return e.dir.put(repo, parts[1:], l)
}

func (n *treeNode) remove(repo *gogit.Repository, parts []string) error {
	if err := n.load(repo); err != nil {
		return err
	}
	e, ok := n.entries[parts[0]]
	if !ok {
		return os.ErrNotExist
	}
	if len(parts) == 1 {
		delete(n.entries, parts[0])
		return nil
	}
	if e.dir == nil {
		return os.ErrNotExist
	}
	return e.dir.remove(repo, parts[1:])
}

func (n *treeNode) read(repo *gogit.Repository, parts []string) ([]byte, error) {
	if err := n.load(repo); err != nil {
		return nil, err
	}
	e, ok := n.entries[parts[0]]
	if !ok {
		return nil, os.ErrNotExist
	}
	if len(parts) > 1 {
		if e.dir == nil {
			return nil, os.ErrNotExist
		}
		return e.dir.read(repo, parts[1:])
	}
	if e.dir != nil || e.mode == modeSubmodule {
		return nil, fmt.Errorf("%s is not a file", parts[0])
	}
	blob, err := repo.BlobObject(e.hash)
	if err != nil {
		return nil, err
	}
	r, err := blob.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// write stores the edited tree and returns its hash. Directories left without
// files are dropped, as git does not record empty trees.
func (n *treeNode) write(repo *gogit.Repository) (plumbing.Hash, error) {
	if !n.loaded {
		return n.hash, nil
	}
	t := &object.Tree{}
	for name, e := range n.entries {
		if e.dir == nil {
			t.Entries = append(t.Entries, object.TreeEntry{Name: name, Mode: e.mode, Hash: e.hash})
			continue
		}
		sub, err := e.dir.write(repo)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if e.dir.loaded && e.dir.empty() {
			continue
		}
		t.Entries = append(t.Entries, object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: sub})
	}
	sort.Sort(object.TreeEntrySorter(t.Entries))
	return storeObject(repo, t)
}

// empty reports a loaded directory whose every entry is an empty directory.
func (n *treeNode) empty() bool {
	for _, e := range n.entries {
		if e.dir == nil || !e.dir.loaded || !e.dir.empty() {
			return false
		}
	}
	return true
}
