package cloud

import (
	"context"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"gotk.dev/pkg/auth"
)

// AzureDevOpsScope is the scope of Entra ID tokens for Azure DevOps (its well-known
// application ID), which Azure Repos take as a bearer token over Git HTTPS.
const AzureDevOpsScope = "499b84ac-1321-427f-aa17-267ca6975798/.default"

// azureDevOpsPurpose is how errors name what was asked for.
const azureDevOpsPurpose = "an Azure DevOps token"

// AzureDevOpsToken returns an Entra ID access token for Azure DevOps (GitRepository
// spec.provider azure): the controller's identity, or with the ObjectLevelWorkloadIdentity
// gate the one of serviceAccount (or --default-service-account) in namespace. Cached.
func (l *Logins) AzureDevOpsToken(ctx context.Context, namespace, serviceAccount string) (auth.Token, error) {
	if serviceAccount == "" && l.ObjectLevel {
		serviceAccount = l.DefaultServiceAccount
	}
	if serviceAccount != "" && !l.ObjectLevel {
		return auth.Token{}, ErrObjectLevelDisabled
	}
	identity := ControllerIdentity + " (Azure DefaultAzureCredential)"
	key := "azuredevops\x00controller"
	var cred azcore.TokenCredential
	if serviceAccount != "" {
		id, sa, err := l.objectIdentityFor(ctx, ProviderAzure, namespace, serviceAccount)
		if err != nil {
			return auth.Token{}, &LoginError{Provider: ProviderAzure, Purpose: azureDevOpsPurpose, Identity: id.String(), Err: err}
		}
		identity = id.String()
		key = strings.Join([]string{"azuredevops", namespace, serviceAccount, id.tenantID, id.clientID}, "\x00")
		opts := &azidentity.ClientAssertionCredentialOptions{DisableInstanceDiscovery: l.AzureDisableInstanceDiscovery}
		if l.HTTPClient != nil {
			opts.ClientOptions.Transport = l.HTTPClient
		}
		assertion := func(ctx context.Context) (string, error) { return l.serviceAccountToken(ctx, id, &sa, AudienceAzure) }
		c, err := azidentity.NewClientAssertionCredential(id.tenantID, id.clientID, assertion, opts)
		if err != nil {
			return auth.Token{}, &LoginError{Provider: ProviderAzure, Purpose: azureDevOpsPurpose, Identity: identity, Err: OneLine(err)}
		}
		cred = c
	}
	tok, _, err := l.Cache.GetOrFetch(ctx, key, func(ctx context.Context) (auth.Token, error) {
		if cred == nil {
			c, err := l.AzureControllerCredential()
			if err != nil {
				return auth.Token{}, &LoginError{Provider: ProviderAzure, Purpose: azureDevOpsPurpose, Identity: identity, Err: OneLine(err)}
			}
			cred = c
		}
		t, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{AzureDevOpsScope}})
		if err != nil {
			return auth.Token{}, &LoginError{Provider: ProviderAzure, Purpose: azureDevOpsPurpose, Identity: identity, Endpoint: "Microsoft Entra ID (" + AzureAuthority() + ")", Err: OneLine(err)}
		}
		return auth.Token{Value: t.Token, ExpiresAt: t.ExpiresOn}, nil
	})
	return tok, err
}
