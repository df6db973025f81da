package azure

import (
	"fmt"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
)

// Keys of spec.secretRef for the azure provider, as Flux documents them.
const (
	TenantIDKey                   = "tenantId"
	ClientIDKey                   = "clientId"
	ClientSecretKey               = "clientSecret"
	ClientCertificateKey          = "clientCertificate"
	ClientCertificatePasswordKey  = "clientCertificatePassword"
	ClientCertificateSendChainKey = "clientCertificateSendChain"
	AccountKeyKey                 = "accountKey"
	SASKeyKey                     = "sasKey"
	AuthorityHostKey              = "authorityHost"
)

// credential is what authenticates requests: exactly one field set, or none for anonymous
// access to a public container.
type credential struct {
	token     azcore.TokenCredential
	sharedKey *azblob.SharedKeyCredential
	sas       string
}

// credentialFor picks the authentication the Secret describes, first match wins:
//   - tenantId, clientId, clientSecret: service principal with a secret;
//   - tenantId, clientId, clientCertificate (+ clientCertificatePassword,
//     clientCertificateSendChain): service principal with a certificate;
//   - clientId alone: a user-assigned managed identity;
//   - accountKey: the storage account's shared key;
//   - sasKey: a SAS token.
//
// authorityHost replaces the Microsoft Entra ID host for the token-based ones. Without a
// Secret it is the environment/workload identity/managed identity chain.
func credentialFor(data map[string][]byte, account string, opts azcore.ClientOptions) (credential, error) {
	if data == nil {
		return defaultChain(opts)
	}
	get := func(k string) string { return strings.TrimSpace(string(data[k])) }
	if host := get(AuthorityHostKey); host != "" {
		opts.Cloud = cloud.Configuration{ActiveDirectoryAuthorityHost: host, Services: opts.Cloud.Services}
	}
	tenant, client := get(TenantIDKey), get(ClientIDKey)
	switch {
	case tenant != "" && client != "" && get(ClientSecretKey) != "":
		c, err := azidentity.NewClientSecretCredential(tenant, client, string(data[ClientSecretKey]),
			&azidentity.ClientSecretCredentialOptions{ClientOptions: opts})
		if err != nil {
			return credential{}, fmt.Errorf("invalid secret: service principal (%s, %s, %s): %s", TenantIDKey, ClientIDKey, ClientSecretKey, redactAzure(err))
		}
		return credential{token: c}, nil
	case tenant != "" && client != "" && len(data[ClientCertificateKey]) > 0:
		certs, key, err := azidentity.ParseCertificates(data[ClientCertificateKey], data[ClientCertificatePasswordKey])
		if err != nil {
			return credential{}, fmt.Errorf("invalid secret: '%s' is not a PEM or PKCS#12 certificate with its key (or '%s' is wrong)", ClientCertificateKey, ClientCertificatePasswordKey)
		}
		sendChain := get(ClientCertificateSendChainKey)
		c, err := azidentity.NewClientCertificateCredential(tenant, client, certs, key,
			&azidentity.ClientCertificateCredentialOptions{
				ClientOptions:        opts,
				SendCertificateChain: sendChain == "1" || strings.EqualFold(sendChain, "true"),
			})
		if err != nil {
			return credential{}, fmt.Errorf("invalid secret: service principal (%s, %s, %s): %s", TenantIDKey, ClientIDKey, ClientCertificateKey, redactAzure(err))
		}
		return credential{token: c}, nil
	case client != "" && tenant == "":
		c, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{
			ClientOptions: opts, ID: azidentity.ClientID(client),
		})
		if err != nil {
			return credential{}, fmt.Errorf("invalid secret: managed identity '%s': %s", ClientIDKey, redactAzure(err))
		}
		return credential{token: c}, nil
	case get(AccountKeyKey) != "":
		c, err := azblob.NewSharedKeyCredential(account, get(AccountKeyKey))
		if err != nil {
			return credential{}, fmt.Errorf("invalid secret: '%s' is not a base64 storage account key", AccountKeyKey)
		}
		return credential{sharedKey: c}, nil
	case get(SASKeyKey) != "":
		return credential{sas: get(SASKeyKey)}, nil
	}
	return credential{}, fmt.Errorf("invalid secret: it needs one of: %s+%s+%s, %s+%s+%s, %s, %s or %s",
		TenantIDKey, ClientIDKey, ClientSecretKey, TenantIDKey, ClientIDKey, ClientCertificateKey,
		ClientIDKey, AccountKeyKey, SASKeyKey)
}

// defaultChain tries, in order, environment credentials (AZURE_CLIENT_SECRET, ...), workload
// identity (AZURE_FEDERATED_TOKEN_FILE), a managed identity with AZURE_CLIENT_ID, and the
// system-assigned managed identity. Sources whose settings are absent are left out; when none
// can be built the container is read anonymously.
func defaultChain(opts azcore.ClientOptions) (credential, error) {
	var sources []azcore.TokenCredential
	if c, err := azidentity.NewEnvironmentCredential(&azidentity.EnvironmentCredentialOptions{ClientOptions: opts}); err == nil {
		sources = append(sources, c)
	}
	if c, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{ClientOptions: opts}); err == nil {
		sources = append(sources, c)
	}
	if id := os.Getenv("AZURE_CLIENT_ID"); id != "" {
		if c, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{
			ClientOptions: opts, ID: azidentity.ClientID(id),
		}); err == nil {
			sources = append(sources, c)
		}
	}
	if c, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ClientOptions: opts}); err == nil {
		sources = append(sources, c)
	}
	if len(sources) == 0 {
		return credential{}, nil
	}
	chain, err := azidentity.NewChainedTokenCredential(sources, nil)
	if err != nil {
		return credential{}, nil //nolint:nilerr // no chain: the container is assumed public
	}
	return credential{token: chain}, nil
}

// redactAzure keeps the first line of an azidentity error: later lines can carry request
// details, never the secret itself, but the first says what is wrong.
func redactAzure(err error) string {
	msg, _, _ := strings.Cut(strings.TrimSpace(err.Error()), "\n")
	return msg
}
