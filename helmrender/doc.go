// Package helmrender renders the release a HelmRelease describes the way helm-controller
// makes it: values composed from spec.valuesFrom and spec.values (package values), the chart
// rendered by the Helm SDK without a cluster, then post-rendered (package postrender). The
// flux CLI uses it to show what a HelmRelease would apply (`flux diff helmrelease`,
// `flux debug helmrelease --show-values`) without importing helm-controller; helm-controller
// uses its packages for the real release.
package helmrender
