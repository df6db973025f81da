package chart

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"strings"

	helmchart "helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"sigs.k8s.io/yaml"

	"gotk.dev/source-controller/internal/helm"
)

// EffectiveValuesFiles returns the values files that change the chart: spec.valuesFiles,
// except that a list holding only "values.yaml" (the chart's own defaults) changes nothing
// and is treated as empty, as upstream does.
func EffectiveValuesFiles(files []string) []string {
	if len(files) == 1 && path.Clean(filepath.ToSlash(files[0])) == chartutil.ValuesfileName {
		return nil
	}
	return files
}

// mergeValuesFromRoot merges the values files (paths relative to the source artifact root)
// in order, later files winning (maps merge key by key, anything else is replaced). It
// returns the merged values and the files that contributed; missing files are skipped when
// ignoreMissing is set and an error otherwise. A file outside root, or one reached through a
// symlink pointing outside it, is an error naming it.
func mergeValuesFromRoot(root string, files []string, ignoreMissing bool, limits helm.Limits) (map[string]any, []string, error) {
	merged := map[string]any{}
	var applied []string
	for _, f := range files {
		p, err := resolveInRoot(root, f, "source artifact")
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				if ignoreMissing {
					continue
				}
				return nil, nil, fmt.Errorf("no values file found at path '%s'", f)
			}
			return nil, nil, fmt.Errorf("values file: %w", err)
		}
		data, err := readFileLimited(p, limits.MaxChartFileSize, fmt.Sprintf("values file '%s'", f))
		if err != nil {
			return nil, nil, err
		}
		if err := mergeValuesFile(merged, data, f); err != nil {
			return nil, nil, err
		}
		applied = append(applied, f)
	}
	return merged, applied, nil
}

// mergeValuesFromChart merges values files that live inside a packaged chart (paths relative
// to the chart root): what HelmCharts from a HelmRepository can use. "values.yaml" is the
// chart's default values.
func mergeValuesFromChart(c *helmchart.Chart, files []string, ignoreMissing bool) (map[string]any, []string, error) {
	merged := map[string]any{}
	var applied []string
	for _, f := range files {
		clean := path.Clean(filepath.ToSlash(f))
		if path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
			return nil, nil, fmt.Errorf("values file: %w", &PathError{Path: f, Reason: "is outside the chart"})
		}
		var data []byte
		found := false
		for _, raw := range append(append([]*helmchart.File{}, c.Raw...), c.Files...) {
			if raw.Name == clean {
				data, found = raw.Data, true
				break
			}
		}
		if !found {
			if ignoreMissing {
				continue
			}
			return nil, nil, fmt.Errorf("no values file found at path '%s' in chart '%s'", f, c.Name())
		}
		if err := mergeValuesFile(merged, data, f); err != nil {
			return nil, nil, err
		}
		applied = append(applied, f)
	}
	return merged, applied, nil
}

// mergeValuesFile parses one values file and merges it into dst.
func mergeValuesFile(dst map[string]any, data []byte, name string) error {
	values := map[string]any{}
	if err := yaml.Unmarshal(data, &values); err != nil {
		// sigs.k8s.io/yaml errors carry the line: "error converting YAML to JSON: yaml: line 3: ...".
		return fmt.Errorf("failed to parse values file '%s': %w", name, err)
	}
	mergeMaps(dst, values)
	return nil
}

// mergeMaps merges src into dst: nested maps merge key by key, every other value (lists
// included) replaces the one in dst. This is how `helm -f a.yaml -f b.yaml` and upstream
// source-controller combine values files.
func mergeMaps(dst, src map[string]any) {
	for k, v := range src {
		if sv, ok := v.(map[string]any); ok {
			if dv, ok := dst[k].(map[string]any); ok {
				mergeMaps(dv, sv)
				continue
			}
			cp := map[string]any{}
			mergeMaps(cp, sv)
			dst[k] = cp
			continue
		}
		dst[k] = v
	}
}

// replaceValues makes values the chart's default values: values.yaml in the packaged chart
// is rewritten with them.
func replaceValues(c *helmchart.Chart, values map[string]any) error {
	data, err := yaml.Marshal(values)
	if err != nil {
		return fmt.Errorf("serialise merged values: %w", err)
	}
	if len(values) == 0 {
		data = nil
	}
	c.Values = values
	for _, f := range c.Raw {
		if f.Name == chartutil.ValuesfileName {
			f.Data = data
			return nil
		}
	}
	c.Raw = append(c.Raw, &helmchart.File{Name: chartutil.ValuesfileName, Data: data})
	return nil
}
