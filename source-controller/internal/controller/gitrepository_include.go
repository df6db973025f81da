package controller

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/fluxcd/pkg/apis/meta"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"

	"gotk.dev/pkg/reconcile"
	"gotk.dev/pkg/tarball"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

const includeIndexKey = ".spec.include.repository"

// includedArtifact is one resolved spec.include entry.
type includedArtifact struct {
	include  sourcev1.GitRepositoryInclude
	artifact *meta.Artifact
}

// reconcileInclude resolves spec.include: every included GitRepository must exist in the same
// namespace and have an artifact, and fromPath/toPath must stay inside their trees. A missing
// include is waited for; a path escaping the repository is a spec error.
func (r *GitRepositoryReconciler) reconcileInclude(ctx context.Context, s *gitScope) (reconcile.Result, error) {
	return reconcile.Result{}, r.resolveIncludes(ctx, s)
}

func (r *GitRepositoryReconciler) resolveIncludes(ctx context.Context, s *gitScope) error {
	obj := s.obj
	s.includes = s.includes[:0]
	for _, inc := range obj.Spec.Include {
		for field, p := range map[string]string{"fromPath": inc.GetFromPath(), "toPath": inc.GetToPath()} {
			if err := validateIncludePath(p); err != nil {
				err = fmt.Errorf("include '%s': %s %q %v", inc.GitRepositoryRef.Name, field, p, err)
				reconcile.MarkTrue(obj, sourcev1.IncludeUnavailableCondition, sourcev1.InvalidPathReason, err.Error())
				return reconcile.Stall(sourcev1.InvalidPathReason, err)
			}
		}
		var dep sourcev1.GitRepository
		key := types.NamespacedName{Namespace: obj.Namespace, Name: inc.GitRepositoryRef.Name}
		if err := r.Get(ctx, key, &dep); err != nil {
			if apierrors.IsNotFound(err) {
				err = fmt.Errorf("included GitRepository '%s' not found", key)
			}
			reconcile.MarkTrue(obj, sourcev1.IncludeUnavailableCondition, "NotFound", err.Error())
			return reconcile.Wait("IncludeUnavailable", err, 0)
		}
		if dep.Status.Artifact == nil {
			err := fmt.Errorf("included GitRepository '%s' has no artifact yet", key)
			reconcile.MarkTrue(obj, sourcev1.IncludeUnavailableCondition, "NoArtifact", err.Error())
			return reconcile.Wait("IncludeUnavailable", err, 0)
		}
		s.includes = append(s.includes, includedArtifact{include: inc, artifact: dep.Status.Artifact.DeepCopy()})
	}
	return nil
}

// includesChanged reports whether the included artifacts differ from those of the stored artifact.
func (s *gitScope) includesChanged() bool {
	prev := s.obj.Status.IncludedArtifacts
	if len(prev) != len(s.includes) {
		return true
	}
	for i, inc := range s.includes {
		if prev[i] == nil || prev[i].Digest != inc.artifact.Digest {
			return true
		}
	}
	return false
}

// copyIncludes extracts each included artifact's fromPath into workDir/toPath.
func (r *GitRepositoryReconciler) copyIncludes(s *gitScope) error {
	for _, inc := range s.includes {
		tmp, err := os.MkdirTemp(r.TmpDir, "include-")
		if err != nil {
			return err
		}
		err = func() error {
			defer os.RemoveAll(tmp)
			f, err := os.Open(r.Storage.LocalPath(inc.artifact))
			if err != nil {
				return fmt.Errorf("included artifact '%s': %w", inc.artifact.Path, err)
			}
			defer f.Close()
			if err := tarball.Extract(f, tmp, tarball.ExtractOptions{MaxSize: r.MaxArtifactSize}); err != nil {
				return fmt.Errorf("included artifact '%s': %w", inc.artifact.Path, err)
			}
			name, fromPath, toPath := inc.include.GitRepositoryRef.Name, inc.include.GetFromPath(), inc.include.GetToPath()
			from := filepath.Join(tmp, filepath.FromSlash(fromPath))
			to := filepath.Join(s.workDir, filepath.FromSlash(toPath))
			// Errors name the include and its paths, not the controller's temporary directories.
			if _, err := os.Lstat(from); err != nil {
				return fmt.Errorf("include '%s': fromPath '%s' not found in its artifact (revision '%s')", name, fromPath, inc.artifact.Revision)
			}
			if err := os.RemoveAll(to); err != nil {
				return fmt.Errorf("include '%s': clearing toPath '%s': %w", name, toPath, err)
			}
			if err := copyTree(from, to); err != nil {
				return fmt.Errorf("include '%s': copying '%s' to '%s': %w", name, fromPath, toPath, err)
			}
			return nil
		}()
		if err != nil {
			return err
		}
	}
	return nil
}

// validateIncludePath accepts relative paths that stay inside their root.
func validateIncludePath(p string) error {
	if p == "" {
		return nil
	}
	if filepath.IsAbs(p) {
		return fmt.Errorf("must be relative")
	}
	clean := filepath.Clean(filepath.FromSlash(p))
	if clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return fmt.Errorf("escapes the repository root")
	}
	return nil
}

// indexIncludes indexes GitRepositories by the names they include.
func indexIncludes(o client.Object) []string {
	repo, ok := o.(*sourcev1.GitRepository)
	if !ok {
		return nil
	}
	var names []string
	for _, inc := range repo.Spec.Include {
		names = append(names, inc.GitRepositoryRef.Name)
	}
	return names
}

// includersOf maps a GitRepository to the GitRepositories in its namespace including it.
func (r *GitRepositoryReconciler) includersOf(ctx context.Context, o client.Object) []ctrlreconcile.Request {
	var list sourcev1.GitRepositoryList
	if err := r.List(ctx, &list, client.InNamespace(o.GetNamespace()), client.MatchingFields{includeIndexKey: o.GetName()}); err != nil {
		return nil
	}
	reqs := make([]ctrlreconcile.Request, 0, len(list.Items))
	for _, item := range list.Items {
		reqs = append(reqs, ctrlreconcile.Request{NamespacedName: types.NamespacedName{Namespace: item.Namespace, Name: item.Name}})
	}
	return reqs
}
