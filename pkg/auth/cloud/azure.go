package cloud

import (
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// AzureControllerCredential is the controller's own Entra ID identity: azidentity's
// DefaultAzureCredential (workload identity, managed identity, environment), calling Entra
// ID through l.HTTPClient.
func (l *Logins) AzureControllerCredential() (azcore.TokenCredential, error) {
	opts := &azidentity.DefaultAzureCredentialOptions{DisableInstanceDiscovery: l.AzureDisableInstanceDiscovery}
	if l.HTTPClient != nil {
		opts.ClientOptions.Transport = l.HTTPClient
	}
	return azidentity.NewDefaultAzureCredential(opts)
}

// AzureAuthority is the Entra ID host azidentity uses: AZURE_AUTHORITY_HOST or the public
// cloud's.
func AzureAuthority() string {
	if h := strings.TrimSpace(os.Getenv("AZURE_AUTHORITY_HOST")); h != "" {
		return h
	}
	return cloud.AzurePublic.ActiveDirectoryAuthorityHost
}
