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

// sourceOCIFlags are create source oci's own flags.
type sourceOCIFlags struct {
	url, tag, semver, digest string
	secretRef, provider      string
	ignorePaths              []string
	insecure                 bool
	sf                       *sourceFlags
}

func newCreateSourceOCICommand(c *Command, cf *createFlags, sf *sourceFlags) *cobra.Command {
	f := &sourceOCIFlags{sf: sf}
	cmd := &cobra.Command{
		Use:   "oci [name]",
		Short: "Create or update an OCIRepository",
		Long:  "The create source oci command generates an OCIRepository resource and waits for it to be ready.",
		Example: `  # Create an OCIRepository for a public container image
  flux create source oci podinfo --url=oci://ghcr.io/stefanprodan/manifests/podinfo --tag=6.1.6 --interval=10m

  # Create an OCIRepository with credentials from a Secret (flux create secret oci)
  flux create source oci podinfo --url=oci://ghcr.io/stefanprodan/manifests/podinfo --tag-semver="6.x" \
    --secret-ref=ghcr-auth`,
		Args: nameArg("OCIRepository source"),
		RunE: func(cmd *cobra.Command, args []string) error {
			repo, err := f.ociRepository(args[0], c.Global.Namespace, cf)
			if err != nil {
				return err
			}
			t, err := c.beginCreate(cmd, cf, repo)
			if err != nil || t == nil {
				return err
			}
			defer t.cancel()
			ctx, kube, u := t.ctx, t.kube, t.u
			c.Log().Generatef("generating OCIRepository source")
			k, _ := LookupKind("source", "oci")
			got, _, err := c.applyAndWait(ctx, kube, k, u, "OCIRepository source")
			if err != nil {
				return err
			}
			c.Log().Successf("OCIRepository source reconciliation completed")
			if _, ok, _ := unstructured.NestedMap(got.Object, "status", "artifact"); !ok {
				return errors.New("OCIRepository source reconciliation completed but no artifact was found")
			}
			c.Log().Successf("%s", revisionMessage(k, got, ":"))
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.url, "url", "", "the OCI repository URL, e.g. oci://ghcr.io/org/manifests/app")
	fs.StringVar(&f.tag, "tag", "", "the OCI artifact tag")
	fs.StringVar(&f.semver, "tag-semver", "", "the OCI artifact tag semver range")
	fs.StringVar(&f.digest, "digest", "", "the OCI artifact digest")
	fs.StringVar(&f.secretRef, "secret-ref", "", "the name of the Kubernetes image pull secret (type 'kubernetes.io/dockerconfigjson')")
	fs.StringVar(&f.provider, "provider", sourcev1.GenericOCIProvider, "the OCI provider name, available options are: (generic, aws, azure, gcp)")
	fs.StringSliceVar(&f.ignorePaths, "ignore-paths", nil, "set paths to ignore in the artifact (can specify multiple paths with commas: path1,path2)")
	fs.BoolVar(&f.insecure, "insecure", false, "for when connecting to a non-TLS registry over plain HTTP")
	return cmd
}

// ociRepository builds the OCIRepository the flags describe; every ref flag given is set
// (the controller applies digest > semver > tag).
func (f *sourceOCIFlags) ociRepository(name, ns string, cf *createFlags) (*sourcev1.OCIRepository, error) {
	labels, err := parseLabels(cf.labels)
	if err != nil {
		return nil, err
	}
	switch {
	case f.url == "":
		return nil, errors.New("--url is required")
	case !strings.HasPrefix(f.url, sourcev1.OCIRepositoryPrefix):
		return nil, fmt.Errorf("invalid --url %q: it must start with %s", f.url, sourcev1.OCIRepositoryPrefix)
	case f.tag == "" && f.semver == "" && f.digest == "":
		return nil, errors.New("one of --tag, --tag-semver or --digest is required")
	}
	switch f.provider {
	case sourcev1.GenericOCIProvider, sourcev1.AmazonOCIProvider, sourcev1.AzureOCIProvider, sourcev1.GoogleOCIProvider:
	default:
		return nil, fmt.Errorf("invalid --provider %q: want generic, aws, azure or gcp", f.provider)
	}
	repo := &sourcev1.OCIRepository{
		TypeMeta:   metav1.TypeMeta{APIVersion: sourcev1.GroupVersion.String(), Kind: sourcev1.OCIRepositoryKind},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: sourcev1.OCIRepositorySpec{
			URL:       f.url,
			Provider:  f.provider,
			Insecure:  f.insecure,
			Interval:  metav1.Duration{Duration: cf.interval},
			Reference: &sourcev1.OCIRepositoryRef{Digest: f.digest, SemVer: f.semver, Tag: f.tag},
		},
	}
	if f.secretRef != "" {
		repo.Spec.SecretRef = &meta.LocalObjectReference{Name: f.secretRef}
	}
	if len(f.ignorePaths) > 0 {
		ignore := strings.Join(f.ignorePaths, "\n")
		repo.Spec.Ignore = &ignore
	}
	if f.sf != nil && f.sf.fetchTimeout > 0 {
		repo.Spec.Timeout = &metav1.Duration{Duration: f.sf.fetchTimeout}
	}
	return repo, nil
}
