package controller

import (
	"compress/zlib"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// The gitserver commit builder writes regular files only; the helpers here write what it
// cannot - symlinks and blobs too large to hold in memory - straight into a bare repository,
// as objects any Git server then serves.

// storeBlob writes data as a blob of the bare repository at repoPath.
func storeBlob(t *testing.T, repoPath string, data []byte) plumbing.Hash {
	t.Helper()
	repo, err := gogit.PlainOpen(repoPath)
	if err != nil {
		t.Fatal(err)
	}
	obj := repo.Storer.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	w, err := obj.Writer()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	h, err := repo.Storer.SetEncodedObject(obj)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// storeZeroBlob writes a blob of size zero bytes as a loose object, streaming: a 1 GiB file
// costs about 1 MiB on disk, since zeros compress about a thousandfold.
func storeZeroBlob(t *testing.T, repoPath string, size int64) plumbing.Hash {
	t.Helper()
	tmp, err := os.CreateTemp(filepath.Join(repoPath, "objects"), "tmp-blob-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(tmp.Name())
	h := sha1.New()
	zw, err := zlib.NewWriterLevel(tmp, zlib.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	w := io.MultiWriter(zw, h)
	if _, err := fmt.Fprintf(w, "blob %d\x00", size); err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	for left := size; left > 0; left -= int64(len(chunk)) {
		n := min(left, int64(len(chunk)))
		if _, err := w.Write(chunk[:n]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tmp.Close(); err != nil {
		t.Fatal(err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	dir := filepath.Join(repoPath, "objects", sum[:2])
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, sum[2:])); err != nil {
		t.Fatal(err)
	}
	return plumbing.NewHash(sum)
}

// commitRootEntries adds entries to the root tree of branch's tip in the bare repository at
// repoPath, commits that tree on branch and returns the commit hash.
func commitRootEntries(t *testing.T, repoPath, branch, message string, entries ...object.TreeEntry) string {
	t.Helper()
	repo, err := gogit.PlainOpen(repoPath)
	if err != nil {
		t.Fatal(err)
	}
	refName := plumbing.NewBranchReferenceName(branch)
	ref, err := repo.Reference(refName, true)
	if err != nil {
		t.Fatal(err)
	}
	parent, err := repo.CommitObject(ref.Hash())
	if err != nil {
		t.Fatal(err)
	}
	tree, err := parent.Tree()
	if err != nil {
		t.Fatal(err)
	}
	all := append(append([]object.TreeEntry{}, tree.Entries...), entries...)
	// Git orders tree entries by name, directories as if their name ended in "/".
	sortName := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	sort.Slice(all, func(i, j int) bool { return sortName(all[i]) < sortName(all[j]) })
	treeHash := storeObject(t, repo, &object.Tree{Entries: all})
	who := object.Signature{Name: "Test", Email: "test@example.com", When: time.Now()}
	commitHash := storeObject(t, repo, &object.Commit{
		Author: who, Committer: who, Message: message + "\n",
		TreeHash: treeHash, ParentHashes: []plumbing.Hash{parent.Hash},
	})
	if err := repo.Storer.SetReference(plumbing.NewHashReference(refName, commitHash)); err != nil {
		t.Fatal(err)
	}
	return commitHash.String()
}

func storeObject(t *testing.T, repo *gogit.Repository, o interface {
	Encode(plumbing.EncodedObject) error
}) plumbing.Hash {
	t.Helper()
	enc := repo.Storer.NewEncodedObject()
	if err := o.Encode(enc); err != nil {
		t.Fatal(err)
	}
	h, err := repo.Storer.SetEncodedObject(enc)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
