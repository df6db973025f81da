package app

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"gotk.dev/cli/internal/fluxdiff"
	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	"gotk.dev/pkg/sourceignore"
	"gotk.dev/pkg/tarball"
)

// ksBuildOptions are the flags flux build kustomization and flux diff kustomization share.
type ksBuildOptions struct {
	path              string
	kustomizationFile string
	ignorePaths       []string
	strictSubstitute  bool
	// dryRun builds without contacting the cluster (build only): the Kustomization comes
	// from the file and substituteFrom is not read.
	dryRun bool
}

// ksBuild is the result of building a local directory as a Kustomization would.
type ksBuild struct {
	kustomization *kustomizev1.Kustomization
	objects       []*unstructured.Unstructured
}

// buildKustomization reproduces kustomize-controller's build of the Kustomization name on a
// local directory: kustomize with the Kustomization's overrides, post-build substitution
// (substituteFrom read from the cluster unless dry-run) and the owner labels. c may be nil
// only in dry-run mode.
func buildKustomization(ctx context.Context, c client.Client, namespace, name string, o *ksBuildOptions) (*ksBuild, error) {
	if o.path == "" {
		return nil, errors.New("--path is required: the local directory to build")
	}
	fi, err := os.Stat(o.path)
	if err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("invalid resource path %q: not a directory", o.path)
	}
	ks, err := loadKustomization(ctx, c, namespace, name, o)
	if err != nil {
		return nil, err
	}
	root, rel, err := buildRoot(o.path)
	if err != nil {
		return nil, err
	}
	if len(o.ignorePaths) > 0 {
		filtered, err := os.MkdirTemp("", "flux-build-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(filtered)
		if err := copyFiltered(root, rel, filtered, o.ignorePaths); err != nil {
			return nil, err
		}
		root = filtered
	}
	objs, err := fluxdiff.Build(ctx, c, ks, root, rel, fluxdiff.BuildOptions{Strict: o.strictSubstitute, DryRun: o.dryRun, Path: o.path})
	if err != nil {
		return nil, err
	}
	return &ksBuild{kustomization: ks, objects: objs}, nil
}

// loadKustomization reads the Kustomization from --kustomization-file, else from the cluster.
func loadKustomization(ctx context.Context, c client.Client, namespace, name string, o *ksBuildOptions) (*kustomizev1.Kustomization, error) {
	if o.kustomizationFile != "" {
		ks, err := readKustomizationFile(o.kustomizationFile, namespace, name)
		if err != nil || o.dryRun || c == nil {
			return ks, err
		}
		// The file says what to build; the cluster's object says what was applied (its
		// inventory tells diff what a prune would delete).
		var live kustomizev1.Kustomization
		if err := c.Get(ctx, client.ObjectKeyFromObject(ks), &live); err == nil {
			ks.Status = live.Status
		} else if !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("getting Kustomization %s/%s: %w", ks.Namespace, ks.Name, err)
		}
		return ks, nil
	}
	if o.dryRun || c == nil {
		return nil, errors.New("--kustomization-file is required in dry-run mode: the Kustomization cannot be read from the cluster")
	}
	ks := &kustomizev1.Kustomization{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, ks); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("Kustomization %s/%s not found (use --kustomization-file to build one that is not in the cluster)", namespace, name)
		}
		return nil, fmt.Errorf("getting Kustomization %s/%s: %w", namespace, name, err)
	}
	return ks, nil
}

// readKustomizationFile finds the Kustomization called name in a (multi-document) YAML
// file. Its namespace defaults to the command's.
func readKustomizationFile(path, namespace, name string) (*kustomizev1.Kustomization, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the Kustomization file: %w", err)
	}
	dec := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var found []string
	for {
		doc, err := dec.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
		var ks kustomizev1.Kustomization
		if err := yaml.Unmarshal(doc, &ks); err != nil {
			return nil, fmt.Errorf("parsing %s: %w", path, err)
		}
		if ks.Kind != kustomizev1.KustomizationKind || !strings.HasPrefix(ks.APIVersion, kustomizev1.GroupVersion.Group+"/") {
			continue
		}
		if ks.Name != name {
			found = append(found, ks.Name)
			continue
		}
		if ks.Namespace == "" {
			ks.Namespace = namespace
		}
		return &ks, nil
	}
	if len(found) > 0 {
		return nil, fmt.Errorf("%s has no Kustomization named %q (it has %s)", path, name, strings.Join(found, ", "))
	}
	return nil, fmt.Errorf("%s has no Kustomization (kind: Kustomization, apiVersion: %s)", path, kustomizev1.GroupVersion)
}

// substituteVars merges spec.postBuild.substituteFrom (read from the cluster, unless
// dry-run) and spec.postBuild.substitute with the controller's precedence.
func substituteVars(ctx context.Context, c client.Client, ks *kustomizev1.Kustomization, dryRun bool) (map[string]string, error) {
	return fluxdiff.SubstituteVars(ctx, c, ks, dryRun)
}

// buildRoot chooses the directory the build may read: the Git work tree holding path (a
// kustomization may refer to ../base), else the working directory when path is inside it,
// else path itself. rel is path relative to root.
func buildRoot(path string) (root, rel string, err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", "", err
	}
	if abs, err = filepath.EvalSymlinks(abs); err != nil {
		return "", "", err
	}
	root = abs
	for d := abs; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			root = d
			break
		}
		if filepath.Dir(d) == d {
			if wd, err := os.Getwd(); err == nil {
				if wd, err = filepath.EvalSymlinks(wd); err == nil && within(wd, abs) {
					root = wd
				}
			}
			break
		}
	}
	rel, err = filepath.Rel(root, abs)
	if err != nil {
		return "", "", err
	}
	return root, filepath.ToSlash(rel), nil
}

func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// copyFiltered copies the tree at root into dst without the files --ignore-paths excludes
// (gitignore syntax; patterns are relative to the build path rel; .git is always left out),
// the way a source's spec.ignore keeps files out of its artifact.
func copyFiltered(root, rel, dst string, ignorePaths []string) error {
	var domain []string
	if rel != "." && rel != "" {
		domain = strings.Split(rel, "/")
	}
	patterns := sourceignore.Compile(sourceignore.VCSPatterns(), nil)
	patterns = append(patterns, sourceignore.Compile(ignorePaths, domain)...)
	filter := sourceignore.FilterFor(gitignore.NewMatcher(patterns))
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(tarball.Write(pw, root, filter)) }()
	err := tarball.Extract(pr, dst, tarball.ExtractOptions{})
	pr.CloseWithError(err)
	if err != nil {
		return fmt.Errorf("copying %s without the ignored paths: %w", root, err)
	}
	return nil
}
