package cloud

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"gotk.dev/pkg/auth"
)

// CredentialsError says which identity could not get cloud credentials for a service
// (Purpose: "KMS", "storage"), and from where. Never a token.
type CredentialsError struct {
	Purpose, Provider, Identity, Endpoint string
	Err                                   error
}

func (e *CredentialsError) Error() string {
	msg := fmt.Sprintf("provider '%s': failed to get %s credentials with %s", e.Provider, e.Purpose, e.Identity)
	if e.Endpoint != "" {
		msg += " from " + e.Endpoint
	}
	return msg + ": " + e.Err.Error()
}

func (e *CredentialsError) Unwrap() error { return e.Err }

// KMSError is the CredentialsError of a KMS key's identity.
type KMSError = CredentialsError

// Purposes of the credentials a service account's identity is asked for, as errors name
// them ("failed to get <purpose> credentials").
const (
	PurposeKMS      = "KMS"
	PurposeStorage  = "storage"
	PurposeRegistry = "registry"
)

// AWSCredentialsAs returns AWS credentials of the IAM role a service account's
// eks.amazonaws.com/role-arn annotation names: its token (TokenRequest, audience
// sts.amazonaws.com) exchanged with STS AssumeRoleWithWebIdentity, when first needed.
// Credentials are cached per service account and role (Cache). Failures name the service
// account and the endpoint, never a token.
func (l *Logins) AWSCredentialsAs(namespace, name string) aws.CredentialsProvider {
	return l.ServiceAccountAWS(PurposeKMS, namespace, name, stsRegion(), "")
}

// ServiceAccountAWS is AWSCredentialsAs for purpose, asking STS in region (at stsEndpoint
// when not empty, else the SDK's endpoint for the region).
func (l *Logins) ServiceAccountAWS(purpose, namespace, name, region, stsEndpoint string) aws.CredentialsProvider {
	return aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(ctx context.Context) (aws.Credentials, error) {
		id, sa, err := l.objectIdentityFor(ctx, ProviderAWS, namespace, name)
		if err != nil {
			return aws.Credentials{}, &CredentialsError{Purpose: purpose, Provider: ProviderAWS, Identity: id.String(), Err: err}
		}
		key := strings.Join([]string{"object-credentials", ProviderAWS, namespace, name, id.roleARN, region, stsEndpoint, l.proxyKey}, "\x00")
		tok, _, err := l.Cache.GetOrFetch(ctx, key, func(ctx context.Context) (auth.Token, error) {
			fail := func(endpoint string, err error) (auth.Token, error) {
				return auth.Token{}, &CredentialsError{Purpose: purpose, Provider: ProviderAWS, Identity: id.String(), Endpoint: endpoint, Err: err}
			}
			token, err := l.serviceAccountToken(ctx, id, &sa, AudienceAWS)
			if err != nil {
				return fail("", err)
			}
			cfg, err := l.AWSConfig(ctx, region)
			if err != nil {
				return fail("", OneLine(err))
			}
			client := sts.NewFromConfig(cfg, func(o *sts.Options) {
				if stsEndpoint != "" {
					o.BaseEndpoint = aws.String(stsEndpoint)
				}
			})
			roles := stscreds.NewWebIdentityRoleProvider(client, id.roleARN, staticIdentityToken(token),
				func(o *stscreds.WebIdentityRoleOptions) { o.RoleSessionName = sessionName(id) })
			creds, err := roles.Retrieve(ctx)
			if err != nil {
				return fail(AWSEndpoint(err, "STS AssumeRoleWithWebIdentity in "+region), OneLine(err))
			}
			// The session token rides with the secret key: the cache holds one value.
			return auth.Token{Username: creds.AccessKeyID, Value: creds.SecretAccessKey + "\n" + creds.SessionToken, ExpiresAt: creds.Expires}, nil
		})
		if err != nil {
			return aws.Credentials{}, err
		}
		secret, session, _ := strings.Cut(tok.Value, "\n")
		return aws.Credentials{AccessKeyID: tok.Username, SecretAccessKey: secret, SessionToken: session,
			Source: "ServiceAccount", CanExpire: !tok.ExpiresAt.IsZero(), Expires: tok.ExpiresAt}, nil
	}))
}

// stsRegion is the region whose STS endpoint AssumeRoleWithWebIdentity is sent to: the
// controller's (AWS_REGION, as the EKS webhook sets it), else us-east-1.
func stsRegion() string {
	for _, v := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if r := os.Getenv(v); r != "" {
			return r
		}
	}
	return "us-east-1"
}

// AzureCredentialAs returns an Entra ID credential of the application or managed identity a
// service account's azure.workload.identity/client-id annotation names (tenant from
// azure.workload.identity/tenant-id or AZURE_TENANT_ID): its token (TokenRequest, audience
// api://AzureADTokenExchange) presented as a federated client assertion, when first needed.
func (l *Logins) AzureCredentialAs(namespace, name string) azcore.TokenCredential {
	return l.ServiceAccountAzure(PurposeKMS, namespace, name)
}

// ServiceAccountAzure is AzureCredentialAs for purpose.
func (l *Logins) ServiceAccountAzure(purpose, namespace, name string) azcore.TokenCredential {
	return &serviceAccountAzure{l: l, purpose: purpose, namespace: namespace, name: name}
}

// serviceAccountAzure resolves the service account on first use and keeps the credential,
// whose tokens azidentity caches.
type serviceAccountAzure struct {
	l                        *Logins
	purpose, namespace, name string
	mu                       sync.Mutex
	cred                     azcore.TokenCredential
	id                       objectIdentity
}

// GetToken asks Entra ID once per service account, client and scopes while the token is
// fresh (Cache): a Bucket or Kustomization builds a credential per reconcile.
func (s *serviceAccountAzure) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	cred, id, err := s.credential(ctx)
	if err != nil {
		return azcore.AccessToken{}, err
	}
	key := strings.Join(append([]string{"object-credentials", ProviderAzure, s.namespace, s.name, id.tenantID, id.clientID, opts.TenantID, opts.Claims, s.l.proxyKey},
		opts.Scopes...), "\x00")
	tok, _, err := s.l.Cache.GetOrFetch(ctx, key, func(ctx context.Context) (auth.Token, error) {
		t, err := cred.GetToken(ctx, opts)
		if err != nil {
			return auth.Token{}, &CredentialsError{Purpose: s.purpose, Provider: ProviderAzure, Identity: id.String(), Endpoint: "Microsoft Entra ID (" + AzureAuthority() + ")", Err: OneLine(err)}
		}
		return auth.Token{Value: t.Token, ExpiresAt: t.ExpiresOn}, nil
	})
	if err != nil {
		return azcore.AccessToken{}, err
	}
	return azcore.AccessToken{Token: tok.Value, ExpiresOn: tok.ExpiresAt}, nil
}

func (s *serviceAccountAzure) credential(ctx context.Context) (azcore.TokenCredential, objectIdentity, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cred != nil {
		return s.cred, s.id, nil
	}
	id, sa, err := s.l.objectIdentityFor(ctx, ProviderAzure, s.namespace, s.name)
	if err != nil {
		return nil, id, &CredentialsError{Purpose: s.purpose, Provider: ProviderAzure, Identity: id.String(), Err: err}
	}
	opts := &azidentity.ClientAssertionCredentialOptions{DisableInstanceDiscovery: s.l.AzureDisableInstanceDiscovery}
	if s.l.HTTPClient != nil {
		opts.ClientOptions.Transport = s.l.HTTPClient
	}
	assertion := func(ctx context.Context) (string, error) { return s.l.serviceAccountToken(ctx, id, &sa, AudienceAzure) }
	cred, err := azidentity.NewClientAssertionCredential(id.tenantID, id.clientID, assertion, opts)
	if err != nil {
		return nil, id, &CredentialsError{Purpose: s.purpose, Provider: ProviderAzure, Identity: id.String(), Err: OneLine(err)}
	}
	s.cred, s.id = cred, id
	return cred, id, nil
}
