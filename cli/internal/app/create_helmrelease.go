package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	"github.com/spf13/cobra"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	helmv2 "gotk.dev/helm-controller/api/v2"
	"gotk.dev/helmrender/values"
)

// helmReleaseFlags are create helmrelease's own flags.
type helmReleaseFlags struct {
	source, chart, chartVersion, chartRef  string
	releaseName, targetNamespace, sa, crds string
	reconcileStrategy, kubeConfigSecret    string
	createNamespace                        bool
	valuesFiles, valuesFrom, dependsOn     []string
	chartInterval                          time.Duration
}

func newCreateHelmReleaseCommand(c *Command, cf *createFlags) *cobra.Command {
	f := &helmReleaseFlags{}
	cmd := &cobra.Command{
		Use:     "helmrelease [name]",
		Aliases: []string{"hr"},
		Short:   "Create or update a HelmRelease resource",
		Long:    "The helmrelease create command generates a HelmRelease resource for a given chart source, applies it and waits for it to be ready.",
		Example: `  # Create a HelmRelease with a chart from a HelmRepository source
  flux create hr podinfo \
    --interval=10m \
    --source=HelmRepository/podinfo \
    --chart=podinfo \
    --chart-version=">4.0.0"

  # Create a HelmRelease of the chart of an OCIRepository
  flux create hr podinfo \
    --chart-ref=OCIRepository/podinfo.flux-system

  # Create a HelmRelease with values from local YAML files and a Secret
  flux create hr podinfo \
    --source=HelmRepository/podinfo \
    --chart=podinfo \
    --values=./my-values1.yaml \
    --values=./my-values2.yaml \
    --values-from=Secret/my-secret-values

  # Create a HelmRelease targeting another namespace, upgrading its CRDs
  flux create hr podinfo \
    --target-namespace=test \
    --create-target-namespace=true \
    --crds=CreateReplace \
    --source=HelmRepository/podinfo \
    --chart=podinfo

  # Create a HelmRelease definition on disk without applying it on the cluster
  flux create hr podinfo \
    --source=HelmRepository/podinfo \
    --chart=podinfo \
    --values=./values.yaml \
    --export > podinfo-release.yaml`,
		Args: nameArg("HelmRelease"),
		RunE: func(cmd *cobra.Command, args []string) error {
			hr, err := f.helmRelease(args[0], c.Global.Namespace, cf)
			if err != nil {
				return err
			}
			t, err := c.beginCreate(cmd, cf, hr)
			if err != nil || t == nil {
				return err
			}
			defer t.cancel()
			c.Log().Generatef("generating HelmRelease")
			k, _ := LookupKind("", "helmrelease")
			got, _, err := c.applyAndWait(t.ctx, t.kube, k, t.u, "HelmRelease")
			if err != nil {
				return err
			}
			c.Log().Successf("HelmRelease %s is ready", args[0])
			c.Log().Successf("%s", revisionMessage(k, got, ""))
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.releaseName, "release-name", "", "name used for the Helm release, defaults to a composition of '[<target-namespace>-]<HelmRelease-name>'")
	fs.StringVar(&f.source, "source", "", "source that contains the chart in the format '<kind>/<name>.<namespace>', where kind must be one of: (HelmRepository, GitRepository, Bucket)")
	fs.StringVar(&f.chart, "chart", "", "Helm chart name or path")
	fs.StringVar(&f.chartVersion, "chart-version", "", "Helm chart version, accepts a semver range (ignored for charts from GitRepository sources)")
	fs.StringVar(&f.chartRef, "chart-ref", "", "Helm chart reference in the format '<kind>/<name>.<namespace>', where kind must be one of: (OCIRepository, HelmChart)")
	fs.StringSliceVar(&f.dependsOn, "depends-on", nil, "HelmReleases that must be ready before this release can be installed, supported formats '<name>' and '<namespace>/<name>'")
	fs.StringVar(&f.targetNamespace, "target-namespace", "", "namespace to install this release, defaults to the HelmRelease namespace")
	fs.BoolVar(&f.createNamespace, "create-target-namespace", false, "create the target namespace if it does not exist")
	fs.StringVar(&f.sa, "service-account", "", "the name of the service account to impersonate when reconciling this HelmRelease")
	fs.StringVar(&f.reconcileStrategy, "reconcile-strategy", "ChartVersion", "the reconcile strategy for helm chart created by the helm release(accepted values: Revision and ChartRevision)")
	fs.DurationVar(&f.chartInterval, "chart-interval", 0, "the interval of which to check for new chart versions")
	fs.StringSliceVar(&f.valuesFiles, "values", nil, "local path to values.yaml files, also accepts comma-separated values")
	fs.StringSliceVar(&f.valuesFrom, "values-from", nil, "a Kubernetes object reference that contains the values.yaml data key in the format '<kind>/<name>', where kind must be one of: (Secret,ConfigMap)")
	fs.StringVar(&f.crds, "crds", "", "upgrade CRDs policy, available options are: (Skip, Create, CreateReplace)")
	fs.StringVar(&f.kubeConfigSecret, "kubeconfig-secret-ref", "", "the name of the Kubernetes Secret that contains a key with the kubeconfig file for connecting to a remote cluster")
	return cmd
}

// helmRelease builds the HelmRelease the flags describe.
func (f *helmReleaseFlags) helmRelease(name, ns string, cf *createFlags) (*helmv2.HelmRelease, error) {
	labels, err := parseLabels(cf.labels)
	if err != nil {
		return nil, err
	}
	hr := &helmv2.HelmRelease{
		TypeMeta:   metav1.TypeMeta{APIVersion: helmv2.GroupVersion.String(), Kind: helmv2.HelmReleaseKind},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: helmv2.HelmReleaseSpec{
			Interval:           metav1.Duration{Duration: cf.interval},
			ReleaseName:        f.releaseName,
			TargetNamespace:    f.targetNamespace,
			ServiceAccountName: f.sa,
		},
	}
	if err := f.chartSource(hr); err != nil {
		return nil, err
	}
	for _, d := range f.dependsOn {
		ref := meta.DependencyReference{Name: d}
		if dns, dname, ok := strings.Cut(d, "/"); ok {
			ref = meta.DependencyReference{Namespace: dns, Name: dname}
		}
		if ref.Name == "" {
			return nil, fmt.Errorf("invalid --depends-on %q: want <name> or <namespace>/<name>", d)
		}
		hr.Spec.DependsOn = append(hr.Spec.DependsOn, ref)
	}
	if f.createNamespace {
		hr.Spec.Install = &helmv2.Install{CreateNamespace: true}
	}
	if f.crds != "" {
		policy := helmv2.CRDsPolicy(f.crds)
		if !slices.Contains([]helmv2.CRDsPolicy{helmv2.Skip, helmv2.Create, helmv2.CreateReplace}, policy) {
			return nil, fmt.Errorf("invalid --crds %q: can be Skip, Create or CreateReplace", f.crds)
		}
		// As upstream: CRDs are created on install, the policy applies to upgrades.
		if hr.Spec.Install == nil {
			hr.Spec.Install = &helmv2.Install{}
		}
		hr.Spec.Install.CRDs = helmv2.Create
		hr.Spec.Upgrade = &helmv2.Upgrade{CRDs: policy}
	}
	if f.kubeConfigSecret != "" {
		hr.Spec.KubeConfig = &meta.KubeConfigReference{SecretRef: &meta.SecretKeyReference{Name: f.kubeConfigSecret}}
	}
	if hr.Spec.Values, err = mergeValuesFiles(f.valuesFiles); err != nil {
		return nil, err
	}
	for _, v := range f.valuesFrom {
		kind, vname, ok := strings.Cut(v, "/")
		i := slices.IndexFunc([]string{"Secret", "ConfigMap"}, func(k string) bool { return strings.EqualFold(k, kind) })
		if !ok || vname == "" || i < 0 {
			return nil, fmt.Errorf("invalid --values-from %q: want <kind>/<name> with kind Secret or ConfigMap", v)
		}
		hr.Spec.ValuesFrom = append(hr.Spec.ValuesFrom, meta.ValuesReference{Kind: []string{"Secret", "ConfigMap"}[i], Name: vname})
	}
	return hr, nil
}

// chartSource sets spec.chart from --source/--chart or spec.chartRef from --chart-ref.
func (f *helmReleaseFlags) chartSource(hr *helmv2.HelmRelease) error {
	switch {
	case f.chartRef != "" && (f.source != "" || f.chart != ""):
		return errors.New("--chart-ref cannot be combined with --source or --chart")
	case f.chartRef != "":
		kind, name, ns, err := parseKindRef("--chart-ref", f.chartRef, "OCIRepository", "HelmChart")
		if err != nil {
			return err
		}
		hr.Spec.ChartRef = &helmv2.CrossNamespaceSourceReference{Kind: kind, Name: name, Namespace: ns}
		return nil
	case f.chart == "":
		return errors.New("chart name or path is required (--chart with --source, or --chart-ref)")
	case f.source == "":
		return errors.New("--source is required with --chart")
	}
	kind, name, ns, err := parseKindRef("--source", f.source, "HelmRepository", "GitRepository", "Bucket")
	if err != nil {
		return err
	}
	if f.reconcileStrategy != "ChartVersion" && f.reconcileStrategy != "Revision" {
		return fmt.Errorf("'%s' is an invalid reconcile strategy(valid: Revision, ChartVersion)", f.reconcileStrategy)
	}
	hr.Spec.Chart = &helmv2.HelmChartTemplate{Spec: helmv2.HelmChartTemplateSpec{
		Chart:             f.chart,
		Version:           f.chartVersion,
		SourceRef:         helmv2.CrossNamespaceObjectReference{Kind: kind, Name: name, Namespace: ns},
		ReconcileStrategy: f.reconcileStrategy,
	}}
	if f.chartInterval > 0 {
		hr.Spec.Chart.Spec.Interval = &metav1.Duration{Duration: f.chartInterval}
	}
	return nil
}

// parseKindRef reads "<kind>/<name>[.<namespace>]" where kind is one of kinds (any case).
func parseKindRef(flag, s string, kinds ...string) (kind, name, ns string, err error) {
	k, rest, ok := strings.Cut(s, "/")
	i := slices.IndexFunc(kinds, func(x string) bool { return strings.EqualFold(x, k) })
	if !ok || i < 0 {
		return "", "", "", fmt.Errorf("invalid %s %q: want <kind>/<name>.<namespace> with kind one of %s", flag, s, strings.Join(kinds, ", "))
	}
	name, ns, _ = strings.Cut(rest, ".")
	if name == "" {
		return "", "", "", fmt.Errorf("invalid %s %q: no name", flag, s)
	}
	return kinds[i], name, ns, nil
}

// mergeValuesFiles reads YAML values files and merges them in order (later files win).
func mergeValuesFiles(files []string) (*apiextensionsv1.JSON, error) {
	if len(files) == 0 {
		return nil, nil
	}
	merged := map[string]interface{}{}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading values from %s failed: %w", path, err)
		}
		m := map[string]interface{}{}
		if err := yaml.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("values file %s: %w", path, err)
		}
		merged = values.Merge(merged, m)
	}
	raw, err := json.Marshal(merged)
	if err != nil {
		return nil, err
	}
	return &apiextensionsv1.JSON{Raw: raw}, nil
}
