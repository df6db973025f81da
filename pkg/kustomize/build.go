// Package kustomize runs kustomize builds in process the way Flux's kustomize-controller
// does: a plain directory gets a generated kustomization, the Kustomization's overrides
// (targetNamespace, namePrefix/Suffix, patches, images, components, commonMetadata) are
// added to the kustomization at the build path, and the build is confined to the source
// root. The source tree is never written: generated and overridden kustomizations live in
// an in-memory overlay.
package kustomize

import (
	"fmt"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
)

// Build builds root/path and returns the objects in kustomize's output order (the order of
// the kustomization's resources, or its sortOptions). root is the extracted source artifact:
// read-only, possibly shared by many builds, never written. path is relative to root
// ("./apps/staging", "apps/staging"; "" means root) and must stay inside it.
//
// Reads are confined to root: paths resolving outside it (../.., absolute paths, symlinks
// out) fail with an error naming the path but never its content. Plugins (exec, container
// KRM functions, Helm inflation) are disabled. Objects without a namespace are returned
// without one.
func Build(root, path string, opts Options) (objs []*unstructured.Unstructured, err error) {
	fsys, err := newSecureFS(root, !opts.NoRemoteBases)
	if err != nil {
		return nil, err
	}
	fsys.decrypter = opts.SecretSources
	dir, err := fsys.locate(path)
	if err != nil {
		return nil, err
	}
	if err := fsys.prepare(dir, opts); err != nil {
		return nil, fsys.clean(err)
	}
	defer func() {
		// Kustomize is a large body of code fed untrusted input; a panic in it must fail
		// this build, not the controller.
		if r := recover(); r != nil {
			objs, err = nil, fmt.Errorf("kustomize build of '%s' failed: internal error: %s", fsys.rel(dir), fsys.cleanString(fmt.Sprint(r)))
		}
	}()
	k := krusty.MakeKustomizer(&krusty.Options{
		Reorder:          krusty.ReorderOptionNone,
		LoadRestrictions: types.LoadRestrictionsNone, // confinement is secureFS's job
		PluginConfig:     types.DisabledPluginConfig(),
	})
	rm, runErr := k.Run(fsys, dir)
	if v := fsys.firstViolation(); v != nil {
		return nil, v
	}
	fsys.mu.Lock()
	derr := fsys.decryptErr
	fsys.mu.Unlock()
	if derr != nil {
		return nil, derr
	}
	if runErr != nil {
		fsys.mu.Lock()
		invalid := fsys.invalid
		fsys.mu.Unlock()
		if invalid != nil {
			return nil, fsys.clean(invalid)
		}
		return nil, fsys.kustomizeError(runErr)
	}
	objs, err = toUnstructured(rm)
	if err != nil {
		return nil, fsys.clean(err)
	}
	return objs, nil
}

// locate resolves the build path inside root. A leading "/" is read as root-relative (as
// Flux does for spec.path); ".." may not climb out of root.
func (f *secureFS) locate(path string) (string, error) {
	rel := filepath.Clean(filepath.FromSlash(strings.TrimLeft(path, "/")))
	if rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("path '%s' %w", path, errOutsideRoot)
	}
	resolved, isDir, err := f.stat(filepath.Join(f.root, rel))
	if err != nil {
		if v := f.firstViolation(); v != nil {
			return "", fmt.Errorf("path '%s': %w", path, v)
		}
		return "", fmt.Errorf("path '%s' not found in the source", path)
	}
	if !isDir {
		return "", fmt.Errorf("path '%s' is not a directory", path)
	}
	return resolved, nil
}
