package app

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// apiUpgrade is one apiVersion to rewrite: the value node's position in the file.
type apiUpgrade struct {
	line, column int // 1-based, of the apiVersion value
	kind         string
	old, new     string
}

// migrateFiles rewrites, in the manifests under f.path, the apiVersion of every Flux object
// whose version is older than the target Flux version's. It prints each upgrade, asks before
// writing (unless --yes), and changes nothing but those values: comments, layout and other
// documents stay as they are.
func (c *Command) migrateFiles(f *migrateFlags) error {
	log := c.Log()
	log.Actionf("starting migration of custom resources")
	targets, err := migrateVersions(f.version)
	if err != nil {
		return err
	}
	files, err := migrateFileList(f.path, f.extensions, log)
	if err != nil {
		return err
	}
	upgrades := map[string][]apiUpgrade{}
	var order []string
	for _, file := range files {
		ups, err := detectUpgrades(file, targets)
		if err != nil {
			return err
		}
		if len(ups) == 0 {
			continue
		}
		order = append(order, file)
		upgrades[file] = ups
		for _, u := range ups {
			log.Generatef("%s:%d: %s %s -> %s", file, u.line, u.kind, u.old, u.new)
		}
	}
	if len(order) == 0 {
		log.Successf("no custom resources found that require migration")
		return nil
	}
	if f.dryRun {
		log.Successf("dry-run mode enabled, no changes will be made")
		return nil
	}
	if !f.yes {
		ok, err := c.confirm("Are you sure you want to proceed with the above upgrades")
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("migration cancelled")
		}
	}
	for _, file := range order {
		if err := rewriteUpgrades(file, upgrades[file]); err != nil {
			return err
		}
		log.Successf("file %s migrated successfully", file)
	}
	log.Successf("custom resources migrated successfully")
	return nil
}

// migrateFileList is path itself (a file with a matching extension) or the regular files
// with a matching extension under it, in walk order.
func migrateFileList(path string, extensions []string, log *Logger) ([]string, error) {
	path = filepath.Clean(path)
	matches := func(p string) bool {
		return slices.ContainsFunc(extensions, func(e string) bool { return strings.HasSuffix(p, e) })
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, fmt.Errorf("failed to stat path %s: %w", path, err)
	}
	if !fi.IsDir() {
		if !matches(path) {
			return nil, fmt.Errorf("file %s does not match the specified extensions: %v", path, strings.Join(extensions, ", "))
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("file %s is irregular", path)
		}
		return []string{path}, nil
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !matches(p) {
			return err
		}
		if !d.Type().IsRegular() {
			log.Warningf("skipping irregular file %s", p)
			return nil
		}
		files = append(files, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("failed to walk directory %s: %w", path, err)
	}
	return files, nil
}

// detectUpgrades parses every YAML document of file and lists the Flux objects whose
// apiVersion is not the target's. A file that is not YAML (a template) is skipped.
func detectUpgrades(file string, targets map[schema.GroupKind]string) ([]apiUpgrade, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("failed to read file %s: %w", file, err)
	}
	var out []apiUpgrade
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			// Not YAML (e.g. a Helm template): nothing this command can rewrite safely.
			return out, nil
		}
		if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
			continue
		}
		var apiVersion, kind *yaml.Node
		m := doc.Content[0]
		for i := 0; i+1 < len(m.Content); i += 2 {
			switch m.Content[i].Value {
			case "apiVersion":
				apiVersion = m.Content[i+1]
			case "kind":
				kind = m.Content[i+1]
			}
		}
		if apiVersion == nil || kind == nil || apiVersion.Kind != yaml.ScalarNode {
			continue
		}
		gv, err := schema.ParseGroupVersion(apiVersion.Value)
		if err != nil {
			continue
		}
		want, ok := targets[schema.GroupKind{Group: gv.Group, Kind: kind.Value}]
		if !ok || want == gv.Version {
			continue
		}
		out = append(out, apiUpgrade{line: apiVersion.Line, column: apiVersion.Column, kind: kind.Value, old: gv.Version, new: want})
	}
}

// rewriteUpgrades replaces the version at each upgrade's position, keeping the file's mode.
func rewriteUpgrades(file string, ups []apiUpgrade) error {
	fi, err := os.Stat(file)
	if err != nil {
		return fmt.Errorf("failed to stat file %s: %w", file, err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("failed to read file %s: %w", file, err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	for _, u := range ups {
		line := lines[u.line-1]
		// The value starts at the node's column (quoted or not); the version ends it.
		start := u.column - 1
		i := strings.Index(line[start:], "/"+u.old)
		if i < 0 {
			return fmt.Errorf("%s:%d: apiVersion %s not found where it was parsed", file, u.line, u.old)
		}
		at := start + i + 1
		lines[u.line-1] = line[:at] + u.new + line[at+len(u.old):]
	}
	if err := os.WriteFile(file, []byte(strings.Join(lines, "")), fi.Mode().Perm()); err != nil {
		return fmt.Errorf("failed to write file %s: %w", file, err)
	}
	return nil
}
