//go:build !sops_no_azurekv

package decrypt

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/getsops/sops/v3/azkv"
	"sigs.k8s.io/yaml"
)

// azureAuth is the identity of a sops.azure-kv entry.
type azureAuth struct{ cred azcore.TokenCredential }

// azureEntry is a sops.azure-kv entry in any of upstream's documented forms: a service
// principal with a secret or a certificate (PEM), the output of `az ad sp create-for-rbac`
// (appId, password, tenant), or a managed identity's client ID alone; each optionally with an
// authorityHost for clouds other than Azure's public one.
type azureEntry struct {
	TenantID                   string `json:"tenantId"`
	ClientID                   string `json:"clientId"`
	ClientSecret               string `json:"clientSecret"`
	ClientCertificate          string `json:"clientCertificate"`
	ClientCertificatePassword  string `json:"clientCertificatePassword"`
	ClientCertificateSendChain bool   `json:"clientCertificateSendChain"`
	AuthorityHost              string `json:"authorityHost"`
	AppID                      string `json:"appId"`
	Password                   string `json:"password"`
	Tenant                     string `json:"tenant"`
}

// azureEntryFields are the fields an entry may have: those above and the descriptive ones of
// `az` output. Anything else (a certificate path, a token file, a command) is refused: the
// controller would read or run it for whoever wrote the Secret.
var azureEntryFields = []string{"tenantId", "clientId", "clientSecret", "clientCertificate", "clientCertificatePassword",
	"clientCertificateSendChain", "authorityHost", "appId", "password", "tenant", "displayName", "name"}

// parseAzureCredentials turns a sops.azure-kv entry into a credential, without ever quoting it.
func parseAzureCredentials(data []byte) (*azureAuth, error) {
	var fields map[string]any
	if err := yaml.Unmarshal(data, &fields); err != nil || fields == nil {
		return nil, fmt.Errorf("entry '%s' is not a JSON or YAML object", AzureKVKey)
	}
	for name := range fields {
		if !slices.Contains(azureEntryFields, name) {
			return nil, fmt.Errorf("entry '%s' has the unsupported field %q (accepted: %s)", AzureKVKey, name, strings.Join(azureEntryFields[:10], ", "))
		}
	}
	var e azureEntry
	if err := yaml.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("entry '%s' has a field of the wrong type (clientCertificateSendChain is a boolean, the others strings)", AzureKVKey)
	}
	opts := azcore.ClientOptions{}
	disableDiscovery := false
	if e.AuthorityHost != "" {
		u, err := url.Parse(e.AuthorityHost)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return nil, fmt.Errorf("entry '%s': authorityHost is not an https URL", AzureKVKey)
		}
		opts.Cloud = cloud.Configuration{ActiveDirectoryAuthorityHost: e.AuthorityHost}
		// Instance discovery asks Azure's public cloud to vouch for the authority, which it
		// cannot do for a private or sovereign cloud's: the entry's author chose the host.
		disableDiscovery = true
	}
	var (
		cred azcore.TokenCredential
		err  error
	)
	switch {
	case e.TenantID != "" && e.ClientID != "" && e.ClientSecret != "":
		cred, err = azidentity.NewClientSecretCredential(e.TenantID, e.ClientID, e.ClientSecret,
			&azidentity.ClientSecretCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: disableDiscovery})
	case e.TenantID != "" && e.ClientID != "" && e.ClientCertificate != "":
		certs, key, perr := azidentity.ParseCertificates([]byte(e.ClientCertificate), []byte(e.ClientCertificatePassword))
		if perr != nil {
			return nil, fmt.Errorf("entry '%s': clientCertificate is not a PEM certificate with its private key (or clientCertificatePassword does not open it)", AzureKVKey)
		}
		cred, err = azidentity.NewClientCertificateCredential(e.TenantID, e.ClientID, certs, key,
			&azidentity.ClientCertificateCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: disableDiscovery, SendCertificateChain: e.ClientCertificateSendChain})
	case e.AppID != "" && e.Password != "" && e.Tenant != "":
		cred, err = azidentity.NewClientSecretCredential(e.Tenant, e.AppID, e.Password,
			&azidentity.ClientSecretCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: disableDiscovery})
	case e.ClientID != "" && e.TenantID == "" && e.ClientSecret == "" && e.ClientCertificate == "":
		cred, err = azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{
			ClientOptions: opts, ID: azidentity.ClientID(e.ClientID)})
	default:
		return nil, fmt.Errorf("entry '%s' needs tenantId, clientId and clientSecret or clientCertificate; or appId, password and tenant; or a managed identity's clientId alone", AzureKVKey)
	}
	if err != nil {
		return nil, fmt.Errorf("entry '%s': %s", AzureKVKey, oneLine(err.Error()))
	}
	return &azureAuth{cred: cred}, nil
}

// controllerAzure is the controller's own Azure identity (azidentity's default chain:
// environment, workload identity, managed identity), made once so that its tokens are
// cached across decryptions.
var controllerAzure struct {
	sync.Mutex
	cred azcore.TokenCredential
}

func controllerAzureCredential() (azcore.TokenCredential, error) {
	controllerAzure.Lock()
	defer controllerAzure.Unlock()
	if controllerAzure.cred != nil {
		return controllerAzure.cred, nil
	}
	// An authority host set by the administrator is a private or sovereign cloud, which
	// instance discovery at the public cloud cannot vouch for.
	cred, err := azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{
		DisableInstanceDiscovery: os.Getenv("AZURE_AUTHORITY_HOST") != "",
	})
	if err != nil {
		return nil, err
	}
	controllerAzure.cred = cred
	return cred, nil
}

// decryptAzureKV decrypts a data key with Azure Key Vault (RSA-OAEP-256, as sops encrypts
// it), with the Secret's identity or the controller's.
func (d *Decryptor) decryptAzureKV(k masterKey) ([]byte, error) {
	mk := azkv.NewMasterKey(k.values["vault_url"], k.values["name"], k.values["version"])
	mk.EncryptedKey = k.enc
	cred := azcore.TokenCredential(nil)
	switch {
	case d.azure != nil:
		cred = d.azure.cred
	case d.identity != nil && d.identity.Azure == nil:
		return nil, d.identity.noIdentity("Azure")
	case d.identity != nil:
		cred = d.identity.Azure
	default:
		c, err := controllerAzureCredential()
		if err != nil {
			return nil, fmt.Errorf("no '%s' entry and no Azure identity for the controller: %s", AzureKVKey, oneLine(err.Error()))
		}
		cred = c
	}
	azkv.NewTokenCredential(cred).ApplyToMasterKey(mk)
	ctx, cancel := context.WithTimeout(context.Background(), remoteTimeout)
	defer cancel()
	plain, err := mk.DecryptContext(ctx)
	if err != nil {
		// The key is named already, by its URL: drop sops' own naming of it.
		msg := strings.TrimPrefix(azureErrorLine(err), fmt.Sprintf("failed to decrypt sops data key with Azure Key Vault key '%s': ", mk.ToString()))
		if d.azure == nil && d.identity != nil && !strings.Contains(msg, d.identity.Name) {
			// Key Vault refused the identity's token (its own failures name it already).
			return nil, fmt.Errorf("with %s: %s", d.identity.Name, msg)
		}
		if d.azure == nil {
			return nil, fmt.Errorf("with the controller's identity (no '%s' entry): %s", AzureKVKey, msg)
		}
		return nil, errors.New(msg)
	}
	return plain, nil
}

// azureErrorLine folds the Azure SDK's multi-line errors (request, response status, body
// between rules of dashes) into one line.
func azureErrorLine(err error) string {
	return oneLine(azureRule.ReplaceAllString(err.Error(), " "))
}
