package app

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/fluxcd/pkg/apis/meta"
	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	sourcev1 "gotk.dev/source-controller/api/v1"
)

// sourceHelmFlags are create source helm's own flags.
type sourceHelmFlags struct {
	url, secretRef, ociProvider string
	passCredentials             bool
	auth                        helmAuthFlags
}

func newCreateSourceHelmCommand(c *Command, cf *createFlags, sf *sourceFlags) *cobra.Command {
	f := &sourceHelmFlags{}
	cmd := &cobra.Command{
		Use:   "helm [name]",
		Short: "Create or update a HelmRepository source",
		Long: `The create source helm command generates a HelmRepository resource and waits for it to fetch the index.
For private Helm repositories, the basic authentication credentials (and TLS files) are stored in a
Kubernetes secret named after the source. An oci:// URL makes an OCI HelmRepository, which has no index
and is not waited for.`,
		Example: `  # Create a source for an HTTPS public Helm repository
  flux create source helm podinfo --url=https://stefanprodan.github.io/podinfo --interval=10m

  # Create a source for an HTTPS Helm repository using basic authentication
  flux create source helm podinfo --url=https://charts.example.com --username=username --password=password

  # Create a source for an HTTPS Helm repository using TLS authentication
  flux create source helm podinfo --url=https://charts.example.com \
    --tls-crt-file=./cert.crt --tls-key-file=./key.crt --ca-crt-file=./ca.crt

  # Create a source for an OCI Helm repository using an existing secret with basic auth or docker config credentials
  flux create source helm podinfo --url=oci://ghcr.io/stefanprodan/charts --secret-ref=docker-config`,
		Args: nameArg("HelmRepository source"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.createSourceHelm(cmd, cf, sf, f, args[0])
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.url, "url", "", "Helm repository address")
	fs.StringVarP(&f.auth.username, "username", "u", "", "basic authentication username")
	fs.StringVarP(&f.auth.password, "password", "p", "", "basic authentication password")
	f.auth.tls.bind(fs)
	fs.StringVar(&f.secretRef, "secret-ref", "", "the name of an existing secret containing TLS, basic auth or docker-config credentials")
	fs.StringVar(&f.ociProvider, "oci-provider", "", "OCI provider for authentication (generic, aws, azure, gcp)")
	fs.BoolVar(&f.passCredentials, "pass-credentials", false, "pass credentials to all domains")
	return cmd
}

// helmRepository builds the HelmRepository the flags describe.
func (f *sourceHelmFlags) helmRepository(name, ns string, cf *createFlags, sf *sourceFlags) (*sourcev1.HelmRepository, error) {
	labels, err := parseLabels(cf.labels)
	if err != nil {
		return nil, err
	}
	if f.url == "" {
		return nil, errors.New("--url is required")
	}
	u, err := url.Parse(f.url)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("invalid --url %q: want http://, https:// or oci:// with a host", redactURL(f.url))
	}
	if u.User != nil {
		return nil, fmt.Errorf("invalid --url %q: put credentials in --username and --password, not in the URL", redactURL(f.url))
	}
	repo := &sourcev1.HelmRepository{
		TypeMeta:   metav1.TypeMeta{APIVersion: sourcev1.GroupVersion.String(), Kind: sourcev1.HelmRepositoryKind},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: sourcev1.HelmRepositorySpec{
			URL:             f.url,
			Interval:        metav1.Duration{Duration: cf.interval},
			PassCredentials: f.passCredentials,
		},
	}
	switch u.Scheme {
	case "http", "https":
		if f.ociProvider != "" {
			return nil, errors.New("--oci-provider is only for oci:// URLs")
		}
	case "oci":
		repo.Spec.Type = sourcev1.HelmRepositoryTypeOCI
		switch f.ociProvider {
		case "", sourcev1.GenericOCIProvider, sourcev1.AmazonOCIProvider, sourcev1.AzureOCIProvider, sourcev1.GoogleOCIProvider:
			repo.Spec.Provider = f.ociProvider
		default:
			return nil, fmt.Errorf("invalid --oci-provider %q: want generic, aws, azure or gcp", f.ociProvider)
		}
	default:
		return nil, fmt.Errorf("invalid --url %q: scheme %q is not supported, want http, https or oci", redactURL(f.url), u.Scheme)
	}
	if sf.fetchTimeout > 0 {
		repo.Spec.Timeout = &metav1.Duration{Duration: sf.fetchTimeout}
	}
	if f.secretRef != "" {
		repo.Spec.SecretRef = &meta.LocalObjectReference{Name: f.secretRef}
	}
	return repo, nil
}

func (c *Command) createSourceHelm(cmd *cobra.Command, cf *createFlags, sf *sourceFlags, f *sourceHelmFlags, name string) error {
	repo, err := f.helmRepository(name, c.Global.Namespace, cf, sf)
	if err != nil {
		return err
	}
	data, err := f.auth.data()
	if err != nil {
		return err
	}
	t, err := c.beginCreate(cmd, cf, repo)
	if err != nil || t == nil {
		return err
	}
	defer t.cancel()
	ctx, kube, u := t.ctx, t.kube, t.u
	log := c.Log()
	log.Generatef("generating HelmRepository source")
	var secret *appliedSecret
	if f.secretRef == "" && len(data) > 0 {
		log.Actionf("applying secret with repository credentials")
		if secret, err = applySecret(ctx, kube, newSecret(name, repo.Namespace, repo.Labels, "", data)); err != nil {
			return err
		}
		if _, ok := data["username"]; ok {
			if err := unstructured.SetNestedField(u.Object, name, "spec", "secretRef", "name"); err != nil {
				return err
			}
		}
		if data["tls.crt"] != "" || data["ca.crt"] != "" {
			if err := unstructured.SetNestedField(u.Object, name, "spec", "certSecretRef", "name"); err != nil {
				return err
			}
		}
		log.Successf("authentication configured")
	}
	k, _ := LookupKind("source", "helm")
	if repo.Spec.Type == sourcev1.HelmRepositoryTypeOCI {
		// An OCI HelmRepository is a data container: the controller never reconciles it.
		log.Actionf("applying HelmRepository source")
		created, err := applyObject(ctx, kube, u)
		if err != nil {
			secret.rollback(ctx, kube, log, "HelmRepository")
			return err
		}
		log.Successf("HelmRepository source %s", createdWord(created))
		return nil
	}
	got, applied, err := c.applyAndWait(ctx, kube, k, u, "HelmRepository source")
	if err != nil {
		if !applied {
			secret.rollback(ctx, kube, log, "HelmRepository")
		}
		return err
	}
	log.Successf("HelmRepository source reconciliation completed")
	if _, ok, _ := unstructured.NestedMap(got.Object, "status", "artifact"); !ok {
		return errors.New("HelmRepository source reconciliation completed but no artifact was found")
	}
	log.Successf("%s", revisionMessage(k, got, ":"))
	return nil
}

// redactURL hides the password of a URL given on the command line.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparsable URL>"
	}
	return u.Redacted()
}
