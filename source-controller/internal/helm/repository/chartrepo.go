package repository

import (
	"context"

	"helm.sh/helm/v3/pkg/repo"
)

// ChartRepository is a repository with its index loaded: what a HelmChart step (or a chart
// dependency) resolves and downloads charts from. Index usually comes from the shared index
// cache and must not be modified.
type ChartRepository struct {
	Client *Client
	Index  *repo.IndexFile
}

// GetChartVersion selects the entry of name matching version (see SelectVersion).
func (r *ChartRepository) GetChartVersion(_ context.Context, name, version string) (*repo.ChartVersion, error) {
	return SelectVersion(r.Index, name, version)
}

// DownloadChart downloads the archive of cv (see Client.DownloadChart).
func (r *ChartRepository) DownloadChart(ctx context.Context, cv *repo.ChartVersion) ([]byte, error) {
	return r.Client.DownloadChart(ctx, cv)
}
