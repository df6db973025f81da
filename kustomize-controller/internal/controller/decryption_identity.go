package controller

import (
	"errors"
	"fmt"
	"os"

	"github.com/fluxcd/pkg/apis/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/decrypt"
	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	"gotk.dev/pkg/auth"
	"gotk.dev/pkg/auth/cloud"
	cloudgcp "gotk.dev/pkg/auth/cloud/gcp"
	"gotk.dev/pkg/reconcile"
)

// errDecryptionObjectLevelDisabled is upstream's answer to spec.decryption.serviceAccountName
// while the ObjectLevelWorkloadIdentity gate is off.
var errDecryptionObjectLevelDisabled = errors.New("to use spec.decryption.serviceAccountName for decryption authentication please enable the ObjectLevelWorkloadIdentity feature gate in the controller")

// newDecryptionLogins exchanges service account tokens for cloud KMS credentials, cached
// with --token-cache-max-size/--token-cache-max-duration.
func newDecryptionLogins(o Options, kube client.Client) *cloud.Logins {
	return &cloud.Logins{
		Cache:       auth.NewTokenCache(auth.CacheOptions{MaxSize: o.TokenCacheMaxSize, MaxDuration: o.TokenCacheMaxDuration}),
		ObjectLevel: o.ObjectLevelWorkloadIdentity,
		Kube:        kube,
		// An authority host set by the administrator is a private or sovereign cloud, which
		// instance discovery at the public cloud cannot vouch for.
		AzureDisableInstanceDiscovery: os.Getenv("AZURE_AUTHORITY_HOST") != "",
	}
}

// decryptionIdentity is the service account whose cloud identity decrypts the object's
// remote SOPS keys: spec.decryption.serviceAccountName, else
// --default-decryption-service-account; none means the controller's identity. Without the
// ObjectLevelWorkloadIdentity gate a named service account stalls, as upstream, rather than
// decrypt with the controller's identity, which would give a tenant the controller's keys.
func (r *KustomizationReconciler) decryptionIdentity(obj *kustomizev1.Kustomization) (*decrypt.CloudIdentity, error) {
	name := obj.Spec.Decryption.ServiceAccountName
	if !r.opts.ObjectLevelWorkloadIdentity {
		if name != "" {
			return nil, reconcile.Stall(meta.FeatureGateDisabledReason, errDecryptionObjectLevelDisabled)
		}
		return nil, nil
	}
	if name == "" {
		name = r.opts.DefaultDecryptionServiceAccount
	}
	if name == "" {
		return nil, nil
	}
	return &decrypt.CloudIdentity{
		Name:  fmt.Sprintf("service account '%s/%s'", obj.Namespace, name),
		AWS:   r.logins.AWSCredentialsAs(obj.Namespace, name),
		Azure: r.logins.AzureCredentialAs(obj.Namespace, name),
		GCP:   cloudgcp.TokenSource(r.logins, cloud.PurposeKMS, obj.Namespace, name),
	}, nil
}
