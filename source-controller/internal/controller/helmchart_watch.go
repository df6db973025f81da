package controller

import (
	"context"
	"sort"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"

	sourcev1 "gotk.dev/source-controller/api/v1"

	"gotk.dev/source-controller/internal/helm/repository"
)

const (
	// helmChartSourceIndexKey indexes HelmCharts by "<source kind>/<source name>" (sources
	// are in the chart's namespace), so a source's new artifact wakes exactly its charts.
	helmChartSourceIndexKey = ".metadata.helmChartSource"
	// helmRepositoryURLIndexKey indexes HelmRepositories by their normalised URL, so a chart
	// dependency's repository is found without listing a namespace.
	helmRepositoryURLIndexKey = ".metadata.helmRepositoryURL"
)

// indexHelmChartSources registers the two field indexes.
func indexHelmChartSources(mgr ctrl.Manager) error {
	indexer := mgr.GetFieldIndexer()
	if err := indexer.IndexField(context.Background(), &sourcev1.HelmChart{}, helmChartSourceIndexKey,
		func(o client.Object) []string {
			ref := o.(*sourcev1.HelmChart).Spec.SourceRef
			return []string{ref.Kind + "/" + ref.Name}
		}); err != nil {
		return err
	}
	return indexer.IndexField(context.Background(), &sourcev1.HelmRepository{}, helmRepositoryURLIndexKey,
		func(o client.Object) []string {
			return []string{repository.NormalizeURL(o.(*sourcev1.HelmRepository).Spec.URL)}
		})
}

// chartsOfSource maps a source object to the HelmCharts that use it.
func (r *HelmChartReconciler) chartsOfSource() handler.EventHandler {
	return handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []ctrl.Request {
		kind := sourceKindOf(obj)
		if kind == "" {
			return nil
		}
		var charts sourcev1.HelmChartList
		if err := r.List(ctx, &charts, client.InNamespace(obj.GetNamespace()),
			client.MatchingFields{helmChartSourceIndexKey: kind + "/" + obj.GetName()}); err != nil {
			ctrl.LoggerFrom(ctx).Error(err, "listing the HelmCharts of a source", "source", kind+"/"+obj.GetNamespace()+"/"+obj.GetName())
			return nil
		}
		reqs := make([]ctrl.Request, 0, len(charts.Items))
		for _, c := range charts.Items {
			reqs = append(reqs, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(&c)})
		}
		return reqs
	})
}

func sourceKindOf(obj client.Object) string {
	switch obj.(type) {
	case *sourcev1.HelmRepository:
		return sourcev1.HelmRepositoryKind
	case *sourcev1.GitRepository:
		return sourcev1.GitRepositoryKind
	case *sourcev1.Bucket:
		return sourcev1.BucketKind
	}
	return ""
}

// helmRepositoryForURL returns the HelmRepository of namespace whose URL is repoURL (already
// normalised), the first by name when several match; nil when none does.
func (r *HelmChartReconciler) helmRepositoryForURL(ctx context.Context, namespace, repoURL string) (*sourcev1.HelmRepository, error) {
	var repos sourcev1.HelmRepositoryList
	if err := r.List(ctx, &repos, client.InNamespace(namespace), client.MatchingFields{helmRepositoryURLIndexKey: repoURL}); err != nil {
		return nil, err
	}
	if len(repos.Items) == 0 {
		return nil, nil
	}
	sort.Slice(repos.Items, func(i, j int) bool { return repos.Items[i].Name < repos.Items[j].Name })
	return &repos.Items[0], nil
}
