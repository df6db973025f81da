package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	helmaction "helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	helmv2 "gotk.dev/helm-controller/api/v2"
	"gotk.dev/helmrender"
	"gotk.dev/helmrender/values"
	"gotk.dev/pkg/artifact"
	"gotk.dev/pkg/inventory"
	"gotk.dev/pkg/ssa"
)

// hrDiffOptions are the flags of flux diff helmrelease.
type hrDiffOptions struct {
	// chart is a local chart (directory or .tgz) to render instead of the source's artifact.
	chart string
	// file is a local HelmRelease manifest to diff instead of the one in the cluster.
	file string
}

func newDiffHelmReleaseCommand(c *Command) *cobra.Command {
	o := &hrDiffOptions{}
	cmd := &cobra.Command{
		Use:     "helmrelease [name]",
		Aliases: []string{"hr", "helmreleases"},
		Short:   "Diff HelmRelease",
		Long: `The diff command renders the release of a HelmRelease with the values helm-controller would use
(spec.valuesFrom and spec.values), then performs a server-side dry-run and outputs the diff
with the cluster. The chart is the source's artifact, or a local chart with --chart.
Exit status: 0 No differences were found. 1 Differences were found. >1 diff failed with an error.`,
		Example: `  # Preview what the next reconcile of a HelmRelease would change
  flux diff helmrelease podinfo

  # Preview a local chart with the HelmRelease's values
  flux diff helmrelease podinfo --chart ./charts/podinfo

  # Preview a local change of the HelmRelease itself
  flux diff helmrelease podinfo --helmrelease-file ./apps/podinfo/release.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			changed, err := c.runDiffHelmRelease(cmd.Context(), args[0], o)
			if err != nil {
				return &ExitError{Code: 2, Err: err}
			}
			if changed {
				c.Log().Warningf("%s", errDiffDetected)
				return &ExitError{Code: 1}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&o.chart, "chart", "", "path to a local chart (directory or packaged .tgz) to render instead of the chart source's artifact")
	cmd.Flags().StringVar(&o.file, "helmrelease-file", "", "path to a local HelmRelease manifest to diff instead of the one in the cluster")
	return cmd
}

// runDiffHelmRelease renders the release as helm-controller would make it and dry-run
// applies it as helm-controller: "✚ X created", "► X drifted" with a unified diff, and
// "► X deleted" for objects of the current release (status.inventory) the render no longer
// has. It reports whether anything would change.
func (c *Command) runDiffHelmRelease(ctx context.Context, name string, o *hrDiffOptions) (bool, error) {
	kube, ver, err := c.connect(ctx)
	if err != nil {
		return false, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.Global.Timeout)
	defer cancel()
	live, err := getHelmRelease(ctx, kube, c.Global.Namespace, name)
	if err != nil && o.file == "" {
		return false, err
	}
	hr := live
	if o.file != "" {
		if hr, err = readHelmReleaseFile(o.file, name, c.Global.Namespace); err != nil {
			return false, err
		}
		if live != nil {
			hr.Status = live.Status
		}
	}
	vals, err := values.Compose(ctx, values.ClientGetter(kube.Client, hr.Namespace), hr.Namespace, hr.Spec.ValuesFrom, hr.GetValues())
	if err != nil {
		return false, fmt.Errorf("HelmRelease %s/%s: %w", hr.Namespace, hr.Name, err)
	}
	chrt, err := c.diffChart(ctx, kube, hr, o)
	if err != nil {
		return false, err
	}
	apiVersions, err := helmaction.GetVersionSet(kube.Clientset.Discovery())
	if err != nil {
		return false, fmt.Errorf("discover the cluster's API versions: %w", err)
	}
	rls, err := helmrender.Render(helmrender.Request{Object: hr, Chart: chrt, Values: vals, KubeVersion: ver.GitVersion, APIVersions: apiVersions})
	if err != nil {
		return false, err
	}
	objs, err := releaseObjects(rls.Manifest, hr.GetReleaseNamespace(), kube.Mapper)
	if err != nil {
		return false, err
	}
	if hr.GetInstall().GetCRDs() != helmv2.Skip || hr.GetUpgrade().GetCRDs() != helmv2.Skip {
		for _, crd := range chrt.CRDObjects() {
			docs, err := releaseObjects(string(crd.File.Data), "", kube.Mapper)
			if err != nil {
				return false, fmt.Errorf("CRD file %s: %w", crd.Filename, err)
			}
			objs = append(docs, objs...)
		}
	}
	m := ssa.NewManager(kube.Client, ssa.Owner{Field: "helm-controller", Group: helmv2.GroupName})
	var rules []ssa.IgnoreRule
	for _, r := range hr.GetDriftDetection().Ignore {
		rules = append(rules, ssa.IgnoreRule{Paths: r.Paths, Target: r.Target})
	}
	entries, diffErr := m.Diff(ctx, objs, ssa.ApplyOptions{IgnoreRules: rules})
	var out strings.Builder
	changed := false
	for _, e := range entries {
		switch e.Action {
		case ssa.Created:
			changed = true
			fmt.Fprintf(&out, "✚ %s created\n", e.ObjMetadata)
		case ssa.Configured:
			if e.Live == nil || e.Merged == nil {
				continue
			}
			d, err := objectDiff(e.Live, e.Merged)
			if err != nil {
				return changed, fmt.Errorf("%s: %w", e.ObjMetadata, err)
			}
			if d == "" {
				continue
			}
			changed = true
			fmt.Fprintf(&out, "► %s drifted\n%s\n", e.ObjMetadata, d)
		}
	}
	if inv := hr.Status.Inventory; inv != nil && diffErr == nil {
		current := &inventory.Inventory{}
		for _, e := range inv.Entries {
			current.Entries = append(current.Entries, inventory.Entry{ID: e.ID, Version: e.Version})
		}
		rendered := inventory.New(objs)
		for _, stale := range inventory.Diff(current, rendered) {
			// CRDs are never deleted by an upgrade.
			if stale.Kind == "CustomResourceDefinition" {
				continue
			}
			changed = true
			fmt.Fprintf(&out, "► %s deleted\n", stale)
		}
	}
	if _, err := c.Out.Write([]byte(out.String())); err != nil {
		return changed, err
	}
	if diffErr != nil {
		return changed, fmt.Errorf("server-side dry-run failed: %w", diffErr)
	}
	return changed, nil
}

// diffChart loads the chart to render: --chart, else the artifact of the HelmRelease's
// source (spec.chartRef, or the HelmChart of spec.chart), downloaded with its digest
// checked; a chart from an OCIRepository gets its digest version as helm-controller gives it.
func (c *Command) diffChart(ctx context.Context, kube *Kube, hr *helmv2.HelmRelease, o *hrDiffOptions) (*chart.Chart, error) {
	if o.chart != "" {
		chrt, err := helmrender.LoadChart(o.chart)
		if err != nil {
			return nil, fmt.Errorf("--chart %s: %w", o.chart, err)
		}
		return chrt, nil
	}
	var kind, ns, name string
	switch {
	case hr.Spec.ChartRef != nil:
		kind, ns, name = hr.Spec.ChartRef.Kind, hr.Spec.ChartRef.Namespace, hr.Spec.ChartRef.Name
		if ns == "" {
			ns = hr.Namespace
		}
	default:
		ns, name = hr.Status.GetHelmChart()
		kind = "HelmChart"
		if name == "" {
			return nil, fmt.Errorf("HelmRelease %s/%s has no HelmChart yet (status.helmChart): give a local chart with --chart", hr.Namespace, hr.Name)
		}
	}
	k, err := LookupKind("", kind)
	if err != nil {
		return nil, err
	}
	a, err := artifact.GetSourceArtifact(ctx, kube.Client, artifact.SourceRef{APIVersion: k.GroupVersion.String(), Kind: kind, Namespace: ns, Name: name})
	if err != nil {
		return nil, err
	}
	if a == nil {
		return nil, fmt.Errorf("%s/%s/%s has no artifact yet", kind, ns, name)
	}
	dir, err := os.MkdirTemp("", "flux-diff-chart-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	fetcher := &artifact.Fetcher{Retries: 2, Client: &http.Client{Timeout: time.Minute}}
	if err := fetcher.Fetch(ctx, a.URL, a.Digest, dir); err != nil {
		return nil, fmt.Errorf("fetch the chart of %s/%s/%s (is its artifact server reachable from here? use --chart otherwise): %w", kind, ns, name, err)
	}
	chrt, err := helmrender.LoadChart(dir)
	if err != nil {
		return nil, fmt.Errorf("chart of %s/%s/%s revision %s: %w", kind, ns, name, a.Revision, err)
	}
	if kind == "OCIRepository" {
		v, err := helmrender.WithDigest(chrt.Metadata.Version, a.Revision)
		if err != nil {
			return nil, err
		}
		chrt.Metadata.Version = v.Version
	}
	return chrt, nil
}

// readHelmReleaseFile reads the HelmRelease name from a local manifest (one of its documents).
func readHelmReleaseFile(path, name, namespace string) (*helmv2.HelmRelease, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			return nil, fmt.Errorf("%s: no HelmRelease %q (%v)", path, name, err)
		}
		if u.GetKind() != helmv2.HelmReleaseKind || u.GetName() != name {
			continue
		}
		hr := &helmv2.HelmRelease{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, hr); err != nil {
			return nil, fmt.Errorf("%s: HelmRelease %s: %w", path, name, err)
		}
		if hr.Namespace == "" {
			hr.Namespace = namespace
		}
		return hr, nil
	}
}

// releaseObjects decodes rendered manifests; namespaced objects without a namespace go to
// namespace, cluster-scoped ones have none.
func releaseObjects(manifest, namespace string, mapper apimeta.RESTMapper) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(manifest), 4096)
	var out []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		err := dec.Decode(&u.Object)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("rendered manifest: %w", err)
		}
		if len(u.Object) == 0 {
			continue
		}
		gvk := u.GroupVersionKind()
		mapping, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		switch {
		case err == nil && mapping.Scope.Name() == apimeta.RESTScopeNameRoot:
			u.SetNamespace("")
		case u.GetNamespace() == "":
			u.SetNamespace(namespace)
		}
		out = append(out, u)
	}
}
