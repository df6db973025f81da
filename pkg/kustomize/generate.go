package kustomize

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/types"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// A directory without a kustomization file is built as if it had one listing every
// Kubernetes manifest below it (Flux's documented behaviour for plain-YAML paths):
//   - *.yaml / *.yml files are walked recursively in lexical order;
//   - a sub-directory holding its own kustomization file is listed as one resource (a base)
//     and not descended into;
//   - files with no document carrying both apiVersion and kind (Helm values, CI configs)
//     are left out, but a file that is not valid YAML fails the build with its name and
//     line: silently skipping a broken manifest would prune its objects from the cluster;
//   - symlinked directories are not followed (no loops); symlinked files are read through
//     secureFS, so a link out of the source root fails the build.

// findKustomization returns the kustomization file in dir ("" when there is none) and how
// many of the recognised names exist (more than one is kustomize's error to report).
func (f *secureFS) findKustomization(dir string) (string, int) {
	var found string
	n := 0
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		p := filepath.Join(dir, name)
		if _, isDir, err := f.stat(p); err == nil && !isDir {
			if found == "" {
				found = p
			}
			n++
		}
	}
	return found, n
}

// generateKustomization lists the manifests under dir (resolved, inside root).
func (f *secureFS) generateKustomization(dir string) (*types.Kustomization, error) {
	k := &types.Kustomization{}
	k.APIVersion = types.KustomizationVersion
	k.Kind = types.KustomizationKind
	if err := f.collect(dir, dir, &k.Resources); err != nil {
		return nil, err
	}
	return k, nil
}

func (f *secureFS) collect(base, dir string, out *[]string) error {
	names, err := f.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, n := range names {
		p := filepath.Join(dir, n)
		fi, err := os.Lstat(p) // dir is symlink-free and inside root
		if err != nil {
			return fmt.Errorf("stat '%s': %w", f.rel(p), unwrapPathError(err))
		}
		isDir := fi.IsDir()
		if fi.Mode()&os.ModeSymlink != 0 {
			_, targetIsDir, err := f.stat(p)
			if err != nil {
				return err
			}
			if targetIsDir {
				continue
			}
		}
		rel, err := filepath.Rel(base, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if isDir {
			if k, _ := f.findKustomization(p); k != "" {
				*out = append(*out, rel)
				continue
			}
			if err := f.collect(base, p, out); err != nil {
				return err
			}
			continue
		}
		if ext := filepath.Ext(n); ext != ".yaml" && ext != ".yml" {
			continue
		}
		data, err := f.ReadFile(p)
		if err != nil {
			return err
		}
		ok, err := hasKubernetesObject(data)
		if err != nil {
			return fmt.Errorf("failed to decode Kubernetes YAML from '%s': %w", f.rel(p), err)
		}
		if ok {
			*out = append(*out, rel)
		}
	}
	return nil
}

// hasKubernetesObject reports whether any YAML document in data is a mapping with a
// non-empty apiVersion and kind. Syntax errors are returned (they carry the line).
func hasKubernetesObject(data []byte) (bool, error) {
	dec := kyaml.NewDecoder(bytes.NewReader(data))
	found := false
	for {
		var doc kyaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return found, nil
		}
		if err != nil {
			return false, err
		}
		if found || len(doc.Content) == 0 {
			continue
		}
		m := doc.Content[0]
		if m.Kind != kyaml.MappingNode {
			continue
		}
		var apiVersion, kind bool
		for i := 0; i+1 < len(m.Content); i += 2 {
			k, v := m.Content[i].Value, m.Content[i+1]
			if v.Kind != kyaml.ScalarNode || v.Value == "" {
				continue
			}
			switch k {
			case "apiVersion":
				apiVersion = true
			case "kind":
				kind = true
			}
		}
		found = apiVersion && kind
	}
}
