// Package plugin is the Flux CLI plugin system, as upstream: executables named flux-<name> in
// the plugin directory ($FLUXCD_PLUGINS, else ~/.fluxcd/plugins) become `flux <name>`, and
// the plugin catalog (cli.fluxcd.io/v1beta1: catalog.yaml and one <name>.yaml manifest per
// plugin under $FLUXCD_PLUGIN_CATALOG) says what can be installed, from where, with which
// checksum. Installs leave a receipt (flux-<name>.yaml) that update reads.
package plugin

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// The catalog schema, and where the catalog lives.
const (
	APIVersion         = "cli.fluxcd.io/v1beta1"
	PluginKind         = "Plugin"
	CatalogKind        = "PluginCatalog"
	DefaultCatalogBase = "https://github.com/fluxcd/plugins/releases/latest/download/"
	EnvCatalog         = "FLUXCD_PLUGIN_CATALOG"
)

// Manifest is one plugin's manifest (<name>.yaml).
type Manifest struct {
	APIVersion  string    `json:"apiVersion"`
	Kind        string    `json:"kind"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Homepage    string    `json:"homepage,omitempty"`
	Source      string    `json:"source,omitempty"`
	Bin         string    `json:"bin"`
	Versions    []Version `json:"versions"`
}

// Version is one release of a plugin, newest first in a manifest.
type Version struct {
	Version   string     `json:"version"`
	Platforms []Platform `json:"platforms"`
}

// Platform is the download of a version for one OS and architecture.
type Platform struct {
	OS       string `json:"os"`
	Arch     string `json:"arch"`
	URL      string `json:"url"`
	Checksum string `json:"checksum"` // "sha256:<hex>"
	// ExtractPath is the binary's exact path inside an archive; empty means the entry
	// whose base name is the manifest's Bin.
	ExtractPath string `json:"extractPath,omitempty"`
}

// Catalog is catalog.yaml: every plugin available.
type Catalog struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Plugins    []CatalogEntry `json:"plugins"`
}

// CatalogEntry is a plugin in the catalog.
type CatalogEntry struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Homepage    string `json:"homepage,omitempty"`
	Source      string `json:"source,omitempty"`
	License     string `json:"license,omitempty"`
}

// Receipt records an installation.
type Receipt struct {
	Name        string   `json:"name"`
	Version     string   `json:"version"`
	InstalledAt string   `json:"installedAt"`
	Platform    Platform `json:"platform"`
}

// CatalogClient reads the catalog from Base (ending in "/").
type CatalogClient struct {
	Base string
	HTTP *http.Client
}

// NewCatalogClient reads from $FLUXCD_PLUGIN_CATALOG (getenv) or the default catalog.
func NewCatalogClient(getenv func(string) string) *CatalogClient {
	base := getenv(EnvCatalog)
	if base == "" {
		base = DefaultCatalogBase
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	return &CatalogClient{Base: base, HTTP: &http.Client{Timeout: 30 * time.Second}}
}

// maxDocument bounds catalog documents.
const maxDocument = 10 << 20

func (c *CatalogClient) get(ctx context.Context, name string) ([]byte, error) {
	url := c.Base + name
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d from %s", resp.StatusCode, url)
	}
	return io.ReadAll(io.LimitReader(resp.Body, maxDocument))
}

// Manifest fetches <name>.yaml and checks its schema.
func (c *CatalogClient) Manifest(ctx context.Context, name string) (*Manifest, error) {
	data, err := c.get(ctx, name+".yaml")
	if err != nil {
		return nil, fmt.Errorf("plugin %q not found in catalog %s: %w", name, c.Base, err)
	}
	var m Manifest
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("failed to parse plugin manifest for %q: %w", name, err)
	}
	if m.APIVersion != APIVersion || m.Kind != PluginKind {
		return nil, fmt.Errorf("plugin %q has unsupported apiVersion/kind %s/%s (expected %s/%s)", name, m.APIVersion, m.Kind, APIVersion, PluginKind)
	}
	if m.Bin == "" || !strings.HasPrefix(m.Bin, "flux-") || strings.ContainsAny(m.Bin, `/\`) {
		return nil, fmt.Errorf("plugin %q has an invalid bin %q (want flux-<name>)", name, m.Bin)
	}
	return &m, nil
}

// Catalog fetches catalog.yaml and checks its schema.
func (c *CatalogClient) Catalog(ctx context.Context) (*Catalog, error) {
	data, err := c.get(ctx, "catalog.yaml")
	if err != nil {
		return nil, fmt.Errorf("failed to fetch plugin catalog: %w", err)
	}
	var cat Catalog
	if err := yaml.Unmarshal(data, &cat); err != nil {
		return nil, fmt.Errorf("failed to parse plugin catalog: %w", err)
	}
	if cat.APIVersion != APIVersion || cat.Kind != CatalogKind {
		return nil, fmt.Errorf("plugin catalog has unsupported apiVersion/kind %s/%s (expected %s/%s)", cat.APIVersion, cat.Kind, APIVersion, CatalogKind)
	}
	return &cat, nil
}

// Resolve picks the version ("" is the newest; "sha256:<hex>" is the version with a
// download of that checksum for goos/goarch) and its download for goos/goarch.
func (m *Manifest) Resolve(version, goos, goarch string) (*Version, *Platform, error) {
	if len(m.Versions) == 0 {
		return nil, nil, fmt.Errorf("plugin %q has no versions", m.Name)
	}
	for i := range m.Versions {
		v := &m.Versions[i]
		switch {
		case version == "" && i > 0:
			continue
		case version != "" && !strings.HasPrefix(version, "sha256:") && v.Version != strings.TrimPrefix(version, "v") && v.Version != version:
			continue
		}
		for j := range v.Platforms {
			p := &v.Platforms[j]
			if p.OS != goos || p.Arch != goarch {
				continue
			}
			if strings.HasPrefix(version, "sha256:") && p.Checksum != version {
				continue
			}
			return v, p, nil
		}
		if !strings.HasPrefix(version, "sha256:") {
			return nil, nil, fmt.Errorf("plugin %q %s has no binary for %s/%s", m.Name, v.Version, goos, goarch)
		}
	}
	return nil, nil, fmt.Errorf("version %q not found for plugin %q", version, m.Name)
}
