package bucket

import (
	"context"
	"fmt"
	"net/url"

	"github.com/fluxcd/pkg/apis/meta"

	"gotk.dev/pkg/auth/cloud"
	cloudgcp "gotk.dev/pkg/auth/cloud/gcp"
	"gotk.dev/pkg/git"
	"gotk.dev/pkg/oci"
	sourcev1 "gotk.dev/source-controller/api/v1"

	"gotk.dev/source-controller/internal/bucket/provider"
)

// Config is everything needed to read a Bucket's objects: the provider, its resolved
// connection options (Secrets already read) and the selection rules.
type Config struct {
	// Provider is spec.provider: sourcev1.BucketProviderGeneric, ...Amazon, ...Google or
	// ...Azure.
	Provider string
	// Options are the connection settings shared by all providers.
	Options provider.Options
	// Prefix is spec.prefix: only keys starting with it are listed (server side).
	Prefix string
	// Ignore is spec.ignore (nil when unset), gitignore lines applied to the keys.
	Ignore *string
}

// SecretGetter returns the data of the Secret with the given name in the Bucket's namespace.
// A reconciler passes a closure over its (cached) client.
type SecretGetter func(ctx context.Context, name string) (map[string][]byte, error)

// ConfigFor resolves a Bucket's spec into a Config, reading the Secrets it references through
// getSecret. Errors are *Error: a spec that cannot work is Stalled; a missing or malformed
// Secret is AuthenticationFailed and retried, as the Secret can be fixed without touching
// the Bucket. ids gives the cloud identities of service accounts (spec.serviceAccountName,
// --default-service-account); nil, or one without ObjectLevel, is the
// ObjectLevelWorkloadIdentity feature gate off.
func ConfigFor(ctx context.Context, obj *sourcev1.Bucket, getSecret SecretGetter, ids *cloud.Logins) (Config, error) {
	spec := &obj.Spec
	cfg := Config{
		Provider: obj.GetProvider(),
		Prefix:   spec.Prefix,
		Ignore:   spec.Ignore,
		Options: provider.Options{
			Bucket:   spec.BucketName,
			Endpoint: spec.Endpoint,
			Region:   spec.Region,
			Insecure: spec.Insecure,
			Timeout:  obj.GetTimeout(),
		},
	}
	at := where(spec.BucketName, spec.Endpoint)
	stall := func(reason string, format string, args ...any) (Config, error) {
		return Config{}, &Error{Reason: reason, Stalled: true, Err: fmt.Errorf(at+": "+format, args...)}
	}
	authErr := func(err error) (Config, error) {
		return Config{}, &Error{Reason: sourcev1.AuthenticationFailedReason, Err: fmt.Errorf("%s: %w", at, err)}
	}

	switch cfg.Provider {
	case sourcev1.BucketProviderGeneric, sourcev1.BucketProviderAmazon, sourcev1.BucketProviderGoogle, sourcev1.BucketProviderAzure:
	default:
		return stall(sourcev1.InvalidProviderConfigurationReason, "unsupported provider %q", cfg.Provider)
	}
	if spec.BucketName == "" || spec.Endpoint == "" {
		return stall(sourcev1.InvalidProviderConfigurationReason, "spec.bucketName and spec.endpoint are required")
	}
	if spec.CertSecretRef != nil && cfg.Provider != sourcev1.BucketProviderGeneric {
		return stall(sourcev1.InvalidProviderConfigurationReason,
			"spec.certSecretRef is only supported with the 'generic' provider, not %q", cfg.Provider)
	}
	if spec.ServiceAccountName != "" {
		// The CRD refuses both; objects admitted before its rules existed are told the same.
		if cfg.Provider == sourcev1.BucketProviderGeneric {
			return stall(sourcev1.InvalidProviderConfigurationReason, "spec.serviceAccountName is not supported for the 'generic' provider")
		}
		if spec.SecretRef != nil {
			return stall(sourcev1.InvalidProviderConfigurationReason, "cannot set both spec.secretRef and spec.serviceAccountName")
		}
	}
	if err := validateSTS(cfg.Provider, spec.STS); err != nil {
		return stall(sourcev1.InvalidSTSConfigurationReason, "%s", err)
	}
	serviceAccount := ""
	if cfg.Provider != sourcev1.BucketProviderGeneric && spec.SecretRef == nil {
		// Object-level workload identity: refused as upstream does while the gate is off;
		// with it, the object's service account (or the default one) is the only identity.
		sa, err := ids.ServiceAccountFor(spec.ServiceAccountName)
		if err != nil {
			return stall(meta.FeatureGateDisabledReason, "%s", err)
		}
		serviceAccount = sa
	}

	read := func(field, name string) (map[string][]byte, error) {
		data, err := getSecret(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("reading the Secret '%s' of %s: %w", name, field, err)
		}
		return data, nil
	}
	if ref := spec.SecretRef; ref != nil {
		data, err := read("spec.secretRef", ref.Name)
		if err != nil {
			return authErr(err)
		}
		cfg.Options.Secret = data
	}
	if ref := spec.CertSecretRef; ref != nil {
		data, err := read("spec.certSecretRef", ref.Name)
		if err != nil {
			return authErr(err)
		}
		if cfg.Options.TLS, err = oci.TLSConfigFromSecret(data); err != nil {
			return authErr(fmt.Errorf("invalid TLS Secret '%s' (spec.certSecretRef): %w", ref.Name, err))
		}
	}
	if ref := spec.ProxySecretRef; ref != nil {
		data, err := read("spec.proxySecretRef", ref.Name)
		if err != nil {
			return authErr(err)
		}
		if cfg.Options.Proxy, err = proxyURL(data); err != nil {
			return authErr(fmt.Errorf("invalid proxy Secret '%s' (spec.proxySecretRef): %w", ref.Name, err))
		}
	}
	if sts := spec.STS; sts != nil {
		cfg.Options.STS = &provider.STS{Provider: sts.Provider, Endpoint: sts.Endpoint}
		if ref := sts.SecretRef; ref != nil {
			data, err := read("spec.sts.secretRef", ref.Name)
			if err != nil {
				return authErr(err)
			}
			cfg.Options.STS.Secret = data
		}
		if ref := sts.CertSecretRef; ref != nil {
			data, err := read("spec.sts.certSecretRef", ref.Name)
			if err != nil {
				return authErr(err)
			}
			if cfg.Options.STS.TLS, err = oci.TLSConfigFromSecret(data); err != nil {
				return authErr(fmt.Errorf("invalid TLS Secret '%s' (spec.sts.certSecretRef): %w", ref.Name, err))
			}
		}
	}
	if serviceAccount != "" {
		cfg.Options.Identity = identityOf(ids, cfg.Provider, obj.Namespace, serviceAccount, spec, cfg.Options.Proxy)
	}
	return cfg, nil
}

// identityOf is the cloud identity of service account sa for provider: S3 credentials of
// its role (STS in spec.region, at spec.sts.endpoint when set), an Entra ID credential of its
// client, or Google tokens of its workload identity; the exchanges go through proxy (the
// Bucket's spec.proxySecretRef) when set.
func identityOf(ids *cloud.Logins, providerName, namespace, sa string, spec *sourcev1.BucketSpec, proxy *url.URL) *provider.Identity {
	o := cloud.StorageOptions{Proxy: proxy}
	switch providerName {
	case sourcev1.BucketProviderAmazon:
		o.Region = spec.Region
		if spec.STS != nil {
			o.STSEndpoint = spec.STS.Endpoint
		}
		return &provider.Identity{AWS: ids.StorageAWSCredentials(namespace, sa, o)}
	case sourcev1.BucketProviderAzure:
		return &provider.Identity{Azure: ids.StorageAzureCredential(namespace, sa, o)}
	default:
		return &provider.Identity{GCP: cloudgcp.TokenSource(ids.Via(proxy), cloud.PurposeStorage, namespace, sa)}
	}
}

// validateSTS repeats the CRD's rules for spec.sts, for objects admitted before they existed.
func validateSTS(providerName string, sts *sourcev1.BucketSTSSpec) error {
	if sts == nil {
		return nil
	}
	switch providerName {
	case sourcev1.BucketProviderAmazon:
		if sts.Provider != sourcev1.STSProviderAmazon {
			return fmt.Errorf("the 'aws' provider only supports the 'aws' STS provider, not %q", sts.Provider)
		}
		if sts.SecretRef != nil || sts.CertSecretRef != nil {
			return fmt.Errorf("spec.sts.secretRef and spec.sts.certSecretRef are not supported by the 'aws' STS provider")
		}
	case sourcev1.BucketProviderGeneric:
		if sts.Provider != sourcev1.STSProviderLDAP {
			return fmt.Errorf("the 'generic' provider only supports the 'ldap' STS provider, not %q", sts.Provider)
		}
	default:
		return fmt.Errorf("spec.sts is only supported with the 'aws' and 'generic' providers, not %q", providerName)
	}
	u, err := url.Parse(sts.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("spec.sts.endpoint %q is not an http(s) URL", sts.Endpoint)
	}
	return nil
}

// proxyURL turns a proxy Secret (address, username, password) into a proxy URL carrying the
// credentials as userinfo.
func proxyURL(data map[string][]byte) (*url.URL, error) {
	p, err := git.NewProxyOptions(data)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(p.URL)
	if err != nil {
		return nil, fmt.Errorf("'%s' is not a URL", git.KeyProxyAddress)
	}
	if p.Username != "" {
		u.User = url.UserPassword(p.Username, p.Password)
	}
	return u, nil
}
