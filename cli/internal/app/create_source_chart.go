package app

import (
	"errors"
	"fmt"
	"strings"

	"github.com/fluxcd/pkg/apis/meta"
	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	sourcev1 "gotk.dev/source-controller/api/v1"
)

// sourceChartFlags are create source chart's own flags.
type sourceChartFlags struct {
	source, chart, version, strategy string
	verifyProvider, verifySecretRef  string
	verifySubject, verifyIssuer      string
}

func newCreateSourceChartCommand(c *Command, cf *createFlags) *cobra.Command {
	f := &sourceChartFlags{}
	cmd := &cobra.Command{
		Use:   "chart [name]",
		Short: "Create or update a HelmChart source",
		Long:  "The create source chart command generates a HelmChart resource and waits for the chart to be available.",
		Example: `  # Create a source for a chart residing in a HelmRepository
  flux create source chart podinfo --source=HelmRepository/podinfo --chart=podinfo --chart-version=6.x

  # Create a source for a chart residing in a Git repository
  flux create source chart podinfo --source=GitRepository/podinfo --chart=./charts/podinfo

  # Create a source for a chart residing in a S3 Bucket
  flux create source chart podinfo --source=Bucket/podinfo --chart=./charts/podinfo`,
		Args: nameArg("HelmChart source"),
		RunE: func(cmd *cobra.Command, args []string) error {
			obj, err := f.helmChart(args[0], c.Global.Namespace, cf)
			if err != nil {
				return err
			}
			t, err := c.beginCreate(cmd, cf, obj)
			if err != nil || t == nil {
				return err
			}
			defer t.cancel()
			c.Log().Generatef("generating HelmChart source")
			k, _ := LookupKind("source", "chart")
			got, _, err := c.applyAndWait(t.ctx, t.kube, k, t.u, "HelmChart source")
			if err != nil {
				return err
			}
			c.Log().Successf("HelmChart source reconciliation completed")
			if _, ok, _ := unstructured.NestedMap(got.Object, "status", "artifact"); !ok {
				return errors.New("HelmChart source reconciliation completed but no artifact was found")
			}
			c.Log().Successf("%s", revisionMessage(k, got, ":"))
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.source, "source", "", "source that contains the chart in the format '<kind>/<name>', where kind must be one of: (HelmRepository, GitRepository, Bucket)")
	fs.StringVar(&f.chart, "chart", "", "Helm chart name or path")
	fs.StringVar(&f.version, "chart-version", "", "Helm chart version, accepts a semver range (ignored for charts from GitRepository sources)")
	fs.StringVar(&f.strategy, "reconcile-strategy", sourcev1.ReconcileStrategyChartVersion, "the reconcile strategy for helm chart (accepted values: Revision and ChartVersion)")
	fs.StringVar(&f.verifyProvider, "verify-provider", "", "the OCI verify provider name to use for signature verification, available options are: (cosign)")
	fs.StringVar(&f.verifySecretRef, "verify-secret-ref", "", "the name of a secret to use for signature verification")
	fs.StringVar(&f.verifySubject, "verify-subject", "", "regular expression to use for the OIDC subject during signature verification")
	fs.StringVar(&f.verifyIssuer, "verify-issuer", "", "regular expression to use for the OIDC issuer during signature verification")
	return cmd
}

// helmChart builds the HelmChart the flags describe.
func (f *sourceChartFlags) helmChart(name, ns string, cf *createFlags) (*sourcev1.HelmChart, error) {
	labels, err := parseLabels(cf.labels)
	if err != nil {
		return nil, err
	}
	kind, sourceName, ok := strings.Cut(f.source, "/")
	switch {
	case f.source == "":
		return nil, errors.New("--source is required")
	case !ok || sourceName == "" || strings.Contains(sourceName, "/"):
		return nil, fmt.Errorf("invalid --source %q: want <kind>/<name>", f.source)
	case kind != sourcev1.HelmRepositoryKind && kind != sourcev1.GitRepositoryKind && kind != sourcev1.BucketKind:
		return nil, fmt.Errorf("invalid --source kind %q: want HelmRepository, GitRepository or Bucket", kind)
	case f.chart == "":
		return nil, errors.New("--chart is required")
	}
	switch f.strategy {
	case sourcev1.ReconcileStrategyChartVersion, sourcev1.ReconcileStrategyRevision:
	default:
		return nil, fmt.Errorf("invalid --reconcile-strategy %q: want ChartVersion or Revision", f.strategy)
	}
	obj := &sourcev1.HelmChart{
		TypeMeta:   metav1.TypeMeta{APIVersion: sourcev1.GroupVersion.String(), Kind: sourcev1.HelmChartKind},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: sourcev1.HelmChartSpec{
			Chart:             f.chart,
			Version:           f.version,
			SourceRef:         sourcev1.LocalHelmChartSourceReference{Kind: kind, Name: sourceName},
			Interval:          metav1.Duration{Duration: cf.interval},
			ReconcileStrategy: f.strategy,
		},
	}
	if f.verifyProvider != "" {
		if f.verifyProvider != "cosign" {
			return nil, fmt.Errorf("invalid --verify-provider %q: want cosign", f.verifyProvider)
		}
		v := &sourcev1.OCIVerification{Provider: f.verifyProvider}
		if f.verifySecretRef != "" {
			v.SecretRef = &meta.LocalObjectReference{Name: f.verifySecretRef}
		}
		if f.verifySubject != "" || f.verifyIssuer != "" {
			v.MatchOIDCIdentity = []sourcev1.OIDCIdentityMatch{{Subject: f.verifySubject, Issuer: f.verifyIssuer}}
		}
		obj.Spec.Verify = v
	} else if f.verifySecretRef != "" || f.verifySubject != "" || f.verifyIssuer != "" {
		return nil, errors.New("--verify-secret-ref, --verify-subject and --verify-issuer need --verify-provider")
	}
	return obj, nil
}
