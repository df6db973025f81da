package main

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"gotk.dev/pkg/manager"

	"gotk.dev/source-controller/internal/helm/indexcache"
)

// newIndexCache builds the Helm index cache of the --helm-cache-* flags, purged in the
// background while the manager runs, and counts its events in gotk_cache_events_total as
// upstream does (event_type cache_hit and cache_miss; also cache_load for each parse of an
// index, cache_evict and cache_expire), by HelmRepository name and namespace.
func newIndexCache(rt *manager.Runtime, opts indexcache.Options) (*indexcache.Cache, error) {
	events := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gotk_cache_events_total",
		Help: "Total number of cache retrieval events for a Gitops Toolkit resource reconciliation.",
	}, []string{"event_type", "name", "namespace"})
	if err := crmetrics.Registry.Register(events); err != nil {
		return nil, err
	}
	opts.OnEvent = func(e indexcache.Event) {
		namespace, name, _ := strings.Cut(e.Key.Repository, "/")
		events.WithLabelValues("cache_"+string(e.Type), name, namespace).Inc()
	}
	cache := indexcache.New(opts)
	if err := rt.Manager.Add(cache); err != nil {
		return nil, err
	}
	return cache, nil
}
