package controller

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

type metav1Condition = metav1.Condition

// secretData reads a Secret's data. Secrets are read from the API, not cached.
func secretData(ctx context.Context, c client.Reader, namespace, name string) (map[string][]byte, error) {
	var s corev1.Secret
	if err := c.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &s); err != nil {
		return nil, err
	}
	return s.Data, nil
}

// reasonOf returns the condition reason carried by a typed reconcile error.
func reasonOf(err error) string {
	var s *reconcile.Stalling
	var w *reconcile.Waiting
	var g *reconcile.Generic
	switch {
	case errors.As(err, &s):
		return s.Reason
	case errors.As(err, &w):
		return w.Reason
	case errors.As(err, &g):
		return g.Reason
	}
	return "Failed"
}

func equalStringPtr(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func equalStrings(a, b []string) bool { return slices.Equal(a, b) }

func equalIncludes(a, b []sourcev1.GitRepositoryInclude) bool {
	return slices.EqualFunc(a, b, func(x, y sourcev1.GitRepositoryInclude) bool {
		return x.GitRepositoryRef.Name == y.GitRepositoryRef.Name && x.GetFromPath() == y.GetFromPath() && x.GetToPath() == y.GetToPath()
	})
}

// copyTree copies the directory (or file) src to dst, recreating symlinks as they are.
func copyTree(src, dst string) error {
	info, err := os.Lstat(src)
	if err != nil {
		return fmt.Errorf("path not found in included artifact: %w", err)
	}
	if !info.IsDir() {
		return copyFile(src, dst, info.Mode())
	}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case d.Type().IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			return copyFile(p, target, info.Mode())
		}
		return nil
	})
}

func copyFile(src, dst string, mode fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode.Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
