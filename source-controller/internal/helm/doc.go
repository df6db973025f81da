// Package helm holds what the Helm domain packages below it share: the size limits
// source-controller enforces on untrusted Helm data (with their upstream flag names) and the
// error that names a limit.
//
// The packages under it:
//   - repository: classic HTTP(S) Helm repositories: client options from the HelmRepository
//     spec and Secrets, index fetch and normalisation (the artifact and its revision), chart
//     version selection, chart download with helm's credential rules.
//   - ocirepo: Helm charts in OCI registries (HelmRepository spec.type "oci").
//   - indexcache: parsed indexes shared by every HelmChart of a repository.
//   - chart: the HelmChart artifact: pull or package, values files, dependencies, version
//     metadata.
//
// Its tests use the Helm repository test peer in gotk.dev/internal/testing/helmrepo.
//
// How the reconciler steps use them:
//
// HelmRepository (type default):
//
//	opts, err := repository.OptionsFromSpec(&obj.Spec, authSecret, certSecret, limits)
//	client, err := repository.NewClient(*opts)          // defer client.Close()
//	idx, err := client.FetchIndex(ctx)                   // bounded, parsed, normalised
//	// idx.Revision is status.artifact.revision; idx.JSON is the artifact content
//	// (upstream names the file index-<hex>.yaml). After storing it:
//	cache.Set(indexcache.Key{Repository: ns + "/" + name, Revision: idx.Revision}, idx.File)
//
// HelmChart from a HelmRepository:
//
//	index, err := cache.Get(ctx, indexcache.Key{Repository: ..., Revision: repo.Status.Artifact.Revision},
//		func() (*repo.IndexFile, error) { return repository.LoadIndexFile(storage.LocalPath(art), limits.MaxIndexSize) })
//	remote := &repository.ChartRepository{Client: client, Index: index}   // or an *ocirepo.Client
//	opts := chart.BuildOptions{ValuesFiles: ..., IgnoreMissingValuesFiles: ...,
//		VersionMetadata: chart.VersionMetadata(chart.MetadataOptions{...}), Limits: limits}
//	res, err := chart.ResolveRemote(ctx, remote, chart.RemoteReference{Name: spec.Chart, Version: spec.Version}, opts)
//	// compare res.Name/res.Version with the current artifact; when they differ (or the
//	// generation changed):
//	build, err := chart.BuildRemote(ctx, remote, res, opts)
//
// HelmChart from a GitRepository or Bucket (artifact extracted to dir):
//
//	build, err := chart.BuildLocal(ctx, chart.LocalReference{Root: dir, Path: spec.Chart}, opts, resolver)
//
// build.Data is stored content-addressed as build.FileName(); build.Name, build.Version and
// build.ValuesFiles go to status.observedChartName, status.artifact.revision and
// status.observedValuesFiles; build.Summary() is the Ready message. Failures are
// *chart.BuildError whose Reason carries the condition reason and whether it is persistent.
package helm
