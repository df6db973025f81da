package app

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"helm.sh/helm/v3/pkg/chart"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"gotk.dev/cli/internal/fluxdiff"
	helmv2 "gotk.dev/helm-controller/api/v2"
	"gotk.dev/helmrender"
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
	chrt, err := c.diffChart(ctx, kube, hr, o)
	if err != nil {
		return false, err
	}
	cluster := fluxdiff.Cluster{Client: kube.Client, Discovery: kube.Clientset.Discovery(), KubeVersion: ver.GitVersion}
	objs, err := fluxdiff.RenderHelmRelease(ctx, cluster, hr, chrt)
	if err != nil {
		return false, err
	}
	changes, diffErr := fluxdiff.Compute(ctx, kube.Client, fluxdiff.HelmReleaseRequest(hr, objs))
	return c.printChanges(changes, diffErr)
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
	chrt, err := fluxdiff.FetchChart(ctx, kube.Client, hr)
	if err != nil && hr.Spec.ChartRef == nil {
		return nil, fmt.Errorf("%w: give a local chart with --chart", err)
	}
	if err != nil {
		return nil, fmt.Errorf("%w (use --chart otherwise)", err)
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
