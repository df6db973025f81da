package cloud

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/pkg/auth"
)

// The spec.provider values that name a cloud identity.
const (
	ProviderAWS   = "aws"
	ProviderAzure = "azure"
	ProviderGCP   = "gcp"
)

// IsCloudProvider reports whether provider names a cloud identity ("generic" and "" do not).
func IsCloudProvider(provider string) bool {
	switch provider {
	case ProviderAWS, ProviderAzure, ProviderGCP:
		return true
	}
	return false
}

// Logins gets cloud credentials (for registries, Git, KMS, object storage) with cloud
// identities. One is shared by every reconciler
// of a controller; it is safe for concurrent use.
type Logins struct {
	// Cache keeps credentials; nil caches nothing.
	Cache *auth.TokenCache
	// HTTPClient makes the calls to the clouds' identity and registry-auth APIs (STS, ECR,
	// Microsoft Entra ID, Google, the metadata server). Nil uses each SDK's default client.
	HTTPClient *http.Client
	// ObjectLevel is the ObjectLevelWorkloadIdentity feature gate: spec.serviceAccountName
	// on an object with a cloud provider then names the identity to log in as.
	ObjectLevel bool
	// DefaultServiceAccount is --default-service-account: with ObjectLevel, the identity of
	// objects that name none, instead of the controller's own (multi-tenant lockdown).
	DefaultServiceAccount string
	// Kube reads service accounts and creates their tokens (TokenRequest); needed with
	// ObjectLevel.
	Kube client.Client
	// AzureDisableInstanceDiscovery skips Microsoft Entra ID's authority validation: needed
	// for a private authority host (Azure Stack, a test server), as azidentity documents.
	AzureDisableInstanceDiscovery bool
	// proxyKey is the proxy of a copy made by Via, part of its cache keys; proxy is its
	// choice of proxy per request.
	proxyKey string
	proxy    func(*http.Request) (*url.URL, error)

	// codeCommitCreds keeps the controller's AWS credentials per region for CodeCommit
	// (region -> *aws.CredentialsCache).
	codeCommitCreds sync.Map
}

// HostError says a registry host is not one the provider can log in to: a spec change is
// needed, retrying does not help.
type HostError struct {
	Provider, Host, Want string
	// What the host is for ("Git repository"); empty means a registry.
	What string
}

func (e *HostError) Error() string {
	if e.What != "" {
		return fmt.Sprintf("provider '%s' cannot authenticate to %s '%s': the URL must be %s", e.Provider, e.What, e.Host, e.Want)
	}
	return fmt.Sprintf("provider '%s' cannot log in to registry '%s': the host must be %s", e.Provider, e.Host, e.Want)
}

// LoginError says the provider could not get credentials: which identity, which endpoint
// and why (never a token). It may succeed on retry.
type LoginError struct {
	Provider string
	// Identity names who asked (the controller's identity, a service account).
	Identity string
	// Endpoint is the API that failed, as far as it is known.
	Endpoint string
	// Purpose is what the credentials are for: "registry credentials" when empty.
	Purpose string
	Err     error
}

func (e *LoginError) Error() string {
	purpose := e.Purpose
	if purpose == "" {
		purpose = "registry credentials"
	}
	msg := fmt.Sprintf("provider '%s': failed to get %s with %s", e.Provider, purpose, e.Identity)
	if e.Endpoint != "" {
		msg += " from " + e.Endpoint
	}
	return msg + ": " + e.Err.Error()
}

func (e *LoginError) Unwrap() error { return e.Err }

// IsHostError reports whether err says the host does not fit the provider.
func IsHostError(err error) bool {
	var he *HostError
	return errors.As(err, &he)
}

// ControllerIdentity is how errors name the controller's own identity.
const ControllerIdentity = "the controller's workload identity"
