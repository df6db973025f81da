// Package repository talks to classic Helm chart repositories (HelmRepository spec.type
// "default"): a static HTTP server with an index.yaml and chart archives.
//
// It builds client options from the HelmRepository spec and its Secrets (OptionsFromSpec),
// downloads and normalises the index (Client.FetchIndex), reads a stored index back
// (LoadIndexFile, for the shared index cache), picks a chart version from an index
// (SelectVersion) and downloads chart archives with helm's credential rules
// (Client.DownloadChart). Every download is bounded: the index by --helm-index-max-size and a
// chart by --helm-chart-max-size.
//
// Parsing uses helm's own types (helm.sh/helm/v3/pkg/repo.IndexFile and ChartVersion.Validate);
// nothing here reads YAML by hand.
package repository
