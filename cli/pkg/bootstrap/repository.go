package bootstrap

import (
	"context"
	"fmt"
	"os"
	"time"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"

	"gotk.dev/cli/pkg/manifests"
)

// What a front end that keeps state (the Terraform provider) needs besides Run: the files
// bootstrap would commit, the files the branch holds, and their removal.

// Check lists the remote's references: wrong credentials or an unreachable host fail here,
// before anything is installed or committed.
func (r *Remote) Check(ctx context.Context) error {
	_, err := r.refs(ctx)
	return err
}

// ManagedFiles are the repository paths bootstrap writes: gotk-components.yaml, gotk-sync.yaml
// and kustomization.yaml in <path>/<namespace>/.
func (b *Bootstrapper) ManagedFiles() []string {
	return []string{b.file(ComponentsFile), b.file(SyncFile), b.file(KustomizationFile)}
}

// ExpectedFiles are the contents Run commits for these options, by repository path. The
// kustomization.yaml is the default one, or KustomizationOverride with the generated files
// added to its resources. It needs neither the cluster nor the repository.
func (b *Bootstrapper) ExpectedFiles() (map[string]string, error) {
	if err := b.Validate(); err != nil {
		return nil, err
	}
	objs, err := manifests.Generate(b.Install)
	if err != nil {
		return nil, err
	}
	components, err := ComponentsYAML(b.Install, objs)
	if err != nil {
		return nil, err
	}
	sync, err := b.Sync().YAML()
	if err != nil {
		return nil, err
	}
	k, err := Kustomization(b.KustomizationOverride, []string{ComponentsFile, SyncFile})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.file(KustomizationFile), err)
	}
	return map[string]string{
		b.file(ComponentsFile):    string(components),
		b.file(SyncFile):          string(sync),
		b.file(KustomizationFile): string(k),
	}, nil
}

// RepositoryFiles reads the managed files from the branch, by repository path; files (or a
// branch) that do not exist are left out.
func (b *Bootstrapper) RepositoryFiles(ctx context.Context) (map[string]string, error) {
	dir, err := os.MkdirTemp("", "flux-bootstrap-read-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := map[string]string{}
	exists, err := b.Remote.clone(ctx, dir, b.Branch)
	if err != nil || !exists {
		return out, err
	}
	for _, f := range b.ManagedFiles() {
		data, err := readFile(dir, f)
		if err != nil {
			return nil, err
		}
		if data != nil {
			out[f] = string(data)
		}
	}
	return out, nil
}

// RemoveFiles deletes the managed files from the branch in one commit and pushes it; it does
// nothing when none of them is there.
func (b *Bootstrapper) RemoveFiles(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "flux-bootstrap-remove-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	exists, err := b.Remote.clone(ctx, dir, b.Branch)
	if err != nil || !exists {
		return err
	}
	repo, err := gogit.PlainOpen(dir)
	if err != nil {
		return fmt.Errorf("open the clone: %w", err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		return err
	}
	removed := 0
	for _, f := range b.ManagedFiles() {
		if data, err := readFile(dir, f); err != nil {
			return err
		} else if data == nil {
			continue
		}
		if _, err := wt.Remove(f); err != nil {
			return fmt.Errorf("remove %s: %w", f, err)
		}
		removed++
	}
	if removed == 0 {
		b.Log.Successf("no Flux manifests in %s to remove", b.fluxDir())
		return nil
	}
	sig := &object.Signature{Name: b.Author.Name, Email: b.Author.Email, When: time.Now()}
	hash, err := wt.Commit(b.message("Remove Flux manifests"), &gogit.CommitOptions{Author: sig, Committer: sig, Signer: b.Signer})
	if err != nil {
		return fmt.Errorf("commit the removal of %s: %w", b.fluxDir(), err)
	}
	b.Log.Successf("committed the removal of the Flux manifests to %q (%q)", b.Branch, hash.String())
	return b.Remote.push(ctx, dir, b.Branch)
}
