package kustomize

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"

	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/resid"
	"sigs.k8s.io/yaml"
)

// prepare puts the kustomization kustomize will build at dir into the overlay: a generated
// one when dir has none, the existing one with the Flux overrides added when there are any.
// Nothing is written to disk. With neither, the on-disk file is used as is.
func (f *secureFS) prepare(dir string, opts Options) error {
	file, n := f.findKustomization(dir)
	if n > 1 {
		return nil // kustomize reports "Found multiple kustomization files"
	}
	var k *types.Kustomization
	switch {
	case file == "":
		gen, err := f.generateKustomization(dir)
		if err != nil {
			return err
		}
		k, file = gen, filepath.Join(dir, "kustomization.yaml")
	case opts.overrides():
		// Read without inspect(): kustomize reads (and so inspects) the overlaid version.
		r, err := f.resolve(file)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(r)
		if err != nil {
			return fmt.Errorf("read '%s': %w", f.rel(file), unwrapPathError(err))
		}
		if err := checkAliasExpansion(data); err != nil {
			return f.refuse("'%s': %v", f.rel(file), err)
		}
		k = &types.Kustomization{}
		if err := k.Unmarshal(data); err != nil {
			return fmt.Errorf("%s: %w", f.rel(file), err)
		}
	default:
		return nil
	}
	if err := f.applyOverrides(k, dir, opts); err != nil {
		return err
	}
	data, err := yaml.Marshal(k)
	if err != nil {
		return fmt.Errorf("%s: %w", f.rel(file), err)
	}
	f.overlay[file] = data
	return nil
}

// applyOverrides adds the Flux overrides to k, the kustomization at dir.
func (f *secureFS) applyOverrides(k *types.Kustomization, dir string, opts Options) error {
	if opts.TargetNamespace != "" {
		k.Namespace = opts.TargetNamespace
	}
	if opts.NamePrefix != "" {
		k.NamePrefix = opts.NamePrefix
	}
	if opts.NameSuffix != "" {
		k.NameSuffix = opts.NameSuffix
	}
	for _, p := range opts.Patches {
		kp := types.Patch{Patch: p.Patch}
		if t := p.Target; t != nil {
			kp.Target = &types.Selector{
				ResId: resid.ResId{
					Gvk:       resid.Gvk{Group: t.Group, Version: t.Version, Kind: t.Kind},
					Name:      t.Name,
					Namespace: t.Namespace,
				},
				AnnotationSelector: t.AnnotationSelector,
				LabelSelector:      t.LabelSelector,
			}
		}
		k.Patches = append(k.Patches, kp)
	}
	for _, img := range opts.Images {
		k.Images = append(k.Images, types.Image{
			Name: img.Name, NewName: img.NewName, NewTag: img.NewTag, Digest: img.Digest,
		})
	}
	for _, c := range opts.Components {
		ok, err := f.componentExists(dir, c)
		if err != nil {
			return err
		}
		if !ok {
			if opts.IgnoreMissingComponents {
				continue
			}
			return fmt.Errorf("component '%s' not found: '%s' does not exist in the source", c, f.rel(filepath.Join(dir, c)))
		}
		k.Components = append(k.Components, c)
	}
	if md := opts.CommonMetadata; md != nil {
		if len(md.Labels) > 0 {
			k.Labels = append(k.Labels, types.Label{Pairs: maps.Clone(md.Labels)})
		}
		if len(md.Annotations) > 0 {
			if k.CommonAnnotations == nil {
				k.CommonAnnotations = map[string]string{}
			}
			maps.Copy(k.CommonAnnotations, md.Annotations)
		}
	}
	return nil
}

// componentExists reports whether component c (relative to dir) is a directory in the
// source. Remote components are left for the kustomization scan to allow or refuse; a path
// leaving the source root is a violation, not a missing component.
func (f *secureFS) componentExists(dir, c string) (bool, error) {
	if isRemoteRef(c) {
		return true, nil
	}
	if filepath.IsAbs(c) {
		return false, f.refuse("component '%s' is an absolute path; paths must be relative to the kustomization", c)
	}
	p := filepath.Join(dir, c)
	if !within(f.root, p) {
		return false, f.outside(p, "")
	}
	_, isDir, err := f.stat(p)
	if err != nil {
		if v := f.firstViolation(); v != nil {
			return false, v
		}
		return false, nil
	}
	return isDir, nil
}
