package kustomize

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"sigs.k8s.io/kustomize/api/types"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// Kustomize fetches remote content (HTTP resources, git clones) without going through the
// FileSystem, so secureFS cannot stop it at read time. Instead every kustomization file, and
// every generator/transformer config it lists, is inspected as secureFS serves it: remote
// references are refused before kustomize gets to act on them. The same pass refuses
// absolute paths (they would address files by host location, not by source tree) and
// file:// git URLs (git would copy a repository from outside the source root).

// scpUser matches the "user@host:" / "user@host/" form kustomize treats as a git URL.
var scpUser = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]*@[^/:]+[:/]`)

// isRemoteRef reports whether kustomize would fetch s from the network (or via git) rather
// than read it from the source tree. It is deliberately a superset of kustomize's own rules.
func isRemoteRef(s string) bool {
	l := strings.ToLower(strings.TrimSpace(s))
	switch {
	case strings.HasPrefix(l, "git::"), strings.Contains(l, "://"):
		return true
	case strings.HasPrefix(l, "github.com/"), strings.HasPrefix(l, "github.com:"):
		return true
	}
	return scpUser.MatchString(strings.TrimSpace(s))
}

// isFileURL reports whether s asks git to clone a repository from the local file system.
func isFileURL(s string) bool {
	l := strings.ToLower(strings.TrimSpace(s))
	l = strings.TrimPrefix(l, "git::")
	return strings.HasPrefix(l, "file://")
}

// pathKeys are the keys (lower-cased: kustomize decodes configs through JSON, which
// matches field names case-insensitively) under which transformer/generator configs name
// files to load.
var pathKeys = map[string]bool{
	"path": true, "paths": true, "files": true, "envs": true, "env": true,
	"resources": true, "bases": true, "components": true, "crds": true,
	"configurations": true, "patchesstrategicmerge": true, "charthome": true,
	"valuesfile": true, "additionalvaluesfiles": true, "repo": true,
}

// inspect checks a file secureFS is about to hand to kustomize. requested is the path
// kustomize asked for (its base name tells a kustomization file), resolved the real file.
func (f *secureFS) inspect(requested, resolved string, data []byte) error {
	if err := checkAliasExpansion(data); err != nil {
		return f.refuse("'%s': %v", f.rel(resolved), err)
	}
	isKust := isKustomizationFile(requested)
	f.mu.Lock()
	referrer, isConfig := f.configs[requested]
	if !isConfig {
		referrer, isConfig = f.configs[resolved]
	}
	done := f.scanned[resolved]
	if isKust || isConfig {
		f.scanned[resolved] = true
	}
	f.mu.Unlock()
	if done {
		// Seen before: a violation found then is still recorded and still fails the build.
		if isKust || isConfig {
			if err := f.firstViolation(); err != nil {
				return err
			}
		}
		return nil
	}
	switch {
	case isKust:
		return f.scanKustomization(resolved, data)
	case isConfig:
		return f.scanConfig(resolved, referrer, data)
	}
	return nil
}

// refuse records a violation and returns it.
func (f *secureFS) refuse(format string, args ...any) error {
	err := fmt.Errorf("security: "+format, args...)
	f.recordViolation(err)
	return err
}

// checkRef vets one file reference of the kustomization at file (in dir): absolute paths and
// file:// URLs are always refused, other remote references when remote bases are disabled.
// localFirst marks fields where kustomize prefers an existing local file over a URL reading.
func (f *secureFS) checkRef(file, dir, field, ref string, localFirst bool) error {
	if ref == "" {
		return nil
	}
	where := f.rel(file)
	if filepath.IsAbs(ref) {
		return f.refuse("%s: %s entry '%s' is an absolute path; paths must be relative to the kustomization", where, field, ref)
	}
	if isFileURL(ref) {
		return f.refuse("%s: %s entry '%s' refers to a repository outside the source root", where, field, ref)
	}
	if !isRemoteRef(ref) {
		if jail, ok := f.jail(dir); ok && !within(jail, filepath.Join(dir, ref)) {
			return f.refuse("%s: %s entry '%s' points outside the source root", where, field, ref)
		}
		return nil
	}
	if !f.noRemote {
		return nil
	}
	if localFirst && !strings.Contains(ref, "://") {
		if _, dir, err := f.stat(filepath.Join(dir, ref)); err == nil && !dir {
			return nil
		}
	}
	return f.refuse("%s: %s entry '%s' is a remote reference, and remote bases are disabled (no-remote-bases)", where, field, ref)
}

// scanKustomization parses a kustomization file the way kustomize does and vets every file
// reference in it. A file kustomize cannot parse is remembered (kustomize's own error does
// not say which file it was) and left for kustomize to reject.
func (f *secureFS) scanKustomization(file string, data []byte) error {
	var k types.Kustomization
	if err := k.Unmarshal(data); err != nil {
		f.mu.Lock()
		if f.invalid == nil {
			f.invalid = fmt.Errorf("%s: %w", f.rel(file), err)
		}
		f.mu.Unlock()
		return nil
	}
	// Inline YAML (patches, generator/transformer configs) is parsed by kustomize later,
	// outside of any file read: vet its aliases here.
	inline := make([]string, 0, len(k.Patches)+len(k.PatchesJson6902))
	for _, p := range append(k.Patches, k.PatchesJson6902...) {
		inline = append(inline, p.Patch)
	}
	for _, p := range k.PatchesStrategicMerge {
		inline = append(inline, string(p))
	}
	inline = append(append(append(inline, k.Generators...), k.Transformers...), k.Validators...)
	for _, y := range inline {
		if err := checkAliasExpansion([]byte(y)); err != nil {
			return f.refuse("%s: inline patch or config: %v", f.rel(file), err)
		}
	}
	dir := filepath.Dir(file)
	check := func(field string, localFirst bool, refs ...string) error {
		for _, r := range refs {
			if err := f.checkRef(file, dir, field, r, localFirst); err != nil {
				return err
			}
		}
		return nil
	}
	lists := []struct {
		field string
		refs  []string
		local bool
	}{
		{"resources", k.Resources, true},
		{"bases", k.Bases, false},
		{"components", k.Components, false},
		{"crds", k.Crds, false},
		{"configurations", k.Configurations, false},
	}
	for _, l := range lists {
		if err := check(l.field, l.local, l.refs...); err != nil {
			return err
		}
	}
	for _, p := range k.PatchesStrategicMerge {
		if s := string(p); !strings.Contains(s, "\n") {
			if err := check("patchesStrategicMerge", true, s); err != nil {
				return err
			}
		}
	}
	for field, ps := range map[string][]types.Patch{"patches": k.Patches, "patchesJson6902": k.PatchesJson6902} {
		for _, p := range ps {
			if err := check(field, false, p.Path); err != nil {
				return err
			}
		}
	}
	for _, r := range k.Replacements {
		if err := check("replacements", false, r.Path); err != nil {
			return err
		}
	}
	if err := check("openapi", false, k.OpenAPI["path"]); err != nil {
		return err
	}
	gens := make([]types.GeneratorArgs, 0, len(k.ConfigMapGenerator)+len(k.SecretGenerator))
	for _, g := range k.ConfigMapGenerator {
		gens = append(gens, g.GeneratorArgs)
	}
	for _, g := range k.SecretGenerator {
		gens = append(gens, g.GeneratorArgs)
	}
	for _, g := range gens {
		for _, src := range g.FileSources {
			if err := check("files", false, fileSourcePath(src)); err != nil {
				return err
			}
		}
		if err := check("envs", false, append(g.EnvSources, g.EnvSource)...); err != nil {
			return err
		}
	}
	f.noteSecretSources(dir, k.SecretGenerator)
	for field, entries := range map[string][]string{"generators": k.Generators, "transformers": k.Transformers, "validators": k.Validators} {
		for _, e := range entries {
			if strings.Contains(e, "\n") {
				if err := f.scanConfig(file, f.rel(file), []byte(e)); err != nil {
					return err
				}
				continue
			}
			if err := check(field, false, e); err != nil {
				return err
			}
			f.mu.Lock()
			f.configs[filepath.Join(dir, e)] = f.rel(file)
			f.mu.Unlock()
		}
	}
	return nil
}

// fileSourcePath returns the path of a configMapGenerator files entry ("[key=]path").
func fileSourcePath(src string) string {
	if _, p, ok := strings.Cut(src, "="); ok {
		return p
	}
	return src
}

// scanConfig vets a generator/transformer/validator config (a file listed by a
// kustomization, or inline YAML in it): any value under a file-naming key must not be remote.
func (f *secureFS) scanConfig(file, referrer string, data []byte) error {
	dec := kyaml.NewDecoder(strings.NewReader(string(data)))
	for {
		var doc kyaml.Node
		if err := dec.Decode(&doc); err != nil {
			// Unparsable config: kustomize rejects it with its own message.
			return nil
		}
		if err := f.scanNode(file, referrer, &doc, 0); err != nil {
			return err
		}
	}
}

// scanNode walks n looking for remote references under pathKeys. depth bounds recursion on
// hostile input (deep nesting); aliases are not followed, their anchors are visited in place.
func (f *secureFS) scanNode(file, referrer string, n *kyaml.Node, depth int) error {
	if n == nil || depth > 10000 {
		return nil
	}
	if n.Kind == kyaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if pathKeys[strings.ToLower(k.Value)] {
				for _, s := range scalars(v) {
					if isFileURL(s) {
						return f.refuse("%s (listed in %s): %s entry '%s' refers to a repository outside the source root",
							f.rel(file), referrer, k.Value, s)
					}
					if f.noRemote && isRemoteRef(s) {
						return f.refuse("%s (listed in %s): %s entry '%s' is a remote reference, and remote bases are disabled (no-remote-bases)",
							f.rel(file), referrer, k.Value, s)
					}
				}
			}
			if err := f.scanNode(file, referrer, v, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	for _, c := range n.Content {
		if err := f.scanNode(file, referrer, c, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// scalars returns the scalar value of n, or the scalar items of a sequence n; file sources
// ("key=path") yield their path part too.
func scalars(n *kyaml.Node) []string {
	var out []string
	add := func(s string) {
		out = append(out, s)
		if p := fileSourcePath(s); p != s {
			out = append(out, p)
		}
	}
	switch n.Kind {
	case kyaml.ScalarNode:
		add(n.Value)
	case kyaml.SequenceNode:
		for _, c := range n.Content {
			if c.Kind == kyaml.ScalarNode {
				add(c.Value)
			}
		}
	}
	return out
}
