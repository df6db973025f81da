package app

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
)

// kustomizationFlags are create kustomization's own flags.
type kustomizationFlags struct {
	source, path                string
	prune, wait                 bool
	healthChecks, dependsOn     []string
	healthTimeout, retry        time.Duration
	targetNamespace, sa         string
	decryptionProvider, decrypt string
}

func newCreateKustomizationCommand(c *Command, cf *createFlags) *cobra.Command {
	f := &kustomizationFlags{}
	cmd := &cobra.Command{
		Use:     "kustomization [name]",
		Aliases: []string{"ks"},
		Short:   "Create or update a Kustomization resource",
		Long:    "The create kustomization command generates a Kustomization resource for a given source, applies it and waits for it to be ready.",
		Example: `  # Create a Kustomization resource from a source at a given path
  flux create kustomization kyverno \
    --source=GitRepository/kyverno \
    --path="./config/release" \
    --prune=true \
    --interval=60m \
    --wait=true \
    --health-check-timeout=3m

  # Create a Kustomization that depends on the previous one
  flux create kustomization kyverno-policies \
    --depends-on=kyverno \
    --source=GitRepository/kyverno-policies \
    --path="./policies/flux" \
    --prune=true \
    --interval=5m

  # Create a Kustomization using a source from a different namespace
  flux create kustomization podinfo \
    --namespace=default \
    --source=GitRepository/podinfo.flux-system \
    --path="./kustomize" \
    --prune=true \
    --interval=5m

  # Create a Kustomization resource that references an OCIRepository
  flux create kustomization podinfo \
    --source=OCIRepository/podinfo \
    --target-namespace=default \
    --prune=true \
    --interval=5m`,
		Args: nameArg("Kustomization"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ks, err := f.kustomization(args[0], c.Global.Namespace, cf)
			if err != nil {
				return err
			}
			t, err := c.beginCreate(cmd, cf, ks)
			if err != nil || t == nil {
				return err
			}
			defer t.cancel()
			ctx, kube, u := t.ctx, t.kube, t.u
			c.Log().Generatef("generating Kustomization")
			k, _ := LookupKind("", "kustomization")
			got, _, err := c.applyAndWait(ctx, kube, k, u, "Kustomization")
			if err != nil {
				return err
			}
			c.Log().Successf("Kustomization %s is ready", args[0])
			c.Log().Successf("%s", revisionMessage(k, got, ""))
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.source, "source", "", "source that contains the Kubernetes manifests in the format '[<kind>/]<name>.<namespace>', where kind must be one of: (GitRepository, OCIRepository, Bucket), if kind is not specified it defaults to GitRepository")
	fs.StringVar(&f.path, "path", "./", "path to the directory containing a kustomization.yaml file")
	fs.BoolVar(&f.prune, "prune", false, "enable garbage collection")
	fs.BoolVar(&f.wait, "wait", false, "enable health checking of all the applied resources")
	fs.StringSliceVar(&f.healthChecks, "health-check", nil, "workload to be included in the health assessment, in the format '<kind>/<name>.<namespace>'")
	fs.DurationVar(&f.healthTimeout, "health-check-timeout", 0, "timeout of health checking operations (spec.timeout)")
	fs.DurationVar(&f.retry, "retry-interval", 0, "the interval at which to retry a previously failed reconciliation")
	fs.StringSliceVar(&f.dependsOn, "depends-on", nil, "Kustomization that must be ready before this Kustomization can be applied, supported formats '<name>' and '<namespace>/<name>', also accepts comma-separated values")
	fs.StringVar(&f.targetNamespace, "target-namespace", "", "overrides the namespace of all Kustomization objects reconciled by this Kustomization")
	fs.StringVar(&f.sa, "service-account", "", "the name of the service account to impersonate when reconciling this Kustomization")
	fs.StringVar(&f.decryptionProvider, "decryption-provider", "", "decryption provider, available options are: (sops)")
	fs.StringVar(&f.decrypt, "decryption-secret", "", "set the Kubernetes secret name that contains the OpenPGP private keys used for sops decryption")
	return cmd
}

// kustomization builds the Kustomization the flags describe.
func (f *kustomizationFlags) kustomization(name, ns string, cf *createFlags) (*kustomizev1.Kustomization, error) {
	labels, err := parseLabels(cf.labels)
	if err != nil {
		return nil, err
	}
	src, err := parseSourceFlag(f.source)
	if err != nil {
		return nil, err
	}
	p, err := safeRelativePath(f.path)
	if err != nil {
		return nil, err
	}
	ks := &kustomizev1.Kustomization{
		TypeMeta:   metav1.TypeMeta{APIVersion: kustomizev1.GroupVersion.String(), Kind: kustomizev1.KustomizationKind},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: kustomizev1.KustomizationSpec{
			Interval:           metav1.Duration{Duration: cf.interval},
			Path:               p,
			Prune:              f.prune,
			Wait:               f.wait,
			SourceRef:          src,
			TargetNamespace:    f.targetNamespace,
			ServiceAccountName: f.sa,
		},
	}
	for _, d := range f.dependsOn {
		ref := meta.DependencyReference{Name: d}
		if dns, dname, ok := strings.Cut(d, "/"); ok {
			ref = meta.DependencyReference{Namespace: dns, Name: dname}
		}
		if ref.Name == "" {
			return nil, fmt.Errorf("invalid --depends-on %q: want <name> or <namespace>/<name>", d)
		}
		ks.Spec.DependsOn = append(ks.Spec.DependsOn, ref)
	}
	for _, hc := range f.healthChecks {
		ref, err := parseHealthCheck(hc)
		if err != nil {
			return nil, err
		}
		ks.Spec.HealthChecks = append(ks.Spec.HealthChecks, ref)
	}
	if f.healthTimeout > 0 {
		ks.Spec.Timeout = &metav1.Duration{Duration: f.healthTimeout}
	}
	if f.retry > 0 {
		ks.Spec.RetryInterval = &metav1.Duration{Duration: f.retry}
	}
	switch {
	case f.decryptionProvider == "" && f.decrypt != "":
		return nil, errors.New("--decryption-secret needs --decryption-provider=sops")
	case f.decryptionProvider != "" && f.decryptionProvider != kustomizev1.DecryptionProviderSOPS:
		return nil, fmt.Errorf("invalid --decryption-provider %q: the only provider is sops", f.decryptionProvider)
	case f.decryptionProvider != "":
		ks.Spec.Decryption = &kustomizev1.Decryption{Provider: f.decryptionProvider}
		if f.decrypt != "" {
			ks.Spec.Decryption.SecretRef = &meta.LocalObjectReference{Name: f.decrypt}
		}
	}
	return ks, nil
}

// parseSourceFlag reads --source: "[<kind>/]<name>[.<namespace>]", kind GitRepository by
// default; the kind may also be a CLI word ("oci/podinfo").
func parseSourceFlag(s string) (kustomizev1.CrossNamespaceSourceReference, error) {
	var ref kustomizev1.CrossNamespaceSourceReference
	if s == "" {
		return ref, errors.New("--source is required")
	}
	kind, rest := "GitRepository", s
	if k, r, ok := strings.Cut(s, "/"); ok {
		kind, rest = k, r
	}
	k, err := LookupKind("", kind)
	if err != nil {
		k, err = LookupKind("source", kind)
	}
	if err != nil || (k.Kind != "GitRepository" && k.Kind != "OCIRepository" && k.Kind != "Bucket") {
		return ref, fmt.Errorf("invalid --source %q: source kind %s is not supported, can be GitRepository, OCIRepository or Bucket", s, kind)
	}
	name, ns, _ := strings.Cut(rest, ".")
	if name == "" {
		return ref, fmt.Errorf("invalid --source %q: no name", s)
	}
	return kustomizev1.CrossNamespaceSourceReference{Kind: k.Kind, Name: name, Namespace: ns}, nil
}

// parseHealthCheck reads "<kind>/<name>.<namespace>" for the kinds whose API version flux
// knows.
func parseHealthCheck(s string) (meta.NamespacedObjectKindReference, error) {
	apiVersions := map[string]string{
		"Deployment": "apps/v1", "DaemonSet": "apps/v1", "StatefulSet": "apps/v1",
		"HelmRelease": "helm.toolkit.fluxcd.io/v2", "Kustomization": kustomizev1.GroupVersion.String(),
	}
	kind, rest, ok := strings.Cut(s, "/")
	name, ns, okNS := strings.Cut(rest, ".")
	if !ok || !okNS || name == "" || ns == "" {
		return meta.NamespacedObjectKindReference{}, fmt.Errorf("invalid health check '%s' must be in format 'kind/name.namespace'", s)
	}
	av, known := apiVersions[kind]
	if !known {
		return meta.NamespacedObjectKindReference{}, fmt.Errorf("invalid health check kind '%s' can be HelmRelease, Kustomization, Deployment, DaemonSet or StatefulSet", kind)
	}
	return meta.NamespacedObjectKindReference{APIVersion: av, Kind: kind, Name: name, Namespace: ns}, nil
}

// safeRelativePath normalises --path to "./dir" and refuses paths that leave the source.
func safeRelativePath(p string) (string, error) {
	if p == "" {
		return "./", nil
	}
	if path.IsAbs(p) {
		return "", fmt.Errorf("invalid --path %q: it must be relative to the source root", p)
	}
	clean := path.Clean(p)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("invalid --path %q: it leaves the source root", p)
	}
	if clean == "." {
		return "./", nil
	}
	return "./" + clean, nil
}
